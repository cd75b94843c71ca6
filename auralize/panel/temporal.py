"""Time as well as timbre: statistics that tell music, which changes, from a stationary texture."""
from __future__ import annotations

import numpy as np

from .. import features as F

N_FFT, HOP = 512, 128  # 32-ms hop: a frame rate of 31.25 Hz sees modulations up to 15.6 Hz
MODULATION_BANDS = ((0.5, 2.0), (2.0, 4.0), (4.0, 8.0), (8.0, 15.0))
STATS = ("modulation_depth", "modulation_0.5-2Hz", "modulation_2-4Hz", "modulation_4-8Hz", "modulation_8-15Hz",
         "onset_cv", "spectral_flux")


def temporal_stats(clip: np.ndarray, sr: int = F.SAMPLE_RATE) -> dict[str, float]:
    """Temporal statistics of one 4 kHz clip, independent of its level.

    ``modulation_depth``
        std over time of the log-mel band envelopes, averaged over bands (dB); a texture that
        does not change has little.
    ``modulation_<a>-<b>Hz``
        the share of the envelopes' modulation power (their spectrum over time, 0.5-15 Hz) in
        each band: beats and notes sit at 0.5-8 Hz.
    ``onset_cv``
        onset strength's coefficient of variation (std / mean): onsets stand out of the rest.
    ``spectral_flux``
        mean positive change between consecutive unit-norm magnitude spectra.
    """
    import librosa

    y = np.asarray(clip, dtype=np.float32)
    mag = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP))
    mel_db = librosa.power_to_db(librosa.feature.melspectrogram(S=mag**2, sr=sr, n_mels=32), ref=np.max, top_db=80)
    envelope = mel_db - mel_db.mean(axis=1, keepdims=True)
    frame_rate = sr / HOP
    power = np.abs(np.fft.rfft(envelope * np.hanning(envelope.shape[1]), axis=1)) ** 2
    freqs = np.fft.rfftfreq(envelope.shape[1], 1 / frame_rate)
    total = power[:, (freqs >= MODULATION_BANDS[0][0]) & (freqs < MODULATION_BANDS[-1][1])].sum() + 1e-12
    stats = {"modulation_depth": float(envelope.std(axis=1).mean())}
    for lo, hi in MODULATION_BANDS:
        stats[f"modulation_{lo:g}-{hi:g}Hz"] = float(power[:, (freqs >= lo) & (freqs < hi)].sum() / total)
    onset = librosa.onset.onset_strength(S=mel_db, sr=sr, hop_length=HOP)
    stats["onset_cv"] = float(onset.std() / (onset.mean() + 1e-8))
    unit = mag / (np.linalg.norm(mag, axis=0, keepdims=True) + 1e-8)
    stats["spectral_flux"] = float(np.maximum(np.diff(unit, axis=1), 0).sum(axis=0).mean())
    return stats


def mean_temporal_stats(clips: np.ndarray) -> dict[str, float]:
    """:func:`temporal_stats` averaged over clips ``(n, samples)``."""
    rows = [temporal_stats(c) for c in np.atleast_2d(clips)]
    return {k: float(np.mean([r[k] for r in rows])) for k in STATS}
