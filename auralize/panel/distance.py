"""Distances between sets of clips in a judge's embedding, and the check that a dream is no copy."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..errors import AuralizeError


def _two_sets(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.atleast_2d(np.asarray(a, np.float64)), np.atleast_2d(np.asarray(b, np.float64))
    if len(a) == 0 or len(b) == 0 or a.shape[1] != b.shape[1]:
        raise AuralizeError(f"distance needs two non-empty sets of embeddings of one size, got {a.shape} and {b.shape}")
    return a, b


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two sets of embeddings ``(n, dim)`` (as FID):
    ``|mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2))``. Zero for identical sets."""
    from scipy import linalg

    a, b = _two_sets(a, b)
    cov = lambda x: np.cov(x, rowvar=False) if len(x) > 1 else np.zeros((x.shape[1], x.shape[1]))  # noqa: E731
    sa, sb = cov(a), cov(b)
    root = linalg.sqrtm(sa @ sb)
    if not np.all(np.isfinite(root)):  # singular product: nudge both covariances
        eye = np.eye(len(sa)) * 1e-6
        root = linalg.sqrtm((sa + eye) @ (sb + eye))
    value = np.sum((a.mean(0) - b.mean(0)) ** 2) + np.trace(sa + sb - 2 * np.real(root))
    return float(max(value, 0.0))


def kernel_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Squared maximum mean discrepancy with KID's cubic polynomial kernel ``(x.y / dim + 1)^3``.

    Suits small sets (a few dreams) better than :func:`frechet_distance`, which needs a covariance.
    This is the plain (biased) estimate: zero for identical sets, never negative.
    """
    a, b = _two_sets(a, b)
    k = lambda x, y: (x @ y.T / x.shape[1] + 1.0) ** 3  # noqa: E731
    return float(max(k(a, a).mean() + k(b, b).mean() - 2 * k(a, b).mean(), 0.0))


def nearest_genre(embedding: np.ndarray, real: dict[str, np.ndarray],
                  distance: Callable[[np.ndarray, np.ndarray], float] = kernel_distance) -> tuple[str, dict[str, float]]:
    """The genre whose real clips ``real[genre]`` are nearest to the set ``embedding``, and every distance."""
    distances = {g: distance(embedding, e) for g, e in real.items() if len(e)}
    if not distances:
        raise AuralizeError("no real clips to measure distances to")
    return min(distances, key=distances.get), distances


@dataclass
class Novelty:
    """How near each dream is to its nearest real clip, against how near real clips are to each other."""

    nearest: np.ndarray  # (n_dreams,) distance to the nearest real clip
    nearest_index: np.ndarray  # (n_dreams,) which real clip
    threshold: float  # the quantile of real-to-real nearest-neighbour distances (other tracks)
    quantile: float

    @property
    def copies(self) -> np.ndarray:
        """True where a dream is nearer to a real clip than real clips of different tracks usually are."""
        return self.nearest < self.threshold


def _pairwise(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d2 = (a**2).sum(1)[:, None] + (b**2).sum(1)[None, :] - 2 * a @ b.T
    return np.sqrt(np.maximum(d2, 0.0))


def real_nn_threshold(real: np.ndarray, tracks: np.ndarray, quantile: float = 0.05) -> float:
    """``quantile`` of each real clip's distance to its nearest clip of another track."""
    real = np.asarray(real, np.float64)
    tracks = np.asarray(tracks)
    if len(np.unique(tracks)) < 2:
        raise AuralizeError("the novelty check needs real clips of at least two tracks")
    nn = np.empty(len(real))
    for i in range(0, len(real), 512):
        d = _pairwise(real[i:i + 512], real)
        d[tracks[i:i + 512, None] == tracks[None, :]] = np.inf
        nn[i:i + 512] = d.min(1)
    return float(np.quantile(nn, quantile))


def novelty(dreams: np.ndarray, real: np.ndarray, tracks: np.ndarray, quantile: float = 0.05,
            threshold: float | None = None) -> Novelty:
    """Each dream's distance to its nearest real clip, flagged when below the ``quantile`` of
    real-to-real nearest-neighbour distances between clips of different tracks (a copy).

    ``dreams`` ``(n, dim)`` and ``real`` ``(m, dim)`` are embeddings; ``tracks`` ``(m,)`` says which
    track each real clip is from. ``threshold`` skips recomputing it for the same real set.
    """
    dreams, real = _two_sets(dreams, real)
    if threshold is None:
        threshold = real_nn_threshold(real, tracks, quantile)
    d = _pairwise(dreams, real)
    return Novelty(d.min(1), d.argmin(1), float(threshold), quantile)
