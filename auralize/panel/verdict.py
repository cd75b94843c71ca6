"""``judge(...)``: what the held-out panel hears in audio, judge by judge, and whether it agrees."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .. import features as F
from ..audio import READ_SECONDS, as_audio
from ..errors import AuralizeError
from ..evaluation import vote
from .registry import JUDGES, PANEL, check_name, load_judge

AudioLike = str | Path | np.ndarray


@dataclass
class JudgeVerdict:
    """One judge on one piece of audio: its vote over the 5-s clips and its mean probabilities."""

    judge: str
    genre: str  # the clips' vote
    probabilities: dict[str, float]  # mean over clips
    p_target: float | None = None  # mean p(target genre) when a target was given

    def to_dict(self) -> dict:
        return {"judge": self.judge, "genre": self.genre, "p_target": self.p_target,
                "probabilities": self.probabilities}


@dataclass
class PanelVerdict:
    """The panel on one piece of audio."""

    name: str
    verdicts: list[JudgeVerdict]
    target: str | None = None
    majority: str | None = None  # the genre more than half the judges vote for, else None
    votes: int = 0  # judges voting for the most voted genre
    n_clips: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def agrees(self) -> bool:
        """More than half of the judges give the same verdict."""
        return self.majority is not None

    @property
    def hit(self) -> bool | None:
        """The majority verdict is the target (``None`` without a target)."""
        return None if self.target is None else self.majority == self.target

    @property
    def p_target(self) -> float | None:
        """Mean over judges of p(target)."""
        ps = [v.p_target for v in self.verdicts if v.p_target is not None]
        return float(np.mean(ps)) if ps and self.target is not None else None

    def to_dict(self) -> dict:
        return {"name": self.name, "target": self.target, "majority": self.majority, "votes": self.votes,
                "n_judges": len(self.verdicts), "agrees": self.agrees, "hit": self.hit, "p_target": self.p_target,
                "n_clips": self.n_clips, "judges": [v.to_dict() for v in self.verdicts]}

    def summary(self) -> str:
        """One line per judge and one for the panel."""
        lines = []
        for v in self.verdicts:
            p = f"p({self.target}) {v.p_target:.3f}" if v.p_target is not None else \
                f"p({v.genre}) {v.probabilities[v.genre]:.3f}"
            lines.append(f"  {v.judge:12s} {v.genre:10s} {p}")
        top = Counter(v.genre for v in self.verdicts).most_common(1)[0][0] if self.verdicts else "-"
        panel = (f"panel agrees: {self.majority} ({self.votes} of {len(self.verdicts)} judges)" if self.agrees
                 else f"panel split: at most {self.votes} of {len(self.verdicts)} judges on one genre ({top})")
        if self.target is not None:
            panel += f"; mean p({self.target}) {self.p_target:.3f}"
        clips = f"{self.n_clips} clip{'s' if self.n_clips != 1 else ''} of 5 s"
        return "\n".join([f"{self.name} ({clips})"] + lines + ["  " + panel])


def judge_names(judges: str | Sequence[str] | None) -> list[str]:
    """Judge names from a list or a comma-separated string (default: the panel, :data:`PANEL`)."""
    if judges is None:
        return list(PANEL)
    names = [j.strip() for j in judges.split(",")] if isinstance(judges, str) else list(judges)
    names = [n for n in names if n]
    if not names:
        raise AuralizeError("judges must name at least one judge; choose from " + ", ".join(JUDGES), param="judges")
    for n in names:
        check_name(n)
    twice = next((n for n in names if names.count(n) > 1), None)
    if twice:
        raise AuralizeError(f"judges names {twice!r} twice; each judge votes once", param="judges")
    return names


def _items(audio_or_paths) -> list:
    """The pieces of audio ``judge`` was given: one path or 1-d array, or a list (rows of a 2-d array)."""
    if isinstance(audio_or_paths, (str, Path)) or getattr(audio_or_paths, "ndim", 2) == 1:
        return [audio_or_paths]
    if isinstance(audio_or_paths, (list, tuple)) and audio_or_paths and all(
            isinstance(v, (int, float, np.number)) for v in audio_or_paths):
        raise AuralizeError("audio_or_paths is a list of numbers; give the samples as a numpy array (or a list of "
                            "paths or arrays)", param="audio_or_paths")
    try:
        return list(audio_or_paths)
    except TypeError:
        raise AuralizeError(f"audio_or_paths must be a path, an array of samples or a list of them, got "
                            f"{type(audio_or_paths).__name__}", param="audio_or_paths") from None


def judge(audio_or_paths: AudioLike | Sequence[AudioLike], judges: str | Sequence[str] | None = None,
          genre: str | None = None, folder: str | Path | None = None, sr: int | None = None,
          on_error: Callable[[str, AuralizeError], None] | None = None,
          max_seconds: float | None = READ_SECONDS) -> list[PanelVerdict]:
    """What the held-out listening panel hears in audio.

    Parameters
    ----------
    audio_or_paths : an audio file, samples (numpy or torch, see :func:`auralize.audio.as_audio`), or a
        list of them (a 2-d array: one piece per row)
    judges : judge names (a list or ``"a,b"``) from :data:`JUDGES`; default the panel, :data:`PANEL`
    genre : the target genre; each verdict then gives p(genre) per judge and whether the
        majority verdict is it
    folder : where the judges' files are (default ``trained/panel`` or ``$AURALIZE_PANEL``)
    sr : the sample rate of arrays (default 4000 Hz)
    on_error : called with the name of each piece that cannot be judged and the error, which is then
        skipped (default: the error is raised)
    max_seconds : judge only the first this many seconds of each piece (a warning says so; ``None``: all)

    Returns
    -------
    list of PanelVerdict
        One per input, in order (without those skipped).

    Raises
    ------
    AuralizeError
        For audio that cannot be read, is shorter than one clip, silent or not finite; an
        unknown judge or genre; a judge file that is missing or damaged.
    """
    names = judge_names(judges)
    loaded = [load_judge(n, folder) for n in names]
    if genre is not None and not any(genre in j.genres for j in loaded):
        raise AuralizeError(f"unknown genre {genre!r}; the judges know: {', '.join(loaded[0].genres)}", param="genre")
    out = []
    for number, item in enumerate(_items(audio_or_paths)):
        name = str(item) if isinstance(item, (str, Path)) else f"audio {number}"
        try:
            clips = F.split_clips(as_audio(item, sr, name=name, max_seconds=max_seconds), name)
        except AuralizeError as exc:
            if on_error is None:
                raise
            on_error(name, exc)
            continue
        out.append(panel_verdict(name, clips, loaded, genre))
    return out


def judge_verdict(judge, clips: np.ndarray, genre: str | None = None) -> JudgeVerdict:
    """One loaded judge's verdict on clips ``(n_clips, 20000)``."""
    probs = judge.probabilities(clips)
    if not np.isfinite(probs).all():  # a NaN must not count as a vote
        raise AuralizeError(f"panel judge {judge.name!r} gives non-finite probabilities; is its file damaged? "
                            f"(retrain it with 'auralize train-judge {judge.name} --data DIR')")
    mean = probs.mean(0)
    p_target = float(mean[judge.genres.index(genre)]) if genre in judge.genres else (0.0 if genre else None)
    return JudgeVerdict(judge.name, judge.genres[vote(probs)], {g: float(p) for g, p in zip(judge.genres, mean)},
                        p_target)


def panel_verdict(name: str, clips: np.ndarray, judges: list, genre: str | None = None) -> PanelVerdict:
    """The panel's verdict on clips ``(n_clips, 20000)`` by loaded judges."""
    verdicts = [judge_verdict(j, clips, genre) for j in judges]
    genre_votes = Counter(v.genre for v in verdicts).most_common()
    top, votes = genre_votes[0]
    majority = top if votes * 2 > len(verdicts) else None
    return PanelVerdict(name, verdicts, genre, majority, votes, len(clips))
