"""A genre prior: statistics of real music that a dream's audio is pulled towards.

Maximising a class alone finds an adversarial example: a pattern the dreaming model hears as the
genre and nobody else does (issue 8; docs/results/panel.md). The prior asks in addition that the
dream *sound like* real clips of the genre in aggregate, as texture synthesis does (McDermott &
Simoncelli 2011): its time-averaged statistics of a fine log-mel spectrogram (band levels and
their spread, how bands move together, how fast they are modulated, onsets and their rhythm)
should sit where those of real training clips of the genre sit, in units of their spread.

The statistics are genre averages over many clips, so the prior can neither rebuild nor retrieve
any clip; a dream made with it starts from noise like any other. Its front end (48 mel bands from
40 Hz, 512/128 STFT) is auralize's own, not a panel judge's.

Each statistic is one entry of :data:`STATISTICS` (:func:`register_statistic`). A :class:`GenrePrior`
holds, per genre, the mean of every statistic over real clips (and its spread over all clips); ``auralize train-prior``
fits one and ``trained/genre-prior.npz`` is the shipped one.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch

from .. import features as F
from ..errors import AuralizeError
from ..finemel import FMIN, FRAME_RATE, N_MELS, Frames, front_end_meta
from ..registry import Registry
from ..io import atomic_save_npz

MODULATION_BANDS = ((0.5, 1.0), (1.0, 2.0), (2.0, 4.0), (4.0, 8.0), (8.0, 15.6))
RHYTHM_LAGS = 64  # onset autocorrelation up to ~2 s: beats and bars
FORMAT = "auralize-genre-prior-1"
#: Bounds that keep a dream's float32 z-scores finite (a fitted prior's spreads are at least 1e-3).
MIN_SPREAD, MAX_MEAN = 1e-4, 1e4


#: name -> function of :class:`Frames` giving ``(B, k)``; the prior's statistics.
STATISTICS: Registry[Callable[[Frames], torch.Tensor]] = Registry("statistic", "statistics")


def register_statistic(name: str):
    """Decorator: make a statistic of :class:`Frames` part of every prior fitted from now on."""
    return lambda fn: STATISTICS.register(fn, name)


@register_statistic("level")
def _level(fr: Frames) -> torch.Tensor:
    """Each band's mean log level (the spectral envelope: timbre)."""
    return fr.band_mean


@register_statistic("spread")
def _spread(fr: Frames) -> torch.Tensor:
    """Each band's spread over time (how much it changes)."""
    return fr.band_std


@register_statistic("correlation")
def _correlation(fr: Frames) -> torch.Tensor:
    """Correlation of every pair of band envelopes (which bands move together: notes, drums)."""
    z = fr.centred / fr.band_std[..., None]
    corr = z @ z.transpose(1, 2) / z.shape[2]
    upper = torch.triu_indices(N_MELS, N_MELS, 1)
    return corr[:, upper[0], upper[1]]


@register_statistic("modulation")
def _modulation(fr: Frames) -> torch.Tensor:
    """Each band's share of envelope modulation power per modulation band (log): tempo of change."""
    frames = fr.centred.shape[2]
    power = torch.fft.rfft(fr.centred * torch.hann_window(frames), dim=2).abs() ** 2
    freqs = torch.fft.rfftfreq(frames, 1 / FRAME_RATE)
    total = power[..., freqs >= MODULATION_BANDS[0][0]].sum(2) + 1e-8
    shares = [power[..., (freqs >= lo) & (freqs < hi)].sum(2) / total for lo, hi in MODULATION_BANDS]
    return torch.log(torch.stack(shares, 2).flatten(1) + 1e-4)


@register_statistic("rhythm")
def _rhythm(fr: Frames) -> torch.Tensor:
    """Autocorrelation of onset strength at lags of 1 to 64 frames (32 ms to 2 s): beat and metre."""
    onset = fr.onset - fr.onset.mean(1, keepdim=True)
    n = onset.shape[1]
    energy = onset.pow(2).mean(1, keepdim=True) + 1e-8
    # All lags at once from the power spectrum (zero-padded: no wrap-around), not 64 products per step
    # of the ascent: the same mean products, a fraction of the autograd graph.
    spec = torch.fft.rfft(onset, n=2 * n)
    sums = torch.fft.irfft(spec.real.pow(2) + spec.imag.pow(2), n=2 * n)[:, 1:RHYTHM_LAGS + 1]
    return sums / (n - torch.arange(1, RHYTHM_LAGS + 1)) / energy


@register_statistic("onsets")
def _onsets(fr: Frames) -> torch.Tensor:
    """Onset strength's mean and coefficient of variation (do onsets stand out?)."""
    mean = fr.onset.mean(1, keepdim=True)
    return torch.cat([mean, fr.onset.std(1, keepdim=True) / (mean + 1e-6)], 1)


TEXTURE_FILTERS, TEXTURE_KERNEL = 32, (5, 9)  # bands x frames: ~ a major third x 290 ms


_cache: dict[str, torch.Tensor] = {}


def _texture_filters() -> tuple[torch.Tensor, torch.Tensor]:
    """Fixed random 2-D filters (zero mean, unit norm) and biases, the same on every machine (numpy's
    seeded generator is stable across versions)."""
    if "filters" not in _cache:
        rng = np.random.default_rng(1234)
        w = rng.standard_normal((TEXTURE_FILTERS, 1, *TEXTURE_KERNEL))
        w -= w.mean(axis=(2, 3), keepdims=True)
        w /= np.linalg.norm(w.reshape(TEXTURE_FILTERS, -1), axis=1)[:, None, None, None]
        _cache["filters"] = torch.as_tensor(w, dtype=torch.float32)
        _cache["biases"] = torch.as_tensor(0.1 * rng.standard_normal(TEXTURE_FILTERS), dtype=torch.float32)
    return _cache["filters"], _cache["biases"]


@register_statistic("texture")
def _texture(fr: Frames) -> torch.Tensor:
    """Gram matrix (log) of 32 fixed random 5x9 filters over the log-mel, as in random-network audio
    texture synthesis: which local time-frequency shapes (notes, strokes, hits) occur together."""
    w, b = _texture_filters()
    h = torch.relu(torch.nn.functional.conv2d(fr.logmel[:, None], w, b)).flatten(2)
    gram = h @ h.transpose(1, 2) / h.shape[2]
    upper = torch.triu_indices(TEXTURE_FILTERS, TEXTURE_FILTERS, 0)
    return torch.log(gram[:, upper[0], upper[1]] + 1e-4)


def statistics(audio: torch.Tensor, names: Sequence[str] | None = None) -> dict[str, torch.Tensor]:
    """Differentiable statistics ``name -> (B, k)`` of audio ``(B, samples)`` (default: all registered)."""
    if audio.ndim == 1:
        audio = audio[None]
    fr = Frames(audio.float())
    return {name: STATISTICS[name](fr) for name in (names or STATISTICS)}


def statistic_sizes(names: Sequence[str]) -> dict[str, int]:
    """How many numbers each statistic gives (measured on a probe clip)."""
    return {n: v.shape[1] for n, v in statistics(torch.zeros(1, F.CLIP_SAMPLES) + 1e-3, names).items()}


def finite_audio(audio, whence: str) -> torch.Tensor:
    """``audio`` as a tensor, refused in one line if it holds NaN or infinity (its distance from ``whence``
    would mean nothing)."""
    if not torch.is_tensor(audio):
        audio = torch.as_tensor(np.asarray(audio, np.float32))
    if not torch.isfinite(audio).all():
        raise AuralizeError(f"audio holds NaN or infinity; its distance from {whence} means nothing", param="audio")
    return audio


def z_distance(stats: dict[str, torch.Tensor], target: dict[str, tuple[torch.Tensor, torch.Tensor]]) -> torch.Tensor:
    """Per item ``(B,)``: the sum over ``target``'s statistics of the mean squared z-score of ``stats``
    (``name -> (target, spread)``, as :meth:`GenrePrior.target_tensors` gives)."""
    terms = [(((stats[n] - mean) / spread) ** 2).mean(1) for n, (mean, spread) in target.items()]
    return torch.stack(terms, 1).sum(1)


@dataclass
class GenrePrior:
    """Per genre, the mean of each statistic over real clips of the genre, and each statistic's
    spread over all clips.

    ``mean[name]`` is ``(genres, k)``, ``spread[name]`` ``(k,)`` (the standard deviation over every
    clip, whatever its genre, so that a genre's z-scores and another's are in the same units);
    ``clips`` counts the clips each genre's mean comes from.
    """

    genres: tuple[str, ...]
    mean: dict[str, np.ndarray]
    spread: dict[str, np.ndarray]
    clips: np.ndarray
    meta: dict = field(default_factory=dict)

    file_format = FORMAT
    genre_aware = True
    default_weight = 0.5  # issue 8's study (docs/results/dream-study.md)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.mean)

    def match(self, genre: str, caricature: float = 0.0):
        """The objective a dream adds (times its prior weight): minus the distance of its audio's statistics from
        :meth:`target` (0 at the caricatured mean of ``genre``)."""
        from .objectives import Objective

        target = self.target_tensors(genre, caricature)  # refuses a genre the prior has no clips of, before any work
        label = f"prior({genre}, caricature {caricature:g})" if caricature else f"prior({genre})"
        return Objective(lambda c: -z_distance(statistics(c.audio, self.names), target).mean(), label)

    def covers(self, genres: Sequence[str]) -> list[str]:
        """Those of ``genres`` the prior has clips of."""
        return [g for g in genres if g in self.genres and self.clips[self.genres.index(g)] > 0]

    def index(self, genre: str) -> int:
        if genre not in self.covers([genre]):
            raise AuralizeError(f"the genre prior has no clips of {genre!r} (it has "
                                f"{', '.join(self.covers(self.genres))}); refit it with "
                                "'auralize train-prior --data DIR' on data with that genre, or use --prior-weight 0",
                                param="prior")
        return self.genres.index(genre)

    def target(self, genre: str, caricature: float = 0.0) -> dict[str, np.ndarray]:
        """The statistics a dream of ``genre`` is pulled to: the genre's mean, moved away from the
        mean of the other genres' means by ``caricature`` times the difference (0: the plain mean).

        Pulling to the caricature with weight ``w`` is pulling to the genre's mean with weight
        ``w (1 + c)`` while pushing from the other genres' with weight ``w c``: the genre as it
        differs from the rest, which is what a listener recognises it by.
        """
        g = self.index(genre)
        others = [self.genres.index(h) for h in self.covers(self.genres) if h != genre]
        out = {}
        for n in self.names:
            rest = self.mean[n][others].mean(0) if others else self.mean[n][g]
            out[n] = self.mean[n][g] + caricature * (self.mean[n][g] - rest)
        return out

    def target_tensors(self, genre: str, caricature: float = 0.0) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
        """:meth:`target` and the spreads as tensors, ``name -> (target, spread)``: made once per dream,
        not at every step."""
        target = self.target(genre, caricature)
        return {n: (torch.as_tensor(target[n], dtype=torch.float32), torch.as_tensor(self.spread[n], dtype=torch.float32))
                for n in self.names}

    def distance(self, audio: torch.Tensor, genre: str, caricature: float = 0.0) -> torch.Tensor:
        """How far audio ``(B, samples)`` is from :meth:`target`, per item ``(B,)``: the sum over
        statistics of the mean squared z-score (each statistic counts the same, whatever its size)."""
        audio = finite_audio(audio, "a genre")
        return z_distance(statistics(audio, self.names), self.target_tensors(genre, caricature))

    def save(self, path: str | Path) -> Path:
        arrays = {"format": np.array(FORMAT), "genres": np.array(self.genres), "clips": self.clips,
                  "meta": np.array(json.dumps(self.meta))}
        for n in self.names:
            arrays[f"mean/{n}"], arrays[f"spread/{n}"] = self.mean[n], self.spread[n]
        return atomic_save_npz(path, arrays)

    @classmethod
    def from_arrays(cls, z: dict, path: Path) -> "GenrePrior":
        """A prior from the arrays of its file (:func:`read_prior` checked their headers and the format);
        refused in one line if they do not make one."""
        remake = "make one with 'auralize train-prior --kind genre --data DIR'"

        def damaged(why: str) -> AuralizeError:
            return AuralizeError(f"{path} is not a genre prior auralize can read ({why}); {remake}", param="prior")

        for key, kind in (("genres", "U"), ("clips", "iu"), ("meta", "U")):
            if key not in z or z[key].dtype.kind not in kind:
                raise damaged(f"it has no {key} of the right type")
        if z["genres"].ndim != 1 or z["clips"].ndim != 1 or z["meta"].ndim != 0:
            raise damaged("its genres and clip counts are not lists, or its meta is not one text")
        meta = _meta(z, damaged)
        names = [k[len("mean/"):] for k in z if k.startswith("mean/")]
        if any(f"spread/{n}" not in z or z[f"mean/{n}"].dtype.kind not in "iuf"
               or z[f"spread/{n}"].dtype.kind not in "iuf" for n in names):
            raise damaged("a statistic has no spread, or holds no numbers")
        prior = cls(tuple(str(g) for g in z["genres"]), {n: np.asarray(z[f"mean/{n}"], np.float64) for n in names},
                    {n: np.asarray(z[f"spread/{n}"], np.float64) for n in names}, np.asarray(z["clips"], np.int64),
                    meta)
        prior.check(path)
        return prior

    def check(self, path: str | Path = "the prior") -> None:
        """Refuse unknown statistics, shapes that do not fit, and spreads that are not finite and positive."""
        unknown = [n for n in self.names if n not in STATISTICS]
        if unknown or not self.names:
            raise AuralizeError(f"{path} holds statistics this auralize does not know ({', '.join(unknown) or 'none'});"
                                " refit it with 'auralize train-prior --data DIR'", param="prior")
        if not self.genres or len(set(self.genres)) != len(self.genres) or not all(self.genres):
            raise AuralizeError(f"{path} is damaged: its genre names are not distinct ({', '.join(self.genres)})",
                                param="prior")
        sizes = statistic_sizes(self.names)
        if self.clips.shape != (len(self.genres),) or not (self.clips > 0).any() or (self.clips < 0).any():
            raise AuralizeError(f"{path} is damaged: its clip counts do not fit its {len(self.genres)} genres",
                                param="prior")
        for n in self.names:
            m, s = self.mean[n], self.spread[n]
            if m.shape != (len(self.genres), sizes[n]) or s.shape != (sizes[n],):
                raise AuralizeError(f"{path} is damaged: statistic {n!r} has shape {m.shape}, expected "
                                    f"({len(self.genres)}, {sizes[n]})", param="prior")
            if not (np.isfinite(m).all() and np.isfinite(s).all() and (s > 0).all()):
                raise AuralizeError(f"{path} is damaged: statistic {n!r} holds NaN, infinity or a spread <= 0",
                                    param="prior")
            # A dream's z-scores are float32: a tiny spread or a huge mean would overflow them, after the ascent.
            if (s < MIN_SPREAD).any() or (np.abs(m) > MAX_MEAN).any():
                raise AuralizeError(f"{path} is damaged: statistic {n!r} has a spread below {MIN_SPREAD:g} or a mean "
                                    f"beyond {MAX_MEAN:g}, so its z-scores overflow", param="prior")


def check_statistics(names: Sequence[str] | None) -> list[str]:
    """``names`` (default: every registered statistic), refused in one line if one is unknown."""
    names = list(STATISTICS) if names is None else [STATISTICS.canonical(n) for n in names]
    if not names:
        raise AuralizeError(f"statistics must name at least one of: {', '.join(STATISTICS)}", param="statistics")
    return names


def fit_prior(audio: np.ndarray, labels: np.ndarray, genres: Sequence[str], meta: dict | None = None,
              names: Sequence[str] | None = None, batch: int = 256) -> GenrePrior:
    """A :class:`GenrePrior` from real clips ``audio`` ``(n, 20000)`` labelled ``labels`` (indices
    into ``genres``), with the statistics ``names`` (default every registered one). A genre
    without clips gets none (dreaming it with the prior is then refused).
    """
    audio = np.asarray(audio, np.float32)
    labels = np.asarray(labels)
    if audio.ndim != 2 or len(audio) != len(labels) or len(audio) < 2:
        raise AuralizeError("fit_prior needs at least two clips (n, samples) and one label per clip", param="audio")
    if audio.shape[1] < F.CLIP_SAMPLES or not np.isfinite(audio).all():
        raise AuralizeError(f"audio must be clips of at least {F.CLIP_SAMPLES} finite samples (5 s at "
                            f"{F.SAMPLE_RATE} Hz), got shape {audio.shape}"
                            + ("" if np.isfinite(audio).all() else " with NaN or infinity"), param="audio")
    if labels.dtype.kind not in "iu" or labels.min() < 0 or labels.max() >= len(genres):
        raise AuralizeError(f"labels must be indices into the {len(genres)} genres", param="labels")
    names = check_statistics(names)
    with torch.no_grad():
        parts = [statistics(torch.from_numpy(audio[i:i + batch]), names) for i in range(0, len(audio), batch)]
    every = {n: torch.cat([p[n] for p in parts]).double().numpy() for n in names}
    counts = np.bincount(labels, minlength=len(genres))
    mean = {n: np.stack([v[labels == g].mean(0) if counts[g] else np.zeros(v.shape[1]) for g in range(len(genres))])
            for n, v in every.items()}
    spread = {n: v.std(0, ddof=1) + 1e-3 for n, v in every.items()}
    return GenrePrior(tuple(genres), mean, spread, counts.astype(np.int64), {"front_end": front_end_meta(), **(meta or {})})


def _meta(z: dict, damaged: Callable[[str], AuralizeError]) -> dict:
    """A prior file's metadata (a JSON object), or ``damaged``'s error."""
    try:
        meta = json.loads(str(z["meta"]))
    except (KeyError, ValueError, RecursionError):
        meta = None
    if not isinstance(meta, dict):
        raise damaged("its meta is not a JSON object")
    return meta


def nearest_genres(prior: GenrePrior, audio: np.ndarray, batch: int = 256) -> np.ndarray:
    """For clips ``(n, samples)``, the index of the genre whose real clips the prior puts them nearest to."""
    genres = prior.covers(prior.genres)
    targets = [prior.target_tensors(g) for g in genres]
    rows = []
    with torch.no_grad():
        for i in range(0, len(audio), batch):  # the statistics once per batch, then a distance per genre
            stats = statistics(torch.from_numpy(np.asarray(audio[i:i + batch], np.float32)), prior.names)
            rows.append(torch.stack([z_distance(stats, t) for t in targets], 1))
    near = torch.cat(rows).argmin(1).numpy()
    return np.array([prior.genres.index(genres[k]) for k in near])


def train_genre(clips, meta: dict, names, rank: int, log):
    """The genre prior from the TRAIN clips and their labels, and its card."""
    x, y = clips.part("train")
    prior = fit_prior(x, y, clips.genres, meta, names=names)
    scores = {}
    for part in ("valid", "test"):
        xp, yp = clips.part(part)
        if len(xp):
            scores[part] = float((nearest_genres(prior, xp) == yp).mean())
            log(f"prior alone: {part} clips nearest to their own genre: {scores[part]:.3f} ({len(xp)} clips)")
    prior.meta["nearest_genre_accuracy"] = scores
    return prior, lambda path: prior_card(prior, scores, meta["command"], path)


def prior_card(prior: GenrePrior, scores: dict[str, float], command: str, path: Path) -> str:
    """The Markdown card of a genre prior."""
    size = path.stat().st_size / 1e3 if path.exists() else 0.0
    stats = "\n".join(f"| `{n}` | {prior.mean[n].shape[1]} | {' '.join((STATISTICS[n].__doc__ or '').split())} |"
                      for n in prior.names)
    counts = "\n".join(f"| {g} | {n} |" for g, n in zip(prior.genres, prior.clips))
    near = "\n".join(f"- {part} clips nearest to their own genre under the prior alone: {acc:.3f}"
                     for part, acc in scores.items())
    return f"""# Genre prior: {path.name}

Statistics of real music that `auralize --genre G` pulls its dream's audio towards
(`auralize/dream/prior.py`). Made by:

    {command or 'auralize train-prior --data DIR'}

## What it holds ({size:.0f} kB)

For each genre, the mean of each statistic (and, for each statistic, its spread over all clips)
of a 48-band log-mel spectrogram (512/128 STFT at 4 kHz, from {FMIN:g} Hz), computed on every 5-s clip
of the TRAIN part of the track split ({prior.meta.get('split', '')}). These are averages over many
clips: no clip, and no audio, can be rebuilt from them, and a dream cannot retrieve one.

| statistic | numbers per genre | what it measures |
|---|---|---|
{stats}

| genre | training clips |
|---|---|
{counts}

## How well it tells genres apart on its own

{near or '- (no held-out clips)'}

## How dreams use it

`auralize --genre G --prior genre` adds `0.5 * prior_match(prior, G, caricature=1)` to the model's
objective (`--prior-weight`, `--caricature`): the dream's statistics are pulled to G's mean moved away
from the mean of the other genres' by the difference (z-scored by each statistic's spread over all
clips). It is not the default: the panel hears this texture as G even with the model switched off,
so these dreams are labelled "texture of the genre, accepted by the model". The default is the
genre-blind music mixture prior (`trained/music-mix-prior.md`); the study is `docs/results/dream-study.md`.

A dream is not judged by this: the held-out listening panel (`trained/panel/`) judges dreams, and
the prior is no part of any panel judge.
"""
