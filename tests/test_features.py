import numpy as np
import pytest
import scipy.signal
import torch

from auralize import features as F
from auralize.errors import AuralizeError


def test_reference_is_exactly_scipy_call():
    x = np.random.default_rng(0).standard_normal(F.CLIP_SAMPLES)
    _, _, sxx = scipy.signal.spectrogram(x, fs=4000, nperseg=1024)
    assert sxx.shape == (513, 22)
    np.testing.assert_array_equal(F.spectrogram(x), sxx.T)


@pytest.mark.parametrize("n", [F.CLIP_SAMPLES, 3 * F.CLIP_SAMPLES + 500])
def test_torch_twin_equals_scipy(n):
    x = np.random.default_rng(1).standard_normal((3, n)) * np.linspace(0.1, 2, n)
    ref = F.spectrogram(x)
    got = F.torch_spectrogram(torch.from_numpy(x)).numpy()
    assert got.shape == ref.shape
    assert np.max(np.abs(got - ref) / np.abs(ref).max()) < 1e-6
    big = ref > 1e-6 * ref.max()
    assert np.max(np.abs(got - ref)[big] / ref[big]) < 1e-6


def test_torch_twin_is_differentiable_float32():
    x = torch.randn(2, F.CLIP_SAMPLES, requires_grad=True)
    psd = F.TorchSpectrogram()(x)
    assert psd.dtype == torch.float32 and psd.shape == (2, 22, 513)
    psd.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_split_clips_counts_and_errors():
    assert F.split_clips(np.zeros(120_000)).shape == (6, 20_000)
    # A 29.98-s GTZAN excerpt keeps its sixth clip (zero-padded)...
    assert F.split_clips(np.ones(119_920)).shape == (6, 20_000)
    # ...but a short tail is dropped.
    assert F.split_clips(np.ones(110_000)).shape == (5, 20_000)
    with pytest.raises(AuralizeError, match="at least 5 s"):
        F.split_clips(np.zeros(19_000), "short.wav")


@pytest.mark.parametrize("compression,per_bin", [("log", True), ("log", False), ("none", False)])
def test_scaler_inverse_round_trip(compression, per_bin):
    rng = np.random.default_rng(2)
    psd = F.spectrogram(rng.standard_normal((8, F.CLIP_SAMPLES))).astype(np.float32)
    scaler = F.InputScaler(compression=compression, per_bin=per_bin).fit(psd)
    x = scaler.transform(psd)
    assert abs(float(x.mean())) < 0.05 and 0.9 < float(x.std()) < 1.1
    np.testing.assert_allclose(scaler.inverse(x), psd, rtol=1e-3, atol=1e-6 * psd.max())
    # torch path gives the same, and the state round-trips
    xt = scaler.transform(torch.from_numpy(psd))
    np.testing.assert_allclose(xt.numpy(), x, rtol=1e-4, atol=1e-4)
    again = F.InputScaler.from_state(scaler.to_state())
    np.testing.assert_allclose(again.transform(psd), x, rtol=1e-5, atol=1e-5)


def test_magnitude_is_fft_of_windowed_frame():
    x = np.random.default_rng(3).standard_normal(F.CLIP_SAMPLES)
    frames = F.TorchSpectrogram().frames(torch.from_numpy(x)).numpy()
    mag = np.abs(np.fft.rfft(frames, axis=-1))
    np.testing.assert_allclose(F.psd_to_magnitude(F.spectrogram(x)), mag, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(F.magnitude_to_psd(mag), F.spectrogram(x), rtol=1e-6, atol=1e-15)


def test_load_audio_resamples_and_rejects(tmp_path):
    import soundfile as sf

    t = np.arange(22050 * 6) / 22050
    stereo = np.stack([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 440 * t)], 1) * 0.5
    sf.write(tmp_path / "s.wav", stereo, 22050)
    y = F.load_audio(tmp_path / "s.wav")
    assert y.ndim == 1 and abs(len(y) - 24000) <= 1
    peak = np.argmax(np.abs(np.fft.rfft(y)))
    assert abs(peak * 4000 / len(y) - 440) < 2
    (tmp_path / "bad.wav").write_bytes(b"not audio at all")
    with pytest.raises(AuralizeError, match="cannot decode"):
        F.load_audio(tmp_path / "bad.wav")
    with pytest.raises(AuralizeError, match="not found"):
        F.load_audio(tmp_path / "missing.wav")
    with pytest.raises(AuralizeError, match="directory"):
        F.load_audio(tmp_path)


@pytest.mark.parametrize("fmt,sr,channels", [("wav", 22050, 2), ("flac", 44100, 1), ("ogg", 16000, 2)])
def test_load_audio_matches_librosa(tmp_path, fmt, sr, channels):
    """Decoding without librosa gives librosa.load's samples exactly, so cached features stay valid."""
    import librosa
    import soundfile as sf

    x = 0.3 * np.random.default_rng(0).standard_normal((sr * 6, channels))
    sf.write(tmp_path / f"x.{fmt}", x, sr)
    want, _ = librosa.load(str(tmp_path / f"x.{fmt}"), sr=F.SAMPLE_RATE, mono=True, res_type="soxr_hq")
    np.testing.assert_array_equal(F.load_audio(tmp_path / f"x.{fmt}"), want)
    y = want[:20001]
    np.testing.assert_array_equal(F.resample(y, F.SAMPLE_RATE, 22050),
                                  librosa.resample(y, orig_sr=F.SAMPLE_RATE, target_sr=22050, res_type="soxr_hq"))
