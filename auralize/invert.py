"""Spectrogram -> audio: the front end's STFT, its least-squares inverse, and fast Griffin-Lim.

Everything uses exactly the front end's grid: periodic Tukey(0.25) window of 1024 samples, hop
896, no centring or padding (frame k covers samples ``[896 k, 896 k + 1024)``), batched over any
leading axes. Spectrograms are in model order ``(..., frames, 513)``.
"""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as nnf

from . import checks
from . import features as F
from . import threads
from .arrays import read_npy
from .errors import AuralizeError
from .checks import MAX_SECONDS

#: The fine grid: a 512/128 Hann STFT (128-ms windows, 32-ms hop at 4 kHz), four times finer in time than
#: the paper's; real clips through it and Griffin-Lim keep their genre (issue 8). Fine dreams are shaped on
#: it, and explanations of models with their own front end are made on it.
FINE_FFT, FINE_HOP = 512, 128
#: Floor of the squared-window sum in the inverse STFT. Between frames it never drops below
#: 0.5 (two overlapping Tukey tapers), so the interior is exact; at the signal's ends the Tukey
#: window goes to 0 and dividing by it would blow up, so the ends are tapered instead.
WINDOW_FLOOR = 0.5


@functools.lru_cache(maxsize=4)
def _window_of(dtype: torch.dtype) -> torch.Tensor:
    return torch.as_tensor(F.window(), dtype=dtype)


def _window(like: torch.Tensor) -> torch.Tensor:
    return _window_of(like.real.dtype if like.is_complex() else like.dtype)


def n_samples(frames: int) -> int:
    """Samples spanned by ``frames`` frames."""
    return F.N_FFT + (frames - 1) * F.HOP


def fine_stft(audio: torch.Tensor) -> torch.Tensor:
    """Complex STFT ``(..., 257, frames)`` of audio on the fine grid (centred frames)."""
    window = torch.hann_window(FINE_FFT, dtype=audio.dtype)
    return torch.stft(audio, FINE_FFT, FINE_HOP, window=window, center=True, return_complex=True)


def fine_istft(spec: torch.Tensor, length: int) -> torch.Tensor:
    """The exact inverse of :func:`fine_stft`, ``length`` samples."""
    window = torch.hann_window(FINE_FFT, dtype=spec.real.dtype)
    return torch.istft(spec, FINE_FFT, FINE_HOP, window=window, center=True, length=length)


def unit_phase(spec: torch.Tensor) -> torch.Tensor:
    """The phase of a complex spectrogram as unit-magnitude values (a zero bin stays finite)."""
    return spec / spec.abs().clamp(min=1e-12)


def fine_griffin_lim(magnitude: torch.Tensor, phase: torch.Tensor, n_iter: int, length: int) -> torch.Tensor:
    """``n_iter`` plain Griffin-Lim updates of ``phase`` (unit complex, on the fine grid) for ``magnitude``;
    the audio is ``fine_istft(magnitude * phase, length)``. What a fine dream's phase takes after every
    step and before it is written, and what the resynthesised reference clips go through."""
    for _ in range(n_iter):
        phase = unit_phase(fine_stft(fine_istft(magnitude * phase, length)))
    return phase


def stft(x: torch.Tensor, detrend: bool = False) -> torch.Tensor:
    """Complex STFT ``(..., frames, 513)`` on the front end's grid.

    ``detrend=True`` removes each frame's mean first, exactly as the front end does (its
    magnitudes are :func:`auralize.features.psd_to_magnitude` of the PSD); the plain STFT is the
    one :func:`istft` inverts exactly, and Griffin-Lim uses it (the two differ only near DC).
    """
    if detrend:
        return torch.fft.rfft(F.TorchSpectrogram().to(x.dtype).frames(x), n=F.N_FFT, dim=-1)
    frames = x.unfold(-1, F.N_FFT, F.HOP) * _window(x)
    return torch.fft.rfft(frames, n=F.N_FFT, dim=-1)


def _overlap_add(frames: torch.Tensor) -> torch.Tensor:
    """Sum frames ``(B, n_frames, 1024)`` at hop 896 into signals ``(B, samples)``.

    Frames overlap only in their last 128 samples: block k of the result (896 samples) is frame
    k's head plus frame k-1's tail, which is cheaper than a general fold.
    """
    b, n, _ = frames.shape
    tail = F.N_FFT - F.HOP
    heads = nnf.pad(frames[..., : F.HOP], (0, 0, 0, 1))  # (B, n + 1, 896), last block empty
    tails = nnf.pad(frames[..., F.HOP :], (0, F.HOP - tail, 1, 0))  # frame k's tail starts block k + 1
    return (heads + tails).reshape(b, -1)[:, : n_samples(n)]


def _window_sum(n_frames: int, like: torch.Tensor) -> torch.Tensor:
    w2 = _window(like) ** 2
    return _overlap_add(w2.expand(1, n_frames, -1)).clamp(min=WINDOW_FLOOR)[0]


def istft(spec: torch.Tensor, length: int | None = None) -> torch.Tensor:
    """Least-squares inverse of :func:`stft` (weighted overlap-add / floored sum of squared windows).

    ``length`` crops or zero-pads the result; samples no frame covers are 0.
    """
    lead = spec.shape[:-2]
    n = spec.shape[-2]
    frames = torch.fft.irfft(spec.reshape(-1, n, F.N_BINS), n=F.N_FFT, dim=-1) * _window(spec)
    out = _overlap_add(frames) / _window_sum(n, frames)
    if length is not None:
        out = out[:, :length] if out.shape[1] >= length else nnf.pad(out, (0, length - out.shape[1]))
    return out.reshape(*lead, out.shape[-1])


def griffin_lim(magnitude, n_iter: int = 64, momentum: float = 0.99, length: int | None = None,
                init: str | torch.Tensor = "random", seed: int = 0) -> torch.Tensor:
    """Fast Griffin-Lim (Perraud, Bernard & Mathieu 2013): audio whose STFT magnitude matches.

    Parameters
    ----------
    magnitude : STFT magnitude ``(..., frames, 513)`` (see :func:`auralize.features.psd_to_magnitude`)
    n_iter : iterations
    momentum : 0 is plain Griffin-Lim; 0.99 as librosa's default
    length : samples of the result (default: what the frames span)
    init : ``random`` or ``zeros`` phase, or a complex tensor of initial phases
    seed : for the random phase
    """
    mag = torch.as_tensor(np.asarray(magnitude) if not torch.is_tensor(magnitude) else magnitude)
    if mag.ndim < 2 or mag.shape[-1] != F.N_BINS or mag.is_complex():
        hint = (": that is librosa's (freq, time) layout; pass magnitude.T" if mag.ndim >= 2 and
                mag.shape[-2] == F.N_BINS else "")
        raise AuralizeError(f"magnitude must be a real STFT magnitude (..., frames, {F.N_BINS}), got shape "
                            f"{tuple(mag.shape)}{hint}", param="magnitude")
    n_iter, seed = checks.count("n_iter", n_iter, 0, 100_000), checks.seed(seed)
    checks.number("momentum", momentum, lo=0, hi=1, hi_open=True)
    if not mag.is_floating_point():
        mag = mag.double()
    lead, n = mag.shape[:-2], mag.shape[-2]
    mag = mag.reshape(-1, n, F.N_BINS)
    if torch.is_tensor(init):
        angles = init.reshape(mag.shape).to(torch.complex128 if mag.dtype == torch.float64 else torch.complex64)
        angles = angles / angles.abs().clamp(min=1e-16)
    elif init == "random":
        gen = torch.Generator().manual_seed(seed)
        angles = torch.exp(2j * np.pi * torch.rand(mag.shape, generator=gen, dtype=mag.dtype))
    else:
        angles = torch.ones(mag.shape, dtype=mag.dtype).to(torch.complex128 if mag.dtype == torch.float64
                                                             else torch.complex64)
    rebuilt = torch.zeros_like(angles)
    factor = momentum / (1 + momentum)
    for _ in range(n_iter):
        previous = rebuilt
        rebuilt = stft(istft(mag * angles))
        angles = torch.sgn(rebuilt - factor * previous)  # z / |z|, 0 where z is 0
    audio = istft(mag * angles, length)
    return audio.reshape(*lead, audio.shape[-1])


def spectral_convergence(audio: torch.Tensor, magnitude: torch.Tensor) -> torch.Tensor:
    """``|| |STFT(audio)| - magnitude ||_F / ||magnitude||_F`` on the analysis grid, per item."""
    mag = torch.as_tensor(magnitude)
    got = stft(torch.as_tensor(audio, dtype=mag.dtype)[..., : n_samples(mag.shape[-2])], detrend=True).abs()
    return torch.linalg.vector_norm(got - mag, dim=(-2, -1)) / torch.linalg.vector_norm(mag, dim=(-2, -1))


def fine_spectral_convergence(audio, reference, n_fft: int = 1024, hop: int = 256) -> float:
    """Spectral convergence of two waveforms on a finer, redundant STFT (Hann, 1024/256).

    At the paper's 12.5% overlap almost any phase is consistent on the analysis grid, so the
    analysis-grid figure looks perfect for any phase; a 75%-overlap grid tells the truth.
    """
    a = torch.as_tensor(np.asarray(audio), dtype=torch.float64)
    r = torch.as_tensor(np.asarray(reference), dtype=torch.float64)
    n = min(a.shape[-1], r.shape[-1])
    window = torch.hann_window(n_fft, dtype=torch.float64)
    spec = lambda x: torch.stft(x[..., :n], n_fft, hop, window=window, center=False, return_complex=True).abs()  # noqa: E731
    sa, sr = spec(a), spec(r)
    return float(torch.linalg.vector_norm(sa - sr) / torch.linalg.vector_norm(sr))


def psd_to_audio(psd, n_iter: int = 100, seed: int = 0, momentum: float = 0.99) -> np.ndarray:
    """PSD ``(..., frames, 513)`` -> audio ``(..., samples)`` by Griffin-Lim.

    The level is kept (the models read absolute levels); only audio that would clip is scaled
    down to a peak of 0.99.
    """
    checks.count("n_iter", n_iter, 0, 100_000)
    checks.seed(seed)
    psd = torch.as_tensor(np.asarray(psd) if not torch.is_tensor(psd) else psd).double()
    with threads.limited():  # small FFTs: see auralize.threads
        audio = griffin_lim(F.psd_to_magnitude(psd), n_iter=n_iter, momentum=momentum, seed=seed).numpy()
    peak = np.abs(audio).max(axis=-1, keepdims=True)
    return np.where(peak > 0.99, audio * 0.99 / np.maximum(peak, 1e-12), audio)


def read_psd(spec: str | Path) -> np.ndarray:
    """A PSD saved by auralize (``.npy``, frames x 513, real, finite, non-negative, at most 10 minutes)."""
    spec = Path(spec)
    if not spec.is_file():
        raise AuralizeError(f"spectrogram not found: {spec}; give a .npy file written by auralize")
    expected = f"expected a non-negative PSD of frames x {F.N_BINS}"
    most = int(MAX_SECONDS * F.SAMPLE_RATE - F.N_FFT) // F.HOP + 1

    def why_not(shape: tuple, dtype: np.dtype) -> str | None:
        """Checked on the header, before the array is read: (1e12, 513) must not be allocated."""
        if dtype.kind not in "fiu":
            kind = "complex values" if dtype.kind == "c" else f"values of type {dtype}"
            return f"{kind}; {expected} (a power, not an STFT)"
        if len(shape) != 2 or shape[1] != F.N_BINS or shape[0] < 1:
            return f"an array of shape {shape}; {expected}"
        if shape[0] > most:
            return (f"{shape[0]} frames ({n_samples(shape[0]) / F.SAMPLE_RATE:.0f} s); at most "
                    f"{MAX_SECONDS / 60:g} minutes are inverted")
        return None

    psd = read_npy(spec, "a .npy array", "give a .npy file written by auralize", expect=why_not)
    if not np.all(np.isfinite(psd)):
        raise AuralizeError(f"{spec} holds NaN or infinity; {expected}")
    if (psd < 0).any():
        raise AuralizeError(f"{spec} holds negative values (down to {psd.min():.3g}); {expected}")
    return psd.astype(np.float64)


def output_path(out: str | Path | None, source: str | Path, suffix: str = ".wav") -> Path:
    """Where a file made from ``source`` goes: ``out``, or inside it if it is a folder, else beside ``source``."""
    from .io import means_folder

    source = Path(source)
    if out is None:
        return source.with_suffix(suffix)
    return Path(out) / (source.stem + suffix) if means_folder(out) else Path(out)  # "run3/": a folder


def invert_file(spec: str | Path, out: str | Path | None = None, n_iter: int = 100, seed: int = 0) -> dict:
    """Griffin-Lim a saved PSD into a 4 kHz WAV; returns ``wav``, ``seconds`` and ``spectral_convergence``.

    ``out`` is the WAV path, or a folder to write ``<spec stem>.wav`` into (default: beside ``spec``).
    """
    from .io import refuse_overwriting, save_wav

    checks.count("n_iter", n_iter, 0, 100_000)
    checks.count("seed", seed, 0, 2**32 - 1)
    wav = output_path(out, spec)
    refuse_overwriting([wav], {"spectrogram": spec})  # before any work: the .npy must survive
    psd = read_psd(spec)
    audio = np.asarray(psd_to_audio(psd, n_iter=n_iter, seed=seed))
    save_wav(wav, audio, F.SAMPLE_RATE)
    sc = float(spectral_convergence(torch.from_numpy(audio), torch.from_numpy(F.psd_to_magnitude(psd))))
    return {"wav": wav, "seconds": len(audio) / F.SAMPLE_RATE, "spectral_convergence": sc}
