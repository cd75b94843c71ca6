"""Issue 10, second pass: what a hostile run against the fixed main still found, each fixed and kept.

Deeply nested JSON, FIFOs, a constant (DC) "song", damaged checkpoints given to --init-from, a
genre folder that is a dangling link, sizes of 0, output paths under a file, a NaN spectrogram, SIGTERM.
"""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from conftest import one_line_error, run_cli as run

REPO = Path(__file__).resolve().parents[1]
DEEP = "[" * 5000 + "]" * 5000


def _damaged(ckpt: Path, tmp_path: Path, **changes) -> Path:
    payload = torch.load(ckpt, weights_only=True)
    for key, value in changes.items():
        if key == "nan":
            payload["state_dict"] = {k: torch.full_like(v, float("nan")) for k, v in payload["state_dict"].items()}
        else:
            payload[key] = value
    bad = tmp_path / "bad.pt"
    torch.save(payload, bad)
    return bad


def test_deeply_nested_json_is_refused_in_one_line(ckpt, tmp_path):
    results = tmp_path / "R"
    results.mkdir()
    (results / "deep.json").write_text(DEEP)
    code, _, err = run(["gallery", results])
    assert "nested too deeply" in err and "Traceback" not in err and code == 2  # nothing else to show
    one_line_error(*run(["info", _damaged(ckpt, tmp_path, meta=DEEP)])[::2], "damaged checkpoint")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_fifos_are_skipped_not_read(ckpt, gtzan_dir, tmp_path):
    import shutil

    results = tmp_path / "R"
    results.mkdir()
    os.mkfifo(results / "x.json")
    data = shutil.copytree(gtzan_dir, tmp_path / "genres")
    os.mkfifo(data / "metal" / "metal.00099.wav")
    started = time.time()
    code, _, err = run(["gallery", results])
    assert "not a regular file" in err and code == 2
    code, out, err = run(["evaluate", ckpt, "--data", data, "--split", "track", "-o", tmp_path / "e", "--quiet"])
    assert code == 0 and "metal.00099.wav is not a regular file" in err, err
    assert time.time() - started < 120


def test_a_constant_signal_is_silence(ckpt, tmp_path):
    dc = tmp_path / "dc.wav"
    sf.write(dc, np.full(44000, 0.5, np.float32), 4000)
    one_line_error(*run(["predict", dc, "--checkpoint", ckpt])[::2], "is silent")
    one_line_error(*run(["explain", dc, "--checkpoint", ckpt, "-o", tmp_path / "x"])[::2], "is silent")


@pytest.mark.parametrize("damage", [{"nan": True}, {"config": "{not json"}, {"meta": DEEP}])
def test_init_from_a_damaged_checkpoint_is_refused(ckpt, gtzan_dir, tmp_path, damage):
    bad = _damaged(ckpt, tmp_path, **damage)
    out = tmp_path / "m.pt"
    one_line_error(*run(["train", "--model", "mlp", "--hidden", "8", "--data", gtzan_dir, "--split", "track",
                         "--epochs", "1", "-o", out, "--init-from", bad, "--quiet"])[::2], "damaged checkpoint")
    assert not out.exists() and not out.with_suffix(".resume.pt").exists()


def test_dangling_genre_folder_warns(ckpt, gtzan_dir, tmp_path):
    import shutil

    data = shutil.copytree(gtzan_dir, tmp_path / "genres")
    (data / "jazz").symlink_to(tmp_path / "nowhere", target_is_directory=True)
    code, _, err = run(["evaluate", ckpt, "--data", data, "--split", "track", "-o", tmp_path / "e", "--quiet"])
    assert code == 0 and "jazz is a link to nothing" in err, err


@pytest.mark.parametrize("option", ["--layers", "--hidden"])
def test_a_size_of_zero_is_refused_not_replaced(gtzan_dir, tmp_path, option):
    code, _, err = run(["train", "--model", "lstm", "--data", gtzan_dir, option, "0", "-o", tmp_path / "m.pt"])
    one_line_error(code, err, "0 is not in the range")


def test_out_under_a_file_fails_before_any_work(ckpt, gtzan_dir, tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("")
    for args in (["neurons", ckpt, "--data", gtzan_dir, "-o", blocker],
                 ["evaluate", ckpt, "--data", gtzan_dir, "--split", "track", "-o", blocker]):
        code, _, err = run(args + ["--quiet"])
        one_line_error(code, err, "is a file, not a folder")
        assert "found" not in err  # the data was never read
    assert not ckpt.with_name(ckpt.stem + ".neurons.json").exists()


def test_invert_names_what_is_wrong(tmp_path):
    spec = tmp_path / "nan.npy"
    np.save(spec, np.full((22, 513), np.nan))
    one_line_error(*run(["invert", spec])[::2], "NaN or infinity")
    np.save(spec, -np.ones((22, 513)))
    one_line_error(*run(["invert", spec])[::2], "negative values")


@pytest.mark.slow
def test_sigterm_on_training_ends_in_one_line_with_the_resume_hint(ckpt, gtzan_dir, tmp_path):
    out = tmp_path / "m.pt"
    proc = subprocess.Popen([sys.executable, "-m", "auralize", "train", "--model", "lstm", "--hidden", "32",
                             "--data", str(gtzan_dir), "--split", "track", "--epochs", "200", "--patience", "200",
                             "-o", str(out), "--quiet"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline and not out.with_suffix(".resume.pt").exists() and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    last = err.decode().strip().splitlines()[-1]
    assert last.startswith("auralize: interrupted; rerun the same command with --resume"), err
    assert b"Traceback" not in err


def test_an_audio_transform_on_the_spectrogram_param_is_refused_before_any_work(toy_checkpoint, tmp_path):
    out = tmp_path / "d"
    one_line_error(*run(["--genre", "jazz", "--checkpoint", toy_checkpoint, "--objective", "class",
                         "--param", "spectrogram", "--transforms", "shift", "-o", out / "j.wav", "--data", tmp_path / "nowhere"])[::2],
                   "'shift' here: it acts on audio")
    assert not out.exists()


def test_out_keeps_its_name_and_the_json_records_everything_that_shapes_the_wav(toy_checkpoint, tmp_path):
    code, _, err = run(["--genre", "jazz", "--checkpoint", toy_checkpoint, "--objective", "class", "--steps", "2",
                        "--iters", "3", "--no-panel", "--quiet", "-o", tmp_path / "take1.5"])
    assert code == 0, err
    meta = json.loads((tmp_path / "take1.5.json").read_text())
    assert (tmp_path / "take1.5.wav").is_file() and meta["settings"]["iters"] == 3


def test_commands_that_never_dream_do_not_import_torch(tmp_path):
    probe = ("import sys\nfrom auralize.cli import main\nsys.argv = ['auralize', 'gallery', sys.argv[1]]\n"
             "try:\n    main()\nexcept SystemExit:\n    pass\nprint('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe, str(tmp_path)], capture_output=True, text=True, cwd=REPO)
    assert out.stdout.strip().splitlines()[-1] == "False", out.stderr
