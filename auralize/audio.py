"""Audio in: one contract for everything that reads a song.

:func:`as_audio` is the entry of every tool that takes audio (``predict``, ``explain``,
``panel.judge``, ``render(init=)`` and ``make_audible``): a path, a numpy array or a torch tensor,
with ``sr=`` when an array is not at 4 kHz, comes back as mono float32 at 4 kHz, or is refused in
one line naming the argument. :func:`load_audio` decodes a file; it reads the header first, so a
file is never opened when it is not a regular file (a FIFO would block forever) and never decoded
beyond ``max_seconds`` (a header that says 74 hours must not allocate 20 GB before anything is
said). :func:`resample` and :func:`require_audible` are the two steps every path shares.
"""
from __future__ import annotations

import math
import sys
import warnings
from pathlib import Path

import numpy as np

from .errors import AuralizeError

#: The rate auralize hears: every model, judge and dream reads mono audio at 4 kHz.
SAMPLE_RATE = 4000
#: Sample rates outside this range are a damaged header or a typo (a header of 0 Hz or 2**31 Hz).
MIN_SR, MAX_SR = 1000, 768_000
#: How much of a file is decoded unless the caller asks for more: 10 minutes.
READ_SECONDS = 600.0
#: The most a decode may allocate (native rate, every channel, float32).
MAX_DECODE_BYTES = 2**31
#: Channels a file may have; an array of at most SMALL_LAYOUT channels may be (n, ch) or (ch, n).
MAX_CHANNELS, SMALL_LAYOUT = 64, 8
#: Samples beyond this are no audio (integer PCM given as floats stays below it).
MAX_AMPLITUDE = 1e6
#: Shorter than this there is nothing to hear (a 1-sample file is not "silent", it is empty).
MIN_SECONDS = 0.25
#: RMS below which audio counts as silence: a model's verdict on it means nothing.
SILENCE_RMS = 1e-6


def duration(seconds: float) -> str:
    """A length for a message: ``62 s``, ``45 min``, ``74 h``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 3 * 3600 else f"{seconds / 3600:.0f} h"


def _keeping(name: str, seconds: float, max_seconds: float) -> None:
    warnings.warn(f"{name} is {duration(seconds)} long; using its first {max_seconds:g} s (max_seconds={max_seconds:g})",
                  stacklevel=4)


def check_rate(name: str, sr) -> float:
    """``sr`` if it is a plausible sample rate in Hz, else a one-line error naming ``name``."""
    try:
        value = float(sr)
    except (TypeError, ValueError):
        raise AuralizeError(f"{name} must be a sample rate in Hz, got {sr!r}", param=name) from None
    if not math.isfinite(value) or not MIN_SR <= value <= MAX_SR:
        raise AuralizeError(f"{name} must be a sample rate from {MIN_SR} to {MAX_SR} Hz, got {sr!r}", param=name)
    return value


def resample(audio: np.ndarray, orig_sr: float, target_sr: float) -> np.ndarray:
    """Band-limited resampling of mono float audio with soxr (high quality), not an FFT resample.

    The same as ``librosa.resample(audio, orig_sr=..., target_sr=..., res_type="soxr_hq")``,
    output length ``ceil(len(audio) * target_sr / orig_sr)``, without importing librosa.
    """
    audio = np.asarray(audio, np.float32)
    orig_sr, target_sr = check_rate("sr", orig_sr), check_rate("target_sr", target_sr)  # soxr hangs on NaN
    if orig_sr == target_sr:
        return audio
    import soxr

    out = soxr.resample(audio, orig_sr, target_sr, quality="soxr_hq").astype(np.float32)
    n = int(np.ceil(audio.shape[-1] * target_sr / orig_sr))
    return out[:n] if out.size >= n else np.pad(out, (0, n - out.size))


def _regular_file(path: Path) -> None:
    """Refuse what is not a regular file, by its metadata only: opening a FIFO blocks forever."""
    if not path.exists():
        raise AuralizeError(f"audio file not found: {path}")
    if path.is_dir():
        raise AuralizeError(f"{path} is a directory; give an audio file")
    if not path.is_file():
        raise AuralizeError(f"{path} is not a regular file (a FIFO or a device?); give an audio file")


def _native_rate(path: Path, native_sr: float) -> float:
    """A file's own sample rate, refused when no audio has it (a damaged header: 0 Hz, 2**31 Hz)."""
    if not MIN_SR <= native_sr <= MAX_SR:
        raise AuralizeError(f"{path}: its header gives a sample rate of {native_sr:.0f} Hz, which no audio has "
                            "(the file is damaged); re-encode it")
    return native_sr


def _frames_to_read(path: Path, native_sr: float, frames: int, channels: int, max_seconds: float | None) -> int:
    """How many frames of a file to decode, from its header, refusing what cannot be audio."""
    _native_rate(path, native_sr)
    if not 1 <= channels <= MAX_CHANNELS:
        raise AuralizeError(f"{path}: its header gives {channels} channels; at most {MAX_CHANNELS} are read")
    n = frames
    if max_seconds is not None and frames > max_seconds * native_sr:
        n = int(max_seconds * native_sr)
        _keeping(str(path), frames / native_sr, max_seconds)
    if n * channels * 4 > MAX_DECODE_BYTES:
        raise AuralizeError(f"{path}: decoding {n / native_sr:.0f} s of {channels} channels at {native_sr:g} Hz "
                            f"would need {n * channels * 4 / 1e9:.1f} GB; ask for fewer seconds (max_seconds)")
    return n


def load_audio(path: str | Path, sr: int = SAMPLE_RATE, max_seconds: float | None = READ_SECONDS) -> np.ndarray:
    """Decode any file soundfile/librosa reads to mono float32 at ``sr`` Hz.

    soundfile decodes what libsndfile reads (wav, flac, ogg, mp3, au, ...); anything else goes
    through librosa's audioread fallback. Channels are averaged, then :func:`resample`. Only the
    first ``max_seconds`` are decoded (a warning says so; ``None``: all of it).

    Raises
    ------
    AuralizeError
        If the file is missing, a directory, a FIFO or device, unreadable, empty, or its header
        or samples cannot be audio (a sample rate of 0 Hz, NaN, samples of 1e20).
    """
    import soundfile as sf

    path = Path(path)
    check_rate("sr", sr)
    if max_seconds is not None:
        from . import checks

        checks.positive("max_seconds", max_seconds)
    _regular_file(path)
    try:
        info = sf.info(str(path))
        frames = _frames_to_read(path, info.samplerate, info.frames, info.channels, max_seconds)
        data, native_sr = sf.read(str(path), frames=frames, dtype="float32", always_2d=True)
        y = data.mean(axis=1)
    except sf.SoundFileError:
        y, native_sr = _load_with_librosa(path, max_seconds)
        _native_rate(path, native_sr)  # audioread reads what libsndfile refuses, a rate of 0 Hz too
    return resample(_check_samples(y, str(path), native_sr), native_sr, sr)


def _load_with_librosa(path: Path, max_seconds: float | None = None) -> tuple[np.ndarray, int]:
    import librosa

    try:
        with warnings.catch_warnings():
            # librosa falls back to audioread (mp3, .au) with warnings that say nothing to a user.
            warnings.simplefilter("ignore")
            return librosa.load(str(path), sr=None, mono=True, duration=max_seconds)
    except Exception as exc:  # librosa raises many types for undecodable input
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise AuralizeError(f"cannot decode {path}: {reason}; use a wav/flac/ogg/mp3 file") from exc


def _check_samples(y: np.ndarray, name: str, sr: float, param: str | None = None) -> np.ndarray:
    """Mono samples that can be audio: some, finite, within :data:`MAX_AMPLITUDE`, long enough to hear."""
    if y.size == 0:
        raise AuralizeError(f"{name} holds no audio samples", param=param)
    if not np.all(np.isfinite(y)):
        raise AuralizeError(f"{name} holds non-finite samples (NaN or infinity); give real audio", param=param)
    peak = float(np.max(np.abs(y)))
    if peak > MAX_AMPLITUDE:
        raise AuralizeError(f"{name} has samples of up to {peak:.3g}, far outside [-1, 1]: no audio; rescale it",
                            param=param)
    if y.size < MIN_SECONDS * sr:
        raise AuralizeError(f"{name} holds {y.size} sample{'s' if y.size != 1 else ''} ({y.size / sr:.3g} s at "
                            f"{sr:g} Hz): too short to hear anything", param=param)
    return y


def _as_array(x, name: str) -> np.ndarray:
    """A numpy array of the samples of ``x`` (numpy or torch), refused if it cannot hold audio."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(x, torch.Tensor):
        x = x.detach().cpu()
        x = (x.float() if x.is_floating_point() else x).numpy()
    if not isinstance(x, np.ndarray):
        raise AuralizeError(f"{name} must be a path, a numpy array or a torch tensor of samples, got "
                            f"{type(x).__name__}", param=name)
    if x.dtype.kind in "iu":  # integer PCM: full scale is [-1, 1]
        info = np.iinfo(x.dtype)
        mid = (int(info.max) + int(info.min) + 1) / 2
        return ((x.astype(np.float64) - mid) / (info.max - mid + 1)).astype(np.float32)
    if x.dtype.kind != "f":
        raise AuralizeError(f"{name} must hold real numbers (float or integer PCM), got dtype {x.dtype}", param=name)
    return x.astype(np.float32, copy=False)


def _mono(x: np.ndarray, name: str) -> np.ndarray:
    """1-d samples; 2-d of a few channels, (samples, channels) or (channels, samples), is mixed down."""
    if x.ndim == 1:
        return x
    if x.ndim == 2 and min(x.shape) <= SMALL_LAYOUT:
        return x.mean(axis=0 if x.shape[0] < x.shape[1] else 1)
    raise AuralizeError(f"{name} must be mono samples (n,) or a few channels (n, channels) or (channels, n); got "
                        f"shape {x.shape}", param=name)


def as_audio(x, sr: float | None = None, *, name: str = "audio", max_seconds: float | None = READ_SECONDS,
             audible: bool = True, to: int = SAMPLE_RATE) -> np.ndarray:
    """Mono float32 samples at ``to`` Hz (default 4 kHz; a model's own rate) from whatever a user passes as audio.

    Parameters
    ----------
    x : a path (``str`` or ``Path``) of any file :func:`load_audio` reads, or samples as a numpy
        array or torch tensor: ``(n,)``, or ``(n, channels)`` / ``(channels, n)`` for a few
        channels (mixed down); integer PCM is scaled to [-1, 1]
    sr : the sample rate of an array (default 4000 Hz); a file's own rate is read from it
    name : the argument's name, for the error messages
    max_seconds : decode or keep only the first this many seconds (a warning says so); ``None``: all
    audible : refuse silence as well (a genre verdict, an attribution or a start on silence means nothing)

    Raises
    ------
    AuralizeError
        Naming ``name``: a type, dtype or shape that is not audio, a sample rate that is not
        finite, positive and plausible, NaN or infinite samples, a file that is missing, not a
        regular file or undecodable, and (with ``audible``) silence.
    """
    if sr is not None:
        check_rate("sr", sr)
    if isinstance(x, (str, Path)):
        audio = load_audio(x, sr=to, max_seconds=max_seconds)
        shown = str(x)
    else:
        rate = SAMPLE_RATE if sr is None else float(sr)
        samples = _mono(_as_array(x, name), name)
        if max_seconds is not None and samples.size > max_seconds * rate:
            _keeping(name, samples.size / rate, max_seconds)
            samples = samples[: int(max_seconds * rate)]
        audio = resample(_check_samples(samples, name, rate, param=name), rate, to)
        shown = name
    return require_audible(audio, shown, param=name) if audible else audio


def require_audible(audio: np.ndarray, name: str = "audio", param: str | None = None) -> np.ndarray:
    """``audio`` if it is finite and not silent, else a one-line error naming it (``param``: the argument).

    Every path that classifies or explains audio calls this, so they agree on what they refuse.
    """
    audio = np.asarray(audio)
    if not np.all(np.isfinite(audio)):
        raise AuralizeError(f"{name} holds non-finite samples (NaN or infinity); give real audio", param=param)
    # The front end removes each frame's mean, so a constant (a DC offset) is silence to it too.
    if audio.size and np.std(audio.astype(np.float64)) < SILENCE_RMS:
        raise AuralizeError(f"{name} is silent (RMS about its mean below {SILENCE_RMS:g}); a genre verdict on silence "
                            "means nothing", param=param)
    return audio
