"""The CLI through click's runner: happy paths on synthetic data and one-line errors with exit 2."""
import json

import pytest

import auralize
from auralize.cli import cli


from conftest import one_line_error, run_cli as run  # noqa: E402


@pytest.mark.slow
def test_train_then_evaluate(gtzan_dir, tmp_path):
    ckpt = tmp_path / "lstm.pt"
    code, out, err = run(["train", "--model", "lstm", "--data", str(gtzan_dir), "--split", "track", "--hidden", "8",
                          "--layers", "1", "--epochs", "3", "--weight-decay", "1e-4", "--out", str(ckpt), "--quiet"])
    assert code == 0, err
    assert ckpt.exists() and f"saved {ckpt}" in out
    assert auralize.load_model(ckpt).meta["settings"]["weight_decay"] == 1e-4
    assert "found 21 tracks" in err
    code, out, err = run(["evaluate", str(ckpt), "--data", str(gtzan_dir), "--split", "track", "--out", str(tmp_path),
                          "--quiet"])
    assert code == 0, err
    assert "clip accuracy" in out and "track accuracy" in out and "| classical |" in out
    png = tmp_path / "lstm-track-test-confusion.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((tmp_path / "lstm-track-test.json").read_text())["n_tracks"] == 3


@pytest.mark.slow
def test_reproduce_writes_table(gtzan_dir, tmp_path):
    code, out, err = run(["reproduce", "--data", str(gtzan_dir), "--split", "clip", "--models", "softmax,mlp",
                          "--epochs", "2", "--out", str(tmp_path), "--quiet"])
    assert code == 0, err
    table = (tmp_path / "clip.md").read_text()
    assert "| Softmax regression (newton-cg) | 0.381 |" in table and "| 2-layer MLP (125 sigmoid) | 0.700 |" in table
    assert (tmp_path / "clip" / "mlp-confusion.png").exists()
    # a second run reuses the finished checkpoints
    code, out, err = run(["reproduce", "--data", str(gtzan_dir), "--split", "clip", "--models", "softmax",
                          "--out", str(tmp_path), "--quiet"])
    assert code == 0 and "reusing finished checkpoint" in err


@pytest.mark.slow
def test_python_m_and_help():
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "auralize", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "train" in proc.stdout and "evaluate" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "auralize", "evaluate", "/nonexistent.pt", "--data", "."],
                          capture_output=True, text=True)
    one_line_error(proc.returncode, proc.stderr, "checkpoint not found")


@pytest.mark.parametrize("args,needle", [
    (["train", "--model", "cnn", "--data", "."], "'cnn' is not one of"),
    (["train", "--model", "lstm", "--data", "/nonexistent/gtzan"], "data directory not found"),
    (["evaluate", "/nonexistent.pt", "--data", "."], "checkpoint not found"),
    (["reproduce", "--data", ".", "--models", "lstm,cnn"], "--model names no model called 'cnn'"),
    (["frobnicate"], "No such command"),
])
def test_bad_input_one_line_errors(args, needle):
    one_line_error(*run(args)[::2], needle)


def test_empty_data_dir_and_non_checkpoint(tmp_path):
    (tmp_path / "empty").mkdir()
    code, _, err = run(["train", "--model", "lstm", "--data", str(tmp_path / "empty")])
    one_line_error(code, err, "no audio tracks found")
    bogus = tmp_path / "bogus.pt"
    bogus.write_text("hello")
    code, _, err = run(["evaluate", str(bogus), "--data", str(tmp_path)])
    one_line_error(code, err, "is not a checkpoint")


def test_too_short_audio_is_skipped_and_reported(tmp_path):
    import numpy as np
    import soundfile as sf

    (tmp_path / "g" / "jazz").mkdir(parents=True)
    sf.write(tmp_path / "g" / "jazz" / "jazz.00000.wav", np.zeros(8000, np.float32), 4000)
    code, _, err = run(["train", "--model", "mlp", "--data", str(tmp_path / "g"), "--quiet"])
    assert code == 2
    assert "at least 5 s" in err and err.strip().splitlines()[-1].startswith("auralize: error: none of the 1 audio")


def test_info(gtzan_dir, tmp_path):
    ckpt = tmp_path / "m.pt"
    assert run(["train", "--model", "attention", "--data", str(gtzan_dir), "--split", "track", "--hidden", "4",
                "--layers", "1", "--epochs", "1", "--out", str(ckpt), "--quiet"])[0] == 0
    code, out, err = run(["info", str(ckpt)])
    assert code == 0, err
    assert "attention 1x4" in out and "attention.alpha" in out and "input normalisation level" in out
    assert "neuron statistics: none" in out


def test_every_command_takes_seed():
    def options(command):
        return [opt for param in command.params for opt in getattr(param, "opts", [])]

    missing = [name for name, command in cli.commands.items() if "--seed" not in options(command)]
    assert not missing, f"commands without --seed: {missing}"
    assert "--seed" in options(cli)  # auralize --genre
