"""Ensemble files: several checkpoints as one model (``auralize ensemble``), loaded wherever a checkpoint is."""
import json
import shutil

import numpy as np
import pytest
import torch

import auralize
from auralize.audiomodel import source_for_workers
from auralize.neurons import neurons_path
from conftest import one_line_error, run_cli


@pytest.fixture()
def team(ckpt, tmp_path):
    """Two members (the same weights under two names) and the ensemble file beside them."""
    folder = tmp_path / "team"
    folder.mkdir()
    for name in ("a.pt", "b.pt"):
        shutil.copy(ckpt, folder / name)
    code, out, err = run_cli(["ensemble", folder / "a.pt", folder / "b.pt", "-o", folder / "team.json"])
    assert code == 0, err
    assert "mean of 2 members" in out
    return folder / "team.json"


def test_an_ensemble_file_loads_as_the_mean_of_its_members(team, ckpt):
    """The file names its members relative to its folder; load_model gives the mean of their log-probabilities."""
    spec = json.loads(team.read_text())
    assert spec["kind"] == "ensemble" and spec["members"] == ["a.pt", "b.pt"] and spec["combine"] == "mean"
    model = auralize.load_model(team)
    one = auralize.load_model(ckpt)
    audio = torch.from_numpy(np.random.default_rng(0).normal(0, 0.1, (2, one.clip_samples)).astype(np.float32))
    with torch.no_grad():
        want = torch.log_softmax(one(one.features(audio)), 1)
        got = model(model.features(audio))
    assert torch.allclose(got, want, atol=1e-6)
    assert model.genres == one.genres and model.meta["split"] == one.meta["split"]
    # worker processes and the neuron statistics find it by its file
    assert source_for_workers(model) == str(team)
    assert neurons_path(model) == team.with_name("team.neurons.json")


def test_an_ensemble_folder_moves_as_a_whole(team, tmp_path):
    moved = shutil.copytree(team.parent, tmp_path / "elsewhere")
    shutil.rmtree(team.parent)
    assert auralize.load_model(moved / "team.json").genres


def test_min_combines_by_the_smallest_log_probability(ckpt, tmp_path):
    path = auralize.save_ensemble([ckpt, ckpt], tmp_path / "m.json", combine="min", name="both")
    model = auralize.load_model(path)
    assert model.combine == "min" and model.name == "both"


def test_info_lists_the_members(team):
    code, out, err = run_cli(["info", team])
    assert code == 0, err
    assert "(an ensemble)" in out and "member m0" in out and "member m1" in out and "best epoch" not in out


def _write(path, **fields):
    path.write_text(json.dumps({"kind": "ensemble", "version": 1, **fields}))
    return path


@pytest.mark.parametrize("fields, needle", [
    (dict(members=[], combine="mean"), "names 0 members"),
    (dict(members=["a.pt"] * 17, combine="mean"), "names 17 members"),
    (dict(members=["a.pt"], combine="max"), "combine must be mean or min"),
    (dict(members=["missing.pt"], combine="mean"), "missing.pt"),
    (dict(members=["model.py:build"], combine="mean"), "not a checkpoint (.pt)"),
    (dict(members=["other.json"], combine="mean"), "not a checkpoint (.pt)"),
    (dict(members="a.pt", combine="mean"), "members"),
    (dict(members=["a.pt"], combine="mean", temperatures=[0]), "temperatures"),
    (dict(members=["a.pt"], combine="mean", temperatures=[1.0, 1.0]), "temperatures"),
    (dict(members=["a.pt"], combine="mean", temperatures=["hot"]), "temperatures"),
])
def test_a_damaged_ensemble_file_is_a_one_line_error(team, fields, needle):
    """Hand-edited files: too few or too many members, an unknown combination, a missing member, a member that
    would run code or nest another ensemble file, a field of the wrong type."""
    bad = _write(team.with_name("bad.json"), **fields)
    code, _, err = run_cli(["info", bad])
    one_line_error(code, err, needle)


def test_ensemble_command_refuses_bad_output(team, ckpt, tmp_path):
    a = team.with_name("a.pt")
    code, _, err = run_cli(["ensemble", a, "-o", a])
    one_line_error(code, err, "which is the member")
    code, _, err = run_cli(["ensemble", a, "-o", tmp_path / "team.txt"])
    one_line_error(code, err, "ends in .json")
    code, _, err = run_cli(["ensemble", a, tmp_path / "nothing.pt", "-o", tmp_path / "x.json"])
    one_line_error(code, err, "nothing.pt")
    assert not (tmp_path / "x.json").exists()
