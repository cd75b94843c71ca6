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


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
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


def test_split_seed_keeps_the_split_and_changes_the_init(gtzan_dir, tmp_path):
    from click.testing import CliRunner

    from auralize.cli import cli

    def trained(*extra):
        out = tmp_path / f"m{'-'.join(extra)}.pt"
        result = CliRunner().invoke(cli, ["train", "--model", "mlp", "--hidden", "4", "--data", str(gtzan_dir),
                                          "--split", "track", "--epochs", "1", "-o", str(out), "--quiet", *extra])
        assert result.exit_code == 0, result.stderr
        return load_model(out)

    base, other_init, other_split = trained(), trained("--seed", "5", "--split-seed", "0"), trained("--seed", "5")
    assert base.meta["coverage"] == other_init.meta["coverage"] and base.meta["coverage"].startswith("track split (seed 0")
    assert other_init.meta["split_seed"] == 0 and other_split.meta["split_seed"] == 5
    assert other_split.meta["coverage"].startswith("track split (seed 5")
    assert not torch.equal(base.hidden.weight, other_init.hidden.weight)
    ds = D.load_dataset(gtzan_dir, progress=False)  # evaluated on the split it was trained on
    assert auralize.evaluate(other_init, ds, "track").coverage == base.meta["coverage"]


def test_predict_writes_json_and_csv(gtzan_dir, tmp_path):
    from click.testing import CliRunner

    from auralize.cli import cli

    ckpt = tmp_path / "m.pt"
    runner = CliRunner()
    assert runner.invoke(cli, ["train", "--model", "softmax", "--data", str(gtzan_dir), "--split", "track", "-o",
                               str(ckpt), "--quiet"]).exit_code == 0
    songs = sorted(str(p) for p in gtzan_dir.glob("*/*.wav"))[:2]
    result = runner.invoke(cli, ["predict", "--checkpoint", str(ckpt), *songs, "-o", str(tmp_path / "p.json")])
    assert result.exit_code == 0, result.stderr
    rows = json.loads((tmp_path / "p.json").read_text())
    assert [r["song"] for r in rows] == songs and len(rows[0]["clip_probabilities"]) == rows[0]["clips"] == 2
    assert f"{songs[0]}: {rows[0]['genre']} (mean p {rows[0]['probability']:.3f}" in result.stdout
    result = runner.invoke(cli, ["predict", "--checkpoint", str(ckpt), *songs, "-o", str(tmp_path / "p.csv")])
    assert result.exit_code == 0, result.stderr
    lines = (tmp_path / "p.csv").read_text().splitlines()
    assert lines[0] == "song,genre,probability,clips,clip_genres" and len(lines) == 3
    result = runner.invoke(cli, ["predict", "--checkpoint", str(ckpt), songs[0], "-o", str(tmp_path / "p.txt")])
    assert result.exit_code == 2 and "--out must end in .json or .csv" in result.stderr
