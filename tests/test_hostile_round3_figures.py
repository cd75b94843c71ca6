"""Issue 18, A and E: figures that were silently wrong, and figures that were misleading.

Evaluation on a split that overlaps the training tracks, the gallery pairing dotted names, damaged
judges and priors that vote or pull, NaN in and out of the API, what a dream JSON records, result
schemas, `$` in names, the explain figure, DC in the dreams.
"""
import base64
import json
import shutil

import numpy as np
import pytest
import soundfile as sf
import torch

import auralize
from auralize import results as R
from auralize.errors import AuralizeError
from conftest import one_line_error, run_cli, synth_track

PANEL = auralize.TRAINED_DIR / "panel"


def run(*args, env=None):
    return run_cli(args, env)


def song(path, seconds=15.0, sr=4000, dc=0.0):
    sf.write(path, synth_track("hiphop", 1, seconds, sr) + np.float32(dc), sr)
    return path


def dream(ck, out, *extra):
    return run("--genre", "jazz", "--checkpoint", ck, "-o", out, "--objective", "class", "--steps", "2",
               "--iters", "2", "--quiet", *extra)


# 1: evaluate on the checkpoint's own split; another split's trained-on tracks are said and marked
def test_item1_evaluate_defaults_to_the_checkpoints_split_and_marks_an_overlapping_one(ckpt, gtzan_dir, tmp_path):
    code, out, err = run("evaluate", ckpt, "--data", gtzan_dir, "-o", tmp_path / "own", "--quiet")
    assert code == 0, err
    assert out.startswith("track split (seed 0") and "INFLATED" not in out and "warning" not in err, out + err
    code, out, err = run("evaluate", ckpt, "--data", gtzan_dir, "--split", "filtered", "-o", tmp_path / "f", "--quiet")
    assert code == 0, err
    assert "warning:" in err and "in this checkpoint's training part" in err and "inflated" in err, err
    assert "INFLATED" in out.splitlines()[0]
    marked = json.loads((tmp_path / "f" / "mlp-filtered-test.json").read_text())["training_overlap"]
    assert marked["tracks"] > 0 and marked["training_split"].startswith("track split (seed 0")


def test_item1_the_shipped_lstm_is_evaluated_on_its_card_split(real_data, tmp_path):
    code, out, err = run("evaluate", auralize.default_checkpoint("lstm"), "--data", real_data, "-o", tmp_path,
                         "--quiet")
    assert code == 0, err
    assert "clip accuracy  0.705" in out and "track accuracy 0.760" in out, out  # trained/lstm.md's figures


# 2: the gallery names a dream's files as the writer does
def test_item2_the_gallery_pairs_dotted_names_as_the_writer_names_them(toy_checkpoint, tmp_path):
    g = tmp_path / "g2"
    code, _, err = dream(toy_checkpoint, g / "take1.5.wav", "--no-panel", "--seed", "1")
    assert code == 0, err
    code, _, err = run("gallery", g)
    assert code == 0 and "incomplete" not in err, err  # its set is complete
    code, _, err = dream(toy_checkpoint, g / "take1.wav", "--no-panel", "--seed", "2")
    assert code == 0, err
    code, _, err = run("gallery", g)
    assert code == 0, err
    cards = {c[c.index("<h3>") + 4:c.index("</h3>")]: c for c in (g / "index.html").read_text().split('class="card"')[1:]}
    for take in ("take1", "take1.5"):
        own = base64.b64encode((g / f"{take}-22050.wav").read_bytes()).decode()
        assert own in cards[f"{take}.json"], take  # each card plays its own dream


# 3: a damaged judge never votes
def _panel_copy(tmp_path):
    folder = tmp_path / "panel"
    shutil.copytree(PANEL, folder)
    return folder


def _edit_features(folder, **changes):
    path = folder / "features.npz"
    with np.load(path) as z:
        arrays = dict(z)
    arrays.update(changes)
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)


@pytest.mark.parametrize("damage", [
    lambda a: {"coef": np.full_like(a["coef"], np.nan)},
    lambda a: {"coef": a["coef"] * 1e30, "intercept": a["intercept"] * 1e30},
    lambda a: {"genres": np.array(list(a["genres"][1:]) + [a["genres"][0]])[:-1]},  # one name short of the outputs
    lambda a: {"genres": np.array(["jazz"] * len(a["genres"]))},
])
def test_item3_a_damaged_judge_is_refused_not_counted(tmp_path, damage):
    folder = _panel_copy(tmp_path)
    with np.load(folder / "features.npz") as z:
        _edit_features(folder, **damage(dict(z)))
    wav = song(tmp_path / "s.wav")
    code, out, err = run("judge", wav, "--genre", "jazz", "--json", env={"AURALIZE_PANEL": str(folder)})
    one_line_error(code, err, "features.npz", "damaged")
    assert "NaN" not in out and "3 of 3" not in out


def test_item3_a_judge_named_twice_votes_once(tmp_path):
    wav = song(tmp_path / "s.wav")
    one_line_error(*run("judge", wav, "--judges", "features,features")[::2], "--judges", "features", "twice")


@pytest.mark.parametrize("edit,needle", [
    (lambda p: p.update(config=json.dumps({**json.loads(p["config"]), "width": 2048})), "width is 2048"),
    (lambda p: p.update(state_dict={k: v * 1e30 if v.is_floating_point() else v for k, v in p["state_dict"].items()}),
     "beyond 1e12"),
    (lambda p: p.update(genres=p["genres"][:-1]), "9 genres for 10 outputs"),
])
def test_item3_an_edited_network_judge_is_refused_before_it_is_built(tmp_path, edit, needle):
    folder = _panel_copy(tmp_path)
    payload = torch.load(folder / "cnn.pt", weights_only=True)
    edit(payload)
    torch.save(payload, folder / "cnn.pt")
    wav = song(tmp_path / "s.wav")
    one_line_error(*run("judge", wav, "--judges", "cnn", env={"AURALIZE_PANEL": str(folder)})[::2], "cnn.pt", needle)


# 4: a prior with duplicate genre names is refused
def test_item4_a_prior_with_duplicate_genres_is_refused(tmp_path):
    from auralize.dream.priors import read_prior

    prior = read_prior(auralize.TRAINED_DIR / "genre-prior.npz")
    prior.genres = ("blues",) * len(prior.genres)
    prior.meta.pop("path")
    bad = prior.save(tmp_path / "dup.npz")
    with pytest.raises(AuralizeError, match="genre names are not distinct"):
        auralize.load_prior(bad)


# 5: NaN and infinity in, NaN out: refused where they enter
@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_item5_non_finite_init_and_prior_audio_are_refused(toy_checkpoint, value):
    model = auralize.load_model(toy_checkpoint)
    bad = np.full(20000, 0.1, np.float32)
    bad[100] = value
    with pytest.raises(AuralizeError, match="init holds non-finite samples") as exc:
        auralize.render(model, auralize.class_logprob(0), auralize.DreamSettings(param=auralize.FineParam, init=bad,
                                                                                 steps=1))
    assert exc.value.param == "init"
    with pytest.raises(AuralizeError, match="audio holds NaN or infinity") as exc:
        auralize.load_prior("genre").distance(torch.from_numpy(bad)[None], "jazz")
    assert exc.value.param == "audio"


# 6: the dream JSON says which song it started from
def test_item6_the_dream_json_records_the_init_song_and_its_hash(toy_checkpoint, tmp_path):
    import hashlib

    start = song(tmp_path / "rock.wav")
    code, _, err = dream(toy_checkpoint, tmp_path / "out" / "j.wav", "--init", start, "--no-panel")
    assert code == 0, err
    recorded = R.read(tmp_path / "out" / "j.json", "dream")["init"]
    assert recorded == {"path": str(start), "sha256": hashlib.sha256(start.read_bytes()).hexdigest()}


# 19: a $ in a name is text, not mathtext
def test_item19_dollar_signs_in_names_are_drawn_as_text(toy_checkpoint, tmp_path):
    wav = song(tmp_path / "$\\foo$.wav")
    code, _, err = run("explain", wav, "--checkpoint", toy_checkpoint, "--method", "saliency", "-o", tmp_path / "x",
                       "--quiet")
    assert code == 0 and (tmp_path / "x" / "explain.png").stat().st_size > 0, err
    exp = auralize.explain(auralize.load_model(toy_checkpoint), wav, method="saliency", name="$\\bar$")
    assert "<img" in exp._repr_html_()  # the notebook's view too


@pytest.mark.slow
def test_item19_dollar_signs_in_genre_names(tmp_path):
    from conftest import make_gtzan

    data = make_gtzan(tmp_path / "g", {"train": 3, "valid": 1, "test": 1}, seconds=5.5, sr=4000,
                      genres=("classical", "metal"))
    (data / "metal").rename(data / "$\\foo$")
    ck = tmp_path / "m.pt"
    code, _, err = run("train", "--model", "mlp", "--hidden", "4", "--epochs", "1", "--data", data, "--split", "track",
                       "-o", ck, "--quiet")
    assert code == 0, err
    code, _, err = run("evaluate", ck, "--data", data, "-o", tmp_path / "e", "--quiet")
    assert code == 0 and list((tmp_path / "e").glob("*-confusion.png")), err


# 28: result schemas bound probabilities and counts
@pytest.mark.parametrize("field,value", [
    ("round_trip.p_target_mean", 1e308), ("panel.votes", 10**30), ("panel.n_judges", -5),
    ("panel.p_target", 1.5), ("panel.judges.0.p_target", -0.1), ("panel.votes", 4),
])
def test_item28_probabilities_and_counts_are_bounded(tmp_path, field, value):
    meta = {"genre": "jazz", "round_trip": {"p_target_mean": 0.9, "verdict": "jazz"},
            "panel": {"votes": 2, "n_judges": 3, "p_target": 0.8,
                      "judges": [{"judge": "cnn", "genre": "jazz", "p_target": 0.8}]}}
    path = R.write(tmp_path / "d.json", "dream", meta)
    data = json.loads(path.read_text())
    *parents, last = field.split(".")
    where = data
    for key in parents:
        where = where[int(key)] if key.isdigit() else where[key]
    where[last] = value
    path.write_text(json.dumps(data))
    with pytest.raises(AuralizeError, match="must be a|more than panel.n_judges"):
        R.read(path)


# 34: the explain figure: the legend beside the bars, not over the title; a scale for the attributions
def test_item34_the_explain_figure_has_a_clear_title_and_colour_scales(toy_checkpoint, tmp_path, monkeypatch):
    from auralize import plots

    figures = []
    real = plots.save_figure
    monkeypatch.setattr(plots, "save_figure", lambda path, fig: (figures.append(fig), real(path, fig))[1])
    figures.clear()
    code, _, err = run("explain", song(tmp_path / "s.wav"), "--checkpoint", toy_checkpoint, "--method", "saliency",
                       "-o", tmp_path / "x", "--quiet")
    assert code == 0, err
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figures[0])  # the saved figure is closed: draw it again
    canvas.draw()
    fig, renderer = figures[0], canvas.get_renderer()
    legend = next(a.get_legend() for a in fig.axes if a.get_legend() is not None)
    title = fig._suptitle if fig._suptitle is not None else fig.axes[0].title
    assert not legend.get_window_extent(renderer).overlaps(title.get_window_extent(renderer))
    labels = [a.get_ylabel() for a in fig.axes]
    assert "attribution" in labels and "PSD (dB)" in labels  # the colour bars' labels


# 35: no DC offset in a dream's WAV
def test_item35_dreams_are_written_without_a_dc_offset(toy_checkpoint, tmp_path):
    start = song(tmp_path / "dc.wav", seconds=5.5, dc=0.2)
    code, _, err = dream(toy_checkpoint, tmp_path / "d.wav", "--init", start, "--max-change", "0.1", "--no-panel")
    assert code == 0, err
    for name in ("d.wav", "d-22050.wav"):
        audio, _ = sf.read(tmp_path / name)
        assert abs(audio.mean()) < 0.01 * np.sqrt(np.mean(audio**2)), name
