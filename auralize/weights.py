"""Learned weights as sound: each first-layer unit's input-weight row is a 513-bin spectral profile.

A unit of the first layer (``layer1`` of an LSTM, one row per gate i, f, o, g; the RNN's input
map ``h^1 = W x``; the MLP's hidden layer, whose rows are whole 22x513 spectrograms) weighs the
normalised log spectrum bin by bin. Read as a model input (``w / max|w| * contrast`` standard
deviations around the average training spectrum, clamped to the data range), the row becomes a
spectrum: the sound that excites the unit most per unit of energy. Held for a few seconds and
inverted with Griffin-Lim, it is audible.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from . import features as F
from .errors import AuralizeError

GATES = ("i", "f", "o", "g")


def weight_rows(model: nn.Module, gate: str = "g") -> tuple[torch.Tensor, str]:
    """Input-weight rows of the first layer, ``(units, frames_or_1, 513)``, and the layer name."""
    kind = model.config.kind
    if kind == "rnn":
        return model.input.weight.detach()[:, None, :], "input"
    if kind == "mlp":
        w = model.hidden.weight.detach()
        return w.reshape(w.shape[0], model.config.n_frames, model.config.n_bins), "hidden"
    if kind not in ("lstm", "attention"):
        raise AuralizeError(f"a {kind} model has no learned units to render; use an lstm, rnn, attention or mlp")
    if gate not in GATES:
        raise AuralizeError(f"unknown gate {gate!r}; use one of {', '.join(GATES)}")
    w = model.layers[0].w_in.weight.detach()  # (4H, 513), gates stacked i, f, o, g
    h = model.config.hidden
    k = GATES.index(gate)
    return w[k * h:(k + 1) * h, None, :], "layer1.h"


def profile_input(model: nn.Module, rows: torch.Tensor, frames: int, contrast: float = 3.0) -> torch.Tensor:
    """Model inputs ``(units, frames, 513)`` that hold each weight row (tiled over time)."""
    x = rows / rows.abs().amax(dim=(1, 2), keepdim=True).clamp(min=1e-12) * contrast
    if x.shape[1] == 1:
        x = x.expand(-1, frames, -1)
    lo, hi = model.scaler.bounds(x)
    return torch.maximum(torch.minimum(x, hi), lo)


def render_units(model: nn.Module, units: list[int], gate: str = "g", seconds: float = 3.0, contrast: float = 3.0,
                 n_iter: int = 100, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Audio ``(n, samples)`` and PSDs ``(n, frames, 513)`` of the given first-layer units."""
    from .invert import psd_to_audio

    rows, _ = weight_rows(model, gate)
    bad = [u for u in units if not 0 <= u < len(rows)]
    if bad:
        raise AuralizeError(f"neuron {bad[0]} is out of range; the first layer has {len(rows)} units (0-{len(rows) - 1})")
    samples = int(round(seconds * F.SAMPLE_RATE))
    if samples < F.N_FFT:
        raise AuralizeError("--seconds must be at least 0.26 (one frame)")
    frames = rows.shape[1] if rows.shape[1] > 1 else 1 + (samples - F.N_FFT) // F.HOP
    x = profile_input(model, rows[units], frames, contrast)
    psd = model.scaler.inverse(x.double())
    audio = np.asarray(psd_to_audio(psd, n_iter=n_iter, seed=seed), dtype=np.float32)
    return audio[:, : int(round(seconds * F.SAMPLE_RATE))], psd.numpy()
