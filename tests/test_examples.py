"""Smoke tests: every example study runs (shipped checkpoint, synthetic audio) and writes its results."""
import importlib.util
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load(name):
    sys.path.insert(0, str(EXAMPLES))
    try:
        spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(EXAMPLES))


@pytest.mark.parametrize("name,figure,needle", [
    ("01_top_neurons", "top_neurons_across_genres.png", "| genre | top neuron | active rate |"),
    ("02_dream_from_song_vs_noise", "song_vs_noise.png", "| jazz | real clip |"),
    ("03_class_vs_neuron_objective", "spectra.png", "| blues |"),
    ("04_ablate_neurons", "ablation.png", "| all |"),
    ("05_what_the_prior_adds", "prior.png", "| genre | panel, model alone | panel, with the music prior |"),
    ("06_bring_your_own_model", "byom.png", "| genre | top neuron | panel hears the dream |"),
])
@pytest.mark.slow
def test_example_runs(name, figure, needle, tmp_path):
    out = tmp_path / name
    text = load(name).main(["--synthetic", "--quick", "--out", str(out)])
    assert (out / figure).read_bytes()[:4] == b"\x89PNG"
    summary = (out / "summary.md").read_text()
    assert summary.rstrip() == text.rstrip()
    assert needle in summary and "SYNTHETIC" in summary


def test_the_byom_example_trains_from_fresh_seeded_weights(tmp_path, monkeypatch):
    """A rerun trains the same model: training starts from weights drawn from the seed, never from those an
    earlier run saved (which ``--checkpoint 06_bring_your_own_model.py:build`` loads)."""
    import torch

    example = load("06_bring_your_own_model")
    genres = ["blues", "jazz"]
    first = example.fresh(genres, 0).net.state_dict()
    saved = tmp_path / "cnn.pt"
    torch.save({"genres": genres, "state_dict": {k: v + 1 for k, v in first.items()}}, saved)
    monkeypatch.setattr(example, "WEIGHTS", saved)
    torch.manual_seed(123)  # whatever ran before
    again = example.fresh(genres, 0).net.state_dict()
    assert all(torch.equal(first[k], again[k]) for k in first)
    other = example.fresh(genres, 1).net.state_dict()
    assert not all(torch.equal(first[k], other[k]) for k in first)
    loaded = example.build(genres).net.state_dict()  # what --checkpoint FILE:build gives
    assert all(torch.equal(loaded[k], first[k] + 1) for k in first if first[k].is_floating_point())
