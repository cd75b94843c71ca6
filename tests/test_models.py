import numpy as np
import pytest
import torch

from auralize.errors import AuralizeError
from auralize.models import ModelConfig, build_model


@pytest.mark.parametrize("kind,hidden,layers,expect", [
    ("rnn", 7, 2, {"input": (3, 22, 7), "layer1.h": (3, 22, 7), "layer2.h": (3, 22, 7)}),
    ("lstm", 6, 2, {"layer1.h": (3, 22, 6), "layer1.c": (3, 22, 6), "layer2.h": (3, 22, 6), "layer2.c": (3, 22, 6)}),
    ("attention", 5, 1, {"layer1.h": (3, 22, 5), "layer1.c": (3, 22, 5), "attention.alpha": (3, 22),
                         "attention.context": (3, 5), "attention.h_tilde": (3, 5)}),
    ("mlp", 9, 1, {"hidden": (3, 9)}),
])
def test_output_and_state_shapes(kind, hidden, layers, expect):
    model = build_model(ModelConfig(kind, n_classes=4, hidden=hidden, layers=layers)).eval()
    logits, states = model.forward_with_states(torch.randn(3, 22, 513))
    assert logits.shape == (3, 4)
    assert {k: tuple(v.shape) for k, v in states.items()} == expect
    assert list(states) == list(expect)  # in the model's order
    torch.testing.assert_close(model(torch.randn(2, 22, 513)).shape, torch.Size([2, 4]))


def test_paper_sizes_are_defaults():
    assert (ModelConfig("rnn").hidden, ModelConfig("rnn").layers) == (125, 2)
    assert (ModelConfig("lstm").hidden, ModelConfig("lstm").layers) == (250, 2)
    assert (ModelConfig("attention").hidden, ModelConfig("attention").layers) == (60, 2)
    assert ModelConfig("mlp").hidden == 125


def test_lstm_matches_the_equations():
    torch.manual_seed(0)
    model = build_model(ModelConfig("lstm", n_classes=3, hidden=4, layers=1)).eval()
    x = torch.randn(1, 22, 513)
    _, states = model.forward_with_states(x)
    layer = model.layers[0]
    h = c = torch.zeros(1, 4)
    for t in range(22):
        z = layer.w_in(x[:, t]) + layer.w_rec(h)
        i, f, o, g = torch.sigmoid(z[:, :4]), torch.sigmoid(z[:, 4:8]), torch.sigmoid(z[:, 8:12]), torch.tanh(z[:, 12:])
        c = f * c + i * g
        h = o * torch.tanh(c)
    torch.testing.assert_close(states["layer1.h"][:, -1], h)
    torch.testing.assert_close(states["layer1.c"][:, -1], c)


def test_attention_uses_last_cell_as_score():
    torch.manual_seed(1)
    model = build_model(ModelConfig("attention", n_classes=3, hidden=5, layers=2)).eval()
    logits, s = model.forward_with_states(torch.randn(2, 22, 513))
    h, c = s["layer2.h"], s["layer2.c"][:, -1]
    alpha = torch.softmax((h * c[:, None]).sum(-1), 1)
    torch.testing.assert_close(s["attention.alpha"], alpha)
    torch.testing.assert_close(s["attention.alpha"].sum(1), torch.ones(2))
    ctx = (alpha[..., None] * h).sum(1)
    h_tilde = torch.tanh(model.w_c(torch.cat([ctx, c], -1)))
    torch.testing.assert_close(logits, model.w_hy(h_tilde))


def test_authors_variants():
    rnn = build_model(ModelConfig("rnn", n_classes=2, hidden=4, layers=2, variant="authors"))
    names = rnn.forward_with_states(torch.zeros(1, 22, 513))[1]
    assert "layer2.c" in names and "layer1.c" not in names
    att = build_model(ModelConfig("attention", n_classes=2, hidden=4, layers=1, variant="authors"))
    assert att.w_a is not None


def test_unknown_model_and_variant():
    with pytest.raises(AuralizeError, match="no model called .cnn."):
        ModelConfig("cnn")
    with pytest.raises(AuralizeError, match="unknown variant"):
        ModelConfig("lstm", variant="x")


@pytest.mark.parametrize("kind", ["svm", "softmax"])
def test_baselines_match_sklearn(kind):
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.svm import SVC

    from auralize.baselines import fit_baseline

    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 10)
    x = (rng.standard_normal((30, 22, 513)) + y[:, None, None] * 0.05).astype(np.float32)
    model = fit_baseline(ModelConfig(kind, n_classes=4), x, y)
    flat = x.reshape(30, -1).astype(np.float64)
    out = model(torch.from_numpy(x)).detach().numpy()
    if kind == "svm":
        ref = OneVsRestClassifier(SVC(kernel="rbf", gamma=1 / (flat.shape[1] * flat.var()))).fit(flat, y)
        np.testing.assert_allclose(out[:, :3], ref.decision_function(flat), rtol=1e-3, atol=1e-3)
    else:
        ref = LogisticRegression(solver="newton-cg", max_iter=200).fit(flat, y)
        np.testing.assert_allclose(out[:, :3], ref.decision_function(flat), rtol=1e-3, atol=1e-3)
    assert (out[:, 3] < -1e3).all()  # the class never seen never wins


@pytest.mark.parametrize("kind", ["lstm", "rnn", "attention", "mlp"])
def test_level_normalisation_ignores_a_change_of_level(kind):
    torch.manual_seed(0)
    model = build_model(ModelConfig(kind, n_classes=3, hidden=5, layers=1, input_norm="level")).eval()
    x = torch.randn(2, 22, 513)
    torch.testing.assert_close(model(x + 1.7), model(x), atol=1e-5, rtol=1e-5)
    plain = build_model(ModelConfig(kind, n_classes=3, hidden=5, layers=1)).eval()
    assert not torch.allclose(plain(x + 1.7), plain(x), atol=1e-3)
