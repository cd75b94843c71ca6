"""The fine-grid parameterisation (``--param fine``), copies per step and ``name:value`` transforms."""
import json

import numpy as np
import pytest
import torch

from auralize import features as F
from auralize.dream import PARAMS, FineParam, FreqMask, TimeMask, from_names, render, to_audio
from auralize.settings import DreamSettings
from auralize.dream.objectives import Context, class_logprob, tv_time
from auralize.errors import AuralizeError

from conftest import run_cli


@pytest.fixture(scope="module")
def toy(toy_checkpoint):
    from auralize.checkpoint import load_model

    return load_model(toy_checkpoint)


def test_fine_is_registered():
    assert PARAMS["fine"] is FineParam


@pytest.mark.slow
def test_fine_keeps_shapes(toy):
    frames, samples = F.N_FRAMES + 1, F.CLIP_SAMPLES + F.HOP
    par = FineParam.initial(toy, frames, samples, "noise", torch.Generator().manual_seed(0))
    assert par.audio().shape == (1, samples)
    assert par().shape == (1, frames, F.N_BINS)
    assert par.grid().shape[0] == 1 and par.grid().shape[2] == 257
    assert par.to_audio(3, 0).shape == (1, samples)
    assert float(np.abs(par.to_audio(3, 0)).max()) <= 0.99 + 1e-6


def test_fine_griffin_lim_moves_the_phase_but_not_the_magnitude(toy):
    par = FineParam.initial(toy, F.N_FRAMES, F.CLIP_SAMPLES, "noise", torch.Generator().manual_seed(0))
    mag, phase = par.logmag.detach().clone(), par.phase.clone()
    par.project()
    assert torch.equal(par.logmag.detach(), mag)
    assert not torch.equal(par.phase, phase)
    before = par.phase.clone()
    par.to_audio(5, 0)  # writing the audio leaves the dream as it is
    assert torch.equal(par.phase, before)


def _dream(toy, seed, copies=2):
    settings = DreamSettings(param=FineParam, jitter=0, noise=0, transforms=("noise", "freq-mask:60"), steps=3,
                             copies=copies, seed=seed)
    result = render(toy, class_logprob(5, "jazz"), settings)
    return result, to_audio(result, n_iter=2, seed=seed)


def test_fine_is_seeded(toy):
    (a, wav_a), (b, wav_b), (_, wav_c) = _dream(toy, 0), _dream(toy, 0), _dream(toy, 1)
    assert wav_a.shape == (1, F.CLIP_SAMPLES)
    assert wav_a.tobytes() == wav_b.tobytes() and torch.equal(a.x, b.x)
    assert wav_a.tobytes() != wav_c.tobytes()
    assert a.settings["copies"] == 2


def test_copies_change_the_ascent_and_are_checked(toy):
    (one, _), (two, _) = _dream(toy, 0, copies=1), _dream(toy, 0, copies=2)
    assert not np.array_equal(one.curve, two.curve)
    with pytest.raises(AuralizeError, match="copies"):
        _dream(toy, 0, copies=0)


def test_tv_smooths_the_fine_grid(toy):
    par = FineParam.initial(toy, F.N_FRAMES, F.CLIP_SAMPLES, "noise", torch.Generator().manual_seed(0))
    ctx = Context(torch.zeros(1, 10), {}, par, None, None)
    assert ctx.grid.shape[2] == 257
    value = tv_time()(ctx)
    value.backward()
    assert par.logmag.grad is not None and float(value.detach()) > 0


def test_transform_settings_by_name():
    assert from_names("freq-mask:60,time-mask:3") == [FreqMask(60), TimeMask(3)]
    assert from_names("freq-shift:2.56")[0].bins == 2.56
    for bad in ("time-mask:2.5", "freq-mask:wide", "time-mask:99", "nope:1"):
        with pytest.raises(AuralizeError):
            from_names(bad)


@pytest.mark.slow
def test_cli_fine(toy_checkpoint, tmp_path):
    args = ["--genre", "jazz", "--checkpoint", toy_checkpoint, "--param", "fine", "--objective", "class",
            "--steps", "2", "--copies", "2", "--iters", "2", "--transforms", "noise,freq-shift:2.56,time-mask:3",
            "--tv-time", "0.02", "--no-panel", "--quiet", "--seed", "3"]
    wavs = []
    for name in ("a", "b"):
        code, out, err = run_cli(args + ["-o", tmp_path / f"{name}.wav"])
        assert code == 0, err
        wavs.append((tmp_path / f"{name}.wav").read_bytes())
    assert wavs[0] == wavs[1]
    settings = json.loads((tmp_path / "a.json").read_text())["settings"]
    assert settings["param"] == "fine" and settings["copies"] == 2
    code, out, err = run_cli(args[:-2] + ["--transforms", "freq-mask:x", "-o", tmp_path / "c.wav"])
    assert code == 2 and "freq-mask" in err
