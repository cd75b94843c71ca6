"""A genre-blind prior: where the statistics of real music lie, learned from clips of every genre without labels.

A genre prior (:class:`~auralize.dream.prior.GenrePrior`) tells a dream what its genre sounds like, so
the genre a listener hears in the dream is the prior's, not the model's (issue 14). A
:class:`MusicPrior` says only "sounds like music": it is fitted on clips of every genre with no label
in sight (:func:`fit_music_prior` takes no labels), and it is the same for every genre, so the genre
a dream asks for reaches it only through the model.

It models the same texture statistics as the genre prior (:data:`~auralize.dream.prior.STATISTICS`,
read at the listening level, RMS 0.05): each clip's statistics, z-scored by their spread over all
clips and each statistic's block scaled by 1/sqrt(its size) (so each statistic weighs the same), form
a vector ``v`` of ``D`` numbers. The prior is a low-rank Gaussian of ``v``: ``rank`` principal
directions ``U`` with their variances, and a per-dimension variance of the rest. Its energy,

    E(v) = (7 / D) [sum_i (u_i . c)^2 / lambda_i + sum_d r_d^2 / psi_d],  c = v - center,  r = c - U U^T c,

is about 7 (one per statistic) for a real clip and grows as a dream leaves the music real clips span;
a dream moving along a direction real music varies in (genre among them) pays little. It holds only
aggregates over every training clip (means, spreads, principal directions, variances): no clip can be
rebuilt or retrieved from it.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NamedTuple, Sequence

import numpy as np
import torch

from .. import checks
from ..errors import AuralizeError
from ..io import atomic_save_npz
from ..finemel import LEVEL_RMS, at_level, front_end_meta
from .prior import STATISTICS, check_statistics, finite_audio, statistics

FORMAT = "auralize-music-prior-1"
#: The weight of the prior in a dream unless the user gives one (docs/results/dream-study.md).
DEFAULT_WEIGHT = 0.1


@dataclass
class MusicPrior:
    """A genre-blind low-rank Gaussian of real clips' texture statistics (see the module docstring)."""

    names: tuple[str, ...]
    mean: dict[str, np.ndarray]  # name -> (k,) over all clips
    spread: dict[str, np.ndarray]
    center: np.ndarray  # (D,)
    components: np.ndarray  # (D, rank)
    variances: np.ndarray  # (rank,)
    residual: np.ndarray  # (D,)
    clips: int
    meta: dict = field(default_factory=dict)

    file_format = FORMAT
    genre_aware = False
    default_weight = DEFAULT_WEIGHT

    def __post_init__(self) -> None:
        t = lambda a: torch.as_tensor(np.asarray(a), dtype=torch.float32)  # noqa: E731
        self._mean = {n: t(self.mean[n]) for n in self.names}
        self._scale = {n: t(self.spread[n] * math.sqrt(len(self.mean[n]))) for n in self.names}
        self._center, self._u, self._lam, self._psi = (t(a) for a in (self.center, self.components, self.variances,
                                                                        self.residual))

    @property
    def kind_text(self) -> str:
        """What it is, in a few words, for logs and cards."""
        return "music prior"

    @property
    def model_text(self) -> str:
        """How it models the statistics inside its principal directions, for its card."""
        return "a low-rank Gaussian"

    @property
    def size(self) -> int:
        return int(self.center.size)

    def covers(self, genres: Sequence[str]) -> list[str]:
        """Every genre: the prior knows none, so it serves each the same."""
        return list(genres)

    def vector(self, stats: dict[str, torch.Tensor]) -> torch.Tensor:
        """The block-scaled z-scores ``v`` ``(B, D)`` of statistics ``name -> (B, k)``."""
        return torch.cat([(stats[n] - self._mean[n]) / self._scale[n] for n in self.names], 1)

    def energy(self, stats: dict[str, torch.Tensor]) -> torch.Tensor:
        """Per item ``(B,)``: the energy of the module docstring (about 7 for a real clip)."""
        c = self.vector(stats) - self._center
        proj = c @ self._u
        rest = c - proj @ self._u.T
        return ((proj.pow(2) / self._lam).sum(1) + (rest.pow(2) / self._psi).sum(1)) * (len(self.names) / self.size)

    def distance(self, audio: torch.Tensor, genre: str | None = None, caricature: float = 0.0) -> torch.Tensor:
        """The energy of audio ``(B, samples)`` (read at the listening level), the same for any ``genre``."""
        return self._energy_of(finite_audio(audio, "real music"))

    def _energy_of(self, audio: torch.Tensor) -> torch.Tensor:
        return self.energy(statistics(at_level(audio.float()), self.names))

    def drawn(self, seed: int) -> "MusicPrior":
        """The same prior centred on one random draw from it (seeded): a plausible music texture, not the mode.

        Pulled to its mode, the prior alone makes nearly the same sound from every seed, so whatever genre
        that one sound resembles is heard on every seed (issue 14). Centred on a draw ``c`` of its own Gaussian
        (``U sqrt(lambda) z`` plus the residual's ``sqrt(psi) z'`` outside ``U``), the prior alone lands on a
        different texture for each seed, one that real music of some genre could have; its spread is unchanged
        and no label is read, so it stays genre-blind.
        """
        rng = np.random.default_rng(checks.seed(seed))
        along = self.components @ (np.sqrt(self.variances) * rng.standard_normal(self.variances.size))
        rest = np.sqrt(self.residual) * rng.standard_normal(self.size)
        rest = rest - self.components @ (self.components.T @ rest)
        return replace(self, center=self.center + along + rest, meta={**self.meta, "drawn": int(seed)})

    def match(self, genre: str | None = None, caricature: float = 0.0):
        """The objective a dream adds (times its prior weight): minus the energy of its audio. The same for every
        genre; ``caricature`` has no meaning for a prior without genres."""
        from .objectives import Objective

        return Objective(lambda c: -self._energy_of(c.audio).mean(), f"{self.kind_text} (rank {self.components.shape[1]})")

    def save(self, path: str | Path) -> Path:
        return atomic_save_npz(path, self.arrays())

    def arrays(self) -> dict[str, np.ndarray]:
        """What its file holds: name -> array."""
        arrays = {"format": np.array(self.file_format), "names": np.array(self.names), "center": self.center,
                  "components": self.components, "variances": self.variances, "residual": self.residual,
                  "clips": np.array(self.clips), "meta": np.array(json.dumps(self.meta))}
        for n in self.names:
            arrays[f"mean/{n}"], arrays[f"spread/{n}"] = self.mean[n], self.spread[n]
        return arrays

    @classmethod
    def from_arrays(cls, z: dict, path: Path) -> "MusicPrior":
        """A prior from the arrays of its file (:func:`~auralize.dream.priors.read_prior` checked their headers and
        the format); refused in one line if they do not make one."""
        from .prior import _meta

        def damaged(why: str) -> AuralizeError:
            return AuralizeError(f"{path} is not a music prior auralize can read ({why}); make one with 'auralize "
                                 "train-prior --kind music --data DIR'", param="prior")

        if "names" not in z or z["names"].dtype.kind != "U" or z["names"].ndim != 1:
            raise damaged("it has no list of statistics")
        names = tuple(str(n) for n in z["names"])
        unknown = [n for n in names if n not in STATISTICS]
        if unknown or not names:
            raise AuralizeError(f"{path} holds statistics this auralize does not know ({', '.join(unknown) or 'none'});"
                                " refit it with 'auralize train-prior --kind music --data DIR'", param="prior")
        keys = ["center", "components", "variances", "residual", "clips"] + [f"{k}/{n}" for n in names
                                                                             for k in ("mean", "spread")]
        missing = next((k for k in keys if k not in z or z[k].dtype.kind not in "iuf"), None)
        if missing is not None or z["clips"].ndim != 0:
            raise damaged(f"it has no {missing or 'clip count'} of numbers")
        prior = cls(names, {n: np.asarray(z[f"mean/{n}"], np.float64) for n in names},
                    {n: np.asarray(z[f"spread/{n}"], np.float64) for n in names},
                    *(np.asarray(z[k], np.float64) for k in ("center", "components", "variances", "residual")),
                    int(z["clips"]), _meta(z, damaged))
        prior.check(path)
        return prior

    def check(self, path: str | Path = "the prior") -> None:
        """Refuse shapes that do not fit the statistics, and values that are not finite or spreads <= 0."""
        from .prior import statistic_sizes

        sizes = statistic_sizes(self.names)
        d = sum(sizes.values())
        rank = self.variances.shape[0] if self.variances.ndim == 1 else -1
        shapes_fit = (all(self.mean[n].shape == self.spread[n].shape == (sizes[n],) for n in self.names)
                      and self.center.shape == self.residual.shape == (d,) and self.components.shape == (d, rank))
        if not shapes_fit:
            raise AuralizeError(f"{path} is damaged: its arrays do not fit its statistics ({d} numbers)", param="prior")
        arrays = [*self.mean.values(), *self.spread.values(), self.center, self.components, self.variances,
                  self.residual]
        if not all(np.isfinite(a).all() for a in arrays) or (self.variances <= 0).any() or (self.residual <= 0).any() \
                or any((s <= 0).any() for s in self.spread.values()):
            raise AuralizeError(f"{path} is damaged: it holds NaN, infinity or a variance <= 0", param="prior")
        # float32 z-scores of a spread or variance this small overflow (the dream would be NaN at its first step)
        if min(float(self.variances.min()), float(self.residual.min()), *(float(s.min()) for s in self.spread.values())) \
                < 1e-8:
            raise AuralizeError(f"{path} is damaged: a spread or variance below 1e-8, so its z-scores overflow",
                                param="prior")


def held_out(clips) -> np.ndarray:
    """The indices of the VALID and TEST clips, in that order: what a prior's card is measured on."""
    return np.concatenate([clips.split["valid"], clips.split["test"]])


def clip_statistics(audio: np.ndarray, names: Sequence[str], batch: int = 256) -> dict[str, np.ndarray]:
    """The statistics ``names`` of clips ``audio`` ``(n, samples)`` read at the listening level: name -> ``(n, k)``."""
    audio = np.asarray(audio, np.float32)
    with torch.no_grad():
        parts = [statistics(at_level(torch.from_numpy(audio[i:i + batch])), names) for i in range(0, len(audio), batch)]
    return {n: torch.cat([p[n] for p in parts]).double().numpy() for n in names}


#: The principal directions a music prior keeps unless told otherwise (fewer when there are few clips).
RANK = 32


def fit_music_prior(audio: np.ndarray, rank: int | None = None, names: Sequence[str] | None = None,
                    meta: dict | None = None, batch: int = 256) -> MusicPrior:
    """A :class:`MusicPrior` from real clips ``audio`` ``(n, 20000)`` of any genres; no labels are taken.

    ``rank``: the principal directions kept (default :data:`RANK`, or ``n - 2`` for fewer clips); ``names``:
    the statistics (default every registered one).
    """
    audio, rank, names = fit_inputs(audio, rank, names)
    return gaussian_fit(clip_statistics(audio, names, batch), names, rank, meta).prior


def fit_inputs(audio: np.ndarray, rank: int | None, names: Sequence[str] | None) -> tuple[np.ndarray, int, list[str]]:
    """The clips as float32, the rank and the statistics' names of a genre-blind prior's fit, checked."""
    audio = np.asarray(audio, np.float32)
    if audio.ndim != 2 or len(audio) < 3:
        raise AuralizeError("fit_music_prior needs at least three clips (n, samples)", param="audio")
    rank = min(RANK, len(audio) - 2) if rank is None else checks.count("rank", rank, 1, len(audio) - 2)
    return audio, rank, check_statistics(names)


class GaussianFit(NamedTuple):
    """A fitted :class:`MusicPrior`, the block-scaled z-scores ``v`` ``(n, D)`` of the clips it was fitted on, and
    the floor added to its residual variances."""

    prior: MusicPrior
    vectors: np.ndarray
    floor: float


def gaussian_fit(every: dict[str, np.ndarray], names: Sequence[str], rank: int, meta: dict | None) -> GaussianFit:
    """The one-Gaussian fit of the statistics ``every`` (name -> ``(n, k)``) of ``n`` clips."""
    mean = {n: v.mean(0) for n, v in every.items()}
    spread = {n: v.std(0, ddof=1) + 1e-3 for n, v in every.items()}
    x = np.concatenate([(every[n] - mean[n]) / spread[n] / math.sqrt(every[n].shape[1]) for n in names], 1)
    center = x.mean(0)
    _, s, vt = np.linalg.svd(x - center, full_matrices=False)
    lam = s ** 2 / (len(x) - 1)
    u = vt[:rank].T
    rest = (x - center) - (x - center) @ u @ u.T
    floor = 1e-4 * lam[min(rank, len(lam) - 1)]
    info = {"front_end": front_end_meta(), "level_rms": LEVEL_RMS, "rank": rank,
            "explained_variance": float(lam[:rank].sum() / lam.sum()), **(meta or {})}
    prior = MusicPrior(tuple(names), mean, spread, center, u, lam[:rank], rest.var(0, ddof=1) + floor, len(x), info)
    return GaussianFit(prior, x, float(floor))


def train_music(clips, meta: dict, names, rank: int, log, prior: MusicPrior | None = None,
                held_stats: dict[str, np.ndarray] | None = None) -> tuple[MusicPrior, object]:
    """The music prior from the TRAIN clips (their labels unread), and its card: how it scores held-out clips
    of each genre (labels read only for this report) and white noise. ``prior``: one already fitted on those
    clips (default: :func:`fit_music_prior` of them); ``held_stats``: the held-out clips' :func:`clip_statistics`,
    when the caller has them already (default: read here)."""
    if prior is None:
        prior = fit_music_prior(clips.part("train")[0], rank, names, meta)
    log(f"{prior.kind_text}: rank {prior.meta['rank']}, {prior.meta['explained_variance']:.3f} of the statistics' "
        "variance")
    held = held_out(clips)
    every = held_stats if held_stats is not None else clip_statistics(clips.audio[held], prior.names)
    with torch.no_grad():  # in the batches clip_statistics reads them in
        energy = torch.cat([prior.energy({n: torch.as_tensor(e[i:i + 256], dtype=torch.float32)
                                          for n, e in every.items()}) for i in range(0, len(held), 256)]).numpy()
        noise = prior.distance(torch.randn(32, clips.audio.shape[1], generator=torch.Generator().manual_seed(0))).numpy()
    labels = clips.label[held]
    per_genre = {g: float(np.median(energy[labels == i])) for i, g in enumerate(clips.genres) if (labels == i).any()}
    figures = {"held_out_median": float(np.median(energy)), "noise_median": float(np.median(noise)),
               "per_genre_median": per_genre}
    prior.meta["energies"] = figures
    log(f"energy of held-out clips (median) {figures['held_out_median']:.2f}, of white noise {figures['noise_median']:.0f}")
    return prior, lambda path: music_card(prior, figures, meta["command"], path)


def music_card(prior: MusicPrior, figures: dict, command: str, path: Path) -> str:
    """The Markdown card of a music prior."""
    size = path.stat().st_size / 1e3 if path.exists() else 0.0
    genres = "\n".join(f"| {g} | {e:.2f} |" for g, e in figures["per_genre_median"].items())
    spread = np.ptp(list(figures["per_genre_median"].values())) if figures["per_genre_median"] else 0.0
    return f"""# Music prior: {path.name}

A genre-blind prior: where the texture statistics of real music lie, learned from real clips of every
genre **without their labels** (`{type(prior).__module__.replace(".", "/")}.py`). `auralize --genre G` pulls every dream
towards it, the same way for every genre, so the genre a dream asks for reaches it only through the model
(what a listener hears in the prior's own sound, `--control` measures).
Made by:

    {command or 'auralize train-prior --kind music --data DIR'}

## What it holds ({size:.0f} kB)

The statistics of `auralize/dream/prior.py` ({', '.join(f'`{n}`' for n in prior.names)}: {prior.size}
numbers) of every 5-s clip of the TRAIN part of the track split ({prior.meta.get('split', '')}), {prior.clips}
clips, read at the listening level (RMS {LEVEL_RMS}), z-scored, each statistic's block scaled by 1/sqrt(its
size); then {prior.model_text}: their mean, spread, {prior.components.shape[1]} principal directions with their
variances ({prior.meta.get('explained_variance', 0):.3f} of the variance) and each dimension's residual variance.
These are aggregates over every clip: no clip, and no audio, can be rebuilt from them, and a dream cannot
retrieve one. No label was read to make it (its fit takes none).

## How it scores real music and noise

Its energy is about 7 for a real clip (one per statistic) and grows as audio leaves the music real clips
span. On the held-out VALID and TEST clips the median is {figures['held_out_median']:.2f}; on white noise
{figures['noise_median']:.0f}. Per genre (median over the held-out clips of each; labels read only for
this table), the medians lie within {spread:.2f} of each other:

| genre | median energy |
|---|---|
{genres}

## How dreams use it

`auralize --genre G` adds `-{DEFAULT_WEIGHT} * energy` to the model's objective (`--prior-weight`), the same
for every G. Its prior-only control (`--control`, `--model-weight 0`) does not depend on the genre: what the
held-out panel hears in it, and in dreams made with it, is in `docs/results/dream-mixture.md` (the mixture, the
default, beside the one Gaussian) and `docs/results/dream-study.md` (the one Gaussian). The genre prior
(`--prior genre`, `trained/genre-prior.md`) is the other kind: it supplies the genre's texture itself.
"""
