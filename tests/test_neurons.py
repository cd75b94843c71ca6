import json

import numpy as np
import pytest
import torch

from auralize.checkpoint import attach
from auralize.errors import AuralizeError
from auralize.features import InputScaler
from auralize.models import ModelConfig, build_model
from auralize.neurons import load_report, save_reports, top_neurons
from auralize.plots import heatmap


def rigged_model():
    """A 1-layer LSTM whose unit 0 fires on loud low bins and whose class follows it."""
    torch.manual_seed(0)
    model = build_model(ModelConfig("lstm", n_classes=2, hidden=3, layers=1)).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        layer = model.layers[0]
        layer.w_in.weight[9, :100] = 0.2  # g gate of unit 0 reads bins 0-99
        layer.w_in.bias[0:3] = 5.0  # input gates open
        layer.w_in.bias[6:9] = 5.0  # output gates open
        model.w_hy.weight[1, 0] = 10.0  # class 1 <=> unit 0 high
        model.w_hy.bias[0] = 2.0
    scaler = InputScaler(per_bin=False, mean=np.zeros(513, np.float32), std=np.ones(513, np.float32),
                         lo=-np.ones(513, np.float32) * 5, hi=np.ones(513, np.float32) * 5)
    return attach(model, scaler, ("quiet", "loud"))


def test_top_neuron_is_the_rigged_one(tmp_path):
    model = rigged_model()
    x = np.zeros((40, 22, 513), np.float32)
    x[20:, :, :100] = 1.0  # the "loud" clips
    x += np.random.default_rng(0).standard_normal(x.shape).astype(np.float32) * 0.01
    report = top_neurons(model, x, "layer1.h", "mean", quantile=0.5, k=2)
    assert report.n_clips.tolist() == [20, 20]
    assert report.top_unit("loud") == 0
    top = report.top("loud")[0]
    assert top["active_rate"] == 1.0 and top["lift"] == 2.0
    assert report.active_rate[0, 0] == 0.0
    # saved beside the checkpoint and read back
    ckpt = tmp_path / "m.pt"
    ckpt.write_bytes(b"weights v1")
    save_reports(ckpt, [report])
    again = load_report(ckpt)
    assert again.top_unit("loud") == 0 and again.layer == "layer1.h"
    assert json.loads((tmp_path / "m.neurons.json").read_text())["default"] == "layer1.h"
    ckpt.write_bytes(b"weights v2")  # retrained: the statistics no longer apply
    with pytest.raises(AuralizeError, match="another version"):
        load_report(ckpt)
    png = heatmap(report, tmp_path / "h.png")
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_bad_layer_rule_quantile():
    model = rigged_model()
    x = np.zeros((4, 22, 513), np.float32)
    with pytest.raises(AuralizeError, match="unknown layer"):
        top_neurons(model, x, "layer9.h")
    with pytest.raises(AuralizeError, match="timestep rule"):
        top_neurons(model, x, "layer1.h", rule="median")
    with pytest.raises(AuralizeError, match="quantile"):
        top_neurons(model, x, "layer1.h", quantile=1.5)


def test_genre_never_predicted_has_no_top_neuron():
    model = rigged_model()
    report = top_neurons(model, np.zeros((6, 22, 513), np.float32), "layer1.h")
    assert report.n_clips.tolist() == [6, 0]
    assert report.top("loud") == []
    with pytest.raises(AuralizeError, match="predicted no clip as loud"):
        report.top_unit("loud")


def test_ablation_silences_the_unit_inside_the_recurrence():
    from auralize.neurons import ablate

    torch.manual_seed(0)
    model = build_model(ModelConfig("lstm", n_classes=3, hidden=6, layers=2)).eval()
    x = torch.randn(2, 22, 513)
    before = model.forward_with_states(x)[1]
    with ablate(model, "layer1.h", [2]):
        _, after = model.forward_with_states(x)
        assert torch.all(after["layer1.h"][..., 2] == 0)
    assert not torch.allclose(after["layer2.h"], before["layer2.h"])
    torch.testing.assert_close(model.forward_with_states(x)[1]["layer2.h"], before["layer2.h"])  # restored
    with pytest.raises(AuralizeError, match="out of range"):
        with ablate(model, "layer1.h", [6]):
            pass
    with pytest.raises(AuralizeError, match="cannot ablate"):
        with ablate(model, "attention.context", [0]):
            pass
