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
