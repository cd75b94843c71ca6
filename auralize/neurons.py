"""Activation statistics: which neurons are most commonly active when the model predicts a genre.

Definitions (the paper's "neuron most commonly active among all inputs when our model predicts
that a clip is most likely Jazz", made precise):

- a neuron is one unit of one named state of ``forward_with_states`` (``layer2.h``,
  ``layer1.c``, ``attention.context``, ``hidden``, ...);
- its activation on a clip is reduced over the 22 frames by a *timestep rule*: ``last`` (the
  state the classifier reads), ``mean`` or ``max`` (states without a time axis are used as is);
- it is *active* on a clip when that activation exceeds the unit's own ``quantile`` (default
  0.9) over all clips given, so every unit is active on about 10% of all clips and units with
  different scales compare fairly;
- for a genre G, its *active rate* is the share of clips predicted as G on which it is active.
  The top neurons of G have the highest active rate (ties: higher mean activation on G's clips).
  ``lift`` = active rate / overall active rate tells how specific the neuron is to G.
"""
from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .errors import AuralizeError
from .io import atomic_write_text

RULES = ("last", "mean", "max")


def default_layer(model: nn.Module) -> str:
    """The top recurrent layer's hidden state (``hidden`` for the MLP)."""
    names = list(model.forward_with_states(torch.zeros(1, model.config.n_frames, model.config.n_bins))[1])
    hidden = [n for n in names if n.endswith(".h") and n.startswith("layer")]
    if hidden:
        return hidden[-1]
    if "hidden" in names:
        return "hidden"
    raise AuralizeError(f"a {model.config.kind} model has no neurons to analyse; use an rnn, lstm, attention or mlp")


def reduce_time(state: torch.Tensor, rule: str) -> torch.Tensor:
    """(N, T, H) -> (N, H) by the timestep rule; (N, H) passes through."""
    if rule not in RULES:
        raise AuralizeError(f"unknown timestep rule {rule!r}; use one of {', '.join(RULES)}")
    if state.dim() == 2:
        return state
    if rule == "last":
        return state[:, -1]
    return state.mean(1) if rule == "mean" else state.amax(1)


def check_layer(model: nn.Module, layer: str) -> None:
    names = list(model.forward_with_states(torch.zeros(1, model.config.n_frames, model.config.n_bins))[1])
    if layer not in names:
        raise AuralizeError(f"unknown layer {layer!r} for this {model.config.kind} model; choose one of {', '.join(names)}")


@torch.no_grad()
def activations(model: nn.Module, x: np.ndarray | torch.Tensor, layer: str, rule: str = "mean",
                batch: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Per-clip activations ``(n, units)`` of ``layer`` and the model's predicted class ``(n,)``."""
    check_layer(model, layer)
    model.eval()
    x = torch.as_tensor(x, dtype=torch.float32)
    acts, preds = [], []
    for i in range(0, len(x), batch):
        logits, states = model.forward_with_states(x[i:i + batch])
        acts.append(reduce_time(states[layer], rule))  # attention.alpha (N, T): its units are frames
        preds.append(logits.argmax(1))
    return torch.cat(acts).numpy(), torch.cat(preds).numpy()


@dataclass
class NeuronReport:
    """Per-genre neuron statistics of one layer."""

    layer: str
    rule: str
    quantile: float
    genres: tuple[str, ...]
    thresholds: np.ndarray  # (units,)
    active_rate: np.ndarray  # (genres, units): share of clips predicted as the genre with the unit active
    mean_activation: np.ndarray  # (genres, units)
    n_clips: np.ndarray  # (genres,): clips predicted as the genre
    k: int = 5

    def top(self, genre: str, k: int | None = None) -> list[dict]:
        """The ``k`` most commonly active neurons of ``genre``, best first."""
        g = self.genres.index(genre)
        if self.n_clips[g] == 0:
            return []
        order = np.lexsort((-self.mean_activation[g], -self.active_rate[g]))[: k or self.k]
        overall = max(1.0 - self.quantile, 1e-9)
        return [{"unit": int(u), "active_rate": float(self.active_rate[g, u]),
                 "mean_activation": float(self.mean_activation[g, u]),
                 "lift": float(self.active_rate[g, u] / overall)} for u in order]

    def top_unit(self, genre: str) -> int:
        """The neuron most commonly active when the model predicts ``genre``."""
        top = self.top(genre, 1)
        if not top:
            raise AuralizeError(f"the model predicted no clip as {genre}, so it has no top neuron; "
                                "use --objective class or give more data")
        return top[0]["unit"]

    def to_dict(self) -> dict:
        return {"layer": self.layer, "rule": self.rule, "quantile": self.quantile, "genres": list(self.genres),
                "n_clips": self.n_clips.tolist(), "thresholds": self.thresholds.tolist(),
                "top": {g: self.top(g) for g in self.genres},
                "active_rate": np.round(self.active_rate, 5).tolist(),
                "mean_activation": np.round(self.mean_activation, 5).tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> "NeuronReport":
        return cls(d["layer"], d["rule"], d["quantile"], tuple(d["genres"]), np.asarray(d["thresholds"]),
                   np.asarray(d["active_rate"]), np.asarray(d["mean_activation"]), np.asarray(d["n_clips"]))

    def save(self, path: str | Path) -> Path:
        return atomic_write_text(path, json.dumps(self.to_dict(), indent=1))


def top_neurons(model: nn.Module, x: np.ndarray | torch.Tensor, layer: str | None = None, rule: str = "mean",
                quantile: float = 0.9, k: int = 5) -> NeuronReport:
    """Find, for each genre, the neurons most commonly active on the clips predicted as it.

    Parameters
    ----------
    model : a trained model with ``genres``
    x : model inputs ``(n, 22, 513)`` (e.g. ``model.scaler.transform(psd)``)
    layer : a state name (default: the top layer's hidden state)
    rule : ``last``, ``mean`` or ``max`` over the frames
    quantile : a unit is active above this quantile of its own activations over all clips
    k : how many neurons :meth:`NeuronReport.top` lists by default
    """
    if not 0 < quantile < 1:
        raise AuralizeError("--quantile must lie strictly between 0 and 1")
    layer = layer or default_layer(model)
    acts, pred = activations(model, x, layer, rule)
    thresholds = np.quantile(acts, quantile, axis=0)
    active = acts > thresholds
    n_genres = len(model.genres)
    rate = np.zeros((n_genres, acts.shape[1]))
    mean = np.zeros((n_genres, acts.shape[1]))
    counts = np.bincount(pred, minlength=n_genres)
    for g in range(n_genres):
        rows = pred == g
        if rows.any():
            rate[g] = active[rows].mean(0)
            mean[g] = acts[rows].mean(0)
    return NeuronReport(layer, rule, quantile, tuple(model.genres), thresholds, rate, mean, counts, k)


def neurons_path(checkpoint: str | Path) -> Path:
    """Where a checkpoint's neuron statistics live: ``<checkpoint stem>.neurons.json`` beside it."""
    checkpoint = Path(checkpoint)
    return checkpoint.with_name(checkpoint.stem + ".neurons.json")


def input_layer(model: nn.Module) -> str:
    """The state whose units read the spectrogram directly (their weight rows are spectra)."""
    return "input" if model.config.kind == "rnn" else ("hidden" if model.config.kind == "mlp" else "layer1.h")


def _fingerprint(checkpoint: str | Path) -> str:
    import hashlib

    return hashlib.sha256(Path(checkpoint).read_bytes()).hexdigest()[:16]


def save_reports(checkpoint: str | Path, reports: list[NeuronReport]) -> Path:
    """Merge reports (keyed by layer) into the checkpoint's ``.neurons.json``.

    Reports made for another version of the checkpoint (a retrained model) are dropped.
    """
    path = neurons_path(checkpoint)
    fingerprint = _fingerprint(checkpoint)
    saved = json.loads(path.read_text()) if path.is_file() else {}
    if saved.get("checkpoint_sha256") != fingerprint:
        saved = {"checkpoint_sha256": fingerprint, "reports": {}}
    for r in reports:
        saved["reports"][r.layer] = r.to_dict()
    saved.setdefault("default", reports[0].layer)
    return atomic_write_text(path, json.dumps(saved, indent=1))


def load_report(checkpoint: str | Path, layer: str | None = None) -> NeuronReport | None:
    """A checkpoint's saved neuron statistics for ``layer`` (default: the first saved), or ``None``."""
    path = neurons_path(checkpoint)
    if not path.is_file():
        return None
    saved = json.loads(path.read_text())
    if saved.get("checkpoint_sha256") != _fingerprint(checkpoint):
        raise AuralizeError(f"{path} was made for another version of {Path(checkpoint).name}; rerun "
                            f"'auralize neurons {checkpoint} --data DIR'")
    entry = saved["reports"].get(layer or saved["default"])
    return NeuronReport.from_dict(entry) if entry else None


@contextlib.contextmanager
def ablate(model: nn.Module, layer: str, units: list[int]):
    """Silence ``units`` of a recurrent layer's hidden state (``layer{l}.h``) inside the block.

    The units output 0 at every timestep, to the next layer and to their own recurrence::

        with ablate(model, "layer2.h", [105]):
            evaluate(model, data, "track")
    """
    import re

    match = re.fullmatch(r"layer(\d+)\.h", layer)
    layers = getattr(model, "layers", None)
    if match is None or layers is None or not 1 <= int(match.group(1)) <= len(layers):
        raise AuralizeError(f"cannot ablate {layer!r}; give a recurrent hidden state such as layer1.h")
    target = layers[int(match.group(1)) - 1]
    bad = [u for u in units if not 0 <= u < target.hidden]
    if bad:
        raise AuralizeError(f"neuron {bad[0]} is out of range for {layer}, which has {target.hidden} units")
    mask = torch.ones(target.hidden)
    mask[list(units)] = 0.0
    previous, target.unit_mask = target.unit_mask, mask
    try:
        yield model
    finally:
        target.unit_mask = previous
