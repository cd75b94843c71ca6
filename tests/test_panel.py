"""The held-out listening panel: judges, verdicts, distances, novelty, temporal statistics, CLI errors."""
import json

import numpy as np
import pytest

from auralize import panel
from auralize.panel import registry
from auralize.panel.cnn import CNNJudge
from auralize.data import load_clips
from auralize.panel.handmade import FeatureJudge
from auralize.panel.melrnn import MelLSTM, MelLSTMJudge
from auralize.panel.recurrent import RecurrentJudge
from auralize.panel.temporal import STATS, temporal_stats
from auralize.panel.training import score_judge
from conftest import make_gtzan, one_line_error, run_cli, synth_track


run = run_cli


@pytest.fixture(scope="session")
def clips(tmp_path_factory):
    """3 genres x 7 tracks x 2 clips, every track different (make_gtzan repeats a track per part)."""
    import soundfile as sf

    root = tmp_path_factory.mktemp("panel-gtzan") / "genres"
    for genre in ("classical", "metal", "hiphop"):
        (root / genre).mkdir(parents=True)
        for i in range(7):
            sf.write(root / genre / f"{genre}.{i:05d}.wav", synth_track(genre, i, 10.5, 4000), 4000)
    return load_clips(root)


@pytest.fixture(scope="session")
def tiny_panel(clips, tmp_path_factory):
    """Every registered judge, trained tiny on the synthetic genres, in a panel folder."""
    folder = tmp_path_factory.mktemp("panel")
    tiny = {"features": lambda: FeatureJudge.fit(clips, log=lambda m: None),
            "cnn": lambda: CNNJudge.fit(clips, epochs=2, width=4, log=lambda m: None),
            "lstm-mel": lambda: MelLSTMJudge.fit(clips, epochs=2, hidden=8, layers=1, log=lambda m: None),
            "lstm-seed1": lambda: RecurrentJudge.fit(clips, hidden=8, layers=1, epochs=2, log=lambda m: None)}
    assert set(tiny) == set(panel.JUDGES)  # a new judge needs its tiny twin here
    for name, fit in tiny.items():
        fit().save(registry.judge_path(name, folder))
    return folder


def test_tiny_judges_load_and_answer(tiny_panel, clips):
    audio = clips.audio[:3]
    for name in panel.JUDGES:
        judge = panel.load_judge(name, tiny_panel)
        probs = judge.probabilities(audio)
        assert probs.shape == (3, len(clips.genres)) and np.allclose(probs.sum(1), 1)
        emb = judge.embed(audio)
        assert emb.ndim == 2 and len(emb) == 3 and np.all(np.isfinite(emb))
        assert np.array_equal(probs, judge.probabilities(audio))  # deterministic


@pytest.mark.parametrize("name", list(panel.JUDGES))
def test_shipped_judges_load_and_answer(name):
    judge = panel.load_judge(name)  # trained/panel in the repository
    audio = np.stack([synth_track(g, 0, 5.0, 4000) for g in ("classical", "metal")])
    probs = judge.probabilities(audio)
    assert probs.shape == (2, 10) and np.allclose(probs.sum(1), 1)
    assert judge.embed(audio).shape[0] == 2
    assert judge.meta["scores"]["test"]["clip_accuracy"] > 0.3  # far above chance (0.1) on real test clips
    assert registry.judge_path(name).with_suffix(".md").is_file()  # its model card


def test_lstm_mel_hears_how_the_spectrum_moves_not_its_mean():
    import torch

    torch.manual_seed(0)
    net = MelLSTM(3, hidden=8, layers=1).eval()
    x = torch.randn(2, 64, 40)
    offset = torch.randn(1, 64, 1) * 3  # another mean spectrum, the same movements
    with torch.no_grad():
        assert torch.allclose(net(x), net(x + offset), atol=1e-5)
        assert not torch.allclose(net(x), net(x.flip(2) * 2), atol=1e-3)  # but it does hear the movements
        uncentred = MelLSTM(3, hidden=8, layers=1, centre_bands=False).eval()
        assert not torch.allclose(uncentred(x), uncentred(x + offset), atol=1e-3)


def test_handmade_judge_separates_two_synthetic_genres(tmp_path):
    root = make_gtzan(tmp_path / "two", genres=("classical", "metal"), sr=4000)
    two = load_clips(root)
    judge = FeatureJudge.fit(two, log=lambda m: None)
    score = score_judge(judge, two, "test")
    assert score.n_tracks == 2 and score.clip_accuracy == 1.0 and score.track_accuracy == 1.0


def test_judge_api_verdicts(tiny_panel, clips):
    song = np.concatenate(list(clips.audio[:2]))
    [v] = panel.judge(song, genre="classical", folder=tiny_panel)
    assert v.n_clips == 2 and [j.judge for j in v.verdicts] == list(panel.PANEL)
    assert 0 <= v.p_target <= 1 and v.target == "classical"
    assert (v.majority is not None) == (v.votes * 2 > 3)
    d = v.to_dict()
    assert json.loads(json.dumps(d))["n_judges"] == 3
    two = panel.judge([song, song], judges="features,cnn", folder=tiny_panel)
    assert len(two) == 2 and len(two[0].verdicts) == 2
    [outside] = panel.judge(song, judges="lstm-seed1", folder=tiny_panel)  # registered, usable, not in the panel
    assert [j.judge for j in outside.verdicts] == ["lstm-seed1"]


def test_default_panel_is_three_registered_judges_without_lstm_seed1():
    assert len(panel.PANEL) == 3 and set(panel.PANEL) <= set(panel.JUDGES)
    assert "lstm-seed1" in panel.JUDGES and "lstm-seed1" not in panel.PANEL


def test_distances_zero_for_identical_sets_and_grow_with_a_shift():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((40, 6))
    for distance in (panel.frechet_distance, panel.kernel_distance):
        assert distance(a, a) == pytest.approx(0.0, abs=1e-8)
        near, far = distance(a, a + 0.5), distance(a, a + 2.0)
        assert 0 < near < far
    genre, distances = panel.nearest_genre(a + 0.1, {"x": a, "y": a + 3})
    assert genre == "x" and distances["x"] < distances["y"]


def test_novelty_flags_a_copied_clip():
    rng = np.random.default_rng(1)
    real = rng.standard_normal((60, 8))
    tracks = np.repeat(np.arange(20), 3)
    dreams = np.stack([real[7], rng.standard_normal(8) * 3])
    result = panel.novelty(dreams, real, tracks)
    assert result.copies.tolist() == [True, False]
    assert result.nearest[0] == pytest.approx(0.0, abs=1e-6) and result.nearest_index[0] == 7


def test_temporal_stats_tell_beats_from_a_stationary_texture():
    beats = synth_track("hiphop", 0, 5.0, 4000)  # clicks on a beat
    noise = np.random.default_rng(0).standard_normal(20000).astype(np.float32) * 0.1
    b, n = temporal_stats(beats), temporal_stats(noise)
    assert set(b) == set(STATS)
    assert b["onset_cv"] > n["onset_cv"] and b["modulation_depth"] > n["modulation_depth"]


def test_cli_judge_prints_verdicts(tiny_panel, tmp_path):
    import soundfile as sf

    wav = tmp_path / "c.wav"
    sf.write(wav, synth_track("classical", 0, 5.0, 4000), 4000)
    code, out, err = run(["judge", str(wav), "--genre", "classical"], env={"AURALIZE_PANEL": str(tiny_panel)})
    assert code == 0, err
    assert "p(classical)" in out and ("panel agrees" in out or "panel split" in out)
    code, out, err = run(["judge", str(wav), "--judges", "cnn", "--json"], env={"AURALIZE_PANEL": str(tiny_panel)})
    assert code == 0 and json.loads(out)[0]["n_judges"] == 1


def test_cli_judge_errors_are_one_line(tiny_panel, tmp_path):
    env = {"AURALIZE_PANEL": str(tiny_panel)}
    text = tmp_path / "notes.wav"
    text.write_text("not audio at all\n")
    one_line_error(*run(["judge", str(text)], env=env)[::2], "cannot decode")
    one_line_error(*run(["judge", str(text), "--judges", "features,oracle"], env=env)[::2], "--judges names no judge called 'oracle'")
    empty = tmp_path / "empty-panel"
    empty.mkdir()
    code, _, err = run(["judge", str(text), "--judges", "cnn"], env={"AURALIZE_PANEL": str(empty)})
    one_line_error(code, err, "auralize train-judge cnn --data")


def test_score_row_flags_a_copied_training_clip(tiny_panel, clips):
    from auralize.panel.scoring import build_reference, rows_table, score_row

    ref = build_reference(clips, folder=tiny_panel, outside=["lstm-seed1"])
    train = clips.split["train"]
    copy = [(clips.genres[clips.label[train[0]]], clips.audio[train[0]])]
    noise = [("metal", np.random.default_rng(0).standard_normal(20000).astype(np.float32) * 0.1)]
    rows = [score_row("copy", copy, ref), score_row("noise", noise, ref)]
    assert ref.threshold > 0
    assert rows[0]["copies"] == 1 and rows[1]["copies"] == 0
    assert rows[0]["nearest_real_min"] == pytest.approx(0.0, abs=1e-5)
    assert set(rows[0]["temporal"]) == set(STATS)
    assert set(rows[0]["judge_hits"]) == set(panel.PANEL) | {"lstm-seed1"}  # every judge's hits ...
    assert [len(v["judges"]) for v in rows[0]["items"]] == [4]
    assert rows[0]["outside_judges"] == ["lstm-seed1"]  # ... but only the panel votes
    table = rows_table(rows)
    assert table.count("\n") == 3 and "| copy | 1 |" in table and "lstm-seed1 hits (outside the panel)" in table


def test_every_dream_carries_the_panel_verdict(toy_checkpoint, tmp_path):
    """The dream JSON, its figure and the gallery give what the held-out panel heard, beside the round trip."""
    wav = tmp_path / "d" / "jazz.wav"
    code, out, err = run(["--genre", "jazz", "--checkpoint", str(toy_checkpoint), "--objective", "class",
                          "-o", str(wav), "--steps", "3", "--iters", "4", "--quiet"])
    assert code == 0, err
    assert "held-out panel hears" in out and "same-model round trip p(jazz)" in out
    meta = json.loads(wav.with_suffix(".json").read_text())
    verdict = meta["panel"]
    assert verdict["target"] == "jazz" and verdict["n_judges"] == len(panel.PANEL)
    assert [j["judge"] for j in verdict["judges"]] == list(panel.PANEL)
    # The verdict is the panel's on the WAV as written, read back.
    again = panel.judge(str(wav), genre="jazz")[0].to_dict()
    assert again["majority"] == verdict["majority"] and abs(again["p_target"] - verdict["p_target"]) < 1e-9
    code, out, err = run(["gallery", str(tmp_path / "d")])
    assert code == 0, err
    assert "held-out panel hears" in (tmp_path / "d" / "index.html").read_text()


def test_dream_without_panel_files_warns_and_still_writes(toy_checkpoint, tmp_path):
    wav = tmp_path / "jazz.wav"
    code, out, err = run(["--genre", "jazz", "--checkpoint", str(toy_checkpoint), "--objective", "class",
                          "-o", str(wav), "--steps", "2", "--iters", "2", "--quiet"],
                         env={"AURALIZE_PANEL": str(tmp_path / "nowhere")})
    assert code == 0, err
    assert "no panel verdict" in err and "panel: not judged" in out
    assert "panel" not in json.loads(wav.with_suffix(".json").read_text())
    code, out, err = run(["--genre", "jazz", "--checkpoint", str(toy_checkpoint), "--objective", "class",
                          "-o", str(wav), "--steps", "2", "--iters", "2", "--quiet", "--no-panel"])
    assert code == 0 and "panel" not in json.loads(wav.with_suffix(".json").read_text())
