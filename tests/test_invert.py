import numpy as np
import pytest
import torch

from auralize import features as F
from auralize import invert as I


def music(seconds=5.0, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * 4000)) / 4000
    return (0.3 * np.sin(2 * np.pi * (200 + 60 * t) * t) + 0.15 * np.sin(2 * np.pi * 660 * t)
            + 0.02 * rng.standard_normal(t.size))


def test_istft_inverts_stft_without_edge_spikes():
    x = np.random.default_rng(0).standard_normal(20_000)
    y = I.istft(I.stft(torch.from_numpy(x)), 20_000).numpy()
    covered = 1024 + 21 * 896
    np.testing.assert_allclose(y[128:covered - 128], x[128:covered - 128], atol=1e-10)
    assert np.abs(y).max() <= np.abs(x).max() * 1.01  # tapered, not blown up, at the ends
    assert np.all(y[covered:] == 0)


def test_detrended_stft_matches_front_end_magnitude():
    x = music()
    mag = I.stft(torch.from_numpy(x), detrend=True).abs().numpy()
    np.testing.assert_allclose(mag, F.psd_to_magnitude(F.spectrogram(x)), rtol=1e-6, atol=1e-9)


def test_griffin_lim_lowers_inconsistency():
    x = music()
    mag = torch.from_numpy(F.psd_to_magnitude(F.spectrogram(x)))
    one = I.spectral_convergence(I.griffin_lim(mag, n_iter=1), mag)
    many = I.spectral_convergence(I.griffin_lim(mag, n_iter=50), mag)
    rand = I.istft(mag * torch.exp(2j * np.pi * torch.rand(mag.shape, dtype=torch.float64)))
    assert float(many) < 0.5 * float(one)
    assert float(many) < 0.2 * float(I.spectral_convergence(rand, mag))


def _interior_sc(audio, mag):
    """Analysis-grid spectral convergence over frames 1..20 (librosa's edges are unusable)."""
    got = I.stft(torch.as_tensor(audio[: 1024 + 21 * 896]), detrend=True).abs().numpy()[1:-1]
    return np.linalg.norm(got - mag[1:-1]) / np.linalg.norm(mag[1:-1])


def test_agrees_with_librosa():
    librosa = pytest.importorskip("librosa")
    x = music(seed=1)
    mag = F.psd_to_magnitude(F.spectrogram(x))
    ours = I.griffin_lim(mag, n_iter=32).numpy()
    ref = librosa.griffinlim(mag.T, n_iter=32, hop_length=896, n_fft=1024, window=F.window(), center=False,
                             random_state=0)
    # librosa's plain inverse divides by the vanishing Tukey window at the ends: huge spikes there.
    assert np.abs(ref[:128]).max() > 10 * np.abs(x).max()
    assert np.abs(ours).max() < 2 * np.abs(x).max()
    sc_ours, sc_ref = _interior_sc(ours, mag), _interior_sc(ref, mag)
    assert sc_ref < 0.2  # librosa converged in the interior, so the comparison means something
    assert sc_ours <= sc_ref * 1.25 + 0.02
    inner = slice(1024, 18000)
    fine_ours = I.fine_spectral_convergence(ours[inner], x[inner])
    fine_ref = I.fine_spectral_convergence(ref[inner], x[inner])
    assert fine_ours <= fine_ref * 1.25 + 0.05


def test_deterministic_batched_and_dtypes():
    mags = np.stack([F.psd_to_magnitude(F.spectrogram(music(seed=s))) for s in range(3)])
    a = I.griffin_lim(mags, n_iter=10, seed=4)
    b = I.griffin_lim(mags, n_iter=10, seed=4)
    assert torch.equal(a, b)
    assert not torch.equal(a, I.griffin_lim(mags, n_iter=10, seed=5))
    single = I.griffin_lim(mags[1:2], n_iter=10, init=torch.exp(1j * torch.zeros(1, 22, 513)))
    batch = I.griffin_lim(mags, n_iter=10, init=torch.exp(1j * torch.zeros(3, 22, 513)))
    torch.testing.assert_close(single[0], batch[1])
    f32 = I.griffin_lim(torch.from_numpy(mags).float(), n_iter=10)
    assert f32.dtype == torch.float32 and torch.isfinite(f32).all()


def test_psd_to_audio_keeps_level_and_never_clips():
    x = music()
    audio = I.psd_to_audio(F.spectrogram(x), n_iter=30)
    assert audio.shape == (1024 + 21 * 896,)
    rms = lambda a: np.sqrt(np.mean(a[1000:18000] ** 2))  # noqa: E731
    assert 0.7 < rms(audio) / rms(x) < 1.3
    loud = I.psd_to_audio(F.spectrogram(x * 50), n_iter=5)
    assert np.abs(loud).max() <= 0.99 + 1e-9
