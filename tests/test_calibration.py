"""Temperature scaling of ensemble members (auralize.calibration): fitted on held-out clips, applied before the
members' log-probabilities are combined."""
import json

import numpy as np
import pytest
import torch

import auralize
from auralize.calibration import fit_temperature, held_out_fit
from auralize.errors import AuralizeError
from auralize.evaluation import data_inputs, own_split, predict_logits
from conftest import one_line_error, run_cli


@pytest.mark.parametrize("true_t", [0.4, 2.5])
def test_the_fit_recovers_the_temperature_the_labels_were_drawn_at(true_t):
    """Labels drawn from softmax(z / T): the fit finds T, below 1 (under-confident logits) or above."""
    rng = np.random.default_rng(0)
    z = rng.normal(0, 2, (20000, 5))
    p = torch.softmax(torch.from_numpy(z / true_t), 1).numpy()
    y = np.array([rng.choice(5, p=row) for row in p])
    assert fit_temperature(z, y) == pytest.approx(true_t, rel=0.08)


@pytest.mark.parametrize("logits, labels, needle", [
    (np.zeros((0, 3)), np.zeros(0, int), "n > 0"),
    (np.array([[0.0, np.nan]]), np.array([0]), "not all finite"),
    (np.zeros((2, 3)), np.array([0, 3]), "labels must lie in 0..2"),
    (np.zeros((2, 3)), np.array([0]), "n labels"),
])
def test_the_fit_refuses_what_it_cannot_fit(logits, labels, needle):
    with pytest.raises(AuralizeError, match=needle):
        fit_temperature(logits, labels)


def test_an_ensemble_divides_each_members_logits_by_its_temperature(ckpt):
    one = auralize.load_model(ckpt)
    model = auralize.ensemble([one, one], temperatures=[0.5, 2.0])
    audio = torch.from_numpy(np.random.default_rng(0).normal(0, 0.1, (2, one.clip_samples)).astype(np.float32))
    with torch.no_grad():
        z = one(one.features(audio))
        want = (torch.log_softmax(z / 0.5, 1) + torch.log_softmax(z / 2.0, 1)) / 2
        got = model(model.features(audio))
    assert torch.allclose(got, want, atol=1e-5)
    assert model.temperatures == (0.5, 2.0)


@pytest.mark.parametrize("bad", [[0.0, 1.0], [-1.0, 1.0], [float("nan"), 1.0], [1.0], [True, 1.0], ["1", 1.0]])
def test_an_ensemble_refuses_temperatures_that_are_not_one_positive_number_per_member(ckpt, bad):
    one = auralize.load_model(ckpt)
    with pytest.raises(AuralizeError, match="one positive finite number per member"):
        auralize.ensemble([one, one], temperatures=bad)


def test_calibrate_fits_each_member_on_the_validation_part_of_its_own_split(ckpt, gtzan_dir, tmp_path, monkeypatch):
    """`auralize ensemble --calibrate --data DIR` records each member's temperature, fitted on its validation clips
    (never its test clips), and the file loads with them applied."""
    from auralize import calibration

    clips = auralize.load_clips(gtzan_dir)
    one = auralize.load_model(ckpt)
    split = own_split(one, clips.dataset, part="valid")
    seen = []
    monkeypatch.setattr(calibration, "fit_temperature", lambda z, y: seen.append((z, y)) or 0.5)
    fit = held_out_fit(one, clips)
    assert fit.temperature == 0.5 and fit.part == "valid" and fit.n_clips == len(split["valid"])
    valid = predict_logits(one, data_inputs(one, clips, split["valid"]))
    assert torch.equal(seen[0][0], valid) and np.array_equal(seen[0][1], clips.dataset.label[split["valid"]])
    assert not set(split["valid"]) & set(split["test"])
    monkeypatch.undo()
    want = held_out_fit(one, clips).temperature
    code, out, err = run_cli(["ensemble", ckpt, ckpt, "--calibrate", "--data", gtzan_dir, "-o", tmp_path / "t.json",
                              "--quiet"])
    assert code == 0, err
    assert out.count(f"temperature {want:.3f} on {len(split['valid'])} valid clips") == 2
    spec = json.loads((tmp_path / "t.json").read_text())
    assert spec["temperatures"] == [pytest.approx(want, abs=1e-4)] * 2
    valid = auralize.evaluate(one, clips, part="valid")
    assert spec["calibration"][0]["part"] == "valid"
    assert spec["calibration"][0]["accuracy"] == pytest.approx(valid.clip_accuracy, abs=1e-4)
    assert auralize.load_model(tmp_path / "t.json").temperatures == pytest.approx((want, want), abs=1e-4)
    code, out, err = run_cli(["info", tmp_path / "t.json"])
    assert code == 0 and f"temperature {want:.3f}" in out, err


def test_calibrate_without_data_is_a_one_line_error(ckpt, tmp_path):
    code, _, err = run_cli(["ensemble", ckpt, "--calibrate", "-o", tmp_path / "t.json"])
    one_line_error(code, err, "--calibrate", "--data")
    assert not (tmp_path / "t.json").exists()
    code, _, err = run_cli(["ensemble", ckpt, "--data", tmp_path, "-o", tmp_path / "t.json"])
    one_line_error(code, err, "--data is read only with --calibrate or --calibrate-output")
    assert not (tmp_path / "t.json").exists()


def test_a_file_without_temperatures_is_uncalibrated(ckpt, tmp_path):
    path = auralize.save_ensemble([ckpt], tmp_path / "plain.json")
    assert "temperatures" not in json.loads(path.read_text())
    assert auralize.load_model(path).temperatures == (1.0,)


def test_save_ensemble_takes_one_fit_per_member(ckpt, gtzan_dir, tmp_path):
    fits = auralize.fit_members([ckpt], auralize.load_clips(gtzan_dir))
    with pytest.raises(AuralizeError, match="one temperature fit per member"):
        auralize.save_ensemble([ckpt, ckpt], tmp_path / "t.json", fits=fits)
    path = auralize.save_ensemble([ckpt], tmp_path / "t.json", fits=fits)
    assert auralize.load_model(path).temperatures == (pytest.approx(fits[0].temperature, abs=1e-4),)


def test_an_output_temperature_divides_the_combined_output_and_keeps_every_verdict(ckpt):
    one = auralize.load_model(ckpt)
    plain, sharp = auralize.ensemble([one, one], temperatures=[0.5, 2.0]), auralize.ensemble(
        [one, one], temperatures=[0.5, 2.0], output_temperature=0.25)
    audio = torch.from_numpy(np.random.default_rng(1).normal(0, 0.1, (4, one.clip_samples)).astype(np.float32))
    with torch.no_grad():
        want, got = plain(plain.features(audio)), sharp(sharp.features(audio))
    assert torch.allclose(got, want / 0.25, atol=1e-5)
    assert torch.equal(got.argmax(1), want.argmax(1))
    assert sharp.temperatures == (0.5, 2.0) and plain.output_temperature == 1.0
    for bad in (0.0, -1.0, float("inf"), True):
        with pytest.raises(AuralizeError, match="output temperature must be a positive finite number"):
            auralize.ensemble([one], output_temperature=bad)


def test_calibrate_output_fits_the_combined_output_on_validation_clips_after_the_members(ckpt, gtzan_dir, tmp_path):
    """`--calibrate-output` records one temperature for the combined output, fitted with the members' own
    temperatures applied, and the file loads with it; `info` shows it."""
    clips = auralize.load_clips(gtzan_dir)
    one = auralize.load_model(ckpt)
    fits = auralize.fit_members([ckpt, ckpt], clips)
    want = held_out_fit(auralize.ensemble([one, one], temperatures=[f.temperature for f in fits]), clips)
    assert auralize.fit_output([ckpt, ckpt], clips, fits=fits) == want
    assert auralize.fit_output([ckpt, ckpt], clips) != want  # the members' temperatures are applied first
    code, out, err = run_cli(["ensemble", ckpt, ckpt, "--calibrate", "--calibrate-output", "--data", gtzan_dir,
                              "-o", tmp_path / "t.json", "--quiet"])
    assert code == 0, err
    assert f"combined output: temperature {want.temperature:.3f} on {want.n_clips} valid clips" in out
    spec = json.loads((tmp_path / "t.json").read_text())
    assert spec["output_temperature"] == pytest.approx(want.temperature, abs=1e-4)
    assert spec["output_calibration"]["part"] == "valid" and len(spec["temperatures"]) == 2
    model = auralize.load_model(tmp_path / "t.json")
    assert model.output_temperature == pytest.approx(want.temperature, abs=1e-4)
    code, out, err = run_cli(["info", tmp_path / "t.json"])
    assert code == 0 and f"combined output: temperature {model.output_temperature:.3f}" in out, err
    code, _, err = run_cli(["ensemble", ckpt, "--calibrate-output", "-o", tmp_path / "u.json"])
    one_line_error(code, err, "--calibrate-output", "--data")
    assert not (tmp_path / "u.json").exists()
    assert auralize.load_model(auralize.save_ensemble([ckpt], tmp_path / "plain.json")).output_temperature == 1.0
