"""Result files: one schema for every JSON auralize writes, written and read only here.

Every result is a JSON object whose first two keys are ``kind`` (``dream``, ``explanation``,
``weights``, ``neurons``) and ``version`` (of that kind's schema). The library writes them with
:func:`write` (atomic, strict JSON: NaN or infinity is refused, never written); the gallery and
the other readers use :func:`read`, so nothing guesses a file's kind from its keys.

File naming rules that more than one module needs live here too (:func:`wav_22050`).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from .errors import AuralizeError
from .io import atomic_write_text

#: Schema version of each kind of result file.
KINDS = {"dream": 1, "explanation": 1, "weights": 1, "neurons": 1}


def _check_finite(value, where: str = "") -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise AuralizeError(f"refusing to write a non-finite number ({value}) at {where or 'the top level'}; "
                            "the input or the model gives NaN or infinity")
    if isinstance(value, dict):
        for k, v in value.items():
            _check_finite(v, f"{where}.{k}" if where else str(k))
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_finite(v, f"{where}[{i}]")


def dumps(kind: str, payload: dict) -> str:
    """The JSON text of a result: ``kind`` and ``version`` first, then ``payload``."""
    if kind not in KINDS:
        raise AuralizeError(f"unknown result kind {kind!r}; one of {', '.join(KINDS)}")
    _check_finite(payload)
    body = {"kind": kind, "version": KINDS[kind], **{k: v for k, v in payload.items() if k not in ("kind", "version")}}
    return json.dumps(body, indent=1, allow_nan=False)


def write(path: str | Path, kind: str, payload: dict) -> Path:
    """Write a result file atomically; returns its path."""
    return atomic_write_text(path, dumps(kind, payload))


def read(path: str | Path, kind: str | None = None) -> dict:
    """Read a result file, checking its kind (``kind`` if given) and schema version.

    Raises
    ------
    AuralizeError
        If the file is missing, not JSON, not a result file, of another kind or of an unknown version.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(), parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    except FileNotFoundError:
        raise AuralizeError(f"result file not found: {path}") from None
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise AuralizeError(f"{path} is not a valid result file ({type(exc).__name__}: {exc})") from None
    if not isinstance(data, dict) or data.get("kind") not in KINDS:
        raise AuralizeError(f"{path} is not an auralize result file (no known 'kind')")
    if kind is not None and data["kind"] != kind:
        raise AuralizeError(f"{path} holds a {data['kind']} result, not a {kind} result")
    if data.get("version") != KINDS[data["kind"]]:
        raise AuralizeError(f"{path} is a {data['kind']} result of schema version {data.get('version')!r}; this "
                            f"auralize reads version {KINDS[data['kind']]}: rerun the command that made it")
    return data


def kind_of(path: str | Path) -> str | None:
    """The kind of a result file, or ``None`` if ``path`` is not one."""
    try:
        return read(path)["kind"]
    except AuralizeError:
        return None


def wav_22050(wav: str | Path) -> Path:
    """Where the 22050 Hz copy of a 4 kHz WAV goes: ``<stem>-22050.wav`` beside it."""
    wav = Path(wav)
    return wav.with_name(wav.stem + "-22050.wav")
