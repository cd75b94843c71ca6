"""What every judge of the listening panel is: 4 kHz clips in, genre probabilities and embeddings out."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable, ClassVar

import numpy as np

from .. import features as F
from ..errors import AuralizeError

if TYPE_CHECKING:
    from ..data import ClipSet


class Judge:
    """A genre classifier that no dream is optimised against.

    A judge reads mono 4 kHz audio cut into 5-s clips ``(n_clips, 20000)`` and gives, per clip,
    probabilities over :attr:`genres` and an embedding (for distances between sets of clips).
    Subclasses set :attr:`suffix` (the file type of their parameters) and implement
    :meth:`probabilities`, :meth:`embed`, :meth:`save`, :meth:`load` and :meth:`fit`.
    """

    #: The registry name it was loaded under (set by :func:`~auralize.panel.registry.load_judge`).
    name: str = ""
    suffix: ClassVar[str] = ".pt"
    #: One line for the model card: what the judge listens to and how it fails differently.
    description: ClassVar[str] = ""

    def __init__(self, genres: tuple[str, ...], meta: dict | None = None) -> None:
        self.genres = tuple(genres)
        self.meta = dict(meta or {})

    def probabilities(self, clips: np.ndarray) -> np.ndarray:
        """Per-clip genre probabilities ``(n_clips, n_genres)`` of clips ``(n_clips, 20000)``."""
        raise NotImplementedError

    def embed(self, clips: np.ndarray) -> np.ndarray:
        """Per-clip embedding ``(n_clips, dim)``: the representation distances are measured in."""
        raise NotImplementedError

    def save(self, path: str | Path) -> Path:
        raise NotImplementedError

    @classmethod
    def load(cls, path: str | Path) -> "Judge":
        raise NotImplementedError

    @classmethod
    def fit(cls, clips: "ClipSet", seed: int = 0, log: Callable[[str], None] = print) -> "Judge":
        """Train on ``clips``' training part, choosing settings on its validation part."""
        raise NotImplementedError


def as_clips(clips: np.ndarray) -> np.ndarray:
    """``(n, 20000)`` float32 clips; one clip may be given as ``(20000,)``."""
    clips = np.asarray(clips, dtype=np.float32)
    return clips.reshape(1, -1) if clips.ndim == 1 else clips.reshape(-1, F.CLIP_SAMPLES)


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def probe_clip() -> np.ndarray:
    """One fixed 5-s clip (a tone over noise) a loaded judge must answer sensibly."""
    rng = np.random.default_rng(0)
    t = np.arange(F.CLIP_SAMPLES) / F.SAMPLE_RATE
    return (0.1 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(t.size)).astype(np.float32)[None]


def check_judge(judge: Judge, path: str | Path) -> Judge:
    """``judge`` if it can vote: distinct genre names, one per output, and finite probabilities on
    :func:`probe_clip`; else a one-line error saying the file is damaged (edited weights of NaN or
    1e30, or a genre list that does not fit, would otherwise be counted as a verdict)."""
    def damaged(why: str) -> AuralizeError:
        return AuralizeError(f"{path} is a damaged panel judge: {why}; retrain it with 'auralize train-judge "
                             f"{judge.name or 'NAME'} --data DIR' or restore the shipped file")

    genres = judge.genres
    if len(genres) < 2 or not all(isinstance(g, str) and g for g in genres) or len(set(genres)) != len(genres):
        raise damaged(f"its genre names ({', '.join(map(str, genres))}) are not two or more distinct names")
    try:
        probs = np.asarray(judge.probabilities(probe_clip()), np.float64)
    except (ValueError, RuntimeError, IndexError) as exc:  # shapes that do not fit: numpy or torch says so
        raise damaged(f"it cannot run ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})") from None
    if probs.shape != (1, len(genres)):
        raise damaged(f"it gives {probs.shape[-1] if probs.ndim else 0} outputs for its {len(genres)} genres")
    if not np.isfinite(probs).all() or abs(probs.sum() - 1) > 1e-3:
        raise damaged("it gives probabilities that are not finite (weights of NaN or infinity, or far too large)")
    return judge
