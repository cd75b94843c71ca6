"""Parameterisations: what the ascent optimises and how it becomes model input and audio.

A parameterisation is a ``torch.nn.Module`` following :class:`Param`, registered by name in
:data:`PARAMS` (the CLI's ``--param`` choices come from there), so a new one is one new class
with :func:`register_param`:

- :class:`SpectrogramParam` (the paper's route): the 22x513 model input itself, kept within the
  range of real inputs, made audible by Griffin-Lim;
- :class:`WaveformParam`: the samples, through the differentiable front end (no phase retrieval);
- :class:`FineParam`: a log-magnitude on a 512/128 STFT grid, four times finer in time than the
  model's frames, its phase kept consistent by Griffin-Lim inside the loop.

A dream of one genre is a batch of one: ``forward()`` is its full model input ``(1, frames, 513)``.
"""
from __future__ import annotations

from typing import ClassVar, Protocol, runtime_checkable

import numpy as np
import torch
from torch import nn

from .. import features as F
from ..errors import AuralizeError
from ..invert import fine_griffin_lim, fine_istft, fine_stft, unit_phase
from ..registry import Registry
from .transforms import Compose, Dither, Gain, InputNoise, Jitter, Shift

#: name -> parameterisation class.
PARAMS: Registry[type] = Registry("parameterisation", "param")


def register_param(cls: type) -> type:
    """Class decorator: make a parameterisation available by its ``name`` (``--param NAME``)."""
    return PARAMS.register(cls)


def get_param(param) -> type:
    """The parameterisation ``param`` names, or ``param`` itself when it is a registered class."""
    if isinstance(param, type) and PARAMS.get(getattr(param, "name", None)) is param:
        return param
    return PARAMS[param]


@runtime_checkable
class Param(Protocol):
    """What :func:`~auralize.dream.render.render` needs of a parameterisation."""

    name: ClassVar[str]
    has_audio: ClassVar[bool]  # whether audio-domain transforms can act on it
    default_lr: ClassVar[float]

    @classmethod
    def check_model(cls, model) -> None:
        """Refuse, in one line, a model this parameterisation cannot dream with (before any work)."""

    @classmethod
    def initial(cls, model: nn.Module, frames: int, samples: int, init: str | np.ndarray,
                generator: torch.Generator, clamp: bool = True) -> "Param":
        """The start of the ascent: ``noise``, ``silence`` or mono 4 kHz audio."""

    @classmethod
    def default_transforms(cls, jitter: int, noise: float) -> list:
        """The robustness transforms of every step, from the ``jitter`` and ``noise`` settings."""

    def forward(self) -> torch.Tensor:
        """The full model input of the whole dream (the paper's models: ``(1, frames, 513)``)."""

    def windows(self, count: int, margin: int, on_audio: Compose, on_input: Compose,
                generator: torch.Generator) -> torch.Tensor:
        """``count`` transformed windows of one clip each, as model input ``(count, ...)`` (the paper's: 22x513)."""

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


def _clip_frames(model) -> int:
    """Frames of the model's input grid in one clip (the paper's: 22)."""
    return 1 + (int(model.clip_samples) - F.N_FFT) // F.HOP


@register_param
class SpectrogramParam(nn.Module):
    """Optimise the model input ``(1, frames, bins)`` directly, clamped to the data range.

    Needs a model whose input is a (frames, bins) grid (``input_layout``) with ``input_bounds`` and
    an ``inverse`` back to audio: the paper's models (their PSD, then Griffin-Lim).
    """

    name = "spectrogram"
    has_audio = False
    default_lr = 0.1

    def __init__(self, init: torch.Tensor, lo: torch.Tensor, hi: torch.Tensor, model) -> None:
        super().__init__()
        self.x = nn.Parameter(init.clone())
        self.register_buffer("lo", lo)
        self.register_buffer("hi", hi)
        self.inverse = model.inverse  # a bound method, not a submodule: the model's weights stay out of the ascent
        self.clip_frames = _clip_frames(model)
        self.project()

    @classmethod
    def check_model(cls, model) -> None:
        from ..audiomodel import frames_by_bins, input_bounds, label

        if input_bounds(model) is None or not hasattr(model, "inverse") or not frames_by_bins(model):
            raise AuralizeError(f"the spectrogram parameterisation optimises a (frames, bins) model input and needs "
                                f"the model's input_bounds and inverse, which this {label(model)} model does not "
                                "give: use the fine or waveform parameterisation", param="param")

    @classmethod
    def initial(cls, model, frames, samples, init, generator, clamp=True):
        _check_init(init)
        lo, hi = model.input_bounds()
        if isinstance(init, np.ndarray):
            audio = _repeat(init, max(samples, F.N_FFT + (frames - 1) * F.HOP))
            start = model.features(audio.double()).float()[:, :frames]
        elif init == "noise":
            start = 0.5 * torch.randn(1, frames, lo.shape[-1], generator=generator)
        else:
            start = lo.expand(1, frames, -1).clone()
        # Without the clamp the bounds are far away: projecting is then a no-op.
        return cls(start, lo, hi, model) if clamp else cls(start, lo - 1e3, hi + 1e3, model)

    @classmethod
    def default_transforms(cls, jitter: int, noise: float) -> list:
        # noise: robustness to what Griffin-Lim and 16-bit audio change
        return [t for t in (InputNoise(noise) if noise > 0 else None, Jitter(jitter) if jitter > 0 else None) if t]

    def forward(self) -> torch.Tensor:
        return self.x

    def windows(self, count, margin, on_audio, on_input, generator):
        x = on_input(self.x, generator)
        return cut(x, count, x.shape[1] - margin, self.clip_frames)

    @torch.no_grad()
    def project(self) -> None:
        self.x.copy_(torch.maximum(torch.minimum(self.x, self.hi), self.lo))

    def to_audio(self, n_iter: int, seed: int) -> np.ndarray:
        return self.inverse(self.x.detach(), n_iter=n_iter, seed=seed)


@register_param
class WaveformParam(nn.Module):
    """Optimise the samples ``(1, n)`` through the model's differentiable front end (``features``).

    Samples are ``0.99 * tanh(p)``, so they never clip.
    """

    name = "waveform"
    has_audio = True
    default_lr = 0.005  # Adam moves every sample by ~lr per step: keep it well below the signal level
    start_level: ClassVar[dict] = {"noise": 0.05, "silence": 1e-4}  # exact zeros would have no gradient

    def __init__(self, init_audio: torch.Tensor, model) -> None:
        super().__init__()
        self.p = nn.Parameter(torch.atanh((init_audio / 0.99).clamp(-0.999, 0.999)))
        self._front(model)

    @classmethod
    def check_model(cls, model) -> None:
        from ..audiomodel import check_differentiable

        check_differentiable(model, cls.name)

    def _front(self, model) -> None:
        """What the windows need of the model: its front end (a bound method, not a submodule) and clip length."""
        self.features = model.features
        self.clip_samples = int(model.clip_samples)

    @classmethod
    def initial(cls, model, frames, samples, init, generator, clamp=True):
        _check_init(init)
        if isinstance(init, np.ndarray):
            start = _repeat(init, max(samples, F.N_FFT + (frames - 1) * F.HOP))
        else:
            start = cls.start_level[init] * torch.randn(1, samples, generator=generator)
        return cls(start, model)

    @classmethod
    def default_transforms(cls, jitter: int, noise: float) -> list:
        # noise: 16-bit quantisation and small level changes must not undo the dream; jitter: nor where the
        # frames fall (whole frames of the model input, and a sub-frame shift of the samples under the STFT)
        return [t for t in (*((Gain(noise), Dither()) if noise > 0 else ()),
                            *((Jitter(jitter), Shift()) if jitter > 0 else ())) if t]

    def audio(self) -> torch.Tensor:
        return 0.99 * torch.tanh(self.p)

    def forward(self) -> torch.Tensor:
        return self.features(self.audio())

    def windows(self, count, margin, on_audio, on_input, generator):
        audio = on_audio(self.audio(), generator)
        clips = cut(audio, count, audio.shape[1] - margin * F.HOP, self.clip_samples)
        return on_input(self.features(clips), generator)

    def project(self) -> None:
        pass

    def to_audio(self, n_iter: int, seed: int) -> np.ndarray:
        return self.audio().detach().numpy()




@register_param
class FineParam(WaveformParam):
    """Optimise a log-magnitude ``(1, 257, fine frames)`` on a 512/128 Hann STFT grid.

    The audio is the inverse STFT of that magnitude with the current phase; after every step
    (:meth:`project`) the phase takes one Griffin-Lim update without gradient, so the model always
    hears a signal close to the consistent one the dream is written as. The model still reads that
    audio through its own front end (the paper's models: 22x513 PSDs), as the waveform
    parameterisation does, with its transforms, while the audio is shaped at a 32-ms hop. The total-variation penalties
    smooth this log-magnitude (:meth:`grid`), not the model input.
    """

    name = "fine"
    default_lr = 0.1
    start_level: ClassVar[dict] = {"noise": 1e-3, "silence": 1e-5}  # near silence; exact zeros have no phase

    def __init__(self, start: torch.Tensor, model) -> None:
        nn.Module.__init__(self)  # not the waveform's parameters: a magnitude and a phase instead
        self.samples = start.shape[1]
        spec = fine_stft(start)
        self.logmag = nn.Parameter(torch.log(spec.abs() + 1e-5))
        self.phase = unit_phase(spec)
        self._front(model)

    def _audio(self, phase: torch.Tensor) -> torch.Tensor:
        return fine_istft(torch.exp(self.logmag) * phase, self.samples)

    def audio(self) -> torch.Tensor:
        # The model's windows and the prior read the same audio in a step: one inverse STFT (and its backward),
        # not one each. A new step (the optimiser's in-place update, a new phase) makes it afresh.
        key = (self.logmag._version, id(self.phase), torch.is_grad_enabled())
        if getattr(self, "_made", (None,))[0] != key:
            self._made = (key, self._audio(self.phase))
        return self._made[1]

    def grid(self) -> torch.Tensor:
        """What the total-variation penalties smooth: the log-magnitude as ``(1, fine frames, 257)``."""
        return self.logmag.transpose(1, 2)

    @torch.no_grad()
    def _griffin_lim(self, iters: int) -> torch.Tensor:
        return fine_griffin_lim(torch.exp(self.logmag), self.phase, iters, self.samples)

    def project(self) -> None:
        self.phase = self._griffin_lim(1)

    @torch.no_grad()
    def to_audio(self, n_iter: int, seed: int) -> np.ndarray:
        """The audio after ``n_iter`` more Griffin-Lim updates (the dream itself is left as it is), peak <= 0.99."""
        audio = self._audio(self._griffin_lim(n_iter))
        peak = audio.abs().amax(1, keepdim=True).clamp(min=1e-12)
        return (audio * torch.clamp(0.99 / peak, max=1.0)).numpy()
