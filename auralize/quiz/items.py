"""What a listening quiz asks about: its items (dreams, controls, real clips, noise) and its A/B pairs.

Every item is 5 s of mono audio at 4 kHz at one listening level, so neither its length nor its
loudness tells a dream from a real clip. Each item stands in a *condition* (:data:`CONDITIONS`);
a pair asks which of two items sounds more like a genre (:data:`PAIRS`).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import features as F
from .. import results
from ..errors import AuralizeError

#: The conditions an item can stand in: name -> what it is (in the order the score reports them).
CONDITIONS = {
    "dream": "dreams in the folder (model and prior)",
    "control": "prior-only controls (the same dream, the model switched off)",
    "model-only": "model-only dreams (no prior)",
    "real": "real clips of the held-out test tracks",
    "resynthesised": "the same real clips made as a dream's audio is (fine-grid magnitude, Griffin-Lim phase)",
    "white noise": "white noise",
    "mean-spectrum noise": "noise with the mean spectrum of real music",
}
#: The A/B questions: name -> the condition a dream is paired with.
PAIRS = {"dream vs control": "control", "dream vs real": "real"}
#: The largest WAV read (a 10-minute dream at 4 kHz is 4.6 MB); only its first 5 s are played.
MAX_WAV_BYTES = 32 * 2**20
#: The answer of a listener who cannot tell (and of a split panel).
CANT_TELL = "can't tell"


@dataclass
class Item:
    """One sound of the quiz and what it stands for (nothing of this reaches the page but the audio)."""

    condition: str  # a key of CONDITIONS
    genre: str | None  # the genre it was made for or is (None: noise)
    audio: np.ndarray  # 5 s at 4 kHz, at the listening level
    source: str  # where it came from, for the key: a path inside the folder or a track of the data
    dream: str | None = None  # a control or model-only dream: the source of the dream it belongs with


def _condition(meta: dict) -> str:
    """A dream file's condition, from what its writer recorded (role, model and prior weights)."""
    settings = meta.get("settings") if isinstance(meta.get("settings"), dict) else {}
    if meta.get("role") == "control" or settings.get("model_weight") == 0:
        return "control"
    if settings.get("prior_weight") == 0:
        return "model-only"
    return "dream"


def _clip(audio: np.ndarray, name: str) -> np.ndarray | None:
    """The first 5 s of ``audio`` at the listening level, or ``None`` (with a warning) if it is too short or silent."""
    from ..dream.audible import listening_level

    if len(audio) < F.CLIP_SAMPLES or not np.isfinite(audio).all() or not np.any(audio[:F.CLIP_SAMPLES]):
        warnings.warn(f"skipped {name}: it is not 5 s of finite, non-silent audio", stacklevel=3)
        return None
    return listening_level(audio[None, :F.CLIP_SAMPLES])[0].astype(np.float32)


def folder_items(folder: str | Path, controls: bool = False) -> list[Item]:
    """The dreams in ``folder`` (``auralize --genre ... -o folder``), and with ``controls`` their controls.

    A dream is a ``dream`` result file with its WAV beside it; files outside the folder, result
    files that do not validate and WAVs shorter than 5 s are skipped with a warning.
    """
    root = Path(folder)
    if not root.is_dir():
        raise AuralizeError(f"dream folder not found: {root}; give the folder 'auralize --genre all -o DIR' wrote")
    real_root = root.resolve()
    items = []
    for path in sorted(root.rglob("*.json")):
        if path.name.startswith(".") or not path.resolve().is_relative_to(real_root):
            continue
        try:
            meta = results.read(path)
        except results.NotAResult:
            continue
        except AuralizeError as exc:
            warnings.warn(f"{exc}; skipped", stacklevel=2)
            continue
        if meta["kind"] != "dream" or meta.get("role") == "component-control":
            # another result (a quiz key, answers, an explanation): nothing to play; the prior alone at a dream's
            # mixture component is not asked about: each dream is paired with its one control, the prior from noise
            continue
        condition = _condition(meta)
        if condition != "dream" and not controls:
            continue
        wav = results.dream_files(results.dream_stem(path))["wav"]
        if not wav.is_file() or not wav.resolve().is_relative_to(real_root):
            warnings.warn(f"skipped {path}: its WAV {wav.name} is not beside it", stacklevel=2)
            continue
        if wav.stat().st_size > MAX_WAV_BYTES:
            warnings.warn(f"skipped {wav}: {wav.stat().st_size / 2**20:.0f} MB is more than a dream's WAV", stacklevel=2)
            continue
        try:
            audio = _clip(F.load_audio(wav), str(wav))
        except AuralizeError as exc:
            warnings.warn(f"skipped {wav}: {exc}", stacklevel=2)
            continue
        if audio is None:
            continue
        rel = wav.relative_to(root).as_posix()
        # control_of names the dream's JSON beside it (only its name is read: never a path out of the folder)
        of = Path(meta.get("control_of") or "").name
        dream = (path.parent / of).relative_to(root).with_suffix(".wav").as_posix() if of.endswith(".json") else None
        items.append(Item(condition, meta["genre"], audio, rel, dream))
    if not any(i.condition == "dream" for i in items):
        raise AuralizeError(f"no dreams in {root}: make them with 'auralize --genre all -o {root}' (or --control)")
    return items


def real_items(clips, genres, per_genre: int, data_dir: str | Path) -> list[Item]:
    """``per_genre`` real clips of the held-out test tracks of each of ``genres``, from ``clips`` (the
    :func:`~auralize.data.load_clips` of ``data_dir``: the shipped split)."""
    from ..references import test_clips

    missing = [g for g in genres if g not in clips.genres]
    if missing:
        warnings.warn(f"{data_dir} has no {', '.join(missing)}: no real clips of "
                      f"{'that genre' if len(missing) == 1 else 'those genres'}", stacklevel=2)
    chosen = test_clips(clips, per_genre, genres=set(genres))
    if not chosen:
        raise AuralizeError(f"{data_dir} holds no test clips of the folder's genres ({', '.join(genres)})")
    counts = {g: sum(1 for h, _ in chosen if h == g) for g in genres if g in clips.genres}
    short = {g: n for g, n in counts.items() if n < per_genre}
    if short:
        warnings.warn("fewer test tracks than --real asks: " + ", ".join(f"{g} {n}" for g, n in short.items()),
                      stacklevel=2)
    items, seen = [], {}
    for genre, audio in chosen:
        seen[genre] = seen.get(genre, 0) + 1
        name = f"{genre} test clip {seen[genre]} of {data_dir}"
        level = _clip(audio, name)
        if level is not None:
            items.append(Item("real", genre, level, name))
    return items


def resynthesised_items(reals: list[Item], seed: int) -> list[Item]:
    """The real clips as a dream's audio is made (:func:`auralize.references.resynthesised`)."""
    from ..references import resynthesised

    return [Item("resynthesised", r.genre, _clip(resynthesised(r.audio, seed=seed), r.source),
                 f"{r.source}, resynthesised") for r in reals]


def noise_items(seed: int, clips=None, dreams: list[Item] | None = None) -> list[Item]:
    """White noise and noise with the mean spectrum of real music (of the TRAIN part of ``clips``, a
    :class:`~auralize.data.ClipSet`, or, without data, of the ``dreams``)."""
    from ..references import mean_spectrum, shaped_noise

    if clips is not None:
        spectrum = mean_spectrum(clips)
        what = "mean spectrum of the data's train clips"
    else:
        psd = F.clips_to_psd(np.stack([d.audio for d in dreams or []]))
        spectrum, what = np.sqrt(psd.mean(axis=(0, 1))), "mean spectrum of the dreams"
    return [Item("white noise", None, _clip(shaped_noise(np.ones(F.N_BINS), seed), "white noise"), "white noise"),
            Item("mean-spectrum noise", None, _clip(shaped_noise(spectrum, seed + 1), "noise"), f"noise ({what})")]


def pairs_of(items: list[Item]) -> list[tuple[str, int, int]]:
    """The A/B questions, as (question, dream, other) with indices into ``items``: each dream against its
    control and against the first real clip of its genre."""
    out = []
    for d, dream in enumerate(items):
        if dream.condition != "dream":
            continue
        control = next((k for k, i in enumerate(items) if i.condition == "control" and i.dream == dream.source), None)
        real = next((k for k, i in enumerate(items) if i.condition == "real" and i.genre == dream.genre), None)
        for name, other in (("dream vs control", control), ("dream vs real", real)):
            if other is not None:
                out.append((name, d, other))
    return out
