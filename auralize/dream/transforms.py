"""Transforms: random, seeded, shape-keeping changes applied afresh at every ascent step.

A dream must survive what happens between the optimiser and a listener (a shifted STFT grid,
another level, noise, 16-bit audio, a slightly different spectrum), so each step scores a
randomly transformed copy (Lucid's transformation robustness). Every transform is a small
callable ``t(signal, generator) -> signal`` of the same shape, drawing its randomness only from
``generator`` (same seed, same output). Its ``domain`` says what it acts on:

- ``audio``: samples ``(batch, samples)``; only parameterisations that have audio (waveform);
- ``input``: model input ``(batch, frames, 513)`` (normalised log PSD; 0 is the average spectrum);
- ``time``: either; it acts on audio when there is some, else on the model input.

Shifts roll the signal, so they keep its shape; ``margin`` (in frames) says how much extra
length the dream needs so that no window ever sees the wrapped-around part.

:data:`TRANSFORMS` maps a name (``--transforms shift,gain``) to a class whose defaults are sensible.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Callable, ClassVar, Sequence

import torch

from .. import checks
from .. import features as F
from ..errors import AuralizeError
from ..registry import Registry

#: name -> transform class (constructible with no arguments).
TRANSFORMS: Registry[type] = Registry("transform", "transforms")


def register_transform(cls: type) -> type:
    """Class decorator: make a transform available by its ``name`` (``--transforms NAME``)."""
    return TRANSFORMS.register(cls)


def from_names(names: str | Sequence[str]) -> list:
    """Transforms from names (``"shift,gain"`` or a list), with their default settings; ``name:value``
    sets the transform's first setting instead (``"freq-mask:60"``: masks up to 60 bins wide)."""
    if isinstance(names, str):
        names = [n for n in (s.strip() for s in names.split(",")) if n]
    made = []
    for item in names:
        name, _, value = item.partition(":")
        cls = TRANSFORMS[name]
        args = (_setting(cls, value),) if value else ()
        try:
            made.append(cls(*args))
        except AuralizeError as exc:  # the class names its own setting ("width"), which is no CLI flag
            why = str(exc)
            why = why[len(exc.param) + 1:] if exc.param and why.startswith(exc.param + " ") else why
            raise AuralizeError(f"transforms item {item!r}: {name}'s {fields(cls)[0].name} {why}",
                                param="transforms") from None
    return made


def _setting(cls: type, value: str) -> float | int:
    """``value`` as the type of ``cls``'s first setting (the checks of the class then bound it)."""
    first = fields(cls)[0]
    try:
        number = float(value)
        return int(value) if isinstance(first.default, int) else number
    except ValueError:
        kind = "an integer" if isinstance(first.default, int) else "a number"
        raise AuralizeError(f"transforms item '{cls.name}:{value}': {cls.name}'s {first.name} must be {kind}, got "
                            f"{value!r}", param="transforms") from None


class Compose:
    """Transforms applied in order; itself a transform."""

    def __init__(self, transforms: Sequence[Callable]) -> None:
        self.transforms = list(transforms)

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        for t in self.transforms:
            x = t(x, generator)
        return x

    def __bool__(self) -> bool:
        return bool(self.transforms)


def _roll(x: torch.Tensor, shift: int) -> torch.Tensor:
    """Move the signal ``shift`` steps earlier along time (dim 1); the start wraps to the end."""
    return torch.roll(x, -shift, dims=1) if shift else x


@register_transform
@dataclass(frozen=True)
class Jitter:
    """Random time shift of up to ``frames`` frames (of samples: up to ``frames * 896``)."""

    frames: int = 1
    name: ClassVar[str] = "jitter"
    domain: ClassVar[str] = "time"

    def __post_init__(self) -> None:
        checks.count("jitter", self.frames, 0, F.N_FRAMES)

    @property
    def margin(self) -> int:
        return self.frames

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        if self.frames == 0:
            return x
        most = self.frames * (F.HOP if x.ndim == 2 else 1)
        return _roll(x, int(torch.randint(0, most + 1, (1,), generator=generator).item()))


@register_transform
@dataclass(frozen=True)
class Shift:
    """Random sub-frame time shift of the samples (up to ``samples``), so the STFT framing changes."""

    samples: int = F.HOP // 2
    name: ClassVar[str] = "shift"
    domain: ClassVar[str] = "audio"

    def __post_init__(self) -> None:
        checks.count("samples", self.samples, 0, F.CLIP_SAMPLES)

    @property
    def margin(self) -> int:
        return math.ceil(self.samples / F.HOP)

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return _roll(x, int(torch.randint(0, self.samples + 1, (1,), generator=generator).item()))


@dataclass(frozen=True)
class _Level:
    """A transform set by one standard deviation ``std`` (the dream's ``noise`` setting)."""

    std: float = 0.1
    margin: ClassVar[int] = 0

    def __post_init__(self) -> None:
        checks.number("noise", self.std, lo=0, hi=10)


@register_transform
@dataclass(frozen=True)
class InputNoise(_Level):
    """Gaussian noise of standard deviation ``std`` on the model input (what Griffin-Lim changes)."""

    name: ClassVar[str] = "input-noise"
    domain: ClassVar[str] = "input"

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return x + self.std * torch.randn(x.shape, generator=generator)


@register_transform
@dataclass(frozen=True)
class Gain(_Level):
    """Random level: every item times ``1 + std * N(0, 1)``."""

    name: ClassVar[str] = "gain"
    domain: ClassVar[str] = "audio"

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return x * (1 + self.std * torch.randn(x.shape[0], 1, generator=generator))


@register_transform
@dataclass(frozen=True)
class Dither(InputNoise):
    """The same white noise on the samples, at the level of 16-bit quantisation (``2**-15``)."""

    std: float = 2.0 ** -15
    name: ClassVar[str] = "dither"
    domain: ClassVar[str] = "audio"


@register_transform
@dataclass(frozen=True)
class Noise:
    """Additive white noise at a random signal-to-noise ratio, uniform in ``[lo_db, hi_db]``."""

    lo_db: float = 10.0
    hi_db: float = 30.0
    name: ClassVar[str] = "noise"
    domain: ClassVar[str] = "audio"
    margin: ClassVar[int] = 0

    def __post_init__(self) -> None:
        checks.number("lo_db", self.lo_db, lo=-20, hi=self.hi_db)
        checks.number("hi_db", self.hi_db, lo=self.lo_db, hi=120)

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        snr = self.lo_db + (self.hi_db - self.lo_db) * torch.rand(x.shape[0], 1, generator=generator)
        rms = x.detach().pow(2).mean(-1, keepdim=True).sqrt()  # the noise level is not optimised
        return x + rms * 10 ** (-snr / 20) * torch.randn(x.shape, generator=generator)


@register_transform
@dataclass(frozen=True)
class FreqShift:
    """Small random frequency shift: the spectrum moves by up to ``bins`` bins (linear interpolation)."""

    bins: float = 2.0
    name: ClassVar[str] = "freq-shift"
    domain: ClassVar[str] = "input"
    margin: ClassVar[int] = 0

    def __post_init__(self) -> None:
        checks.number("bins", self.bins, lo=0, hi=F.N_BINS // 4)

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        shift = self.bins * (2 * torch.rand(x.shape[0], 1, 1, generator=generator, dtype=x.dtype) - 1)
        pos = (torch.arange(x.shape[-1], dtype=x.dtype) - shift).clamp(0, x.shape[-1] - 1)
        low = pos.floor().long().clamp(max=x.shape[-1] - 2)
        frac = pos - low
        pick = lambda idx: torch.gather(x, -1, idx.expand(*x.shape[:-1], -1))  # noqa: E731
        return pick(low) * (1 - frac) + pick(low + 1) * frac


def _band(size: int, most: int, count: int, generator: torch.Generator, dtype) -> torch.Tensor:
    """``(count, size)`` masks: 0 on one random band of up to ``most`` positions, else 1."""
    width = torch.randint(0, most + 1, (count, 1), generator=generator)
    start = (torch.rand(count, 1, generator=generator) * (size - width + 1)).long()
    pos = torch.arange(size)
    return ~((pos >= start) & (pos < start + width)) * torch.ones((), dtype=dtype)


@dataclass(frozen=True)
class _Mask:
    """Sets a random band of up to ``width`` positions along ``axis`` to the average spectrum (SpecAugment)."""

    width: int = 1
    axis: ClassVar[int] = 1
    limit: ClassVar[int] = F.N_FRAMES
    domain: ClassVar[str] = "input"
    margin: ClassVar[int] = 0

    def __post_init__(self) -> None:
        checks.count("width", self.width, 0, self.limit)

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        size = x.shape[self.axis]
        mask = _band(size, min(self.width, size), x.shape[0], generator, x.dtype)
        return x * (mask[:, :, None] if self.axis == 1 else mask[:, None, :])


@register_transform
@dataclass(frozen=True)
class TimeMask(_Mask):
    """Sets a random band of up to ``width`` frames to the average spectrum."""

    width: int = 2
    name: ClassVar[str] = "time-mask"


@register_transform
@dataclass(frozen=True)
class FreqMask(_Mask):
    """Sets a random band of up to ``width`` bins to the average spectrum."""

    width: int = 20
    name: ClassVar[str] = "freq-mask"
    axis: ClassVar[int] = 2
    limit: ClassVar[int] = F.N_BINS


def margin(transforms: Sequence) -> int:
    """Extra frames a dream needs so that its shifts never wrap into a window."""
    return sum(int(getattr(t, "margin", 0)) for t in transforms)


def by_domain(transforms: Sequence, has_audio: bool) -> tuple[Compose, Compose]:
    """Split transforms, order kept, into those on audio and those on the model input."""
    on_audio, on_input = [], []
    for t in transforms:
        domain = getattr(t, "domain", "input")
        if domain == "audio" and not has_audio:
            raise AuralizeError(f"transforms may not include {getattr(t, 'name', t)!r} here: it acts on audio, and this "
                                "parameterisation optimises the model input (use the waveform one)", param="transforms")
        (on_audio if domain == "audio" or (domain == "time" and has_audio) else on_input).append(t)
    return Compose(on_audio), Compose(on_input)
