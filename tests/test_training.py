import json

import numpy as np
import pytest
import torch

import auralize
from auralize import data as D
from auralize.checkpoint import load_model, read_checkpoint
from auralize.errors import AuralizeError
from auralize.training import TrainSettings, train


@pytest.fixture(scope="module")
def ds(gtzan_dir):
    return D.load_dataset(gtzan_dir, progress=False)


@pytest.mark.parametrize("kind", ["lstm", "rnn", "attention", "mlp"])
def test_learns_a_separable_synthetic_task(ds, kind, tmp_path):
    settings = TrainSettings(epochs=30, batch_size=8, lr=5e-3, patience=30)
    result = train(kind, ds, "track", hidden=16, layers=1, settings=settings, seed=0,
                   out=tmp_path / "m.pt", progress=False, log=lambda m: None)
    ev = auralize.evaluate(result.model, ds, "track", "test")
    assert ev.clip_accuracy >= 0.9, result.history
    # the saved best checkpoint loads with weights_only and predicts the same
    again = load_model(tmp_path / "m.pt")
    x = torch.from_numpy(again.scaler.transform(ds.psd[:4]).astype(np.float32))
    torch.testing.assert_close(again(x), result.model(x))
    assert again.genres == ds.genres and again.meta["split"] == "track"


@pytest.mark.parametrize("kind", ["svm", "softmax"])
def test_baselines_train(ds, kind, tmp_path):
    train(kind, ds, "track", seed=0, out=tmp_path / "b.pt", progress=False, log=lambda m: None)
    assert auralize.evaluate(load_model(tmp_path / "b.pt"), ds, "track").clip_accuracy >= 0.9


def test_checkpoint_is_weights_only_safe(ds, tmp_path):
    train("lstm", ds, "filtered", hidden=4, layers=1, settings=TrainSettings(epochs=1), out=tmp_path / "c.pt",
          progress=False, log=lambda m: None)
    payload = torch.load(tmp_path / "c.pt", weights_only=True)
    assert json.loads(payload["config"])["kind"] == "lstm"
    assert read_checkpoint(tmp_path / "c.pt")["genres"] == list(D.GENRES)


def test_same_seed_same_weights(ds, tmp_path):
    kw = dict(hidden=4, layers=1, settings=TrainSettings(epochs=2, batch_size=8), progress=False, log=lambda m: None)
    a = train("lstm", ds, "track", seed=5, **kw).model.state_dict()
    b = train("lstm", ds, "track", seed=5, **kw).model.state_dict()
    c = train("lstm", ds, "track", seed=6, **kw).model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def interrupt_at(monkeypatch, epoch: int):
    """Make training raise KeyboardInterrupt (as on Ctrl-C) at the end of ``epoch``, before its
    resume state is saved; returns a function that undoes it."""
    import auralize.training as T

    calls, score = [], T._score

    def interrupt(*args):
        calls.append(1)
        if len(calls) == epoch:
            raise KeyboardInterrupt
        return score(*args)

    monkeypatch.setattr(T, "_score", interrupt)
    return lambda: monkeypatch.setattr(T, "_score", score)


def test_resume_continues_where_it_stopped(ds, tmp_path, monkeypatch):
    settings = TrainSettings(epochs=4, batch_size=8, patience=99)
    kw = dict(hidden=4, layers=1, seed=1, out=tmp_path / "r.pt", progress=False, log=lambda m: None)
    full = train("lstm", ds, "track", settings=settings, **{**kw, "out": tmp_path / "full.pt"})
    assert not (tmp_path / "full.resume.pt").exists()  # a finished run leaves nothing to resume
    undo = interrupt_at(monkeypatch, 3)
    with pytest.raises(KeyboardInterrupt):
        train("lstm", ds, "track", settings=settings, **kw)
    undo()
    assert (tmp_path / "r.resume.pt").exists()
    resumed = train("lstm", ds, "track", settings=settings, resume=True, **kw)
    assert [h["epoch"] for h in resumed.history] == [1, 2, 3, 4]
    assert [round(h["loss"], 5) for h in resumed.history] == [round(h["loss"], 5) for h in full.history]
    assert not (tmp_path / "r.resume.pt").exists()


def test_resume_without_state_and_bad_epochs(ds, tmp_path):
    with pytest.raises(AuralizeError, match="nothing to resume"):
        train("lstm", ds, "track", out=tmp_path / "x.pt", resume=True, progress=False, log=lambda m: None)
    with pytest.raises(AuralizeError, match="epochs"):
        train("lstm", ds, "track", settings=TrainSettings(epochs=0), progress=False, log=lambda m: None)


def test_predict_on_audio(ds, tmp_path):
    from conftest import synth_track

    result = train("mlp", ds, "track", settings=TrainSettings(epochs=10, batch_size=8, lr=3e-3), progress=False,
                   log=lambda m: None)
    song = synth_track("classical", 9, 16.0, 8000)
    pred = auralize.predict(result.model, song, sr=8000)
    assert pred.probabilities.shape == (3, 10)
    np.testing.assert_allclose(pred.probabilities.sum(1), 1, rtol=1e-5)
    assert pred.genre == "classical"
    with pytest.raises(AuralizeError, match="at least 5 s"):
        auralize.predict(result.model, 0.1 * np.random.default_rng(0).standard_normal(1000).astype(np.float32))
