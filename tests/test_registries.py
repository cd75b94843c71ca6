"""Adding a model kind is one registry entry: a toy kind goes through train, info, evaluate,
neurons and reproduce with no other change."""
import re
from pathlib import Path

import pytest
import torch
from torch import nn

from auralize.models import MODELS, Classifier, ModelKind, normalise_input, register


class MeanPool(Classifier):
    """A toy kind: the clip's mean spectrum through one tanh layer; its state is ``pooled``."""

    input_layer = "pooled"

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.proj = nn.Linear(config.n_bins, config.hidden)
        self.out = nn.Linear(config.hidden, config.n_classes)

    def forward_with_states(self, x):
        pooled = torch.tanh(self.proj(normalise_input(x, self.config.input_norm).mean(1)))
        return self.out(pooled), {"pooled": pooled}

    def default_layer(self):
        return "pooled"


@pytest.fixture
def toy_kind():
    entry = register(ModelKind("meanpool", MeanPool, "Mean spectrum + tanh 8", size=(8, 1),
                               train_defaults={"epochs": 4, "optimizer": "adam", "lr": 1e-2}))
    yield entry
    MODELS.pop("meanpool")


from conftest import run_cli as run  # noqa: E402


@pytest.mark.slow
def test_a_registered_kind_runs_through_the_cli(toy_kind, gtzan_dir, tmp_path):
    ckpt = tmp_path / "toy.pt"
    code, out, err = run(["train", "--model", "meanpool", "--data", gtzan_dir, "--split", "track", "-o", ckpt, "--quiet"])
    assert code == 0, err
    assert f"saved {ckpt}" in out
    code, out, err = run(["info", ckpt])
    assert code == 0, err
    assert f"{ckpt}: meanpool" in out and "states: pooled" in out
    code, out, err = run(["evaluate", ckpt, "--data", gtzan_dir, "--split", "track", "-o", tmp_path, "--quiet"])
    assert code == 0, err
    assert "clip accuracy" in out and (tmp_path / "toy-track-test-confusion.png").exists()
    code, out, err = run(["neurons", ckpt, "--data", gtzan_dir, "-k", "2", "-o", tmp_path, "--quiet"])
    assert code == 0, err
    assert "layer pooled" in out and (tmp_path / "toy.neurons.json").exists()
    code, _, err = run(["weights", ckpt, "-o", tmp_path / "w"])  # a kind without weight rows says so
    assert code == 2 and "a meanpool model has no learned units to render" in err
    code, out, err = run(["reproduce", "--data", gtzan_dir, "--split", "track", "--models", "meanpool", "--epochs", "2",
                          "-o", tmp_path / "repro", "--quiet"])
    assert code == 0, err
    assert "| Mean spectrum + tanh 8 | – |" in (tmp_path / "repro" / "track.md").read_text()


def test_the_cli_offers_registered_kinds_only(toy_kind):
    code, out, _ = run(["train", "--help"])
    assert "meanpool" in out and "lstm" in out
    MODELS.pop("meanpool")
    try:
        code, _, err = run(["train", "--model", "meanpool", "--data", "."])
        assert code == 2 and "'meanpool' is not one of" in err
    finally:
        register(toy_kind)


def test_no_kind_name_is_compared_outside_the_registry():
    """The model kind's name is compared only in models.py, where the registry lives.

    (``__init__.default_checkpoint`` names the shipped ``trained/lstm.pt``: a file, not a kind's behaviour.)
    """
    root = Path(__file__).resolve().parents[1] / "auralize"
    kinds = "|".join(("rnn", "lstm", "attention", "mlp", "svm", "softmax"))
    pattern = re.compile(rf"""(kind\s*(==|!=|in|not in)\s*[(\[{{]?\s*["']({kinds})["'])|(["']({kinds})["']\s*(==|!=|in)\s+\w*kind)""")
    offenders = [f"{path.name}:{n}: {line.strip()}" for path in sorted(root.glob("*.py")) if path.name not in ("models.py", "__init__.py")
                 for n, line in enumerate(path.read_text().splitlines(), 1) if pattern.search(line)]
    assert not offenders, offenders
