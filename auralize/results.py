"""Result files: one schema for every JSON auralize writes, written and read only here.

Every result is a JSON object whose first two keys are ``kind`` (``dream``, ``explanation``,
``weights``, ``neurons``, ``examples``, ``ensemble`` (the members of an ensemble model); the listening quiz's ``quiz-key``, ``quiz-answers`` and ``quiz-score``) and ``version`` (of that kind's schema). The library writes them with
:func:`write` (atomic, strict JSON: NaN or infinity is refused, never written); the gallery and
the other readers use :func:`read`, so nothing guesses a file's kind from its keys. Both check
the payload against its kind's schema (:data:`SCHEMAS`), so a hand-edited file (``round_trip`` a
string, a probability that is not a number) is refused with a message naming the field, never
met later as a crash.

File naming rules that more than one module needs live here too (:func:`wav_22050`, :func:`dream_files`), and the
inline HTML a notebook shows for a result (:func:`html_player`, :func:`html_image`).
"""
from __future__ import annotations

import base64
import html
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import AuralizeError
from .io import atomic_write_text

class NotAResult(AuralizeError):
    """The file is JSON but no auralize result (it has no known ``kind``)."""


#: Schema version of each kind of result file.
KINDS = {"dream": 1, "explanation": 1, "weights": 1, "neurons": 1, "examples": 1, "ensemble": 1, "quiz-key": 1,
         "quiz-answers": 1, "quiz-score": 1}


def _check_finite(value, where: str = "") -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise AuralizeError(f"refusing to write a non-finite number ({value}) at {where or 'the top level'}; "
                            "the input or the model gives NaN or infinity")
    if isinstance(value, dict):
        for k, v in value.items():
            _check_finite(v, _at(where, k))
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_finite(v, f"{where}[{i}]")


# --- schemas -------------------------------------------------------------------------------------
# A schema is a Python type (``str``, ``int``; ``float`` means any finite number), a one-item list
# ``[schema]`` (a list of those), ``Fields`` (an object with these keys) or ``Each`` (an object whose
# every value is of one schema). Keys not named are allowed, so a writer can add fields freely.


@dataclass(frozen=True)
class Fields:
    """An object with ``required`` keys and, when present, ``optional`` ones (``None`` allowed)."""

    required: dict
    optional: dict | None = None


@dataclass(frozen=True)
class Each:
    """An object (string keys) whose every value matches ``schema`` (``None`` too if ``nullable``)."""

    schema: Any
    nullable: bool = False


@dataclass(frozen=True)
class Range:
    """A finite number within ``[lo, hi]`` (a whole one if ``integer``): a probability, a count."""

    lo: float
    hi: float = math.inf
    integer: bool = False


_NAMES = {str: "a string", int: "a whole number", float: "a number", bool: "true or false"}

#: A probability, and a count of judges or votes.
P, COUNT = Range(0.0, 1.0), Range(0, integer=True)
PROBABILITIES = [[P]]
#: A model's temperature and how it was fitted (``auralize.calibration.TemperatureFit.to_dict``).
TEMPERATURE_FIT = Fields({"temperature": float, "part": str, "n_clips": COUNT, "accuracy": P, "confidence": P,
                          "calibrated_confidence": P})
NEURON_REPORT = Fields({"layer": str, "rule": str, "quantile": float, "genres": [str], "n_clips": [float],
                        "top": Each([Fields({"unit": int, "active_rate": float, "mean_activation": float},
                                            {"lift": float})])})

#: What the held-out listening panel heard (``auralize.panel.PanelVerdict.to_dict``).
PANEL_VERDICT = Fields({"votes": COUNT, "n_judges": COUNT, "judges": [Fields({"judge": str, "genre": str},
                                                                             {"p_target": P})]},
                       {"majority": str, "target": str, "p_target": P, "hit": bool, "agrees": bool})

#: The schema of each kind of result: what a reader may rely on.
SCHEMAS = {
    "dream": Fields({"genre": str, "round_trip": Fields({"p_target_mean": P, "verdict": str},
                                                        {"p_target_min": P, "p_target_per_clip": [P]})},
                    {"checkpoint": str, "model": str, "objective": str, "settings": Each(object),
                     "objective_start": float, "objective_end": float, "objective_curve": [float],
                     "files": Each(str, nullable=True), "panel": PANEL_VERDICT,
                     "temporal": Fields({"dream": Each(float)}, {"real": Each(float)}),
                     # what the genre comes from; a dream made with --control: its control and the model's share
                     "genre_from": str, "role": str, "control_of": str, "model_share": float,
                     "control": Fields({"files": Each(str, nullable=True)},
                                       {"panel": PANEL_VERDICT, "round_trip": Fields({"p_target_mean": float})}),
                     # with a mixture prior: the prior alone at the component the dream ends in
                     "model_share_beyond_component": float,
                     "component_control": Fields({"files": Each(str, nullable=True), "component": COUNT},
                                                 {"panel": PANEL_VERDICT, "round_trip": Fields({"p_target_mean": float})}),
                     "init": Fields({"sha256": str}, {"path": str})}),
    "explanation": Fields({"genres": [str], "verdict": str, "method": str, "clip_probabilities": PROBABILITIES,
                           "files": Each(str, nullable=True)},
                          {"song": str, "checkpoint": str, "target": str, "seed": int, "attention": [[float]],
                           "seconds": float}),
    "weights": Fields({"units": [Fields({"unit": int, "gate": str}, {"top_of": [str], "wav": str})]},
                      {"checkpoint": str, "contrast": float}),
    "neurons": Fields({"reports": Each(NEURON_REPORT)}, {"default": str, "checkpoint_sha256": str}),
    "examples": Fields({"layer": str, "genres": Each(Fields(
        {name: [Fields({"track": str, "start": float, "value": float, "wav": str})]
         for name in ("neuron_top", "neuron_bottom", "class_top", "class_bottom")}, {"unit": int, "png": str}))},
        {"model": str, "checkpoint": str, "rule": str, "sample_rate": int}),
    # An ensemble model (auralize.ensembles): member checkpoints, relative to the file's folder, and, when it
    # was calibrated (auralize.calibration), their temperatures and how each was fitted, and the combined
    # output's temperature and how it was fitted.
    "ensemble": Fields({"members": [str], "combine": str},
                       {"name": str, "temperatures": [Range(0.0)], "calibration": [TEMPERATURE_FIT],
                        "output_temperature": Range(0.0), "output_calibration": TEMPERATURE_FIT}),
    # The listening quiz (auralize.quiz): its key (never in the page), a listener's answers (written by
    # the page) and the score of a set of answers.
    "quiz-key": Fields({"quiz": str, "genres": [str], "page": str,
                        "items": Each(Fields({"condition": str, "source": str, "media": str},
                                             {"genre": str, "panel": str, "panel_p": Each(P)})),
                        "pairs": Each(Fields({"question": str, "genre": str, "dream": str, "other": str},
                                             {"panel": str}))},
                       {"seed": int, "panel_judges": [str], "audio": str}),
    "quiz-answers": Fields({"quiz": str, "listener": str, "checksum": str,
                            "answers": [Fields({"item": str, "answer": str, "ms": Range(0, integer=True),
                                                "plays": Range(0, integer=True)})]},
                           {"started": str, "finished": str, "seconds": Range(0)}),
    "quiz-score": Fields({"quiz": str, "listeners": [str], "conditions": Each(object), "pairs": Each(object)},
                         {"per_listener": [object], "skipped": [str], "files": Each(str, nullable=True)}),
}


def _at(where: str, key) -> str:
    return f"{where}.{key}" if where else str(key)


def _mismatch(value, schema, where: str) -> str | None:
    """Why ``value`` does not match ``schema`` (naming the field), or ``None`` if it does."""
    if schema is object:
        return None
    if isinstance(schema, list):
        if not isinstance(value, list):
            return f"{where or 'the result'} must be a list, got {type(value).__name__}"
        return next(filter(None, (_mismatch(v, schema[0], f"{where}[{i}]") for i, v in enumerate(value))), None)
    if isinstance(schema, Range):
        number = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if not number or not schema.lo <= value <= schema.hi or (schema.integer and value != int(value)):
            kind = "a whole number" if schema.integer else "a number"
            bounds = f"from {schema.lo:g} to {schema.hi:g}" if math.isfinite(schema.hi) else f">= {schema.lo:g}"
            return f"{where} must be {kind} {bounds}, got {value!r:.40}"
        return None
    if isinstance(schema, (Fields, Each)) and not isinstance(value, dict):
        return f"{where or 'the result'} must be an object, got {type(value).__name__}"
    if isinstance(schema, Each):
        return next(filter(None, (None if v is None and schema.nullable else _mismatch(v, schema.schema, _at(where, k))
                                  for k, v in value.items())), None)
    if isinstance(schema, Fields):
        for key, sub in schema.required.items():
            if key not in value:
                return f"{_at(where, key)} is missing"
            why = _mismatch(value[key], sub, _at(where, key))
            if why:
                return why
        for key, sub in (schema.optional or {}).items():
            why = None if value.get(key) is None else _mismatch(value[key], sub, _at(where, key))
            if why:
                return why
        return None
    ok = (isinstance(value, schema) and not isinstance(value, bool) if schema in (int, str) else
          isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) if schema is float
          else isinstance(value, schema))
    return None if ok else f"{where} must be {_NAMES.get(schema, schema.__name__)}, got {value!r:.40}"


def _consistency(kind: str, data: dict) -> str | None:
    """Checks across fields that a schema cannot state."""
    panel = data.get("panel") if kind == "dream" else None
    if isinstance(panel, dict) and panel["votes"] > panel["n_judges"]:
        return f"panel.votes ({panel['votes']}) is more than panel.n_judges ({panel['n_judges']})"
    if kind == "explanation":
        n = len(data["genres"])
        bad = next((i for i, row in enumerate(data["clip_probabilities"]) if len(row) != n), None)
        if bad is not None:
            return f"clip_probabilities[{bad}] has {len(data['clip_probabilities'][bad])} values for {n} genres"
        if data["verdict"] not in data["genres"]:
            return f"verdict {data['verdict']!r:.40} is not one of its genres"
    return None


def validate(kind: str, data: dict, where: str = "result") -> dict:
    """``data`` if it matches the schema of ``kind``, else an :class:`AuralizeError` naming the field."""
    if kind not in KINDS:
        raise AuralizeError(f"unknown result kind {kind!r}; one of {', '.join(KINDS)}")
    why = _mismatch(data, SCHEMAS[kind], "") or _consistency(kind, data)
    if why:
        raise AuralizeError(f"{where} is not a valid {kind} result: {why}")
    return data


def dumps(kind: str, payload: dict) -> str:
    """The JSON text of a result: ``kind`` and ``version`` first, then ``payload``."""
    if kind not in KINDS:
        raise AuralizeError(f"unknown result kind {kind!r}; one of {', '.join(KINDS)}")
    _check_finite(payload)
    validate(kind, payload, f"the {kind} to write")
    body = {"kind": kind, "version": KINDS[kind], **{k: v for k, v in payload.items() if k not in ("kind", "version")}}
    return json.dumps(body, indent=1, allow_nan=False)


def write(path: str | Path, kind: str, payload: dict) -> Path:
    """Write a result file atomically; returns its path."""
    return atomic_write_text(path, dumps(kind, payload))


def read(path: str | Path, kind: str | None = None) -> dict:
    """Read a result file, checking its kind (``kind`` if given), schema version and fields.

    Raises
    ------
    AuralizeError
        If the file is missing, not JSON, not a result file, of another kind or of an unknown
        version, or if a field does not match its kind's schema (:data:`SCHEMAS`).
    """
    path = Path(path)
    if path.exists() and not path.is_file():  # a FIFO would block the read forever
        raise AuralizeError(f"{path} is not a regular file; a result file is a JSON file")
    try:
        data = json.loads(path.read_text(), parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    except FileNotFoundError:
        raise AuralizeError(f"result file not found: {path}") from None
    except (OSError, ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: absurd nesting
        why = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise AuralizeError(f"{path} is not a valid result file ({type(exc).__name__}: {why})") from None
    if not isinstance(data, dict) or data.get("kind") not in KINDS:
        raise NotAResult(f"{path} is not an auralize result file (no known 'kind')")
    if kind is not None and data["kind"] != kind:
        raise AuralizeError(f"{path} holds a {data['kind']} result, not a {kind} result")
    if data.get("version") != KINDS[data["kind"]]:
        raise AuralizeError(f"{path} is a {data['kind']} result of schema version {data.get('version')!r}; this "
                            f"auralize reads version {KINDS[data['kind']]}: rerun the command that made it")
    return validate(data["kind"], data, str(path))


def kind_of(path: str | Path) -> str | None:
    """The kind of a result file, or ``None`` if ``path`` is not one."""
    try:
        return read(path)["kind"]
    except AuralizeError:
        return None


def panel_line(panel: dict | None, genre: str) -> str:
    """What the held-out panel heard, in a few words (for titles and printed summaries)."""
    if not panel:
        return "panel: not judged"
    heard = f"{panel['majority']} ({panel['votes']} of {panel['n_judges']})" if panel.get("majority") else \
        f"split (at most {panel['votes']} of {panel['n_judges']} agree)"
    p = f", mean p({genre}) = {panel['p_target']:.3f}" if panel.get("p_target") is not None else ""
    return f"held-out panel hears {heard}{p}"


def wav_22050(wav: str | Path) -> Path:
    """Where the 22050 Hz copy of a 4 kHz WAV goes: ``<stem>-22050.wav`` beside it."""
    wav = Path(wav)
    return wav.with_name(wav.stem + "-22050.wav")


def dream_files(stem: str | Path) -> dict[str, Path]:
    """The files of the dream with this stem, by role: the writer and the gallery both name them
    here (not with ``with_suffix``: the stem ``take1.5`` keeps its ``.5``)."""
    stem = Path(stem)
    named = lambda ext: stem.with_name(stem.name + ext)  # noqa: E731
    wav = named(".wav")
    return {"wav": wav, "wav_22050": wav_22050(wav), "spectrogram": named(".npy"), "png": named(".png"),
            "json": named(".json")}


def dream_stem(result: str | Path) -> Path:
    """The stem of the dream whose JSON is ``result`` (``take1.5.json`` -> ``take1.5``)."""
    result = Path(result)
    return result.with_name(result.name[:-len(".json")] if result.name.endswith(".json") else result.name)


# --- inline HTML (notebooks and the gallery) -------------------------------------------------------

def html_audio(wav_bytes: bytes, label: str = "") -> str:
    """An ``<audio controls>`` element playing WAV bytes from a data URI (no file, no request)."""
    uri = "data:audio/wav;base64," + base64.b64encode(wav_bytes).decode("ascii")
    return f'<audio controls preload="metadata" title="{html.escape(label)}" src="{uri}"></audio>'


def html_player(audio: np.ndarray, sr: int, label: str = "") -> str:
    """An inline player for mono samples: 16-bit WAV, resampled to 22050 Hz so every browser plays it."""
    import soundfile as sf

    from .features import resample

    audio = np.asarray(audio, dtype=np.float32)
    if sr != 22050:
        audio = resample(audio, sr, 22050)
    buf = io.BytesIO()
    sf.write(buf, np.clip(audio, -1.0, 1.0), 22050, subtype="PCM_16", format="WAV")
    return html_audio(buf.getvalue(), label)


def html_image(png_bytes: bytes, alt: str = "") -> str:
    """An ``<img>`` of PNG bytes from a data URI."""
    uri = "data:image/png;base64," + base64.b64encode(png_bytes).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="{uri}" style="max-width:100%">'
