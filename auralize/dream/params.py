"""Parameterisations: what the ascent optimises and how it becomes model input and audio.

A parameterisation is a ``torch.nn.Module`` following :class:`Param`, registered by name in
:data:`PARAMS` (the CLI's ``--param`` choices come from there), so a new one is one new class
with :func:`register_param`:

- :class:`SpectrogramParam` (the paper's route): the 22x513 model input itself, kept within the
  range of real inputs, made audible by Griffin-Lim;
- :class:`WaveformParam`: the samples, through the differentiable front end (no phase retrieval).

A dream of one genre is a batch of one: ``forward()`` is its full model input ``(1, frames, 513)``.
"""
from __future__ import annotations

from typing import ClassVar, Protocol, runtime_checkable

import numpy as np
import torch
from torch import nn

from .. import features as F
from ..errors import AuralizeError
from .transforms import Compose, Dither, Gain, InputNoise, Jitter

#: name -> parameterisation class.
PARAMS: dict[str, type] = {}


def register_param(cls: type) -> type:
    """Class decorator: make a parameterisation available by its ``name`` (``--param NAME``)."""
    PARAMS[cls.name] = cls
    return cls


def get_param(name: str) -> type:
    """The registered parameterisation called ``name``."""
    if name not in PARAMS:
        raise AuralizeError(f"param must be one of {', '.join(PARAMS)}, got {name!r}", param="param")
    return PARAMS[name]


@runtime_checkable
class Param(Protocol):
    """What :func:`~auralize.dream.render.render` needs of a parameterisation."""

    name: ClassVar[str]
    has_audio: ClassVar[bool]  # whether audio-domain transforms can act on it
    default_lr: ClassVar[float]

    @classmethod
    def initial(cls, model: nn.Module, frames: int, samples: int, init: str | np.ndarray,
                generator: torch.Generator, clamp: bool = True) -> "Param":
        """The start of the ascent: ``noise``, ``silence`` or mono 4 kHz audio."""

    @classmethod
    def default_transforms(cls, jitter: int, noise: float) -> list:
        """The robustness transforms of every step, from the ``jitter`` and ``noise`` settings."""

    def forward(self) -> torch.Tensor:
        """The full model input ``(1, frames, 513)``."""

    def windows(self, count: int, margin: int, on_audio: Compose, on_input: Compose,
                generator: torch.Generator) -> torch.Tensor:
        """``count`` transformed 5-second windows of model input ``(count, 22, 513)``."""

    def project(self) -> None:
        """Put the parameters back into their allowed set after a step."""

    def to_audio(self, n_iter: int, seed: int) -> np.ndarray:
        """Audio ``(1, samples)`` of the dream (with any margin; the caller crops it)."""


def cut(signal: torch.Tensor, count: int, length: int, size: int) -> torch.Tensor:
    """``count`` windows of ``size`` spread evenly over the first ``length`` steps of ``signal``,
    stacked along the batch: ``(batch * count, size, ...)``."""
    starts = np.linspace(0, max(length - size, 0), count).round().astype(int) if count > 1 else np.zeros(1, int)
    return torch.stack([signal[:, s:s + size] for s in starts], 1).flatten(0, 1)


def _repeat(init: np.ndarray, samples: int) -> torch.Tensor:
    """Mono audio as ``(1, samples)``, repeated when shorter."""
    return torch.from_numpy(np.resize(init.astype(np.float32), samples))[None]


def _check_init(init) -> None:
    if not isinstance(init, np.ndarray) and init not in ("noise", "silence"):
        raise AuralizeError(f"init must be noise, silence or audio, got {init!r}", param="init")


@register_param
class SpectrogramParam(nn.Module):
    """Optimise the model input ``(1, frames, 513)`` directly, clamped to the data range."""

    name = "spectrogram"
    has_audio = False
    default_lr = 0.1

    def __init__(self, init: torch.Tensor, lo: torch.Tensor, hi: torch.Tensor, scaler=None) -> None:
        super().__init__()
        self.x = nn.Parameter(init.clone())
        self.register_buffer("lo", lo)
        self.register_buffer("hi", hi)
        self.scaler = scaler
        self.project()

    @classmethod
    def initial(cls, model, frames, samples, init, generator, clamp=True):
        _check_init(init)
        lo, hi = model.scaler.bounds(torch.zeros(1))
        if isinstance(init, np.ndarray):
            audio = _repeat(init, max(samples, F.N_FFT + (frames - 1) * F.HOP))
            start = model.scaler.transform(F.torch_spectrogram(audio.double())).float()[:, :frames]
        elif init == "noise":
            start = 0.5 * torch.randn(1, frames, F.N_BINS, generator=generator)
        else:
            start = lo.expand(1, frames, -1).clone()
        # Without the clamp the bounds are far away: projecting is then a no-op.
        return cls(start, lo, hi, model.scaler) if clamp else cls(start, lo - 1e3, hi + 1e3, model.scaler)

    @classmethod
    def default_transforms(cls, jitter: int, noise: float) -> list:
        # noise: robustness to what Griffin-Lim and 16-bit audio change
        return [t for t in (InputNoise(noise) if noise > 0 else None, Jitter(jitter) if jitter > 0 else None) if t]

    def forward(self) -> torch.Tensor:
        return self.x

    def windows(self, count, margin, on_audio, on_input, generator):
        x = on_input(self.x, generator)
        return cut(x, count, x.shape[1] - margin, F.N_FRAMES)

    @torch.no_grad()
    def project(self) -> None:
        self.x.copy_(torch.maximum(torch.minimum(self.x, self.hi), self.lo))

    def to_audio(self, n_iter: int, seed: int) -> np.ndarray:
        from ..invert import psd_to_audio

        psd = self.scaler.inverse(self.x.detach().double())
        return np.asarray(psd_to_audio(psd, n_iter=n_iter, seed=seed))


@register_param
class WaveformParam(nn.Module):
    """Optimise the samples ``(1, n)`` through the differentiable front end.

    Samples are ``0.99 * tanh(p)``, so they never clip.
    """

    name = "waveform"
    has_audio = True
    default_lr = 0.005  # Adam moves every sample by ~lr per step: keep it well below the signal level

    def __init__(self, init_audio: torch.Tensor, scaler) -> None:
        super().__init__()
        self.p = nn.Parameter(torch.atanh((init_audio / 0.99).clamp(-0.999, 0.999)))
        self.scaler = scaler
        self.spec = F.TorchSpectrogram()

    @classmethod
    def initial(cls, model, frames, samples, init, generator, clamp=True):
        _check_init(init)
        if isinstance(init, np.ndarray):
            start = _repeat(init, max(samples, F.N_FFT + (frames - 1) * F.HOP))
        else:
            level = 0.05 if init == "noise" else 1e-4  # exact zeros would have no gradient
            start = level * torch.randn(1, samples, generator=generator)
        return cls(start, model.scaler)

    @classmethod
    def default_transforms(cls, jitter: int, noise: float) -> list:
        # noise: 16-bit quantisation and small level changes must not undo the dream
        return [t for t in (*((Gain(noise), Dither()) if noise > 0 else ()), Jitter(jitter) if jitter > 0 else None)
                if t]

    def audio(self) -> torch.Tensor:
        return 0.99 * torch.tanh(self.p)

    def forward(self) -> torch.Tensor:
        return self.scaler.transform(self.spec(self.audio()))

    def windows(self, count, margin, on_audio, on_input, generator):
        audio = on_audio(self.audio(), generator)
        clips = cut(audio, count, audio.shape[1] - margin * F.HOP, F.CLIP_SAMPLES)
        return on_input(self.scaler.transform(self.spec(clips)), generator)

    def project(self) -> None:
        pass

    def to_audio(self, n_iter: int, seed: int) -> np.ndarray:
        return self.audio().detach().numpy()
