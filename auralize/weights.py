"""Learned weights as sound: each first-layer unit's input-weight row is a 513-bin spectral profile.

A unit of the first layer (``layer1`` of an LSTM, one row per gate i, f, o, g; the RNN's input
map ``h^1 = W x``; the MLP's hidden layer, whose rows are whole 22x513 spectrograms) weighs the
normalised log spectrum bin by bin. Read as a model input (``w / max|w| * contrast`` standard
deviations around the average training spectrum, clamped to the data range), the row becomes a
spectrum: the sound that excites the unit most per unit of energy. Held for a few seconds and
inverted with Griffin-Lim, it is audible.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from . import checks, results
from . import features as F
from .errors import AuralizeError
from .io import atomic_save_npy, save_wav


def profile_input(model: nn.Module, rows: torch.Tensor, frames: int, contrast: float = 3.0) -> torch.Tensor:
    """Model inputs ``(units, frames, 513)`` that hold each weight row (tiled over time)."""
    x = rows / rows.abs().amax(dim=(1, 2), keepdim=True).clamp(min=1e-12) * contrast
    if x.shape[1] == 1:
        x = x.expand(-1, frames, -1)
    lo, hi = model.input_bounds()
    return torch.maximum(torch.minimum(x, hi.to(x.dtype)), lo.to(x.dtype))


def render_units(model: nn.Module, units: list[int], gate: str = "g", seconds: float = 3.0, contrast: float = 3.0,
                 n_iter: int = 100, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Audio ``(n, samples)`` and PSDs ``(n, frames, 513)`` of the given first-layer units.

    The rows are the model's :meth:`~auralize.models.Classifier.weight_rows` (of ``gate`` where
    the first layer has gates).
    """
    from .invert import psd_to_audio

    checks.number("seconds", seconds, lo=1, hi=600)
    checks.positive("contrast", contrast)
    checks.count("n_iter", n_iter, hi=10000)
    rows, _ = model.weight_rows(gate)
    if not units:
        raise AuralizeError("units must name at least one unit", param="units")
    bad = [u for u in units if not 0 <= u < len(rows)]
    if bad:
        raise AuralizeError(f"neuron {bad[0]} is out of range; the first layer has {len(rows)} units (0-{len(rows) - 1})",
                            param="units")
    samples = int(round(seconds * F.SAMPLE_RATE))
    frames = rows.shape[1] if rows.shape[1] > 1 else 1 + (samples - F.N_FFT) // F.HOP
    x = profile_input(model, rows[units], frames, contrast)
    psd = model.input_psd(x)
    audio = np.asarray(psd_to_audio(psd, n_iter=n_iter, seed=seed), dtype=np.float32)
    return audio[:, :samples], psd


def top_units(report) -> tuple[list[int], dict[int, list[str]]]:
    """Each genre's top neuron of a :class:`~auralize.neurons.NeuronReport` (distinct, in genre
    order), and which genres each unit is the top of."""
    owners: dict[int, list[str]] = {}
    for g in report.genres:
        for t in report.top(g, 1):
            owners.setdefault(t["unit"], []).append(g)
    return list(owners), owners


def save_units(model: nn.Module, units: list[int], out: str | Path, gates: str | list[str] = "g",
               seconds: float = 3.0, contrast: float = 3.0, n_iter: int = 100, seed: int = 0,
               owners: dict[int, list[str]] | None = None, checkpoint: str | Path | None = None) -> list[dict]:
    """Render units (:func:`render_units`) for each gate and write them to the folder ``out``.

    Per unit and gate: ``unit<NNN>[-<gate>].wav`` and its PSD ``.npy``; then ``weights.json`` (a
    ``weights`` result listing them). ``gates='all'`` renders every gate the model has. Returns
    the listed entries (unit, gate, top_of, wav).
    """
    out = Path(out)
    if gates == "all":
        gates = list(model.weight_gates) or ["g"]
    elif isinstance(gates, str):
        gates = [gates]
    index = []
    for gate in gates:
        audio, psd = render_units(model, units, gate, seconds, contrast, n_iter, seed)
        for u, a, p in zip(units, audio, psd):
            stem = out / (f"unit{u:03d}-{gate}" if model.weight_gates else f"unit{u:03d}")
            save_wav(stem.with_suffix(".wav"), a, F.SAMPLE_RATE)
            atomic_save_npy(stem.with_suffix(".npy"), p.astype(np.float32))
            index.append({"unit": int(u), "gate": gate, "top_of": (owners or {}).get(u, []),
                          "wav": str(stem.with_suffix(".wav"))})
    results.write(out / "weights.json", "weights", {
        "checkpoint": str(checkpoint if checkpoint is not None else getattr(model, "path", "")),
        "contrast": contrast, "units": index})
    return index
