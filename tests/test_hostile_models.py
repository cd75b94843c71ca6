"""Issue 10 on the model side: hostile files and careless options get one-line errors or one
warning, never a traceback, a hang, or a silent wrong result."""
import json
import os
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from auralize import data as D
from auralize.training import TrainSettings, train
from test_cli import one_line_error
from test_training import interrupt_at


from conftest import run_cli as run  # noqa: E402


@pytest.fixture
def own_data(gtzan_dir, tmp_path, monkeypatch):
    """A private copy of the synthetic data with a private feature cache."""
    data = shutil.copytree(gtzan_dir, tmp_path / "genres")
    monkeypatch.setenv("AURALIZE_CACHE", str(tmp_path / "cache"))
    return data


def evaluate(ckpt, data):
    return run(["evaluate", ckpt, "--data", data, "--split", "track", "-o", ckpt.parent / "eval", "--quiet"])


def accuracy(out):
    return [line for line in out.splitlines() if line.startswith("clip accuracy")]


# 5: corrupted cache entries are rebuilt with a warning, never used
@pytest.mark.slow
@pytest.mark.parametrize("damage", ["nan", "inf", "other-track", "plain-npy"])
def test_corrupted_cache_entries_are_rebuilt(ckpt, own_data, tmp_path, damage):
    code, clean, err = evaluate(ckpt, own_data)
    assert code == 0 and "warning" not in err, err
    entries = sorted((tmp_path / "cache").rglob("*.npz"))
    assert len(entries) == 21
    victim = entries[0]
    if damage == "other-track":
        shutil.copyfile(entries[1], victim)
    else:
        with np.load(victim) as z:
            psd, ident, sha = z["psd"].copy(), z["ident"], z["sha1"]
        psd[0, 3, 7] = np.nan if damage == "nan" else np.inf
        with open(victim, "wb") as fh:
            if damage == "plain-npy":
                np.save(fh, psd)
            else:
                np.savez(fh, psd=psd, ident=ident, sha1=sha)
    code, out, err = evaluate(ckpt, own_data)
    assert code == 0, err
    assert "damaged or another file's; rebuilding it" in err
    assert accuracy(out) == accuracy(clean) and "nan" not in out.lower()
    assert evaluate(ckpt, own_data)[2].count("warning") == 0  # rebuilt for good


# 6: a cache that cannot be written is given up with one warning
def test_unusable_cache_works_without_it(ckpt, own_data, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("AURALIZE_CACHE", str(blocker / "cache"))
    code, out, err = evaluate(ckpt, own_data)
    assert code == 0, err
    assert err.count("warning") == 1 and "is not usable" in err and "working without it" in err
    assert "found 21 tracks" in err and "skipped" not in err


# 7: an unreadable genre folder is reported, not silently empty
def test_unreadable_genre_folder_warns(ckpt, own_data, monkeypatch):
    metal = own_data / "metal"
    real_scandir = os.scandir

    def scandir(path="."):
        if Path(path) == metal:  # as root chmod 000 does not stop reading, so refuse like the kernel would
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    code, out, err = evaluate(ckpt, own_data)
    assert code == 0, err
    assert f"warning: cannot read folder {metal} (Permission denied); its tracks are left out" in err
    assert "metal 0" in err


# 8: NaN never becomes a verdict
def _edited(ckpt, tmp_path, edit, name="edited.pt"):
    payload = torch.load(ckpt, weights_only=True)
    edit(payload)
    torch.save(payload, tmp_path / name)
    return tmp_path / name


def test_nan_checkpoint_is_refused(ckpt, tmp_path):
    bad = _edited(ckpt, tmp_path, lambda p: p["state_dict"]["out.weight"].fill_(float("nan")))
    for command in (["info", bad], ["predict", "--checkpoint", bad, "x.wav"]):
        one_line_error(*run(command)[::2], "weight out.weight holds NaN or infinity")


def test_huge_samples_and_nonfinite_outputs_get_no_verdict(ckpt, tmp_path):
    loud = tmp_path / "loud.wav"
    sf.write(loud, np.full(24000, 3e29, np.float32) * np.sign(np.sin(np.arange(24000))), 4000, subtype="FLOAT")
    one_line_error(*run(["predict", "--checkpoint", ckpt, loud])[::2], "far outside [-1, 1]")
    song = tmp_path / "song.wav"
    sf.write(song, 0.1 * np.random.default_rng(0).standard_normal(24000).astype(np.float32), 4000)
    blown = _edited(ckpt, tmp_path, lambda p: p["state_dict"]["out.weight"].fill_(3e38))
    one_line_error(*run(["predict", "--checkpoint", blown, song])[::2], "gives non-finite outputs")


# 9: silence is refused by predict as by explain
def test_predict_refuses_silence(ckpt, tmp_path):
    quiet = tmp_path / "silence.wav"
    sf.write(quiet, np.zeros(24000, np.float32), 4000)
    one_line_error(*run(["predict", "--checkpoint", ckpt, quiet])[::2], "is silent")


# 10 and 12: options out of range, checked where parsed and again in the library
@pytest.mark.parametrize("args,needle", [
    (["--lr", "0"], "'0' must be > 0"),
    (["--lr", "inf"], "not a finite number"),
    (["--lr", "nan"], "not a finite number"),
    (["--lr", "-1"], "must be > 0"),
    (["--seed", str(2**64)], "--seed"),
    (["--seed", "-1"], "--seed"),
    (["--batch-size", "0"], "--batch-size"),
    (["--dropout", "2"], "--dropout"),
    (["--patience", "0"], "--patience"),
    (["--genres", ","], "names no genre"),
])
def test_train_options_out_of_range(gtzan_dir, args, needle):
    one_line_error(*run(["train", "--model", "mlp", "--data", gtzan_dir, "--quiet", *args])[::2], needle)


@pytest.mark.parametrize("setting,needle", [
    (dict(lr=0.0), "lr must be > 0"), (dict(lr=float("inf")), "lr must be a finite number"),
    (dict(batch_size=0), "batch_size must be >= 1"), (dict(patience=0), "patience must be >= 1"),
])
def test_library_checks_train_settings(gtzan_dir, setting, needle):
    ds = D.load_dataset(gtzan_dir, progress=False)
    with pytest.raises(Exception, match=needle):
        train("mlp", ds, "track", settings=TrainSettings(**setting), progress=False, log=lambda m: None)


def test_neurons_and_weights_options(ckpt, gtzan_dir):
    one_line_error(*run(["neurons", ckpt, "--data", gtzan_dir, "-k", "-1"])[::2], "-k")
    one_line_error(*run(["weights", ckpt, "--neurons", "1", "--contrast", "nan"])[::2], "--contrast")
    one_line_error(*run(["weights", ckpt, "--neurons", ",,,"])[::2], "--neurons")


# 11: a symlink loop in the data is walked once
def test_symlink_loop_does_not_hang(ckpt, own_data):
    (own_data / "metal" / "loop").symlink_to(own_data, target_is_directory=True)
    done = {}
    worker = threading.Thread(target=lambda: done.setdefault("result", evaluate(ckpt, own_data)), daemon=True)
    worker.start()
    worker.join(60)
    assert "result" in done, "discover hangs on a symlink loop"
    code, out, err = done["result"]
    assert code == 0, err
    assert "a symlink loop?" in err and "found 21 tracks" in err


# 12: damaged checkpoints are one-line errors
def _resize(p, hidden):
    cfg = json.loads(p["config"])
    cfg["hidden"] = hidden
    p["config"] = json.dumps(cfg)


@pytest.mark.parametrize("edit,needle", [
    (lambda p: p.__setitem__("config", p["config"].replace('"mlp"', '"lstm"')), "do not fit a lstm model"),
    (lambda p: _resize(p, 9), "has shape"),
    (lambda p: p["state_dict"].__setitem__("extra.weight", torch.zeros(1)), "extra.weight is unexpected"),
    (lambda p: p["state_dict"].pop("out.bias"), "out.bias is missing"),
    (lambda p: p.__setitem__("meta", "{not json"), "not valid JSON"),
    (lambda p: p.pop("scaler"), "it has no scaler"),
    (lambda p: p.__setitem__("genres", []), "genre list (0 distinct names) does not give one distinct genre to each of the model's 10 outputs"),
    (lambda p: p.__setitem__("genres", ["blues", "jazz"]), "genre list (2 distinct names)"),
    (lambda p: _resize(p, 10**6), "hidden must be"),
    (lambda p: p.__setitem__("config", p["config"].replace('"layers": 1', '"layers": 16').replace(
        '"mlp"', '"lstm"').replace('"hidden": 8', '"hidden": 4096')), "parameters; the limit is"),
    (lambda p: p["scaler"].__setitem__("std", torch.zeros(513)), "input scaler is invalid"),
])
def test_damaged_checkpoints(ckpt, tmp_path, edit, needle):
    one_line_error(*run(["info", _edited(ckpt, tmp_path, edit)])[::2], needle)


def test_dangling_link_and_unreadable_file_are_skipped(ckpt, own_data, monkeypatch):
    (own_data / "metal" / "metal.00099.wav").symlink_to(own_data / "nowhere.wav")
    hidden = own_data / "classical" / "classical.00098.wav"
    shutil.copyfile(next((own_data / "classical").glob("*.wav")), hidden)
    real_stat = Path.stat

    def stat(self, *args, **kwargs):
        if self.name == hidden.name:  # as in a folder without search permission
            raise PermissionError(13, "Permission denied", str(self))
        return real_stat(self, *args, **kwargs)

    monkeypatch.setattr(Path, "stat", stat)
    code, out, err = evaluate(ckpt, own_data)
    assert code == 0, err
    assert "cannot read" in err and "metal.00099.wav" in err and "classical.00098.wav" in err
    assert "skipped 2 unreadable" in err


def test_truncated_resume_file(gtzan_dir, tmp_path):
    out = tmp_path / "m.pt"
    out.with_suffix(".resume.pt").write_bytes(b"PK\x03\x04 truncated")
    code, _, err = run(["train", "--model", "mlp", "--data", gtzan_dir, "--split", "track", "-o", out, "--resume",
                        "--quiet"])
    assert code == 2 and "Traceback" not in err  # after the data summary, one error line
    assert err.strip().splitlines()[-1] == (f"auralize: error: {out.with_suffix('.resume.pt')} is damaged "
                                            "(RuntimeError); delete it and run without resume")


def test_corrupt_neurons_json(ckpt, gtzan_dir, tmp_path):
    model = shutil.copyfile(ckpt, tmp_path / "m.pt")
    stats = tmp_path / "m.neurons.json"
    stats.write_text('{"kind": "neurons", "version": 1, "reports": {"hidden": {"layer": 3}}, "default": "hidden", '
                     f'"checkpoint_sha256": "{__import__("auralize.neurons").neurons._fingerprint(model)}"}}')
    one_line_error(*run(["weights", model, "-o", tmp_path / "w"])[::2], "rerun 'auralize neurons")
    stats.write_text("{")
    one_line_error(*run(["weights", model, "-o", tmp_path / "w"])[::2], "rerun 'auralize neurons")
    code, out, err = run(["neurons", model, "--data", gtzan_dir, "-o", tmp_path, "--quiet"])  # the remedy works
    assert code == 0, err
    code, out, err = run(["weights", model, "-o", tmp_path / "w", "--iters", "2"])
    assert code == 0, err
    assert json.loads((tmp_path / "w" / "weights.json").read_text())["kind"] == "weights"


def test_train_out_is_a_directory(gtzan_dir, tmp_path):
    one_line_error(*run(["train", "--model", "mlp", "--data", gtzan_dir, "-o", tmp_path, "--quiet"])[::2],
                   "is a directory")


# 14: training's interruption, leftovers and unwritable output
@pytest.mark.slow
def test_interrupted_training_says_how_to_resume(gtzan_dir, tmp_path, monkeypatch):
    undo = interrupt_at(monkeypatch, 2)
    out = tmp_path / "m.pt"
    code, _, err = run(["train", "--model", "mlp", "--hidden", "4", "--data", gtzan_dir, "--split", "track",
                        "--epochs", "3", "-o", out, "--quiet"])
    assert code == 130
    assert "aborted" not in err and f"rerun the same command with --resume to continue from {out.with_suffix('.resume.pt')}" in err
    undo()
    code, _, err = run(["train", "--model", "mlp", "--hidden", "4", "--data", gtzan_dir, "--split", "track",
                        "--epochs", "3", "-o", out, "--quiet", "--resume"])
    assert code == 0, err
    assert "resuming after epoch 1" in err
    assert out.exists() and not out.with_suffix(".resume.pt").exists()  # nothing left behind


def test_unwritable_out_fails_before_training(gtzan_dir, tmp_path, monkeypatch):
    import auralize.training as T

    started = []
    monkeypatch.setattr(T, "_score", lambda *a: started.append(1))
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, _, err = run(["train", "--model", "mlp", "--data", gtzan_dir, "--split", "track", "-o", blocker / "m.pt",
                        "--quiet"])
    one_line_error(code, err, "cannot write")
    assert not started
