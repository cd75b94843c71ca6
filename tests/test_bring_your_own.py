"""Bring your own model: a torch model that knows nothing of auralize but ``wrap``, with its own log-mel
front end, runs through neurons, dreams (fine and waveform), explain, predict, evaluate and the gallery,
from the command line (``--checkpoint my_model.py:build``) and from Python."""
import json
import textwrap

import numpy as np
import pytest
import torch

import auralize
from conftest import one_line_error, run_cli

#: The user's file: its own mel filters and front end, a small 1-D CNN, and ``build()``.
USER_FILE = textwrap.dedent('''
    from pathlib import Path

    import torch
    from torch import nn

    import auralize

    GENRES = ["classical", "hiphop", "metal"]


    def mel_filters(sr, n_fft, bands):
        mel = lambda f: 2595 * torch.log10(1 + f / 700)
        hz = lambda m: 700 * (10 ** (m / 2595) - 1)
        edges = hz(torch.linspace(float(mel(torch.tensor(30.0))), float(mel(torch.tensor(sr / 2))), bands + 2))
        freqs = torch.linspace(0, sr / 2, n_fft // 2 + 1)
        lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
        return torch.clamp(torch.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)), min=0)


    class LogMel(nn.Module):
        def __init__(self, sr=4000, n_fft=256, hop=64, bands=24):
            super().__init__()
            self.n_fft, self.hop = n_fft, hop
            self.register_buffer("mel", mel_filters(sr, n_fft, bands))
            self.register_buffer("window", torch.hann_window(n_fft))

        def forward(self, audio):
            spec = torch.stft(audio, self.n_fft, self.hop, window=self.window, return_complex=True).abs() ** 2
            logmel = torch.log(self.mel @ spec + 1e-6)
            return logmel - logmel.mean(dim=(1, 2), keepdim=True)


    class TinyCNN(nn.Module):
        def __init__(self, n_genres):
            super().__init__()
            self.conv = nn.Sequential(nn.Conv1d(24, 16, 5, padding=2), nn.ReLU(), nn.Conv1d(16, 16, 5, padding=2),
                                      nn.ReLU())
            self.out = nn.Linear(16, n_genres)

        def forward(self, x):
            return self.out(self.conv(x).mean(-1))


    def build():
        net = TinyCNN(len(GENRES))
        weights = Path(__file__).with_name("my_model.pt")
        if weights.exists():
            net.load_state_dict(torch.load(weights, weights_only=True))
        return auralize.wrap(net, features=LogMel(), genres=GENRES, sample_rate=4000, name="tiny-cnn")
''')


@pytest.fixture(scope="module")
def user_model(gtzan_dir, tmp_path_factory):
    """``my_model.py`` in a fresh folder, its CNN trained for a few steps on the synthetic data."""
    folder = tmp_path_factory.mktemp("byom")
    (folder / "my_model.py").write_text(USER_FILE)
    model = auralize.load_user_model(folder / "my_model.py")
    clips = auralize.load_clips(gtzan_dir)
    x = torch.from_numpy(clips.audio)
    y = torch.tensor([model.genres.index(clips.genres[label]) for label in clips.label])
    torch.manual_seed(0)
    opt = torch.optim.Adam(model.net.parameters(), 1e-2)
    for _ in range(60):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model.net(model.features(x)), y).backward()
        opt.step()
    torch.save(model.net.state_dict(), folder / "my_model.pt")
    return folder


def test_the_user_file_runs_through_every_command(user_model, gtzan_dir, monkeypatch):
    monkeypatch.chdir(user_model)
    spec, song = "my_model.py:build", str(gtzan_dir / "metal" / "metal.00000.wav")
    code, out, err = run_cli(["info", spec])
    assert code == 0, err
    assert "tiny-cnn (your own model)" in out and "states: conv.0, conv.1, conv.2, conv.3, out" in out
    code, out, err = run_cli(["neurons", spec, "--data", gtzan_dir, "-k", "2", "--quiet"])
    assert code == 0, err
    saved = auralize.results.read(user_model / "my_model.build.neurons.json", "neurons")
    assert saved["default"] == "conv.3" and set(saved["reports"]["conv.3"]["top"]) >= {"metal", "hiphop"}
    code, out, err = run_cli(["predict", song, "--checkpoint", spec, "-o", "table.csv"])
    assert code == 0, err
    assert f"{song}: metal" in out and "metal" in (user_model / "table.csv").read_text()
    code, out, err = run_cli(["evaluate", spec, "--data", gtzan_dir, "--split", "track", "--quiet"])
    assert code == 0, err
    assert "track accuracy 1.000" in out and (user_model / "my_model.build-track-test-confusion.png").is_file()
    for genre, param in (("metal", "fine"), ("hiphop", "waveform")):
        code, out, err = run_cli(["--genre", genre, "--checkpoint", spec, "--param", param, "--objective", "neuron",
                                  "--steps", "15", "--iters", "4", "-o", f"dreams/{genre}.wav", "--quiet", "--no-panel"])
        assert code == 0, err
        dream = auralize.results.read(user_model / "dreams" / f"{genre}.json", "dream")
        assert dream["model"] == "tiny-cnn" and dream["checkpoint"] == spec and dream["settings"]["param"] == param
        assert dream["objective"].startswith("conv.3[") and dream["objective_end"] > dream["objective_start"]
    code, out, err = run_cli(["explain", song, "--checkpoint", spec, "-o", "dreams/explain", "--steps", "8", "--quiet"])
    assert code == 0, err
    explained = json.loads((user_model / "dreams" / "explain" / "explain.json").read_text())
    assert explained["verdict"] == "metal" and explained["grid"] == "fine"
    code, out, err = run_cli(["gallery", "dreams"])
    assert code == 0, err
    page = (user_model / "dreams" / "index.html").read_text()
    assert page.count('<div class="card">') == 3 and "tiny-cnn" in page
    code, _, err = run_cli(["weights", spec, "-o", "w"])
    one_line_error(code, err, "gives no first-layer weight rows")


class Pooled(torch.nn.Module):
    """A model defined here: band energies of a plain STFT, one hidden layer (nothing of auralize's)."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden = torch.nn.Linear(33, 8)
        self.out = torch.nn.Linear(8, 3)

    def forward(self, x):
        return self.out(torch.tanh(self.hidden(x.mean(-1))))


def band_energy(audio):
    spec = torch.stft(audio, 64, 32, window=torch.hann_window(64), return_complex=True).abs()
    return torch.log(spec + 1e-4)  # (batch, 33, frames)


def test_the_python_api_reads_the_front_end_from_the_model(gtzan_dir, tmp_path):
    torch.manual_seed(0)
    model = auralize.wrap(Pooled(), features=band_energy, genres=["classical", "hiphop", "metal"])
    assert model.default_layer() == "hidden" and auralize.state_sizes(model) == {"hidden": 8, "out": 3}
    clips = auralize.load_clips(gtzan_dir)
    x = auralize.data_inputs(model, clips)
    assert x.shape == (len(clips.audio), 33, 626)
    report = auralize.top_neurons(model, x, "hidden", k=2)
    assert report.layer == "hidden" and report.active_rate.shape == (3, 8)
    song = clips.audio[0]
    assert auralize.predict(model, np.concatenate([song, song])).probabilities.shape == (2, 3)
    ev = auralize.evaluate(model, clips, "track")
    assert ev.n_clips == len(clips.split["test"])
    exp = auralize.explain(model, song, method="saliency")
    assert exp.grid == "fine" and exp.attributions.shape == exp.psd.shape == (1, 157, 257)
    assert exp.listened().shape == (20000,)
    with auralize.ablate(model, "hidden", [0, 1]):
        silenced = model.forward_with_states(x[:2])[1]["hidden"]
    assert torch.all(silenced[:, :2] == 0) and torch.any(model.forward_with_states(x[:2])[1]["hidden"][:, :2] != 0)
    [summary] = auralize.make_audible(model, "metal", tmp_path / "metal.wav", panel=False,
                                      target=auralize.Target(objective="class", prior_weight=0.0),
                                      settings=auralize.DreamSettings(steps=10, griffin_lim_iters=2))
    assert summary["model"] == "Pooled" and (tmp_path / "metal.npy").is_file()


@pytest.mark.parametrize("body,expected", [
    (None, "model file not found"),
    ("def make():\n    return 1\n", "has no function 'build' (it defines: make)"),
    ("def build():\n    raise RuntimeError('no weights here')\n", "build() raised RuntimeError: no weights here"),
    ("import torch\ndef build():\n    return torch.nn.Linear(2, 2)\n", "is a Linear without 'genres'"),
    ("import torch, auralize\ndef build():\n    return auralize.wrap(torch.nn.Linear(4, 2), features=lambda a: "
     "a[:, :4], genres=['a', 'b', 'c'])\n", "gives (2,) outputs for its 3 genres"),
    ("syntax error here\n", "my_model.py fails to load (SyntaxError"),
])
def test_a_bad_user_file_is_one_line(tmp_path, body, expected):
    if body is not None:
        (tmp_path / "my_model.py").write_text(body)
    code, _, err = run_cli(["info", str(tmp_path / "my_model.py:build")])
    one_line_error(code, err, expected)


def test_a_front_end_without_gradient_says_which_parameterisations_still_work(tmp_path):
    (tmp_path / "numpy_model.py").write_text(textwrap.dedent('''
        import numpy as np, torch, auralize
        def build():
            features = lambda a: torch.from_numpy(np.abs(np.fft.rfft(a.detach().numpy(), axis=-1))[:, :8])
            return auralize.wrap(torch.nn.Linear(8, 2), features=features, genres=["jazz", "rock"])
    '''))
    spec = str(tmp_path / "numpy_model.py:build")
    code, _, err = run_cli(["--genre", "jazz", "--checkpoint", spec, "--objective", "class", "--no-panel",
                            "-o", tmp_path / "j.wav"])
    one_line_error(code, err, "features(audio) gives none", "no parameterisation can dream with it")
    assert not (tmp_path / "j.wav").exists()


def test_an_ensemble_is_scored_on_its_members_held_out_part(ckpt, gtzan_dir):
    """Members trained on one split make an ensemble that says so (and which tracks they learned from), so
    evaluate scores it on their test part; members that do not say are scored with a warning."""
    import warnings

    from auralize.evaluation import evaluate

    one = auralize.load_model(ckpt)
    both = auralize.ensemble([one, auralize.load_model(ckpt)])
    assert both.meta["split"] == one.meta["split"] and both.meta["coverage"] == one.meta["coverage"]
    clips = auralize.load_clips(gtzan_dir)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert evaluate(both, clips).coverage == evaluate(one, clips).coverage
    silent = auralize.load_model(ckpt)
    silent.meta = {}
    mixed = auralize.ensemble([one, silent])
    assert mixed.meta == {}
    with pytest.warns(UserWarning, match="does not say which split it was trained on"):
        evaluate(mixed, clips)
