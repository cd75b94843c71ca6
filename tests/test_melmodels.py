"""The dreaming model kind (cnn-mel): trained from the CLI with its kind's defaults, robust, and the default dreamer."""
import json

import numpy as np
import pytest
import torch

import auralize
from auralize import finemel
from conftest import run_cli, write_song


@pytest.fixture(scope="module")
def mel_checkpoint(gtzan_dir, tmp_path_factory):
    """A cnn-mel trained for two epochs against the PGD adversary on the synthetic data."""
    out = tmp_path_factory.mktemp("mel") / "mel.pt"
    code, _, err = run_cli(["train", "--model", "cnn-mel", "--data", gtzan_dir, "--split", "track", "--epochs", "2",
                            "--robust", "pgd", "--robust-eps", "0.1", "-o", out, "--quiet"])
    assert code == 0, err
    return out


def test_the_kinds_defaults_reach_the_command_line(mel_checkpoint):
    """Options left out take the kind's defaults (the CLI used to pass weight decay 0 and patience 20 for every
    kind), and the recorded settings say what ran."""
    model = auralize.load_model(mel_checkpoint)
    settings = model.meta["settings"]
    kind = auralize.MODELS["cnn-mel"].train_defaults
    assert settings["weight_decay"] == kind["weight_decay"] > 0 and settings["patience"] == kind["patience"]
    assert settings["robust"] == "pgd" and settings["robust_eps"] == 0.1 and settings["optimizer"] == "adamw"


def test_it_owns_a_fitted_front_end_blind_to_level(mel_checkpoint, tmp_path):
    model = auralize.load_model(mel_checkpoint)
    assert not torch.allclose(model.front.sd, torch.ones_like(model.front.sd))  # fitted on the training clips
    song = write_song(tmp_path / "song.wav")
    loud = auralize.load_audio(song)
    quiet = auralize.predict(model, 0.1 * loud).probabilities
    assert np.allclose(quiet, auralize.predict(model, loud).probabilities, atol=1e-4)


def test_it_dreams_with_the_defaults_and_its_control(mel_checkpoint, tmp_path):
    """The defaults: class objective, the genre-blind music prior; the control is the same sound for each genre."""
    code, _, err = run_cli(["--genre", "classical,metal", "--checkpoint", mel_checkpoint, "--steps", "3", "--iters",
                            "2", "--no-panel", "--quiet", "--control", "-o", tmp_path / "d"])
    assert code == 0, err
    dream = json.loads((tmp_path / "d" / "metal.json").read_text())
    assert dream["objective"].startswith("log p(metal) + 0.1 * music mixture prior of")
    assert [t.split("(")[0] for t in dream["settings"]["transforms"]] == ["Gain", "Dither", "Jitter", "Shift"]
    controls = [(tmp_path / "d" / f"{g}-control.wav").read_bytes() for g in ("classical", "metal")]
    assert controls[0] == controls[1]
    assert (tmp_path / "d" / "classical.wav").read_bytes() != (tmp_path / "d" / "metal.wav").read_bytes()
    # the mixture prior: also the prior alone at the component the dream ends in, the same as asking for it
    at = dream["component_control"]
    assert dream["component_control"]["component"] == auralize.load_prior("music-mix").component_of(
        auralize.load_audio(tmp_path / "d" / "metal.wav")[None])[0]
    one = auralize.load_prior("music-mix").component(at["component"]).save(tmp_path / "one.npz")
    code, _, err = run_cli(["--genre", "metal", "--checkpoint", mel_checkpoint, "--steps", "3", "--iters", "2",
                            "--no-panel", "--quiet", "--model-weight", "0", "--prior", one, "-o", tmp_path / "one.wav"])
    assert code == 0, err
    assert (tmp_path / "one.wav").read_bytes() == (tmp_path / "d" / "metal-component-control.wav").read_bytes()
    code, _, err = run_cli(["--genre", "metal", "--checkpoint", mel_checkpoint, "--steps", "3", "--iters", "2",
                            "--no-panel", "--quiet", "--control", "--prior", one, "-o", tmp_path / "e.wav"])
    assert code == 0, err  # one component: its component control would be its control from noise
    assert (tmp_path / "e-control.wav").is_file() and not list(tmp_path.glob("e-component-control*"))
    made = json.loads((tmp_path / "d" / "metal-component-control.json").read_text())
    assert made["role"] == "component-control" and made["control_of"] == "metal.json"
    from auralize.gallery import write_gallery

    page = write_gallery(tmp_path / "d").read_text()  # each control shown in its dream's card, not as a dream
    assert page.count("the prior alone at component") == page.count("its control, the prior alone") == 2
    assert "component control of metal" in page and "genre from nothing" not in page


def test_the_shipped_dreaming_model_is_the_default():
    """The default dreams through an ensemble file of two robust CNNs on log-mel, PGD and TRADES, of one split."""
    path = auralize.default_checkpoint(auralize.DREAMING_MODEL)
    model = auralize.load_model(path)
    assert path.name == "cnn-mel-ensemble.json" and model.combine == "mean"
    assert [m.config.kind for m in model.members] == ["cnn-mel", "cnn-mel"]
    assert [m.meta["settings"]["robust"] for m in model.members] == ["pgd", "trades"]
    assert model.meta["split"] == "track"
    for name in ("cnn-mel-ensemble.md", "cnn-mel-ensemble.neurons.json", "cnn-mel.md", "cnn-mel-trades.md"):
        assert (path.parent / name).is_file(), name


def test_an_ensembles_members_share_one_log_mel_and_its_gradient():
    """Members on the fine front end read one log-mel of the audio per step (finemel.sharing): the same
    log-probabilities as each member reading it on its own, the same gradient on the audio, and one front end."""
    model = auralize.load_model(auralize.default_checkpoint(auralize.DREAMING_MODEL)).eval()
    audio = torch.from_numpy(np.random.default_rng(0).normal(0, 0.05, (2, model.clip_samples)).astype(np.float32))
    calls = []
    frames = finemel.Frames.__init__

    def counted(self, a):
        calls.append(1)
        frames(self, a)

    a1 = audio.clone().requires_grad_()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(finemel.Frames, "__init__", counted)
        shared = model(model.features(a1))
    shared[:, 3].sum().backward()
    a2 = audio.clone().requires_grad_()
    alone = torch.stack([torch.log_softmax(m(m.features(a2)), 1) for m in model.models]).mean(0)
    alone[:, 3].sum().backward()
    assert len(calls) == 1 and len(model.models) == 2
    assert torch.equal(shared, alone)
    assert torch.allclose(a1.grad, a2.grad, rtol=1e-3, atol=1e-6)  # float rounding: one sum of two gradients
