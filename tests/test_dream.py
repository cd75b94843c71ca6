"""Gradient ascent, the genre dream end to end, and its CLI."""
import json

import numpy as np
import pytest
import soundfile as sf
import torch
from click.testing import CliRunner

from conftest import one_line_error, run_cli
from auralize import data as D
from auralize import features as F
from auralize.checkpoint import load_model
from auralize.cli import cli
from auralize.dream import Target, WaveformParam, class_logprob, genre_objective, neuron, render
from auralize.settings import DreamSettings
from auralize.training import TrainSettings, train


@pytest.fixture(scope="module")
def tiny(gtzan_dir, tmp_path_factory):
    """A small LSTM trained on the synthetic data, with saved neuron statistics."""
    folder = tmp_path_factory.mktemp("tiny")
    ds = D.load_dataset(gtzan_dir, progress=False)
    train("lstm", ds, "track", hidden=12, layers=2, settings=TrainSettings(epochs=20, batch_size=8, lr=5e-3),
          out=folder / "lstm.pt", progress=False, log=lambda m: None)
    result = CliRunner().invoke(cli, ["neurons", str(folder / "lstm.pt"), "--data", str(gtzan_dir), "--quiet"])
    assert result.exit_code == 0, result.output
    return folder / "lstm.pt"


@pytest.mark.slow
def test_front_end_gradient_matches_finite_differences():
    x = torch.randn(1, 2048, dtype=torch.float64, requires_grad=True)
    scaler = F.InputScaler(per_bin=False, mean=np.zeros(513, np.float32), std=np.ones(513, np.float32))
    f = lambda a: scaler.transform(F.TorchSpectrogram()(a))[..., 3:40].sum()  # noqa: E731
    assert torch.autograd.gradcheck(f, (x,), eps=1e-6, atol=1e-5, rtol=1e-4)


def random_model():
    """An untrained 2x8 LSTM with a scaler fitted on noise of varying level."""
    from auralize.checkpoint import attach
    from auralize.models import ModelConfig, build_model

    torch.manual_seed(0)
    model = build_model(ModelConfig("lstm", n_classes=3, hidden=8, layers=2)).eval()
    rng = np.random.default_rng(0)
    psd = F.spectrogram(rng.standard_normal((8, 20000)) * 0.1 * rng.uniform(0.1, 1, (8, 1)))
    return attach(model, F.InputScaler().fit(psd), ("a", "b", "c"))


@pytest.mark.parametrize("param", ["spectrogram", "waveform"])
def test_objective_rises(param):
    from auralize.dream import PARAMS

    model = random_model()
    objs = [class_logprob(1, "b"), neuron("layer2.h", 3, "mean")]
    result = render(model, objs, DreamSettings(param=PARAMS[param], steps=30, seed=0))
    assert result.curve.shape == (30, 2)
    assert (result.curve[-5:].mean(0) > result.curve[:3].mean(0) + 0.2).all(), result.curve[[0, -1]]
    # 22 frames plus a frame of jitter margin, and for audio one more for the sub-frame shift of the samples
    assert result.x.shape == (2, 23 if param == "spectrogram" else 24, 513)


def test_long_dream_uses_every_window(tiny):
    model = load_model(tiny)
    result = render(model, [class_logprob(0)], DreamSettings(param="spectrogram", seconds=12, steps=3, seed=0))
    assert result.settings["windows_per_step"] >= 3
    assert result.x.shape[1] == 1 + (48000 - 1024) // 896 + 1


def test_same_seed_same_result(tiny):
    model = load_model(tiny)
    a, b, c = (render(model, [class_logprob(0)], DreamSettings(param="spectrogram", steps=5, seed=s)) for s in (3, 3, 4))
    assert torch.equal(a.x, b.x) and not torch.equal(a.x, c.x)


def test_genre_objective_errors(tiny):
    from auralize.errors import AuralizeError

    model = load_model(tiny)
    with pytest.raises(AuralizeError, match="out of range"):
        genre_objective(model, "jazz", Target("neuron", layer="layer2.h", unit=12))
    with pytest.raises(AuralizeError, match="auralize neurons"):
        genre_objective(model, "jazz", Target("neuron"), report=None)


def invoke(*args):
    return run_cli(args)


@pytest.mark.slow
def test_genre_dream_writes_everything_and_is_deterministic(tiny, tmp_path, gtzan_dir):
    code, out, err = invoke("--genre", "classical", "--checkpoint", str(tiny), "-o", str(tmp_path / "a" / "c.wav"),
                            "--steps", "20", "--iters", "16", "--data", str(gtzan_dir), "--quiet")
    assert code == 0, err
    assert "round trip p(classical)" in out
    for name in ("c.wav", "c-22050.wav", "c.png", "c.json", "c.npy"):
        assert (tmp_path / "a" / name).exists(), name
    audio, sr = sf.read(tmp_path / "a" / "c.wav", dtype="int16")
    assert sr == 4000 and audio.shape == (20000,) and np.abs(audio).max() > 0
    info = sf.info(str(tmp_path / "a" / "c.wav"))
    assert info.subtype == "PCM_16"
    assert sf.info(str(tmp_path / "a" / "c-22050.wav")).samplerate == 22050
    meta = json.loads((tmp_path / "a" / "c.json").read_text())
    assert meta["settings"]["seed"] == 0 and len(meta["objective_curve"]) == 20
    assert 0 <= meta["round_trip"]["p_target_mean"] <= 1
    assert meta["objective"].startswith("log p(classical) + 0.1 * music mixture prior of")  # the defaults: class, music mixture prior
    # time as well as timbre: the dream's temporal statistics beside the real clip's (--data given)
    assert set(meta["temporal"]) == {"dream", "real"} and "modulation_depth" in meta["temporal"]["real"]
    code, *_ = invoke("--genre", "classical", "--checkpoint", str(tiny), "-o", str(tmp_path / "b" / "c.wav"),
                      "--steps", "20", "--iters", "16", "--quiet")
    assert code == 0
    assert (tmp_path / "a" / "c.wav").read_bytes() == (tmp_path / "b" / "c.wav").read_bytes()


@pytest.mark.slow
def test_all_genres_waveform(tiny, tmp_path):
    code, out, err = invoke("--genre", "all", "--checkpoint", str(tiny), "-o", str(tmp_path), "--param", "waveform",
                            "--objective", "class", "--steps", "5", "--quiet")
    assert code == 0, err
    assert len(list(tmp_path.glob("*-22050.wav"))) == 10


@pytest.mark.slow
def test_invert_command(tiny, tmp_path):
    code, *_ = invoke("--genre", "metal", "--checkpoint", str(tiny), "-o", str(tmp_path / "m.wav"), "--steps", "2",
                      "--objective", "class", "--quiet")
    assert code == 0
    code, out, err = invoke("invert", str(tmp_path / "m.npy"), "-o", str(tmp_path / "inv.wav"), "--iters", "8")
    assert code == 0, err
    assert sf.info(str(tmp_path / "inv.wav")).samplerate == 4000 and "spectral convergence" in out


def test_weights_command(tiny, tmp_path):
    code, out, err = invoke("weights", str(tiny), "--out", str(tmp_path), "--iters", "4", "--seconds", "1")
    assert code == 0, err
    assert "top of" in out
    index = json.loads((tmp_path / "weights.json").read_text())
    assert index["units"] and all((tmp_path / f"unit{u['unit']:03d}-g.wav").exists() for u in index["units"])
    code, _, err = invoke("weights", str(tiny), "--neurons", "999", "--out", str(tmp_path))
    assert code == 2 and "out of range" in err


one_line = one_line_error


def test_bad_input(tiny, tmp_path):
    one_line(*invoke("--genre", "jaz", "--checkpoint", str(tiny))[::2], "did you mean 'jazz'")
    one_line(*invoke("--genre", "polka", "--checkpoint", str(tiny))[::2], "the model knows: blues")
    one_line(*invoke("--genre", "jazz", "--checkpoint", str(tiny), "--objective", "neuron", "--unit", "99", "--layer",
                     "layer2.h")[::2], "out of range")
    one_line(*invoke("--genre", "jazz", "--checkpoint", str(tiny), "--unit", "3")[::2], "--objective neuron")
    one_line(*invoke("--genre", "jazz", "--checkpoint", str(tmp_path / "none.pt"))[::2], "checkpoint not found")
    one_line(*invoke("--genre", "jazz", "--checkpoint", str(tiny), "--seconds", "0")[::2], "--seconds")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    one_line(*invoke("--genre", "jazz", "--checkpoint", str(tiny), "-o", str(blocker / "sub" / "j.wav"),
                     "--objective", "class", "--steps", "1")[::2], "cannot write")
    assert not list(tmp_path.glob("**/*.tmp*"))
    one_line(*invoke("invert", str(tmp_path / "missing.npy"))[::2], "not found")
    np.save(tmp_path / "bad.npy", np.zeros((3, 4)))
    one_line(*invoke("invert", str(tmp_path / "bad.npy"))[::2], "expected a non-negative PSD")


def test_long_dream_from_the_cli(tiny, tmp_path):
    code, out, err = invoke("--genre", "metal", "--checkpoint", str(tiny), "-o", str(tmp_path / "m.wav"),
                            "--seconds", "12", "--steps", "3", "--iters", "4", "--objective", "class", "--quiet")
    assert code == 0, err
    assert sf.info(str(tmp_path / "m.wav")).frames == 48000
    trip = json.loads((tmp_path / "m.json").read_text())["round_trip"]
    assert len(trip["p_target_per_clip"]) == 2  # the 12-s dream is judged on both of its 5-s clips


def test_dreams_do_not_depend_on_batch_mates():
    """Each dream has its own generator and is optimised alone: rendered with others, it is the same."""
    model = random_model()
    a, b = class_logprob(1, "b"), neuron("layer2.h", 3, "mean")
    for param in ("spectrogram", "waveform"):
        from auralize.dream import PARAMS, to_audio

        both = render(model, [a, b], DreamSettings(param=PARAMS[param], steps=6, seed=2))
        alone = render(model, [b], DreamSettings(param=PARAMS[param], steps=6, seed=2))
        assert torch.equal(both.x[1:], alone.x) and np.array_equal(both.curve[:, 1:], alone.curve)
        assert np.array_equal(to_audio(both, n_iter=4)[1:], to_audio(alone, n_iter=4))


def test_objective_algebra_and_penalties():
    from auralize.dream import Context, Objective, l2, out_of_range, regulariser, tv_freq, tv_time

    x = torch.arange(2 * 3 * 4, dtype=torch.float64).reshape(1, 6, 4) / 10
    ctx = Context(torch.tensor([[1.0, 3.0]]), {}, lambda: x, torch.zeros(4), torch.ones(4))
    one = Objective(lambda c: torch.tensor(1.0), "one")
    two = Objective(lambda c: torch.tensor(2.0), "two")
    assert float((one + two)(ctx)) == 3 and float((one - two)(ctx)) == -1 and float((-two)(ctx)) == -2
    assert float((two * 3)(ctx)) == 6 and float((3 * two)(ctx)) == 6 and float((two / 4)(ctx)) == 0.5
    assert float((two * two)(ctx)) == 4 and float((two / two)(ctx)) == 1 and float((1 - two)(ctx)) == -1
    assert float(sum([one, two, one])(ctx)) == 4 and float(Objective.sum([two, two])(ctx)) == 4
    assert (one + 0.5 * two).description == "one + 0.5 * two"
    assert float(l2()(ctx)) == pytest.approx(float(x.pow(2).mean()))
    assert float(tv_time()(ctx)) == pytest.approx(0.4) and float(tv_freq()(ctx)) == pytest.approx(0.1)
    assert float(out_of_range()(ctx)) == pytest.approx(float(torch.relu(x - 1).pow(2).mean()))
    reg = regulariser(l2=0.5, tv_time=0, tv_freq=0, clamp=False)
    assert reg.description == "0.5 * l2" and regulariser(0, 0, 0, clamp=False) is None
    assert float((class_logprob(1) - reg)(ctx)) == pytest.approx(float(torch.log_softmax(ctx.logits, 1)[0, 1]
                                                                       - 0.5 * x.pow(2).mean()))


def test_logodds_is_log_p_over_one_minus_p_and_keeps_rising_where_log_p_stops():
    from auralize.dream import Context, class_logodds

    def both(logits):
        ctx = Context(torch.tensor(logits, dtype=torch.float64), {}, None, None, None)
        return float(class_logodds(1)(ctx)), float(class_logprob(1)(ctx))

    odds, _ = both([[0.5, 2.0, -1.0], [1.0, 0.0, 0.0]])  # two windows: the mean of their log-odds
    p = torch.softmax(torch.tensor([[0.5, 2.0, -1.0], [1.0, 0.0, 0.0]], dtype=torch.float64), 1)[:, 1]
    assert odds == pytest.approx(float(torch.log(p / (1 - p)).mean()))
    sure, surer = both([[0.0, 20.0, 0.0]]), both([[0.0, 40.0, 0.0]])
    assert surer[1] - sure[1] < 1e-8 and surer[0] - sure[0] == pytest.approx(20.0)  # log p is at its ceiling


def test_penalty_is_part_of_the_ascent():
    """A heavy L2 penalty keeps the input near the average spectrum; without it the input roams."""
    from auralize.dream import l2

    model = random_model()
    none = dict(param="spectrogram", tv_time=0, tv_freq=0, clamp=False, steps=15, seed=0)
    free = render(model, class_logprob(0), DreamSettings(l2=0, **none))
    held = render(model, class_logprob(0), DreamSettings(l2=50, **none))
    assert held.x.pow(2).mean() < 0.5 * free.x.pow(2).mean()
    assert held.settings["penalty"] == "50 * l2" and free.settings["penalty"] is None


def test_waveform_param_object(tiny):
    model = load_model(tiny)
    result = render(model, class_logprob(0), DreamSettings(param=WaveformParam, steps=3, seed=0))
    assert result.audio.shape == (1, 20000 + 2 * 896) and result.param == "waveform"  # jitter's frame, shift's


def test_toy_param_is_one_registry_entry(tiny, tmp_path):
    """A new parameterisation is one registered class: the CLI's --param offers it and dreams with it."""
    from auralize.dream import PARAMS, SpectrogramParam, register_param

    @register_param
    class Smooth(SpectrogramParam):
        """The model input as a running mean of free parameters (a toy smoothness prior)."""

        name = "toy-smooth"

        def forward(self):
            return torch.nn.functional.avg_pool1d(self.x.transpose(1, 2), 3, 1, 1, count_include_pad=False).transpose(1, 2)

        def windows(self, count, margin, on_audio, on_input, generator):
            from auralize.dream.params import cut

            x = on_input(self.forward(), generator)
            return cut(x, count, x.shape[1] - margin, 22)

        def to_audio(self, n_iter, seed):
            from auralize.invert import psd_to_audio

            return self.inverse(self.forward().detach(), n_iter=n_iter, seed=seed)

    try:
        code, out, err = invoke("--genre", "rock", "--checkpoint", str(tiny), "-o", str(tmp_path / "r.wav"),
                                "--param", "toy-smooth", "--objective", "class", "--steps", "3", "--iters", "2",
                                "--quiet")
        assert code == 0, err
        assert json.loads((tmp_path / "r.json").read_text())["settings"]["param"] == "toy-smooth"
        assert "toy-smooth" in invoke("--help")[1]
    finally:
        PARAMS.unregister("toy-smooth")
    code, _, err = invoke("--genre", "rock", "--checkpoint", str(tiny), "--param", "toy-smooth")
    assert code == 2 and "toy-smooth" in err


def test_dream_result_shows_itself_in_a_notebook(tiny):
    model = load_model(tiny)
    dream = render(model, [class_logprob(0, "classical")], DreamSettings(param="spectrogram", steps=2))
    page = dream._repr_html_()
    assert page.count("<audio") == 1 and page.count("<img") == 1 and "log p(classical)" in page
    assert dream.psd().shape == (1, 22, 513)
