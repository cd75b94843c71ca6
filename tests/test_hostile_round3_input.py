"""Issue 18, D and E: bad input is one line that says what is wrong, never a traceback.

Damaged headers and artefacts, one audio-input contract for the Python API, transforms' settings,
what "silent" means, checks before the ascent, thread settings from a scheduler, one bad file
among many, signs of life in long work, the notebook.
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

import auralize
from auralize.errors import AuralizeError
from conftest import make_gtzan, one_line_error, run_cli, write_song as song

REPO = Path(__file__).resolve().parents[1]
PRIOR = auralize.TRAINED_DIR / "genre-prior.npz"


def run(*args, env=None):
    return run_cli(args, env)




def dream(ck, out, *extra, env=None):
    return run("--genre", "jazz", "--checkpoint", ck, "-o", out, "--objective", "class", "--steps", "2",
               "--iters", "2", "--quiet", *extra, env=env)


def with_rate(path, rate):
    """A WAV whose header gives ``rate`` Hz (written at 4 kHz, then the header edited)."""
    song(path, 6.0)
    data = bytearray(path.read_bytes())
    data[24:28] = struct.pack("<I", rate % 2**32)
    path.write_bytes(bytes(data))
    return path


# 16: a header with a sample rate of 0 is one unreadable file, skipped like any other
@pytest.mark.parametrize("rate", [0, 2**31])
def test_item16_a_header_rate_of_zero_is_skipped_in_data_and_refused_alone(ckpt, gtzan_dir, tmp_path, rate):
    data = shutil.copytree(gtzan_dir, tmp_path / "genres")
    bad = with_rate(data / "metal" / "metal.00099.wav", rate)
    code, _, err = run("evaluate", ckpt, "--data", data, "-o", tmp_path / "e", "--quiet")
    assert code == 0 and f"skipping {bad}" in err and f"sample rate of {rate} Hz" in err, err
    one_line_error(*run("predict", bad, "--checkpoint", ckpt)[::2], "metal.00099.wav", f"sample rate of {rate} Hz")


# 17: a damaged default prior or panel file is a warning for a plain dream
def _zip_damage(path, how):
    data = bytearray(path.read_bytes())
    if how == "truncated":
        path.write_bytes(bytes(data[: len(data) // 2]))
    elif how == "bad-crc":
        with zipfile.ZipFile(path) as z:
            info = z.infolist()[-2]
        start = info.header_offset + 30 + len(info.filename) + len(info.extra)
        data[start + info.compress_size // 2] ^= 0xFF
        path.write_bytes(bytes(data))


def _edited_prior(tmp_path, **arrays):
    with np.load(PRIOR) as z:
        content = dict(z)
    content.update(arrays)
    out = tmp_path / "prior.npz"
    with open(out, "wb") as fh:
        np.savez(fh, **content)
    return out


PRIOR_DAMAGE = {
    "truncated": lambda t: _zip_damage(shutil.copy(PRIOR, t / "prior.npz"), "truncated") or t / "prior.npz",
    "bad-crc": lambda t: _zip_damage(shutil.copy(PRIOR, t / "prior.npz"), "bad-crc") or t / "prior.npz",
    "meta []": lambda t: _edited_prior(t, meta=np.array("[]")),
    "meta null": lambda t: _edited_prior(t, meta=np.array("null")),
    "meta 5": lambda t: _edited_prior(t, meta=np.array("5")),
    "0-d genres": lambda t: _edited_prior(t, genres=np.array("blues")),
    "npy as npz": lambda t: (np.save(open(t / "prior.npz", "wb"), np.zeros(3)), t / "prior.npz")[1],
    "lying header": lambda t: _lying(t),
}


def _lying(tmp_path):
    path = _edited_prior(tmp_path)
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    body = members["mean/level.npy"]
    members["mean/level.npy"] = body.replace(b"(10, 48)", b"(10, 96)")  # says twice the data there is
    with zipfile.ZipFile(path, "w") as z:
        for name, content in members.items():
            z.writestr(name, content)
    return path


@pytest.mark.parametrize("damage", list(PRIOR_DAMAGE))
def test_item17_a_damaged_prior_is_one_line_and_a_warning_by_default(toy_checkpoint, tmp_path, damage):
    bad = PRIOR_DAMAGE[damage](tmp_path)
    with pytest.raises(AuralizeError, match="is not a (genre )?prior auralize can read"):
        auralize.load_prior(bad)
    code, _, err = dream(toy_checkpoint, tmp_path / "j.wav", "--no-panel", env={"AURALIZE_PRIOR": str(bad)})
    assert code == 0 and "warning: dreaming without the prior" in err, err


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["truncated", "bad-crc", "meta not JSON", "coef shape"])
def test_item17_a_damaged_panel_file_is_a_warning_for_a_dream(toy_checkpoint, tmp_path, damage):
    folder = tmp_path / "panel"
    shutil.copytree(auralize.TRAINED_DIR / "panel", folder)
    features = folder / "features.npz"
    if damage in ("truncated", "bad-crc"):
        _zip_damage(features, damage)
    else:
        with np.load(features) as z:
            arrays = dict(z)
        if damage == "meta not JSON":
            arrays["meta"] = np.array("{not json")
        else:
            arrays["coef"] = arrays["coef"][:, :10]
        with open(features, "wb") as fh:
            np.savez(fh, **arrays)
    code, _, err = dream(toy_checkpoint, tmp_path / "j.wav", env={"AURALIZE_PANEL": str(folder)})
    assert code == 0 and "warning: no panel verdict for the dreams" in err and "features.npz" in err, err
    one_line_error(*run("judge", song(tmp_path / "s.wav"), env={"AURALIZE_PANEL": str(folder)})[::2], "features.npz")


# 20: a judge needs two genres and a validation part, said before any training
def test_item20_train_judge_on_one_genre_or_without_validation(tmp_path):
    one = make_gtzan(tmp_path / "one", {"train": 4, "valid": 1, "test": 2}, seconds=5.5, sr=4000, genres=("metal",))
    one_line_error(*run("train-judge", "features", "--data", one, "-o", tmp_path / "f.npz", "--quiet")[::2],
                   "at least two genres")
    two = make_gtzan(tmp_path / "two", {"train": 2}, seconds=5.5, sr=4000, genres=("metal", "classical"))
    one_line_error(*run("train-judge", "cnn", "--data", two, "-o", tmp_path / "c.pt", "--quiet")[::2],
                   "no validation or test part")
    assert not (tmp_path / "f.npz").exists() and not (tmp_path / "c.pt").exists()


# 21: the Python API names the argument that is wrong
@pytest.fixture(scope="module")
def api(toy_checkpoint):
    model = auralize.load_model(toy_checkpoint)
    t = np.arange(26000) / 4000
    return model, auralize.class_logprob(5, "jazz"), (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


@pytest.mark.slow
def test_item21_the_natural_spellings_work(api, tmp_path):
    model, objective, audio = api
    settings = auralize.DreamSettings(param="fine", transforms=("shift",), steps=1)  # the CLI's own spellings
    assert auralize.render(model, objective, settings).param == "fine"
    path = tmp_path / "s.wav"
    sf.write(path, np.stack([np.repeat(audio, 2)] * 2, 1), 8000)  # stereo at 8 kHz
    for given in (str(path), path, torch.from_numpy(audio), audio.astype(np.float64), (audio * 32767).astype(np.int16)):
        assert auralize.explain(model, given, method="saliency").attributions.shape[1:] == (22, 513)
    assert auralize.predict(model, np.stack([audio, audio]), sr=4000).genre in model.genres  # (channels, n)
    assert auralize.predict(model, np.repeat(audio, 2), sr=8000).probabilities.shape[0] == 1
    assert len(auralize.judge([torch.from_numpy(audio), str(path)])) == 2


PROBE = np.ones(24000, np.float32)
CASES = {
    "render objectives": (lambda m, o, a: auralize.render(m, "jazz"), "objectives"),
    "render seed 2**70": (lambda m, o, a: auralize.render(m, o, auralize.DreamSettings(seed=2**70)), "seed"),
    "render seed 1.5": (lambda m, o, a: auralize.render(m, o, auralize.DreamSettings(seed=1.5)), "seed"),
    "render param": (lambda m, o, a: auralize.render(m, o, auralize.DreamSettings(param="nope")), "param"),
    "render transform": (lambda m, o, a: auralize.render(m, o, auralize.DreamSettings(transforms=("wobble",))), "transforms"),
    "render init list": (lambda m, o, a: auralize.render(m, o, auralize.DreamSettings(init=[0.1] * 100)), "init"),
    "render init silent": (lambda m, o, a: auralize.render(m, o, auralize.DreamSettings(init=np.zeros(20000))), "init"),
    "explain int": (lambda m, o, a: auralize.explain(m, 5), "audio"),
    "explain 3-d": (lambda m, o, a: auralize.explain(m, np.zeros((3, 4, 5))), "audio"),
    "explain seed": (lambda m, o, a: auralize.explain(m, a, seed=-1), "seed"),
    "explain bool": (lambda m, o, a: auralize.explain(m, a > 0), "audio"),
    "class_logprob name": (lambda m, o, a: auralize.class_logprob("jazz"), "index"),
    "class_logit float": (lambda m, o, a: auralize.class_logit(1.5), "index"),
    "neuron unit": (lambda m, o, a: auralize.neuron("layer2.h", "7"), "unit"),
    "neuron layer": (lambda m, o, a: auralize.neuron(3, 7), "layer"),
    "judge list of floats": (lambda m, o, a: auralize.judge([0.1, 0.2, 0.3]), "audio_or_paths"),
    "judge int": (lambda m, o, a: auralize.judge(5), "audio_or_paths"),
    "griffin_lim layout": (lambda m, o, a: auralize.griffin_lim(np.ones((513, 40))), "magnitude"),
    "griffin_lim seed": (lambda m, o, a: auralize.griffin_lim(np.ones((40, 513)), seed=2**70), "seed"),
    "psd_to_audio seed": (lambda m, o, a: auralize.psd_to_audio(np.ones((22, 513)), seed=1.5), "seed"),
    "load_model None": (lambda m, o, a: auralize.load_model(None), "path"),
    "load_model int": (lambda m, o, a: auralize.load_model(5), "path"),
    "load_prior int": (lambda m, o, a: auralize.load_prior(5), "path"),
    "fit_prior 100 samples": (lambda m, o, a: auralize.fit_prior(np.zeros((4, 100)), np.arange(4) % 2, "ab"), "audio"),
    "fit_prior 0 samples": (lambda m, o, a: auralize.fit_prior(np.zeros((4, 0)), np.arange(4) % 2, "ab"), "audio"),
    "fit_prior labels": (lambda m, o, a: auralize.fit_prior(np.ones((4, 20000)), np.arange(4), "ab"), "labels"),
    "predict sr 0": (lambda m, o, a: auralize.predict(m, a, sr=0), "sr"),
    "predict object": (lambda m, o, a: auralize.predict(m, np.zeros(40000, dtype=object)), "audio"),
    "predict complex": (lambda m, o, a: auralize.predict(m, a.astype(complex)), "audio"),
    "predict list": (lambda m, o, a: auralize.predict(m, list(a)), "audio"),
    "predict nan": (lambda m, o, a: auralize.predict(m, np.full(40000, np.nan)), "audio"),
    "make_audible genres": (lambda m, o, a: auralize.make_audible(m, 5), "genre"),
    "make_audible init": (lambda m, o, a: auralize.make_audible(m, "jazz", settings=auralize.DreamSettings(init=5)),
                          "init"),
    "to_audio": (lambda m, o, a: auralize.to_audio(None), "result"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_item21_wrong_types_are_one_error_naming_the_argument(api, case):
    call, param = CASES[case]
    with pytest.raises(AuralizeError) as exc:
        call(*api)
    assert exc.value.param == param and param in str(exc.value), str(exc.value)


# 22: a transform's bad setting names the transform and its setting, not a flag that does not exist
@pytest.mark.parametrize("item,needle", [
    ("time-mask:-1", "time-mask's width must be"), ("noise:-50", "noise's lo_db must be"),
    ("freq-shift:1000", "freq-shift's bins must be"), ("gain:nan", "gain's std must be a finite number"),
])
def test_item22_transform_settings_are_named(toy_checkpoint, tmp_path, item, needle):
    code, _, err = dream(toy_checkpoint, tmp_path / "j.wav", "--param", "waveform", "--transforms", item, "--no-panel")
    one_line_error(code, err, f"--transforms item '{item}'", needle)
    assert all(flag not in err for flag in ("--width", "--lo-db", "--bins", "--noise"))


# 23: "silent" only for silence
def test_item23_what_is_wrong_is_said(ckpt, tmp_path):
    one = tmp_path / "one.wav"
    sf.write(one, np.array([0.5], np.float32), 4000)
    one_line_error(*run("predict", one, "--checkpoint", ckpt)[::2], "1 sample", "too short")
    one_line_error(*run("predict", with_rate(tmp_path / "fast.wav", 2**31), "--checkpoint", ckpt)[::2],
                   "sample rate of 2147483648 Hz")
    loud = tmp_path / "loud.wav"
    sf.write(loud, np.full(24000, 1e20, np.float32) * np.sign(np.sin(np.arange(24000))), 4000, subtype="FLOAT")
    one_line_error(*run("predict", loud, "--checkpoint", ckpt)[::2], "samples of up to 1e+20")
    for path in (one, loud):
        assert "silent" not in run("predict", path, "--checkpoint", ckpt)[2]


# 24: what would fail at the end of the ascent fails before it
def test_item24_a_silent_init_and_an_overflowing_prior_fail_before_the_ascent(toy_checkpoint, tmp_path):
    quiet = tmp_path / "quiet.wav"
    sf.write(quiet, np.zeros(24000, np.float32), 4000)
    one_line_error(*dream(toy_checkpoint, tmp_path / "a.wav", "--init", quiet, "--steps", "3000",
                          "--no-panel")[::2], "quiet.wav", "is silent")
    with np.load(PRIOR) as z:
        arrays = dict(z)
    arrays["spread/level"] = np.full_like(arrays["spread/level"], 1e-30)
    tiny = tmp_path / "tiny.npz"
    with open(tiny, "wb") as fh:
        np.savez(fh, **arrays)
    one_line_error(*dream(toy_checkpoint, tmp_path / "b.wav", "--prior", tiny, "--steps", "3000",
                          "--no-panel")[::2], "tiny.npz", "overflow")
    assert not list(tmp_path.glob("*.json"))


# 26: a prior given to a dream that cannot use it is refused, not ignored
def test_item26_a_prior_with_the_spectrogram_param_is_refused(toy_checkpoint, tmp_path):
    one_line_error(*dream(toy_checkpoint, tmp_path / "j.wav", "--param", "spectrogram", "--prior", PRIOR,
                          "--no-panel")[::2], "--prior", "spectrogram")


# 29: a scheduler's thread count is capped with a warning
@pytest.mark.slow
def test_item29_a_huge_omp_num_threads_is_capped(toy_checkpoint, tmp_path):
    before = torch.get_num_threads()
    try:
        code, _, err = dream(toy_checkpoint, tmp_path / "j.wav", "--no-panel", env={"OMP_NUM_THREADS": "1000"})
    finally:
        torch.set_num_threads(before)
    assert code == 0, err
    assert err.count("warning: OMP_NUM_THREADS=1000 is more than") == 1, err


# 30: one bad file among many is skipped, the rest written
def test_item30_one_bad_file_does_not_lose_the_table(ckpt, tmp_path):
    good, other = song(tmp_path / "a.wav"), song(tmp_path / "b.wav", seconds=10.0)
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"not audio at all")
    code, out, err = run("predict", good, bad, other, "--checkpoint", ckpt, "-o", tmp_path / "t.csv")
    assert code == 0 and "warning: skipping" in err and "broken.wav" in err, err
    rows = (tmp_path / "t.csv").read_text().splitlines()
    assert len(rows) == 3 and "broken" not in "".join(rows)
    code, out, err = run("judge", good, bad, "--json")
    assert code == 0 and "warning: skipping" in err, err
    assert [v["name"] for v in json.loads(out)] == [str(good)]
    one_line_error(*run("predict", bad, "--checkpoint", ckpt)[::2], "broken.wav")  # alone: its error


# 33: long work says what it is doing
def test_item33_the_dream_says_what_comes_after_the_bar(toy_checkpoint, tmp_path):
    code, _, err = run("--genre", "jazz", "--checkpoint", toy_checkpoint, "-o", tmp_path / "j.wav", "--objective",
                       "class", "--steps", "2", "--iters", "2")
    assert code == 0, err
    assert "loading the held-out listening panel" in err and "Griffin-Lim" in err and "judging it" in err, err


def test_item33_baselines_say_they_fit_without_progress(gtzan_dir, tmp_path):
    code, _, err = run("reproduce", "--data", gtzan_dir, "--split", "track", "--models", "softmax", "-o", tmp_path,
                       "--quiet")
    assert code == 0, err
    assert "softmax: training (model 1 of 1)" in err and "shows no progress while it fits" in err, err


@pytest.mark.slow
@pytest.mark.parametrize("name", ["03_class_vs_neuron_objective", "05_what_the_prior_adds"])
def test_item33_the_slow_examples_say_what_they_do(name, tmp_path, capsys):
    from test_examples import load

    load(name).main(["--synthetic", "--quick", "--out", str(tmp_path)])
    assert "dreaming" in capsys.readouterr().err


# 36: the notebook finds the data as everything else does, and warns about no progress widget
def test_item36_the_notebook_uses_the_shared_data_path(tmp_path):
    from test_notebook import NOTEBOOK, code_cells

    source = "\n".join(code_cells(NOTEBOOK))
    assert "/work/" not in source and '"shared" / "gtzan4k"' in source and "GTZAN" in source


@pytest.mark.slow
def test_item36_the_notebook_shows_no_iprogress_warning(tmp_path):
    """Its cells in a process that looks like a Jupyter kernel without ipywidgets."""
    script = f"""
import sys, types, warnings
warnings.simplefilter("always")
sys.modules["ipykernel.zmqshell"] = types.ModuleType("ipykernel.zmqshell")
import IPython
class ZMQInteractiveShell:
    config = {{}}
    events = types.SimpleNamespace(register=lambda *a: None, unregister=lambda *a: None)
IPython.get_ipython = lambda: ZMQInteractiveShell()
sys.path.insert(0, {str(REPO / "tests")!r})
from test_notebook import NOTEBOOK, code_cells, run
run(code_cells(NOTEBOOK), {{"__name__": "__main__"}})
print("ran")
"""
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "GTZAN": str(tmp_path / "no-data")})
    assert proc.returncode == 0 and "ran" in proc.stdout, proc.stderr
    assert "IProgress" not in proc.stderr and "TqdmWarning" not in proc.stderr, proc.stderr
