"""The fine log-mel front end the priors and the dreaming model read: 48 mel bands of a 512/128 STFT at 4 kHz.

Four times finer in time than the paper's 22 frames of 224 ms, so rhythm and onsets are visible; each clip's
mean level is removed (the level says nothing of the genre). :class:`Frames` computes it once per batch and
holds the parts the priors' statistics read; :func:`at_level` scales audio to the listening level first,
for readers that must be blind to loudness.
"""
from __future__ import annotations

import contextlib
import threading
from functools import cached_property
from typing import Iterator

import numpy as np
import torch

from . import features as F

N_FFT, HOP, N_MELS, FMIN = 512, 128, 48, 40.0
FRAME_RATE = F.SAMPLE_RATE / HOP  # 31.25 Hz: modulations up to 15.6 Hz
#: The level dreams are written at and level-blind readers scale every clip to (RMS; -26 dBFS, about the
#: level of a GTZAN track).
LEVEL_RMS = 0.05


class Frames:
    """One batch of audio ``(B, samples)`` on the prior's front end; statistics read its parts."""

    def __init__(self, audio: torch.Tensor) -> None:
        spec = torch.stft(audio, N_FFT, HOP, window=_window(), center=True, return_complex=True).abs() ** 2
        logmel = torch.log(_mel() @ spec + 1e-7)
        self.logmel = logmel - logmel.mean((1, 2), keepdim=True)  # the level says nothing of the genre

    @cached_property
    def band_mean(self) -> torch.Tensor:
        return self.logmel.mean(2)

    @cached_property
    def centred(self) -> torch.Tensor:
        """Each band's envelope about its mean ``(B, bands, frames)``."""
        return self.logmel - self.band_mean[..., None]

    @cached_property
    def band_std(self) -> torch.Tensor:
        return self.centred.pow(2).mean(2).add(1e-6).sqrt()

    @cached_property
    def onset(self) -> torch.Tensor:
        """Mean rise over bands between frames ``(B, frames - 1)``: onset strength."""
        return torch.relu(self.logmel[..., 1:] - self.logmel[..., :-1]).mean(1)


_cache: dict[str, torch.Tensor] = {}


def _slaney_mel(hz: np.ndarray) -> np.ndarray:
    """Hz to Slaney's mel scale: linear below 1 kHz (200/3 Hz per mel), logarithmic above."""
    mel = hz / (200.0 / 3)
    above = hz >= 1000.0
    mel[above] = 15.0 + np.log(hz[above] / 1000.0) / (np.log(6.4) / 27.0)
    return mel


def _slaney_hz(mel: np.ndarray) -> np.ndarray:
    hz = mel * (200.0 / 3)
    above = mel >= 15.0
    hz[above] = 1000.0 * np.exp(np.log(6.4) / 27.0 * (mel[above] - 15.0))
    return hz


def mel_filters(sample_rate: int = F.SAMPLE_RATE, n_fft: int = N_FFT, n_mels: int = N_MELS, fmin: float = FMIN,
                fmax: float | None = None) -> np.ndarray:
    """Triangular mel filters ``(n_mels, n_fft // 2 + 1)`` on Slaney's scale with Slaney's area normalisation:
    the values of ``librosa.filters.mel`` (``htk=False``, ``norm='slaney'``; a test holds them equal), without
    importing librosa, whose import is seconds of a cold dream."""
    fmax = sample_rate / 2 if fmax is None else fmax
    bins = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    edges = _slaney_hz(np.linspace(_slaney_mel(np.array([fmin]))[0], _slaney_mel(np.array([fmax]))[0], n_mels + 2))
    width = np.diff(edges)
    ramps = np.subtract.outer(edges, bins)
    weights = np.zeros((n_mels, len(bins)), dtype=np.float32)
    for i in range(n_mels):
        weights[i] = np.maximum(0, np.minimum(-ramps[i] / width[i], ramps[i + 2] / width[i + 1]))
    weights *= (2.0 / (edges[2:n_mels + 2] - edges[:n_mels]))[:, None]
    return weights


def _mel() -> torch.Tensor:
    if "mel" not in _cache:
        _cache["mel"] = torch.as_tensor(mel_filters(), dtype=torch.float32)
    return _cache["mel"]


def _window() -> torch.Tensor:
    if "window" not in _cache:
        _cache["window"] = torch.hann_window(N_FFT)
    return _cache["window"]


def at_level(audio: torch.Tensor, rms: float = LEVEL_RMS) -> torch.Tensor:
    """Each row of ``audio`` scaled to RMS ``rms`` (differentiable): what a prior or model blind to level reads."""
    return audio * (rms / audio.pow(2).mean(-1, keepdim=True).add(1e-12).sqrt())


_sharing = threading.local()


@contextlib.contextmanager
def sharing() -> Iterator[None]:
    """Within the block, :func:`level_logmel` of the same audio tensor is computed once: an ensemble's members
    that read it through this front end share one log-mel (and one backward through it) at each step."""
    if getattr(_sharing, "memo", None) is not None:  # nested: the outer block shares already
        yield
        return
    _sharing.memo = {}
    try:
        yield
    finally:
        _sharing.memo = None


def level_logmel(audio: torch.Tensor) -> torch.Tensor:
    """The log-mel ``(B, 48, frames)`` of audio ``(B, samples)`` scaled to the listening level (what the
    dreaming CNN reads), once per audio tensor inside :func:`sharing`."""
    memo = getattr(_sharing, "memo", None)
    if memo is None:
        return Frames(at_level(audio.float())).logmel
    key = (id(audio), audio._version)  # the memo holds the audio too, so its id is not reused meanwhile
    if key not in memo:
        memo[key] = (audio, Frames(at_level(audio.float())).logmel)
    return memo[key][1]


def front_end_meta() -> dict:
    """The front end, as a prior's metadata records it."""
    return {"n_fft": N_FFT, "hop": HOP, "n_mels": N_MELS, "fmin": FMIN, "sample_rate": F.SAMPLE_RATE}
