"""Checks on the real GTZAN copy in ../shared/gtzan4k; skipped where it is absent."""
import numpy as np
import pytest

import auralize
from auralize import data as D


@pytest.fixture(scope="module")
def gtzan(real_data):
    return D.load_dataset(real_data, progress=False)


def test_discovers_the_partial_copy(gtzan):
    assert len(gtzan.tracks) == 498 and len(gtzan.psd) == 6 * 498  # every excerpt gives 6 clips
    sp = D.make_split(gtzan, "filtered")
    assert "train 222 of 443 tracks, valid 115 of 197 tracks, test 135 of 290 tracks" in sp.coverage


@pytest.mark.parametrize("name,floor", [("lstm", 0.6), ("rnn", 0.55), ("attention", 0.6)])
def test_shipped_checkpoints_hold_their_accuracy(gtzan, name, floor):
    model = auralize.load_model(auralize.default_checkpoint(name))
    ev = auralize.evaluate(model, gtzan, model.meta["split"], "test")
    assert ev.n_tracks == 100
    assert ev.track_accuracy >= floor, ev.track_accuracy  # the model cards give the exact figures


def test_front_end_on_a_real_file(real_data):
    audio = auralize.load_audio(real_data / "jazz" / "jazz.00054.flac")
    assert 119_900 <= audio.size <= 122_000
    assert auralize.spectrogram(auralize.split_clips(audio)).shape == (6, 22, 513)
    assert np.isfinite(audio).all()


def test_shipped_genre_prior_is_what_train_prior_makes(real_data, gtzan, tmp_path):
    """trained/genre-prior.npz is exactly the output of its card's command (the TRAIN part only)."""
    import numpy as np

    from auralize import TRAINED_DIR
    from auralize.dream.prior import fit_prior
    from auralize.dream.priors import read_prior
    from auralize.data import load_clips

    shipped = read_prior(TRAINED_DIR / "genre-prior.npz")
    clips = load_clips(real_data)
    x, y = clips.part("train")
    fresh = fit_prior(x, y, clips.genres)
    assert fresh.genres == shipped.genres and fresh.names == shipped.names
    np.testing.assert_array_equal(fresh.clips, shipped.clips)
    # The statistics are float32 sums over thousands of frames: another machine's BLAS and SIMD sum in
    # another order, which moves them by up to ~1e-5 relative. The prior works in z-scores, so a refit
    # must agree to 1e-4 of each value plus each statistic's spread over clips.
    for n in shipped.names:
        tol = 1e-4 * (np.abs(shipped.mean[n]) + shipped.spread[n])
        for what, a, b in (("mean", fresh.mean[n], shipped.mean[n]), ("spread", fresh.spread[n], shipped.spread[n])):
            worst = np.max(np.abs(a - b) / tol)
            assert worst <= 1, f"{what}/{n} differs by {worst:.2g} times the tolerance"
