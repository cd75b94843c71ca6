"""The genre prior: statistics of real clips, fitted, saved, refused when damaged, and pulled towards."""
import json

import numpy as np
import pytest
import torch

from auralize.dream import prior as P
from auralize.dream.priors import read_prior
from auralize.dream.objectives import prior_match
from auralize.dream.params import FineParam
from auralize.dream.render import render
from auralize.settings import DreamSettings
from dataclasses import replace
from conftest import one_line_error, run_cli, synth_track

GENRES = ("classical", "metal", "hiphop")


@pytest.fixture(scope="module")
def synthetic():
    """Eight 5-s clips of each of three synthetic genres, and their labels."""
    audio = np.stack([synth_track(g, i, 5.0, 4000)[:20000] for g in GENRES for i in range(8)])
    return audio, np.repeat(np.arange(3), 8)


@pytest.fixture(scope="module")
def fitted(synthetic):
    return P.fit_prior(*synthetic, GENRES)


def test_every_statistic_is_finite_differentiable_and_one_row_per_clip():
    audio = torch.randn(2, 20000) * 0.1
    audio.requires_grad_(True)
    stats = P.statistics(audio)
    assert set(stats) == set(P.STATISTICS)
    for name, value in stats.items():
        assert value.shape[0] == 2 and value.ndim == 2 and torch.isfinite(value).all(), name
    sum(v.sum() for v in stats.values()).backward()
    assert torch.isfinite(audio.grad).all() and audio.grad.abs().sum() > 0


def test_the_prior_alone_tells_synthetic_genres_apart(fitted, synthetic):
    audio, labels = synthetic
    assert (P.nearest_genres(fitted, audio) == labels).mean() == 1.0
    # a clip is nearer its own genre than the others
    x = torch.from_numpy(audio[:1])
    own, other = float(fitted.distance(x, "classical")), float(fitted.distance(x, "metal"))
    assert own < other


def test_save_and_load_give_the_same_prior(fitted, tmp_path):
    path = fitted.save(tmp_path / "p.npz")
    back = read_prior(path)
    assert back.genres == fitted.genres and back.names == fitted.names
    for n in fitted.names:
        np.testing.assert_array_equal(back.mean[n], fitted.mean[n])
        np.testing.assert_array_equal(back.spread[n], fitted.spread[n])
    np.testing.assert_array_equal(back.clips, fitted.clips)


@pytest.mark.parametrize("damage, needle", [
    (lambda a: a.update({"spread/level": a["spread/level"] * np.nan}), "NaN, infinity or a spread <= 0"),
    (lambda a: a.update({"spread/level": -a["spread/level"]}), "spread <= 0"),
    (lambda a: a.update({"mean/level": a["mean/level"][:, :3]}), "has shape"),
    (lambda a: a.update({"clips": a["clips"][:2]}), "clip counts"),
    (lambda a: a.update({"mean/unknown": a["mean/level"], "spread/unknown": a["spread/level"]}),
     "does not know (unknown)"),
    (lambda a: a.update({"format": np.array("something else")}), "is not a prior auralize can read"),
])
def test_a_damaged_prior_is_refused_in_one_line(fitted, tmp_path, damage, needle):
    good = fitted.save(tmp_path / "p.npz")
    with np.load(good) as z:
        arrays = dict(z)
    damage(arrays)
    bad = tmp_path / "bad.npz"
    np.savez(bad, **arrays)
    with pytest.raises(P.AuralizeError, match=needle.replace("(", r"\(").replace(")", r"\)")):
        read_prior(bad)


def test_a_missing_or_foreign_prior_says_how_to_make_one(tmp_path):
    with pytest.raises(P.AuralizeError, match="auralize train-prior"):
        read_prior(tmp_path / "nowhere.npz")
    with pytest.raises(P.AuralizeError, match="is a folder"):
        read_prior(tmp_path)
    (tmp_path / "x.npz").write_bytes(b"not a zip")
    with pytest.raises(P.AuralizeError, match="is not a prior auralize can read"):
        read_prior(tmp_path / "x.npz")


@pytest.mark.slow
def test_a_dream_pulled_by_the_prior_moves_towards_the_genre(fitted, toy_checkpoint):
    from auralize.checkpoint import load_model

    model = load_model(toy_checkpoint)
    x = torch.from_numpy(np.random.default_rng(0).standard_normal((1, 20000)).astype(np.float32) * 1e-3)
    start = float(fitted.distance(x, "hiphop"))
    bare = DreamSettings(param=FineParam, steps=40, l2=0, tv_time=0, tv_freq=0, clamp=False, seed=0)
    result = render(model, prior_match(fitted, "hiphop"), bare)
    end = float(fitted.distance(result.audio[:, :20000], "hiphop"))
    assert end < 0.5 * start
    assert result.curve[-1, 0] > result.curve[0, 0]
    # and it is seeded: the same seed gives the same dream
    again = render(model, prior_match(fitted, "hiphop"), bare)
    torch.testing.assert_close(again.audio, result.audio, rtol=0, atol=0)


def test_the_caricature_moves_the_target_away_from_the_other_genres(fitted):
    plain, far = fitted.target("metal", 0.0), fitted.target("metal", 1.0)
    others = [fitted.mean["level"][fitted.genres.index(g)] for g in GENRES if g != "metal"]
    np.testing.assert_allclose(plain["level"], fitted.mean["level"][1])
    np.testing.assert_allclose(far["level"] - plain["level"], plain["level"] - np.mean(others, axis=0))
    # pulling to the caricature = pulling to the genre while pushing from the others (same gradient)
    x = torch.randn(1, 20000) * 0.1
    x.requires_grad_(True)
    fitted.distance(x, "metal", 1.0).sum().backward()
    g1 = x.grad.clone()
    x.grad = None
    own = fitted.distance(x, "metal")
    rest = torch.stack([fitted.distance(x, g) for g in GENRES if g != "metal"]).mean(0)
    (2 * own - rest).sum().backward()
    torch.testing.assert_close(g1, x.grad, rtol=1e-3, atol=1e-6)


def test_listening_level_sets_the_rms_and_keeps_peaks_and_silence():
    from auralize.dream.audible import listening_level

    rng = np.random.default_rng(0)
    quiet = 1e-3 * rng.standard_normal((2, 4000)).astype(np.float32)
    out = listening_level(quiet)
    np.testing.assert_allclose(np.sqrt((out.astype(np.float64) ** 2).mean(1)), 0.05, rtol=1e-4)
    spiky = np.zeros((1, 4000), np.float32)
    spiky[0, 10] = 0.01  # reaching RMS 0.05 would clip: the peak decides
    assert np.abs(listening_level(spiky)).max() == pytest.approx(0.99)
    silent = np.zeros((1, 100), np.float32)
    assert not listening_level(silent).any()


def test_the_prior_needs_audio(toy_checkpoint, tmp_path):
    """The prior reads audio: off by default for the spectrogram parameterisation, refused there when asked for."""
    from auralize.dream.audible import _prior_for
    from auralize.settings import Target

    assert _prior_for(Target(), "spectrogram", ["jazz"])[:2] == (0.0, None)
    with pytest.raises(P.AuralizeError, match="does not hold"):
        _prior_for(Target(prior_weight=1.0), "spectrogram", ["jazz"])


def test_train_prior_cli_writes_the_prior_and_its_card(gtzan_dir, tmp_path):
    out = tmp_path / "prior.npz"
    code, stdout, err = run_cli(["train-prior", "--kind", "genre", "--data", gtzan_dir, "-o", out, "--quiet"])
    assert code == 0, err
    assert "nearest to their own genre" in stdout and out.is_file()
    card = out.with_suffix(".md").read_text()
    assert "training clips" in card and "no clip, and no audio, can be rebuilt" in card
    assert set(read_prior(out).covers(GENRES)) == set(GENRES)
    code, _, err = run_cli(["train-prior", "--kind", "genre", "--data", gtzan_dir, "-o", tmp_path / "two.npz",
                            "--quiet", "--statistics", "level,texture"])
    assert code == 0, err
    assert read_prior(tmp_path / "two.npz").names == ("level", "texture")
    one_line_error(*run_cli(["train-prior", "--data", gtzan_dir, "-o", tmp_path / "x.npz", "--statistics",
                             "level,wobble"])[::2], "--statistics names no statistic called", "wobble")
    one_line_error(*run_cli(["train-prior", "--data", gtzan_dir, "-o", tmp_path / "x.npz", "--statistics", ","])[::2],
                   "names no statistic")
    assert not (tmp_path / "x.npz").exists()


def test_dream_cli_records_the_prior_and_refuses_bad_prior_options(fitted, toy_checkpoint, tmp_path):
    path = fitted.save(tmp_path / "p.npz")
    wav = tmp_path / "d.wav"
    code, _, err = run_cli(["--genre", "metal", "--checkpoint", toy_checkpoint, "--objective", "class", "--prior", path,
                            "--steps", "2", "--iters", "2", "--no-panel", "--quiet", "-o", wav])
    assert code == 0, err
    meta = json.loads(wav.with_suffix(".json").read_text())
    assert meta["settings"]["prior"] == str(path) and meta["settings"]["prior_weight"] > 0
    assert "0.5 * prior(metal, caricature 1)" in meta["objective"]
    import soundfile as sf

    written = sf.read(wav)[0]
    assert abs(np.sqrt(np.mean(written**2)) - 0.05) < 0.005 or np.abs(written).max() > 0.98  # the listening level
    base = ["--checkpoint", toy_checkpoint, "--objective", "class", "--steps", "2", "--no-panel", "--quiet",
            "-o", tmp_path / "e.wav"]
    one_line_error(*run_cli(["--genre", "jazz", "--prior", path, *base])[::2], "no clips of 'jazz'", "train-prior")
    one_line_error(*run_cli(["--genre", "metal", "--prior", tmp_path / "none.npz", *base])[::2],
                   "not found", "auralize train-prior")
    one_line_error(*run_cli(["--genre", "metal", "--param", "spectrogram", "--prior-weight", "1", *base])[::2],
                   "--prior-weight", "--param fine")
    one_line_error(*run_cli(["--genre", "metal", "--prior-weight", "nan", *base])[::2], "--prior-weight")
    assert not (tmp_path / "e.wav").exists()


def test_the_default_prior_left_out_with_a_warning_when_missing(toy_checkpoint, tmp_path):
    wav = tmp_path / "d.wav"
    code, _, err = run_cli(["--genre", "metal", "--checkpoint", toy_checkpoint, "--objective", "class", "--steps", "2",
                            "--iters", "2", "--no-panel", "--quiet", "-o", wav],
                           env={"AURALIZE_PRIOR": str(tmp_path / "none.npz")})
    assert code == 0, err
    assert "dreaming without the prior" in err
    assert json.loads(wav.with_suffix(".json").read_text())["settings"]["prior"] is None


def test_max_change_keeps_a_transfer_near_its_song(fitted, toy_checkpoint, tmp_path):
    """--init SONG --max-change D: every value of the fine log-magnitude stays within D of the song's."""
    from auralize.checkpoint import load_model
    from auralize.invert import fine_stft

    model = load_model(toy_checkpoint)
    song = synth_track("classical", 0, 5.0, 4000)[:20000]
    start = torch.log(fine_stft(torch.from_numpy(song)[None]).abs() + 1e-5)
    bare = DreamSettings(param=FineParam, init=song, steps=30, l2=0, tv_time=0, tv_freq=0, clamp=False, jitter=0,
                         noise=0, seed=0)
    result = render(model, prior_match(fitted, "metal"), replace(bare, max_change=0.3))
    moved = (result.params[0].logmag.detach() - start).abs().max()
    assert 0.2 < float(moved) <= 0.3 + 1e-5
    free = render(model, prior_match(fitted, "metal"), bare)
    assert float((free.params[0].logmag.detach() - start).abs().max()) > 0.5
    assert result.settings["max_change"] == 0.3


def test_max_change_option_is_checked_and_recorded(toy_checkpoint, tmp_path):
    wav = tmp_path / "t.wav"
    song = tmp_path / "song.wav"
    import soundfile as sf

    sf.write(song, synth_track("metal", 1, 6.0, 4000), 4000)
    base = ["--genre", "jazz", "--checkpoint", toy_checkpoint, "--objective", "class", "--steps", "2", "--iters", "2",
            "--no-panel", "--quiet", "--init", song]
    code, _, err = run_cli([*base, "--max-change", "0.5", "-o", wav])
    assert code == 0, err
    assert json.loads(wav.with_suffix(".json").read_text())["settings"]["max_change"] == 0.5
    for bad in ("0", "-1", "nan", "1e9"):
        one_line_error(*run_cli([*base, "--max-change", bad, "-o", tmp_path / "x.wav"])[::2], "--max-change")
    assert not (tmp_path / "x.wav").exists()
