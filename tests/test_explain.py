"""Attributions on songs, the audible explanation, and the explain command."""
import json

import numpy as np
import pytest
import soundfile as sf

from auralize import data as D
from auralize.errors import AuralizeError
from auralize.attribution import explain, listened
from auralize.training import TrainSettings, train
from conftest import one_line_error, run_cli, synth_track


@pytest.fixture(scope="module")
def models(gtzan_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("explain")
    ds = D.load_dataset(gtzan_dir, progress=False)
    for kind in ("lstm", "attention"):
        train(kind, ds, "track", hidden=8, layers=1, settings=TrainSettings(epochs=6, batch_size=8, lr=5e-3),
              out=folder / f"{kind}.pt", progress=False, log=lambda m: None)
    return folder


def invoke(*args):
    return run_cli(args)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["ig", "saliency"])
def test_attributions_shape_and_completeness(models, method):
    from auralize import load_model

    model = load_model(models / "lstm.pt")
    song = synth_track("metal", 1, 16.0, 4000)
    exp = explain(model, song, method, n_steps=200)
    assert exp.attributions.shape == (3, 22, 513) and exp.probabilities.shape == (3, 10)
    assert np.isfinite(exp.attributions).all() and np.abs(exp.attributions).sum() > 0
    if method == "ig":  # completeness: attributions sum to f(x) - f(silence), up to the IG approximation
        import torch

        from auralize.attribution import silence_baseline

        x = torch.from_numpy(model.scaler.transform(exp.psd).astype(np.float32))
        with torch.no_grad():
            gap = model(x)[:, exp.target[0]] - model(silence_baseline(model)[None].expand_as(x))[:, exp.target[0]]
        np.testing.assert_allclose(exp.attributions.sum((1, 2)), gap.numpy(), rtol=0.15, atol=0.05)


def test_listened_uses_the_songs_own_phase():
    song = synth_track("classical", 0, 10.0, 4000)
    everything = listened(song, np.ones((2, 22, 513)))
    covered = 1024 + 21 * 896
    for k in range(2):  # an all-ones mask gives the song back (inside the covered frames)
        a, b = everything[k * 20000 + 200:k * 20000 + covered - 200], song[k * 20000 + 200:k * 20000 + covered - 200]
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert np.abs(listened(song, -np.ones((2, 22, 513)))).max() == 0  # nothing positive: silence


def test_explain_command_writes_everything(models, tmp_path):
    song = tmp_path / "song.wav"
    stereo = np.stack([synth_track("hiphop", 2, 12.0, 22050)] * 2, 1)
    sf.write(song, stereo, 22050)  # stereo at another rate: mixed down and resampled
    code, out, err = invoke("explain", str(song), "--checkpoint", str(models / "attention.pt"),
                            "--out", str(tmp_path / "e"), "--quiet", "--steps", "8")
    assert code == 0, err
    assert "verdict:" in out and "clip   2" in out
    meta = json.loads((tmp_path / "e" / "explain.json").read_text())
    assert len(meta["clip_probabilities"]) == 2 and len(meta["attention"][0]) == 22
    for name in ("explain.png", "listened.wav", "listened-22050.wav", "attributions.npy"):
        assert (tmp_path / "e" / name).exists()
    assert sf.info(str(tmp_path / "e" / "listened.wav")).frames == 40000


one_line = one_line_error


def test_bad_songs(models, tmp_path):
    ck = ["--checkpoint", str(models / "lstm.pt"), "--quiet"]
    sf.write(tmp_path / "short.wav", 0.1 * np.random.default_rng(0).standard_normal(8000).astype(np.float32), 4000)
    sf.write(tmp_path / "silent.wav", np.zeros(24000, np.float32), 4000)
    sf.write(tmp_path / "empty.wav", np.zeros(0, np.float32), 4000)
    (tmp_path / "junk.mp3").write_bytes(b"\x00junk" * 10)
    one_line(*invoke("explain", str(tmp_path / "short.wav"), *ck, "--out", str(tmp_path / "o1"))[::2], "at least 5 s")
    one_line(*invoke("explain", str(tmp_path / "silent.wav"), *ck, "--out", str(tmp_path / "o2"))[::2], "silent")
    one_line(*invoke("explain", str(tmp_path / "empty.wav"), *ck, "--out", str(tmp_path / "o3"))[::2], "no audio")
    one_line(*invoke("explain", str(tmp_path / "junk.mp3"), *ck, "--out", str(tmp_path / "o4"))[::2], "cannot decode")
    one_line(*invoke("explain", str(tmp_path), *ck)[::2], "is a directory")
    one_line(*invoke("explain", str(tmp_path / "silent.wav"), *ck, "--method", "lime")[::2], "'lime' is not one of")
    for o in ("o1", "o2", "o3", "o4"):
        assert not (tmp_path / o).exists()  # nothing half-written, not even the folder


def test_unknown_target_genre(models):
    from auralize import load_model

    with pytest.raises(AuralizeError, match="unknown genre"):
        explain(load_model(models / "lstm.pt"), synth_track("metal", 1, 6.0, 4000), target="polka")


def test_predict_command(models, tmp_path):
    song = tmp_path / "tone.flac"
    sf.write(song, synth_track("classical", 3, 11.0, 4000), 4000)
    code, out, err = invoke("predict", str(song), "--checkpoint", str(models / "lstm.pt"), "--clips")
    assert code == 0, err
    assert out.startswith(f"{song}: ") and "over 2 clips" in out and "clip   2" in out
    one_line(*invoke("predict", str(tmp_path / "nope.wav"), "--checkpoint", str(models / "lstm.pt"))[::2],
             "audio file not found")


def test_a_registered_method_is_one_entry(models, tmp_path):
    """Adding an attribution method is one register_method call: the CLI offers and runs it."""
    import torch

    from auralize import attribution as ex

    class Ones:  # a toy captum-style method: every input counts the same
        def __init__(self, model):
            self.model = model

        def attribute(self, x, target, scale=1.0):
            return torch.full_like(x, scale)

    ex.register_method(ex.Method("ones", Ones, aliases=("toy",), arguments=lambda i: {"scale": 2.0},
                                 help="every bin the same"))
    try:
        assert "toy" in invoke("explain", "--help")[1]
        song = tmp_path / "song.wav"
        sf.write(song, synth_track("metal", 1, 11.0, 4000), 4000)
        code, out, err = invoke("explain", str(song), "--checkpoint", str(models / "lstm.pt"), "--method", "toy",
                                "-o", str(tmp_path / "e"), "--quiet")
        assert code == 0, err
        assert json.loads((tmp_path / "e" / "explain.json").read_text())["method"] == "ones"
        assert (np.load(tmp_path / "e" / "attributions.npy") == 2.0).all()
        with pytest.raises(AuralizeError, match="taken by 'ones'"):
            ex.register_method(ex.Method("other", Ones, aliases=("toy",)))
    finally:
        ex.METHODS.unregister("ones")
    assert "toy" not in invoke("explain", "--help")[1]


def test_explanation_shows_itself_in_a_notebook(models):
    from auralize import load_model

    exp = explain(load_model(models / "attention.pt"), synth_track("metal", 1, 11.0, 4000), "saliency",
                  name="dir/song.wav")
    page = exp._repr_html_()
    assert page.count('<audio controls') == 1 and page.count('src="data:audio/wav;base64,') == 1
    assert page.count('<img alt="explanation figure" src="data:image/png;base64,') == 1
    assert f"song.wav: verdict {exp.verdict} (saliency, explaining {exp.verdict})" in page
    import base64
    import io

    wav = base64.b64decode(page.split('src="data:audio/wav;base64,')[1].split('"')[0])
    assert sf.info(io.BytesIO(wav)).samplerate == 22050 and sf.info(io.BytesIO(wav)).frames == 2 * 5 * 22050
