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
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch
from torch import nn

from . import checks, results
from .audiomodel import check_layer, default_layer, file_stem, fingerprint, forward_batches, origin, source
from .errors import AuralizeError
from .registry import Registry

#: How the thresholds of a streamed data set are found: exactly, not from a sketch (see :func:`top_neurons`).
QUANTILE_METHOD = "exact (one model pass; activations spilled to a temporary file, quantiles per block of units)"

#: Timestep rules: name -> function reducing a state ``(N, T, H)`` over its frames to ``(N, H)``.
RULES: Registry[Callable[[torch.Tensor], torch.Tensor]] = Registry("timestep rule", "rule")


def register_rule(name: str):
    """Decorator: make a reduction ``(N, T, H) -> (N, H)`` a timestep rule (``--rule NAME``)."""
    return lambda fn: RULES.register(fn, name)


register_rule("last")(lambda state: state[:, -1])  # the state the classifier reads
register_rule("mean")(lambda state: state.mean(1))
register_rule("max")(lambda state: state.amax(1))


def reduce_time(state: torch.Tensor, rule: str) -> torch.Tensor:
    """(N, T, H) -> (N, H) by the timestep rule (:data:`RULES`); (N, H) passes through."""
    reduce = RULES[rule]
    return state if state.dim() == 2 else reduce(state)


@torch.no_grad()
def activation_batches(model, x, layer: str, rule: str = "mean", batch: int = 256) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Per-clip activations ``(b, units)`` of ``layer`` and predicted classes ``(b,)``, ``batch`` clips at a time.

    ``x`` is model input: an array, or rows read as they are asked for (a feature store's,
    :func:`auralize.evaluation.data_inputs`), so that no more than a batch of it is in memory.
    """
    check_layer(model, layer)
    for logits, states in forward_batches(model, x, batch):
        # attention.alpha (N, T): its units are frames
        yield reduce_time(states[layer], rule).cpu().numpy(), logits.argmax(1).cpu().numpy()


def activations(model, x: np.ndarray | torch.Tensor, layer: str, rule: str = "mean",
                batch: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Per-clip activations ``(n, units)`` of ``layer`` and the model's predicted class ``(n,)``.

    ``x`` is model input (:func:`auralize.audiomodel.model_input` of the clips).
    """
    parts = list(activation_batches(model, x, layer, rule, batch))
    if not parts:
        return np.zeros((0, 0), np.float32), np.zeros(0, np.int64)
    return np.concatenate([a for a, _ in parts]), np.concatenate([p for _, p in parts])


class _Spill:
    """Activations written to a temporary file as they come, read back a block of rows or of units at a time:
    the statistics of a data set larger than memory hold only a block in memory (plain reads, not a
    memory map, whose touched pages would count as this process's)."""

    def __init__(self) -> None:
        import tempfile

        self.file = tempfile.TemporaryFile()
        self.rows, self.units = 0, 0

    def append(self, acts: np.ndarray) -> None:
        self.units = acts.shape[1]
        self.file.write(np.ascontiguousarray(acts, dtype=np.float32).tobytes())
        self.rows += len(acts)

    def row_blocks(self, rows: int = 4096) -> Iterator[np.ndarray]:
        self.file.seek(0)
        for start in range(0, self.rows, rows):
            n = min(rows, self.rows - start)
            yield np.frombuffer(self.file.read(n * self.units * 4), np.float32).reshape(n, self.units)

    def quantile(self, q: float, budget: int = 64 << 20) -> np.ndarray:
        """Each unit's exact ``q`` quantile (NumPy's), from blocks of units of at most ``budget`` bytes."""
        width = max(1, budget // max(1, 4 * self.rows))
        parts = []
        for first in range(0, self.units, width):
            cols = np.concatenate([block[:, first:first + width].copy() for block in self.row_blocks()])  # not views
            parts.append(np.quantile(cols, q, axis=0))
        return np.concatenate(parts)


def _genre_statistics(blocks, pred: np.ndarray, thresholds: np.ndarray, n_genres: int,
                      units: int) -> tuple[np.ndarray, np.ndarray]:
    """Per genre, the share of its clips with each unit active, and the units' mean activation, from blocks of
    rows (a data set in memory is one block: NumPy's float32 means, the figures of earlier versions byte for
    byte; several blocks are summed in float64)."""
    active = np.zeros((n_genres, units), np.int64)
    sums = np.zeros((n_genres, units))
    start, single = 0, None
    for number, acts in enumerate(blocks):
        p = pred[start:start + len(acts)]
        start += len(acts)
        above = acts > thresholds
        single = acts if number == 0 else None
        for g in np.unique(p):
            rows = p == g
            active[g] += above[rows].sum(0)
            sums[g] += acts[rows].sum(0, dtype=np.float64)
    counts = np.bincount(pred, minlength=n_genres)
    rate, mean = np.zeros((n_genres, units)), np.zeros((n_genres, units))
    for g in np.flatnonzero(counts):
        rate[g] = active[g].astype(np.float64) / counts[g]
        mean[g] = single[pred == g].mean(0) if single is not None else sums[g] / counts[g]
    return rate, mean


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
                                "use the class objective or give more data", param="genre")
        return top[0]["unit"]

    def to_dict(self) -> dict:
        return {"layer": self.layer, "rule": self.rule, "quantile": self.quantile, "genres": list(self.genres),
                "n_clips": self.n_clips.tolist(), "thresholds": self.thresholds.tolist(),
                "top": {g: self.top(g) for g in self.genres},
                "active_rate": np.round(self.active_rate, 5).tolist(),
                "mean_activation": np.round(self.mean_activation, 5).tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> "NeuronReport":
        """A report from :meth:`to_dict`'s form; a hand-edited or damaged one is a one-line error."""
        try:
            genres = tuple(str(g) for g in d["genres"])
            arrays = [np.asarray(d[k], dtype=np.float64) for k in ("thresholds", "active_rate", "mean_activation")]
            n_clips = np.asarray(d["n_clips"], dtype=np.int64)
            report = cls(str(d["layer"]), str(d["rule"]), float(d["quantile"]), genres, *arrays, n_clips)
        except (KeyError, TypeError, ValueError) as exc:
            raise AuralizeError(f"damaged neuron statistics ({type(exc).__name__}: {exc})") from None
        units = report.thresholds.shape
        if (len(units) != 1 or report.active_rate.shape != (len(genres), units[0])
                or report.mean_activation.shape != report.active_rate.shape or n_clips.shape != (len(genres),)
                or not all(np.isfinite(a).all() for a in arrays) or report.rule not in RULES.choices()):
            raise AuralizeError("damaged neuron statistics (arrays of inconsistent shapes, or non-finite)")
        return report


def top_neurons(model: nn.Module, x: np.ndarray | torch.Tensor, layer: str | None = None, rule: str = "mean",
                quantile: float = 0.9, k: int = 5) -> NeuronReport:
    """Find, for each genre, the neurons most commonly active on the clips predicted as it.

    Parameters
    ----------
    model : a trained model with ``genres``
    x : model inputs of the clips (:func:`auralize.audiomodel.model_input`; the paper's models:
        ``(n, 22, 513)``)
    layer : a state name (default: the top layer's hidden state)
    rule : ``last``, ``mean`` or ``max`` over the frames
    quantile : a unit is active above this quantile of its own activations over all clips
    k : how many neurons :meth:`NeuronReport.top` lists by default

    ``x`` may be rows read as they are asked for (a feature store's, :func:`auralize.evaluation.data_inputs`):
    the model then runs once over them, batch by batch, and its activations are spilled to a temporary
    file (clips x units x 4 bytes), from which each unit's quantile is exact (NumPy's, read a block of
    units at a time: :data:`QUANTILE_METHOD`) and the per-genre rates are summed a block of clips at a time.
    """
    checks.number("quantile", quantile, lo=0, hi=1, lo_open=True, hi_open=True)
    k = checks.count("k", k)
    layer = layer or default_layer(model)
    n_genres = len(model.genres)
    if isinstance(x, (np.ndarray, torch.Tensor)):  # in memory: the activations too
        acts, pred = activations(model, x, layer, rule)
        thresholds = np.quantile(acts, quantile, axis=0)
        rate, mean = _genre_statistics([acts], pred, thresholds, n_genres, acts.shape[1])
        return NeuronReport(layer, rule, quantile, tuple(model.genres), thresholds, rate, mean,
                            np.bincount(pred, minlength=n_genres), k)
    spill, preds = _Spill(), []  # streamed: one pass of the model, the activations spilled to disk
    with spill.file:
        for acts, pred in activation_batches(model, x, layer, rule):
            spill.append(acts)
            preds.append(pred)
        pred = np.concatenate(preds)
        thresholds = spill.quantile(quantile)
        rate, mean = _genre_statistics(spill.row_blocks(), pred, thresholds, n_genres, spill.units)
    return NeuronReport(layer, rule, quantile, tuple(model.genres), thresholds, rate, mean,
                        np.bincount(pred, minlength=n_genres), k)


def neurons_path(model, folder: str | Path | None = None) -> Path | None:
    """Where a model's neuron statistics live: ``<checkpoint stem>.neurons.json`` beside its checkpoint,
    ``my_model.build.neurons.json`` beside ``my_model.py`` for ``my_model.py:build``; ``None`` for a model
    that came from no file. ``model`` is a model or the checkpoint it came from; ``folder``: the same name
    in that folder instead."""
    where = origin(model) if folder is None else Path(folder) / "_"
    return None if where is None else where.with_name(f"{file_stem(model)}.neurons.json")


def _fingerprint(model) -> str:
    """What identifies the model's weights (its checkpoint file's hash, or a hash of its tensors)."""
    if isinstance(model, (str, Path)):
        return hashlib.sha256(Path(model).read_bytes()).hexdigest()[:16]
    return fingerprint(model)


def _read_saved(model) -> dict | None:
    """The model's ``.neurons.json`` if it belongs to this version of the model, else None.

    A damaged or foreign file is a one-line error saying how to remake it.
    """
    path = neurons_path(model)
    if path is None or not path.is_file():
        return None
    name = model if isinstance(model, (str, Path)) else source(model)
    remake = f"rerun 'auralize neurons {name} --data DIR' (it rewrites the file)"
    try:
        saved = results.read(path, "neurons")
    except AuralizeError as exc:
        raise AuralizeError(f"{exc}; {remake}") from None
    if not isinstance(saved.get("reports"), dict) or not isinstance(saved.get("default"), str):
        raise AuralizeError(f"{path} is damaged (no reports); {remake}")
    if saved.get("checkpoint_sha256") != _fingerprint(model):
        raise AuralizeError(f"{path} was made for another version of {Path(str(name).split(':')[0]).name}; {remake}")
    return saved


def save_reports(model, reports: list[NeuronReport], path: str | Path | None = None) -> Path:
    """Merge reports (keyed by layer) into the model's ``.neurons.json`` (a ``neurons`` result).

    ``model`` is a model or its checkpoint. Reports made for another version of the model (a retrained
    model), and a damaged file, are replaced. With a ``path`` other than that file the reports go there instead,
    in a file of their own (dreams read the statistics beside the model, so those stay as they were).

    Raises
    ------
    AuralizeError
        If the model came from no file (nowhere to keep its statistics beside).
    """
    own = neurons_path(model)
    path = own if path is None else Path(path)
    beside = path == own
    if path is None:
        raise AuralizeError("this model came from no file, so its neuron statistics have nowhere to live beside it; "
                            "save it, give a path, or keep the reports top_neurons returns")
    try:
        saved = _read_saved(model) if beside else None
    except AuralizeError:
        saved = None  # this command is the remedy the error suggests: start afresh
    saved = saved or {"checkpoint_sha256": _fingerprint(model), "default": reports[0].layer, "reports": {}}
    for r in reports:
        saved["reports"][r.layer] = r.to_dict()
    return results.write(path, "neurons", saved)


def load_report(model, layer: str | None = None) -> NeuronReport | None:
    """A model's saved neuron statistics for ``layer`` (default: the first saved), or ``None``.

    ``model`` is a model or its checkpoint; a model that came from no file has none.
    """
    saved = _read_saved(model)
    if saved is None:
        return None
    entry = saved["reports"].get(layer or saved["default"])
    if entry is None:
        return None
    try:
        return NeuronReport.from_dict(entry)
    except AuralizeError as exc:
        raise AuralizeError(f"{neurons_path(model)}: {exc}; rerun 'auralize neurons "
                            f"{model if isinstance(model, (str, Path)) else source(model)} --data DIR'") from None


@contextlib.contextmanager
def ablate(model: nn.Module, layer: str, units: list[int]):
    """Silence ``units`` of a recurrent layer's hidden state (``layer{l}.h``) inside the block.

    The units output 0 at every timestep, to the next layer and to their own recurrence::

        with ablate(model, "layer2.h", [105]):
            evaluate(model, data, "track")
    """
    target = model.unit_layer(layer)
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
