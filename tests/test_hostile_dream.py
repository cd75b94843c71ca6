"""Hostile and careless use of the dream and invert commands (issue 10 items 10, 12, 13, 15-18)."""
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import run_cli
from auralize.errors import AuralizeError

REPO = Path(__file__).resolve().parents[1]


def invoke(*args, env=None):
    return run_cli(args, env)


def one_line(result, *needles):
    code, _, err = result
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("auralize: error:"), err
    for needle in needles:
        assert needle in lines[0], err


def dream(ck, out, *extra):
    return invoke("--genre", "jazz", "--checkpoint", ck, "-o", out, "--objective", "class", "--steps", "2",
                  "--iters", "2", "--quiet", *extra)


@pytest.mark.parametrize("option,value,needle", [
    ("--class-weight", "nan", "--class-weight"), ("--l2", "inf", "--l2"), ("--l2", "-1", "--l2"),
    ("--noise", "nan", "--noise"), ("--tv-time", "-inf", "--tv-time"), ("--lr", "0", "--lr"),
    ("--lr", "inf", "--lr"), ("--lr", "nan", "--lr"), ("--lr", "-1", "--lr"), ("--iters", "-5", "--iters"),
    ("--steps", "0", "--steps"), ("--unit", "-1", "--unit"), ("--seconds", "nan", "--seconds"),
    ("--seconds", "inf", "--seconds"), ("--seconds", "1e9", "--seconds"), ("--seconds", "4", "--seconds"),
    ("--jitter", "-1", "--jitter"), ("--jitter", "100000", "--jitter"), ("--threads", "0", "--threads"),
])
def test_item10_12_17_out_of_range_options_are_refused_before_anything_is_written(toy_checkpoint, tmp_path, option,
                                                                                    value, needle):
    one_line(dream(toy_checkpoint, tmp_path / "j.wav", option, value), needle)
    assert not list(tmp_path.iterdir())  # validated before writing anything


@pytest.mark.parametrize("field,value,needle", [
    ("class_weight", float("nan"), "class_weight must be a finite number"),
    ("unit", -1, "unit must be >= 0"),
])
def test_item10_target_is_checked_in_the_library(field, value, needle):
    from auralize.dream import Target

    with pytest.raises(AuralizeError, match=needle) as exc:
        Target(**{field: value}).check()
    assert exc.value.param == field


@pytest.mark.parametrize("field,value", [
    ("l2", float("inf")), ("noise", float("nan")), ("lr", 0.0), ("lr", float("inf")), ("griffin_lim_iters", -5),
    ("seconds", float("nan")), ("seconds", 1e9), ("jitter", 100000), ("jitter", -1), ("steps", 0),
    ("param", "pixels"), ("transforms", ("wobble",)),
])
def test_item10_settings_are_checked_in_the_library(field, value):
    """Numbers by DreamSettings.check, names by check_settings (which render and make_audible call first)."""
    from auralize.dream import DreamSettings, check_settings

    with pytest.raises(AuralizeError) as exc:
        check_settings(DreamSettings(**{field: value}))
    assert exc.value.param == field and str(exc.value).startswith(field + " ")
    if field not in ("param", "transforms"):
        with pytest.raises(AuralizeError):
            DreamSettings(**{field: value}).check()


def test_item10_render_checks_and_lr_zero_is_not_replaced(toy_checkpoint):
    """render(lr=0) used to become 0.1 silently (`lr or 0.1`); now it is refused, naming lr, not --lr."""
    from auralize import DreamSettings, class_logprob, load_model, render

    model = load_model(toy_checkpoint)
    for kwargs, name in ((dict(lr=0.0), "lr"), (dict(lr=float("inf")), "lr"), (dict(steps=0), "steps"),
                         (dict(seconds=float("nan")), "seconds"), (dict(seconds=1e9), "seconds")):
        with pytest.raises(AuralizeError, match=f"^{name} must") as exc:
            render(model, class_logprob(0), DreamSettings(**kwargs))
        assert "--" not in str(exc.value)
    assert render(model, class_logprob(0), DreamSettings(lr=1e-3, steps=1)).settings["lr"] == 1e-3


def test_item12_out_is_an_existing_directory(toy_checkpoint, tmp_path):
    folder = tmp_path / "dreams.wav"
    folder.mkdir()
    code, out, err = dream(toy_checkpoint, folder)
    assert code == 0, err
    assert (folder / "quintessential-jazz.wav").is_file() and (folder / "quintessential-jazz.json").is_file()
    blocker = tmp_path / "x.json"
    blocker.mkdir()  # a folder where the dream's JSON must go
    one_line(dream(toy_checkpoint, tmp_path / "x.wav"), "is a directory")
    assert not (tmp_path / "x.wav").exists()
    (tmp_path / "afile").write_text("")
    one_line(invoke("--genre", "all", "--checkpoint", toy_checkpoint, "-o", tmp_path / "afile", "--objective",
                    "class", "--steps", "1"), "-o/--out must be a folder")


@pytest.mark.slow
def test_item12_invert_out_directory_and_complex_input(toy_checkpoint, tmp_path):
    assert dream(toy_checkpoint, tmp_path / "d.wav")[0] == 0
    target = tmp_path / "inverted"
    target.mkdir()
    code, out, err = invoke("invert", tmp_path / "d.npy", "-o", target, "--iters", "2")
    assert code == 0, err
    assert (target / "d.wav").is_file()
    np.save(tmp_path / "c.npy", np.ones((22, 513), np.complex64))
    one_line(invoke("invert", tmp_path / "c.npy"), "complex values", "not an STFT")
    np.save(tmp_path / "s.npy", np.array([["a"] * 513] * 22))
    one_line(invoke("invert", tmp_path / "s.npy"), "values of type")
    np.save(tmp_path / "n.npy", np.full((22, 513), np.nan))
    one_line(invoke("invert", tmp_path / "n.npy"), "non-negative PSD")
    one_line(invoke("invert", tmp_path / "d.npy", "--iters", "-5"), "--iters")
    np.lib.format.open_memmap(tmp_path / "long.npy", mode="w+", dtype=np.float32, shape=(3000, 513))
    one_line(invoke("invert", tmp_path / "long.npy"), "at most 10 minutes")
    assert not list(tmp_path.glob("[csnl]*.wav"))


def test_item13_bad_init_or_genre_writes_nothing(toy_checkpoint, tmp_path):
    one_line(dream(toy_checkpoint, tmp_path / "out" / "j.wav", "--init", tmp_path / "missing.wav"), "missing.wav")
    one_line(invoke("--genre", "jaz", "--checkpoint", toy_checkpoint, "-o", tmp_path / "o2" / "j.wav"), "jazz")
    one_line(dream(toy_checkpoint, tmp_path / "o3" / "j.wav", "--param", "waveform", "--transforms", "wobble"),
             "--transforms")
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def _complete_sets(folder: Path) -> None:
    """Every WAV has its whole set; no temporary file is left."""
    left = [p.name for p in folder.iterdir() if ".tmp" in p.name or p.name.startswith(".")]
    assert not left, left
    for wav in folder.glob("*.wav"):
        if wav.name.endswith("-22050.wav"):
            wav = wav.with_name(wav.name[: -len("-22050.wav")] + ".wav")
        for suffix in (".wav", ".json", ".png", ".npy"):
            assert wav.with_suffix(suffix).is_file(), f"{wav.name} without its {suffix}"
        assert (folder / (wav.stem + "-22050.wav")).is_file()
        assert json.loads(wav.with_suffix(".json").read_text())["kind"] == "dream"


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_item13_a_killed_dream_set_leaves_no_wav_without_its_json(toy_checkpoint, tmp_path, sig):
    killed_midway = 0
    for attempt in range(3):
        out = tmp_path / f"run{attempt}"
        proc = subprocess.Popen([sys.executable, "-m", "auralize", "--genre", "all", "--checkpoint",
                                 str(toy_checkpoint), "-o", str(out), "--objective", "class", "--steps", "1",
                                 "--iters", "1", "--quiet"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None:
            if out.is_dir() and any(not p.name.startswith(".auralize-write-check") for p in out.iterdir()):
                time.sleep(0.05 * attempt)  # the first file being written, then a little later
                break
            time.sleep(0.005)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=120)
        _complete_sets(out)
        if proc.returncode != 0:
            killed_midway += 1
            # 130 (SIGINT) or 143 (SIGTERM): the CLI's one-line message; -sig: the signal came as the
            # process was already exiting
            code = 128 + int(sig)
            assert proc.returncode in (code, -sig) and b"Traceback" not in err, err
            assert proc.returncode != code or err.strip().splitlines()[-1] in (
                b"auralize: aborted", b"auralize: terminated",
                b"auralize: interrupted; rerun with --resume where the command has it"), err
        assert len(list(out.glob("*.json"))) < 10 or proc.returncode == 0
        if killed_midway:  # one kill in the middle of a set is the case; more attempts only cost time
            break
    assert killed_midway, "the signal never arrived before the set was complete; the test proves nothing"


def test_item15_threads_policy(toy_checkpoint, monkeypatch):
    import torch

    from auralize import DreamSettings, Objective, load_model, render, threads

    seen = []
    probe = Objective(lambda c: (seen.append(torch.get_num_threads()), c.logits[:, 0].mean())[1], "probe")
    model = load_model(toy_checkpoint)
    for env, expected in (({}, threads.SMALL_OPS), ({"OMP_NUM_THREADS": "2"}, 2), ({"AURALIZE_THREADS": "3"}, 3)):
        for name in ("OMP_NUM_THREADS", "AURALIZE_THREADS"):
            monkeypatch.delenv(name, raising=False)
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        seen.clear()
        before = torch.get_num_threads()
        render(model, probe, DreamSettings(param="spectrogram", steps=2))
        assert seen == [expected, expected] and torch.get_num_threads() == before
    monkeypatch.setenv("AURALIZE_THREADS", "many")
    with pytest.raises(AuralizeError, match="AURALIZE_THREADS must be a whole number"):
        threads.small_ops()
    monkeypatch.delenv("AURALIZE_THREADS")
    try:
        threads.use(2)
        assert threads.small_ops() == 2 and torch.get_num_threads() == 2
    finally:
        threads.use(None)
        torch.set_num_threads(before)


def test_item15_threads_option_on_the_group(toy_checkpoint, tmp_path):
    import torch

    from auralize import threads

    before = torch.get_num_threads()
    try:
        code, _, err = dream(toy_checkpoint, tmp_path / "j.wav", "--threads", "2")
        assert code == 0, err
        assert threads.small_ops() == 2
    finally:
        threads.use(None)
        torch.set_num_threads(before)
    one_line(invoke("--threads", "0", "info", toy_checkpoint), "--threads")


@pytest.mark.slow
def test_item16_cold_start_imports_nothing_heavy():
    """import auralize and auralize.cli stay cheap: no torch, no scipy.signal until a command needs them."""
    code = ("import sys, auralize, auralize.cli; heavy = [m for m in ('torch', 'scipy.signal', 'matplotlib') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", out
    code = "import sys, auralize; auralize.render; print('torch._dynamo' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                          check=True).stdout.strip() == "False"


@pytest.mark.slow
def test_item16_dream_does_not_import_dynamo(toy_checkpoint):
    code = ("import sys, auralize; m = auralize.load_model(sys.argv[1]); "
            "auralize.render(m, auralize.class_logprob(0), auralize.DreamSettings(steps=2)); "
            "print('torch._dynamo' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(toy_checkpoint)], cwd=REPO, capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"


def test_item17_jitter_is_bounded():
    from auralize.dream import Jitter

    Jitter(22)
    with pytest.raises(AuralizeError, match="jitter must be"):
        Jitter(23)


@pytest.mark.slow
def test_item18_a_dream_does_not_depend_on_its_batch_mates(toy_checkpoint, tmp_path):
    for param in ("spectrogram", "waveform"):
        common = ["--checkpoint", toy_checkpoint, "--steps", "3", "--iters", "3", "--seed", "5", "--objective", "class",
                  "--param", param, "--quiet"]
        assert invoke("--genre", "all", "-o", tmp_path / param / "all", *common)[0] == 0
        assert invoke("--genre", "jazz", "-o", tmp_path / param / "jazz.wav", *common)[0] == 0
        alone = (tmp_path / param / "jazz.wav").read_bytes()
        assert (tmp_path / param / "all" / "jazz.wav").read_bytes() == alone
        a = json.loads((tmp_path / param / "jazz.json").read_text())
        b = json.loads((tmp_path / param / "all" / "jazz.json").read_text())
        assert a["objective_curve"] == b["objective_curve"]
