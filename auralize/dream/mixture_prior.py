"""A genre-blind prior with several modes: a Gaussian mixture of real clips' texture statistics, no labels.

The :class:`~auralize.dream.music_prior.MusicPrior` is one Gaussian: its pull is towards the centre of all
music, so the further a dream moves towards any one kind of music (the genre the model asks for among them),
the more it pays. A :class:`MixturePrior` keeps the same statistics, z-scores and principal directions ``U``
and has ``K`` components instead, fitted (expectation-maximisation, scikit-learn) on the training clips'
coordinates ``p = U^T c`` **without their labels**. Component ``k`` has its own centre ``m_k`` among all ``D``
numbers (the mean of the clips it holds), a full covariance ``Sigma_k`` inside ``U`` and, outside ``U``, the
residual variances ``psi`` shared by all components. With ``d_k = v - m_k``, ``q_k = (U^T d_k)^T Sigma_k^-1
(U^T d_k) + sum_d (d_k - U U^T d_k)_d^2 / psi_d`` and ``N_k = pi_k det(Sigma_k)^(-1/2) exp(-q_k / 2)``, its
energy is

    E(v) = (S / D) [-2 log sum_k N_k - sum_i log lambda_i],

the music prior's energy when ``K = 1``. With more components, a dream near the centre of any kind of music
real clips hold pays little, so the prior no longer favours central music over the kind the model asks for.
It is the same for every genre, and it holds only aggregates (each component's weight, centre and covariance
over hundreds of clips): no clip can be rebuilt from it.
"""
from __future__ import annotations

import collections
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from .. import checks
from ..errors import AuralizeError
from .music_prior import MusicPrior, clip_statistics, fit_inputs, gaussian_fit, held_out, train_music

FORMAT = "auralize-music-mixture-1"
#: Mixture components unless told otherwise (fewer when there are few clips).
COMPONENTS = 16


@dataclass
class MixturePrior(MusicPrior):
    """A genre-blind Gaussian mixture of real clips' texture statistics (see the module docstring)."""

    weights: np.ndarray = None  # (K,)
    centers: np.ndarray = None  # (K, D)
    precision_chol: np.ndarray = None  # (K, rank, rank): Sigma_k^-1 = P_k P_k^T

    file_format = FORMAT

    def __post_init__(self) -> None:
        super().__post_init__()
        t = lambda a: torch.as_tensor(np.asarray(a), dtype=torch.float32)  # noqa: E731
        self._m, self._pc = t(self.centers), t(self.precision_chol)
        logdet = np.log(np.abs(np.diagonal(self.precision_chol, axis1=1, axis2=2))).sum(1)
        # log pi_k + log det P_k, and the constant that makes E the music prior's energy when K = 1
        self._log_w = t(np.log(self.weights) + logdet)
        self._const = float(np.log(self.variances).sum())

    @property
    def kind_text(self) -> str:
        k = len(self.weights)
        return f"music mixture prior of {k} component{'s' if k > 1 else ''}"

    @property
    def model_text(self) -> str:
        return (f"a mixture of {len(self.weights)} Gaussians fitted without labels (each with its own centre, and "
                "its own covariance inside the principal directions; the smallest holds the weight of "
                f"{float(self.weights.min()) * self.clips:.0f} clips)")

    def _log_joint(self, v: torch.Tensor) -> torch.Tensor:
        """``log N_k`` of the module docstring, up to a constant, per item and component ``(B, K)``, of the
        block-scaled z-scores ``v`` ``(B, D)``."""
        d = v[:, None, :] - self._m[None]  # (B, K, D)
        proj = d @ self._u
        rest = d - proj @ self._u.T
        z = torch.einsum("bkr,krs->bks", proj, self._pc)
        return self._log_w - 0.5 * (z.pow(2).sum(2) + (rest.pow(2) / self._psi).sum(2))

    def energy(self, stats: dict[str, torch.Tensor]) -> torch.Tensor:
        return (-2 * torch.logsumexp(self._log_joint(self.vector(stats)), 1) - self._const) * (len(self.names)
                                                                                              / self.size)

    def component_of(self, audio: np.ndarray, batch: int = 256) -> np.ndarray:
        """The component each clip of ``audio`` ``(n, samples)`` most belongs to ``(n,)``."""
        if len(audio) == 0:
            return np.zeros(0, np.int64)
        return self.component_of_statistics(clip_statistics(audio, self.names, batch))

    def component_of_statistics(self, every: dict[str, np.ndarray]) -> np.ndarray:
        """The component each clip most belongs to ``(n,)``, from its :func:`clip_statistics` ``name -> (n, k)``."""
        return self._nearest(self.vector({n: torch.as_tensor(e, dtype=torch.float32) for n, e in every.items()}))

    def _nearest(self, v) -> np.ndarray:
        """The component each row of block-scaled z-scores ``v`` ``(n, D)`` most belongs to ``(n,)``."""
        with torch.no_grad():
            return self._log_joint(torch.as_tensor(v, dtype=torch.float32).reshape(len(v), self.size)).argmax(1).numpy()

    def drawn(self, seed: int) -> "MixturePrior":
        """One component, drawn by its weight (seeded): the prior of one kind of music, its mode that component's
        mean. No label is read, so it stays genre-blind; which kind of music it is, is the seed's."""
        rng = np.random.default_rng(checks.seed(seed))
        k = int(rng.choice(len(self.weights), p=self.weights / self.weights.sum()))
        return replace(self.component(k), meta={**self.meta, "drawn": int(seed), "component": k})

    def component(self, k: int) -> "MixturePrior":
        """Component ``k`` alone: the prior of one kind of music, its mode that component's mean."""
        k = checks.count("component", k, 0, len(self.weights) - 1)
        return replace(self, weights=np.ones(1), centers=self.centers[k:k + 1],
                       precision_chol=self.precision_chol[k:k + 1], meta={**self.meta, "component": k})

    def arrays(self) -> dict[str, np.ndarray]:
        return {**super().arrays(), "weights": self.weights, "centers": self.centers,
                "precision_chol": self.precision_chol}

    @classmethod
    def from_arrays(cls, z: dict, path: Path) -> "MixturePrior":
        missing = next((k for k in ("weights", "centers", "precision_chol") if k not in z or z[k].dtype.kind != "f"), None)
        if missing is not None:
            raise AuralizeError(f"{path} is not a music mixture prior auralize can read (it has no {missing} of numbers);"
                                " make one with 'auralize train-prior --kind music-mix --data DIR'", param="prior")
        base = MusicPrior.from_arrays(z, path)
        mixture = {k: np.asarray(z[k], np.float64) for k in ("weights", "centers", "precision_chol")}
        _check_mixture(*mixture.values(), base.size, base.components.shape[1], path)  # before any log of them
        return cls(**{f: getattr(base, f) for f in base.__dataclass_fields__}, **mixture)

    def check(self, path: str | Path = "the prior") -> None:
        super().check(path)
        _check_mixture(self.weights, self.centers, self.precision_chol, self.size, self.components.shape[1], path)


def _check_mixture(weights: np.ndarray, centers: np.ndarray, precision_chol: np.ndarray, size: int, rank: int,
                   path) -> None:
    """Refuse a mixture whose shapes do not fit the statistics, or that holds NaN, infinity or a weight <= 0."""
    k = len(weights)
    if weights.ndim != 1 or centers.shape != (k, size) or precision_chol.shape != (k, rank, rank):
        raise AuralizeError(f"{path} is damaged: its mixture does not fit its {rank} principal directions",
                            param="prior")
    if not all(np.isfinite(a).all() for a in (weights, centers, precision_chol)) or (weights <= 0).any():
        raise AuralizeError(f"{path} is damaged: its mixture holds NaN, infinity or a weight <= 0", param="prior")


def fit_mixture_prior(audio: np.ndarray, components: int | None = None, rank: int | None = None,
                      names: Sequence[str] | None = None, meta: dict | None = None, seed: int = 0) -> MixturePrior:
    """A :class:`MixturePrior` from real clips ``audio`` ``(n, 20000)`` of any genres; no labels are taken.

    ``components``: the mixture's size (default :data:`COMPONENTS`, at most ``n // 10``); ``rank`` and ``names`` as
    :func:`~auralize.dream.music_prior.fit_music_prior`; ``seed``: expectation-maximisation's start.
    """
    audio, rank, names = fit_inputs(audio, rank, names)
    return _mixture_fit(clip_statistics(audio, names), names, rank, components, meta, seed)[0]


def _mixture_fit(every: dict[str, np.ndarray], names: Sequence[str], rank: int, components: int | None,
                 meta: dict | None, seed: int) -> tuple[MixturePrior, np.ndarray]:
    """The mixture fit of the statistics ``every`` (name -> ``(n, k)``) of ``n`` clips, and the clips'
    block-scaled z-scores ``v`` ``(n, D)``."""
    from sklearn.mixture import GaussianMixture

    base, v, residual_floor = gaussian_fit(every, names, rank, meta)
    n = len(v)
    k = min(COMPONENTS, max(1, n // 10)) if components is None else checks.count("components", components, 1,
                                                                                max(1, n // 10))
    proj = (v - base.center) @ base.components
    # a floor on the covariances, 1e-3 of the smallest principal variance, so that no component collapses onto a
    # few clips; at least 1e-6 of the largest, for few clips, whose smallest directions hold next to nothing
    floor = max(1e-3 * float(base.variances.min()), 1e-6 * float(base.variances.max()))
    gmm = GaussianMixture(k, covariance_type="full", reg_covar=floor, n_init=2,
                          random_state=checks.seed(seed)).fit(proj)
    gamma = gmm.predict_proba(proj)  # (n, K): how much each clip belongs to each component
    centers = (gamma.T @ v) / gamma.sum(0)[:, None]
    psi = np.zeros(base.size)
    for j in range(k):  # the residual outside U around each clip's own components, shared by all of them
        d = v - centers[j]
        rest = d - (d @ base.components) @ base.components.T
        psi += gamma[:, j] @ rest ** 2
    psi = psi / n + residual_floor  # the music prior's floor
    # each component's covariance inside U, taken around its centre's own coordinates
    cov = np.stack([np.cov(proj.T, aweights=gamma[:, j], bias=True) + gmm.reg_covar * np.eye(proj.shape[1])
                    for j in range(k)])
    precision_chol = np.stack([np.linalg.cholesky(np.linalg.inv(c)) for c in cov])
    info = {**base.meta, "components": k, "mixture_seed": int(seed)}
    fields = {f: getattr(base, f) for f in base.__dataclass_fields__ if f not in ("meta", "residual")}
    return MixturePrior(**fields, residual=psi, meta=info, weights=gamma.mean(0), centers=centers,
                        precision_chol=precision_chol), v


def train_mixture(clips, meta: dict, names, rank: int, log, components: int | None = None
                  ) -> tuple[MixturePrior, object]:
    """The mixture prior from the TRAIN clips (labels unread) and its card, as :func:`train_music` does, with how
    many training clips and tracks each component holds (no component should stand for a few tracks)."""
    audio, rank, names = fit_inputs(clips.part("train")[0], rank, names)
    fitted, v = _mixture_fit(clip_statistics(audio, names), names, rank, components, meta, 0)  # one pass over the clips
    out = held_out(clips)
    every = clip_statistics(clips.audio[out], names)  # read once: for the card's energies and for the components
    prior, card = train_music(clips, meta, names, rank, log, prior=fitted, held_stats=every)
    tracks = clips.track[clips.split["train"]]
    held = prior._nearest(v)
    prior.meta["held"] = [{"clips": int((held == k).sum()), "tracks": len(set(tracks[held == k].tolist()))}
                          for k in range(len(prior.weights))]
    least = min(prior.meta["held"], key=lambda h: h["tracks"])
    log(f"the component of fewest tracks holds {least['clips']} training clips of {least['tracks']} tracks")
    genre = genre_text(genre_in_components(held, clips.label[clips.split["train"]],
                                           prior.component_of_statistics(every), clips.label[out], clips.genres))

    def with_components(path: Path) -> str:
        rows = "\n".join(f"| {k} | {prior.weights[k]:.3f} | {h['clips']} | {h['tracks']} |"
                         for k, h in enumerate(prior.meta["held"]))
        reading = ("each centre is an average texture of many tracks, never one track's" if least["tracks"] >= 5 else
                   "a component this small stands for few tracks; fit fewer components (--components)")
        return card(path) + f"""
## Its components

Each training clip counted in the component it most belongs to. The fewest tracks any component holds
is {least['tracks']}: {reading}.

| component | weight | training clips | tracks |
|---|---|---|---|
{rows}

{genre}
"""
    return prior, with_components


def genre_in_components(train_components: np.ndarray, train_labels: np.ndarray, held_components: np.ndarray,
                        held_labels: np.ndarray, genres: Sequence[str]) -> dict:
    """How much genre the components hold, read with labels the fit never saw: each held-out clip is given the
    genre most of its component's training clips have (a component without training clips: the most frequent
    training genre); against always guessing the most frequent held-out genre.

    Returns ``accuracy``, ``base`` (that guess's), ``per_genre`` (genre -> accuracy) and ``named`` (genre -> how
    many components have it as their most frequent); ``None`` without training or held-out clips."""
    if len(train_labels) == 0 or len(held_labels) == 0:
        return None
    most = lambda labels: collections.Counter(labels.tolist()).most_common(1)[0][0]  # noqa: E731
    genre_of = {int(k): most(train_labels[train_components == k]) for k in np.unique(train_components)}
    fallback = most(train_labels)
    guess = np.array([genre_of.get(int(k), fallback) for k in held_components])
    named = collections.Counter(genres[g] for g in genre_of.values())
    return {"accuracy": float(np.mean(guess == held_labels)),
            "base": float(max(np.mean(held_labels == g) for g in np.unique(held_labels))),
            "per_genre": {g: float(np.mean(guess[held_labels == i] == i)) for i, g in enumerate(genres)
                          if np.any(held_labels == i)},
            "named": dict(named.most_common())}


def genre_text(figures: dict | None) -> str:
    """:func:`genre_in_components`'s figures in words, for the card and the studies."""
    if figures is None:
        return "How much genre the components hold is not known: there were no held-out clips to read it on."
    per_genre = ", ".join(f"{g} {a:.2f}" for g, a in figures["per_genre"].items())
    named = ", ".join(f"{g} {n}" for g, n in figures["named"].items())
    return (f"The components hold some genre, though no label was read to fit them: a held-out clip (VALID and TEST) "
            f"given the genre most of its component's training clips have is right for {figures['accuracy']:.2f} of "
            f"them (per genre: {per_genre}), against {figures['base']:.2f} for always guessing the most frequent "
            f"genre. By that genre, the components are {named}. The prior is the same for every genre a dream asks "
            "for, so the genre asked for reaches the dream only through the model; which kind of music a dream ends "
            "in is the model's choice, and `--control` measures what the model adds beyond it (the prior alone at the "
            "component a dream ends in).")
