"""Adding a model kind is one registry entry: a toy kind goes through train, info, evaluate,
neurons and reproduce with no other change."""
import re
from pathlib import Path

import pytest
import torch
from torch import nn

from auralize.models import MODELS, ModelKind, PaperModel, normalise_input, register_model


class MeanPool(PaperModel):
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
    entry = register_model(ModelKind("meanpool", MeanPool, "Mean spectrum + tanh 8", size=(8, 1),
                               train_defaults={"epochs": 4, "optimizer": "adam", "lr": 1e-2}))
    yield entry
    MODELS.unregister("meanpool")


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
    MODELS.unregister("meanpool")
    try:
        code, _, err = run(["train", "--model", "meanpool", "--data", "."])
        assert code == 2 and "'meanpool' is not one of" in err
    finally:
        register_model(toy_kind)


def test_no_kind_name_is_compared_outside_the_registry():
    """The model kind's name is compared only in models.py, where the paper's kinds are registered.

    (``__init__.default_checkpoint`` names the shipped ``trained/lstm.pt``: a file, not a kind's behaviour.)
    """
    root = Path(__file__).resolve().parents[1] / "auralize"
    kinds = "|".join(("rnn", "lstm", "attention", "mlp", "svm", "softmax", "cnn-mel"))
    pattern = re.compile(rf"""(kind\s*(==|!=|in|not in)\s*[(\[{{]?\s*["']({kinds})["'])|(["']({kinds})["']\s*(==|!=|in)\s+\w*kind)""")
    offenders = [f"{path.relative_to(root)}:{n}: {line.strip()}" for path in sorted(root.rglob("*.py"))
                 if str(path.relative_to(root)) not in ("models.py", "__init__.py")
                 for n, line in enumerate(path.read_text().splitlines(), 1) if pattern.search(line)]
    assert not offenders, offenders


def test_every_extension_point_is_one_registry():
    """Models, params, transforms, methods, judges, statistics, objective kinds and timestep rules: one helper,
    one lookup, one error wording (naming the argument, so the CLI names the flag)."""
    import auralize
    from auralize.registry import Registry, UnknownName

    points = {"MODELS": "kind", "PARAMS": "param", "TRANSFORMS": "transforms", "METHODS": "method", "JUDGES": "judges",
              "STATISTICS": "statistics", "OBJECTIVE_KINDS": "objective", "RULES": "rule"}
    for name, param in points.items():
        registry = getattr(auralize, name)
        assert isinstance(registry, Registry), name
        with pytest.raises(UnknownName) as exc:
            registry["no-such-thing"]
        assert exc.value.param == param and str(exc.value).startswith(f"{param} names no ")
    for register in ("register_model", "register_param", "register_transform", "register_method", "register_judge",
                     "register_statistic", "register_objective", "register_rule"):
        assert callable(getattr(auralize, register)), register


def test_a_registry_refuses_a_taken_name_and_keeps_its_order():
    from auralize.errors import AuralizeError
    from auralize.registry import Registry

    r = Registry("colour", "colour", normalise=str.lower)
    r.register("R", "red", aliases=("crimson",))
    r.register("G", "green")
    assert list(r) == ["red", "green"] and r["CRIMSON"] == "R" and r.choices() == ["red", "green", "crimson"]
    with pytest.raises(AuralizeError, match="'crimson' is taken by 'red'"):
        r.register("C", "cyan", aliases=("crimson",))
    r.register("R2", "red")  # replacing an entry keeps no stale alias
    assert r["red"] == "R2" and "crimson" not in r.choices() and r.get("crimson") is None


def test_the_dream_loops_adam_is_torch_adam_bit_for_bit():
    """render.Adam is written out so that dreams avoid torch.optim's start-up cost; it must stay torch.optim.Adam."""
    from auralize.dream.render import Adam

    torch.manual_seed(0)
    ours, theirs = torch.randn(40, 7, requires_grad=True), None
    theirs = ours.detach().clone().requires_grad_(True)
    mine, reference = Adam([ours], lr=0.05), torch.optim.Adam([theirs], lr=0.05, foreach=False)
    target = torch.randn(40, 7)
    for _ in range(25):
        for p, opt in ((ours, mine), (theirs, reference)):
            opt.zero_grad()
            ((p.sin() - target) ** 2).sum().backward()
            opt.step()
    assert torch.equal(ours, theirs)
