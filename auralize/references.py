"""What a dream is heard beside: real clips of the held-out test tracks, and noise.

Every dream study measures its dreams against the same references, the same way: the panel
benchmark (``benchmarks/bench_panel.py``) scores them as rows of its table and the listening quiz
(:mod:`auralize.quiz`) plays them to people. Both take them from here, so a study's "real test
clips" are the same clips wherever they are reported.
"""
from __future__ import annotations

import numpy as np

from . import features as F
from .data import ClipSet


def test_clips(clips: ClipSet, per_genre: int = 3, genres=None) -> list[tuple[str, np.ndarray]]:
    """One middle clip of each of the first ``per_genre`` test tracks of every genre.

    Parameters
    ----------
    clips : a :class:`~auralize.data.ClipSet` (its split's ``test`` part is used)
    per_genre : tracks per genre (fewer where the genre has fewer test tracks)
    genres : only these genres (default: all of ``clips``)

    Returns
    -------
    list of (genre, audio)
        Clips in the order of ``clips.genres``, then of track number.
    """
    items = []
    ids = clips.split["test"]
    for g, genre in enumerate(clips.genres):
        if genres is not None and genre not in genres:
            continue
        tracks = sorted({int(t) for t in clips.track[ids][clips.label[ids] == g]})[:per_genre]
        for t in tracks:
            mine = ids[clips.track[ids] == t]
            items.append((genre, clips.audio[mine[len(mine) // 2]]))
    return items


def mean_spectrum(clips: ClipSet, genre: str | None = None) -> np.ndarray:
    """The mean amplitude spectrum (513 bins of 0-2 kHz) of the TRAIN clips of ``genre`` (``None``: of all)."""
    train = clips.split["train"]
    if genre is not None:
        train = train[clips.label[train] == clips.genres.index(genre)]
    return np.sqrt(clips.dataset.psd[train].mean(axis=(0, 1)))


def shaped_noise(amplitude: np.ndarray, seed: int, rms: float = 0.1) -> np.ndarray:
    """5 s of Gaussian noise whose spectrum follows ``amplitude`` (on the 513 bins of 0-2 kHz).

    ``np.ones(513)`` gives white noise; :func:`mean_spectrum` noise with the spectrum of real music.
    """
    rng = np.random.default_rng(seed)
    spec = np.fft.rfft(rng.standard_normal(F.CLIP_SAMPLES))
    spec *= np.interp(np.linspace(0, 1, spec.size), np.linspace(0, 1, amplitude.size), amplitude)
    y = np.fft.irfft(spec, n=F.CLIP_SAMPLES)
    return (rms * y / np.sqrt(np.mean(y**2))).astype(np.float32)


def resynthesised(audio: np.ndarray, n_iter: int = 100, seed: int = 0) -> np.ndarray:
    """A clip as a dream's audio is made: its magnitude on the fine 512/128 STFT grid, the phase thrown
    away and rebuilt by ``n_iter`` Griffin-Lim updates from a seeded random phase.

    What this loses is what no dream on that grid can have, so a listener's (or the panel's) accuracy
    on it bounds what the dreams could reach.
    """
    import torch

    from .invert import fine_griffin_lim, fine_istft, fine_stft

    x = torch.as_tensor(np.asarray(audio, np.float32))[None]
    magnitude = fine_stft(x).abs()
    generator = torch.Generator().manual_seed(seed)
    phase = fine_griffin_lim(magnitude, torch.exp(2j * np.pi * torch.rand(magnitude.shape, generator=generator)),
                             n_iter, x.shape[1])
    return fine_istft(magnitude * phase, x.shape[1])[0].numpy().astype(np.float32)
