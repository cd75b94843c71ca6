"""Audio <-> spectrogram: the paper's front end, its differentiable twin, and input scaling.

The front end is exactly the one of Irvin et al.: mono audio at 4000 Hz, cut into 5-second
clips of 20000 samples, each turned into ``scipy.signal.spectrogram(x, fs=4000, nperseg=1024)``
with SciPy's other defaults (Tukey(0.25) window, 128 samples overlap, constant detrend,
one-sided PSD density). That gives 513 frequency bins x 22 frames; models read it as
``(22, 513)`` (time, frequency).

:func:`spectrogram` is the NumPy/SciPy reference, :class:`TorchSpectrogram` its batched,
differentiable twin (equal within 1e-6 relative in float64).  :class:`InputScaler` maps a PSD to
model input (log compression and normalisation statistics from the training split) and back.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

# The audio-input contract (reading, resampling, refusing silence) lives in audio.py; re-exported here.
from .audio import SAMPLE_RATE, SILENCE_RMS, load_audio, require_audible, resample  # noqa: F401
from .errors import AuralizeError

CLIP_SECONDS = 5
CLIP_SAMPLES = SAMPLE_RATE * CLIP_SECONDS  # 20000
N_FFT = 1024
NOVERLAP = N_FFT // 8  # SciPy's default overlap for nperseg=1024
HOP = N_FFT - NOVERLAP  # 896
N_BINS = N_FFT // 2 + 1  # 513
N_FRAMES = (CLIP_SAMPLES - N_FFT) // HOP + 1  # 22
#: A final partial clip at least this full is zero-padded to a whole clip (GTZAN excerpts of
#: 29.98-30.0 s would otherwise lose their sixth clip to a few milliseconds).
PAD_TOLERANCE = 0.99


def window() -> np.ndarray:
    """SciPy's default spectrogram window for ``nperseg=1024``: periodic Tukey(0.25)."""
    import scipy.signal  # here, not at the top: importing it costs 1-2 s of every command's start

    return scipy.signal.get_window(("tukey", 0.25), N_FFT)


def psd_scale() -> np.ndarray:
    """Per-bin factor from ``|FFT|**2`` to SciPy's one-sided PSD density, shape (513,)."""
    w = window()
    scale = np.full(N_BINS, 2.0 / (SAMPLE_RATE * np.sum(w**2)))
    # One-sided density doubles every bin except DC and (even nfft) Nyquist.
    scale[0] /= 2.0
    scale[-1] /= 2.0
    return scale


def split_clips(audio: np.ndarray, name: str = "audio", clip_samples: int = CLIP_SAMPLES,
                sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Cut mono audio into consecutive clips, shape (n_clips, clip_samples) (default: the paper's 5 s at 4 kHz).

    A trailing partial clip is dropped unless it is at least ``PAD_TOLERANCE`` full, in which
    case it is zero-padded.

    Raises
    ------
    AuralizeError
        If the audio is shorter than one clip.
    """
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim != 1:
        raise AuralizeError(f"{name}: expected mono audio, got shape {audio.shape}")
    n_full, tail = divmod(audio.size, clip_samples)
    if tail >= PAD_TOLERANCE * clip_samples:
        audio = np.pad(audio, (0, clip_samples - tail))
        n_full += 1
    if n_full == 0:
        raise AuralizeError(
            f"{name} is {audio.size / sample_rate:.2f} s long; at least {clip_samples / sample_rate:g} s "
            f"({clip_samples} samples at {sample_rate} Hz) are needed for one clip"
        )
    return audio[: n_full * clip_samples].reshape(n_full, clip_samples)


def spectrogram(clips: np.ndarray) -> np.ndarray:
    """The paper's spectrogram of each clip, as model-ordered PSD (..., 22, 513).

    Exactly ``scipy.signal.spectrogram(x, fs=4000, nperseg=1024)`` transposed to (time, freq).
    Works on any number of samples >= 1024 (frames = 1 + (n - 1024) // 896).
    """
    import scipy.signal

    _, _, sxx = scipy.signal.spectrogram(np.asarray(clips), fs=SAMPLE_RATE, nperseg=N_FFT)
    return np.swapaxes(sxx, -1, -2)


class TorchSpectrogram(torch.nn.Module):
    """Differentiable, batched twin of :func:`spectrogram`.

    Input ``(..., n_samples)``, output PSD ``(..., frames, 513)`` in the input's dtype.
    """

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("window", torch.from_numpy(window()), persistent=False)
        self.register_buffer("scale", torch.from_numpy(psd_scale()), persistent=False)

    def frames(self, x: torch.Tensor) -> torch.Tensor:
        """Detrended, windowed frames ``(..., frames, 1024)``."""
        seg = x.unfold(-1, N_FFT, HOP)
        seg = seg - seg.mean(dim=-1, keepdim=True)  # detrend='constant'
        return seg * self.window.to(x.dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        spec = torch.fft.rfft(self.frames(x), n=N_FFT, dim=-1)
        return (spec.real**2 + spec.imag**2) * self.scale.to(x.dtype)


_torch_spec: TorchSpectrogram | None = None


def torch_spectrogram(x: torch.Tensor) -> torch.Tensor:
    """Functional form of :class:`TorchSpectrogram` (a shared module instance)."""
    global _torch_spec
    if _torch_spec is None:
        _torch_spec = TorchSpectrogram()
    return _torch_spec(x)


@dataclass
class InputScaler:
    """Maps a PSD to model input and back; fitted on the training split only.

    ``compression='log'`` uses ``log(psd + eps)``; ``'none'`` keeps the paper's raw PSD.
    ``mean``/``std`` are per-bin (513,) or scalar (the paper used one global scalar);
    ``lo``/``hi`` record the per-bin range of the training inputs (for clamping dreams).
    """

    compression: str = "log"
    eps: float = 1e-10
    per_bin: bool = True
    mean: Any = 0.0
    std: Any = 1.0
    lo: Any = None
    hi: Any = None

    def compress(self, psd):
        if self.compression == "log":
            return np.log(psd + self.eps) if isinstance(psd, np.ndarray) else torch.log(psd + self.eps)
        if self.compression == "none":
            return psd
        raise AuralizeError(f"unknown compression {self.compression!r}; use 'log' or 'none'")

    def decompress(self, z):
        if self.compression == "log":
            out = np.exp(z) - self.eps if isinstance(z, np.ndarray) else torch.exp(z) - self.eps
            return out.clip(min=0) if isinstance(out, np.ndarray) else out.clamp(min=0)
        return z

    def fit(self, psd: np.ndarray) -> "InputScaler":
        """Fit statistics on training PSDs ``(n, 22, 513)``; returns self."""
        z = self.compress(np.asarray(psd, dtype=np.float64)).reshape(-1, psd.shape[-1])
        if self.per_bin:
            # A bin that barely varies in training (a constant floor) would blow small changes
            # up by orders of magnitude and saturate the models: floor its std.
            std = z.std(0)
            self.mean, self.std = z.mean(0), np.maximum(std, 0.1 * np.median(std)) + 1e-8
        else:
            self.mean, self.std = np.full(z.shape[1], z.mean()), np.full(z.shape[1], z.std() + 1e-8)
        x = (z - self.mean) / self.std
        self.lo, self.hi = x.min(0), x.max(0)
        self.mean, self.std, self.lo, self.hi = (np.asarray(a, np.float32) for a in (self.mean, self.std, self.lo, self.hi))
        return self

    def fit_rows(self, rows, chunk: int = 128) -> "InputScaler":
        """:meth:`fit` over PSD rows read ``chunk`` clips at a time (a feature store's, which need not fit in
        memory): the same statistics up to float rounding, from two passes (mean and variance merged
        chunk by chunk, then the range); returns self."""
        count, mean, m2 = 0, np.zeros(rows.shape[-1]), np.zeros(rows.shape[-1])
        for i in range(0, len(rows), chunk):
            z = self.compress(np.asarray(rows[i:i + chunk], dtype=np.float64)).reshape(-1, rows.shape[-1])
            n, m = len(z), z.mean(0)  # Chan et al.'s merge of two parts' means and squared deviations
            delta = m - mean
            mean = mean + delta * n / (count + n)
            m2 = m2 + ((z - m) ** 2).sum(0) + delta ** 2 * count * n / (count + n)
            count += n
        if self.per_bin:
            std = np.sqrt(m2 / count)
            self.mean, self.std = mean, np.maximum(std, 0.1 * np.median(std)) + 1e-8
        else:
            overall = mean.mean()
            var = (m2.sum() + count * ((mean - overall) ** 2).sum()) / (count * len(mean))
            self.mean, self.std = np.full(len(mean), overall), np.full(len(mean), np.sqrt(var) + 1e-8)
        lo, hi = np.full(len(mean), np.inf), np.full(len(mean), -np.inf)
        for i in range(0, len(rows), chunk):
            z = self.compress(np.asarray(rows[i:i + chunk], dtype=np.float64)).reshape(-1, rows.shape[-1])
            x = (z - self.mean) / self.std
            lo, hi = np.minimum(lo, x.min(0)), np.maximum(hi, x.max(0))
        self.mean, self.std, self.lo, self.hi = (np.asarray(a, np.float32) for a in (self.mean, self.std, lo, hi))
        return self

    def _stats(self, like):
        if isinstance(like, np.ndarray):
            return np.asarray(self.mean, like.dtype), np.asarray(self.std, like.dtype)
        return (torch.as_tensor(np.asarray(self.mean), dtype=like.dtype, device=like.device),
                torch.as_tensor(np.asarray(self.std), dtype=like.dtype, device=like.device))

    def transform(self, psd):
        """PSD (..., 513) -> model input (NumPy or torch, differentiable)."""
        z = self.compress(psd)
        mean, std = self._stats(z)
        return (z - mean) / std

    def inverse(self, x):
        """Model input -> PSD (the exact inverse of :meth:`transform`, up to the eps floor)."""
        mean, std = self._stats(x)
        return self.decompress(x * std + mean)

    def bounds(self, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-bin (lo, hi) of training inputs as tensors shaped like ``like``'s last axis."""
        return (torch.as_tensor(np.asarray(self.lo), dtype=like.dtype),
                torch.as_tensor(np.asarray(self.hi), dtype=like.dtype))

    def check(self) -> "InputScaler":
        """Self, if its statistics can map PSDs to model input: finite, one per bin, std > 0."""
        if self.compression not in ("log", "none"):
            raise AuralizeError(f"unknown compression {self.compression!r}; use 'log' or 'none'", param="compression")
        for name in ("mean", "std", "lo", "hi"):
            value = np.asarray(getattr(self, name), dtype=np.float64)
            if value.shape not in ((), (N_BINS,)) or not np.isfinite(value).all():
                raise AuralizeError(f"{name} must be {N_BINS} finite numbers, got shape {value.shape}", param=name)
        if not (np.asarray(self.std) > 0).all() or not np.isfinite(self.eps) or self.eps <= 0:
            raise AuralizeError("std and eps must be positive", param="std")
        return self

    def to_state(self) -> dict:
        d = asdict(self)
        for k in ("mean", "std", "lo", "hi"):
            d[k] = torch.as_tensor(np.asarray(d[k], np.float32))
        return d

    @classmethod
    def from_state(cls, d: dict) -> "InputScaler":
        d = dict(d)
        for k in ("mean", "std", "lo", "hi"):
            if d.get(k) is not None:
                d[k] = np.asarray(d[k], np.float32)
        return cls(**d)


def psd_to_magnitude(psd):
    """One-sided PSD (..., 513) -> STFT magnitude ``|FFT(detrended frame * window)|``."""
    scale = psd_scale()
    if isinstance(psd, np.ndarray):
        return np.sqrt(np.clip(psd, 0, None) / scale)
    return torch.sqrt(psd.clamp(min=0) / torch.as_tensor(scale, dtype=psd.dtype))


def magnitude_to_psd(mag):
    """Inverse of :func:`psd_to_magnitude`."""
    scale = psd_scale()
    if isinstance(mag, np.ndarray):
        return mag**2 * scale
    return mag**2 * torch.as_tensor(scale, dtype=mag.dtype)


def audio_to_psd(audio: np.ndarray, name: str = "audio") -> np.ndarray:
    """Mono 4 kHz audio -> clip PSDs ``(n_clips, 22, 513)`` float32 (see :func:`clips_to_psd`).

    Raises
    ------
    AuralizeError
        If the audio is shorter than one clip, or so loud that its spectrogram overflows.
    """
    return clips_to_psd(split_clips(audio, name), name)


def clips_to_psd(clips: np.ndarray, name: str = "audio") -> np.ndarray:
    """Clips ``(n, 20000)`` -> their PSDs ``(n, 22, 513)`` float32.

    Raises
    ------
    AuralizeError
        If the audio is so loud (samples far outside [-1, 1]) that its spectrogram overflows.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        psd = spectrogram(clips).astype(np.float32)
    if not np.isfinite(psd).all():
        raise AuralizeError(f"{name}: its spectrogram is not finite (samples of up to "
                            f"{np.max(np.abs(clips)):.3g}, far outside [-1, 1]); give real audio")
    return psd
