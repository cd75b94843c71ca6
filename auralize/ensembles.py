"""Several models as one: :class:`Ensemble`, and the ensemble file that names its members.

An ensemble dreams through every member at once (the mean or the minimum of their
log-probabilities), so a dream must be heard as the genre by each of them: no member's blind spot
alone can satisfy it. An ensemble file (``.json``, result kind ``ensemble``, written by
:func:`auralize.save_ensemble`) lists member checkpoints, relative to the file's folder, and how they
combine; :func:`auralize.load_model` reads it as it reads a checkpoint, so ``--checkpoint team.json`` works wherever a checkpoint does
(worker processes included). Like a checkpoint it never runs code: members are ``.pt`` files.
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import NamedTuple, Sequence

import torch
from torch import nn

from . import results
from .audiomodel import check_model, default_layer, label
from .errors import AuralizeError
from .finemel import sharing

#: How the members' log-probabilities are combined.
COMBINE = ("mean", "min")
#: The most members an ensemble file may name (each is a model held in memory and run every step).
MAX_MEMBERS = 16


class Ensemble(nn.Module):
    """Several :class:`~auralize.audiomodel.AudioModel` s of the same genres as one: its input is the audio,
    each member reads it through its own front end, and its logits are the mean (or the minimum) of the
    members' log-probabilities, each member's logits first divided by its temperature (1 by default;
    :func:`auralize.calibration.held_out_fit` fits one on held-out clips). The combined output is then
    divided by ``output_temperature`` (1 by default), which changes how sure the ensemble is, never its
    verdict, and leaves the members' weights as they are.

    States are the members' states, prefixed ``m{k}.``; a dream through it must be heard as the genre by
    every member at once, which no member's blind spot alone can satisfy.
    """

    def __init__(self, models: Sequence, combine: str = "mean", name: str | None = None,
                 temperatures: Sequence[float] | None = None, output_temperature: float = 1.0) -> None:
        super().__init__()
        models = list(models)
        if not models:
            raise AuralizeError("an ensemble needs at least one model", param="models")
        for k, m in enumerate(models):
            check_model(m, f"ensemble member {k}")
        first = models[0]
        differ = next((m for m in models if tuple(m.genres) != tuple(first.genres)
                       or (m.sample_rate, m.clip_samples) != (first.sample_rate, first.clip_samples)), None)
        if differ is not None:
            raise AuralizeError("the members of an ensemble must know the same genres and read the same clips",
                                param="models")
        if combine not in COMBINE:
            raise AuralizeError(f"combine must be {' or '.join(COMBINE)}, got {combine!r}", param="combine")
        temperatures = [1.0] * len(models) if temperatures is None else list(temperatures)
        if len(temperatures) != len(models) or not all(map(_positive, temperatures)):
            raise AuralizeError(f"temperatures must be one positive finite number per member ({len(models)}), got "
                                f"{temperatures!r:.80}", param="temperatures")
        self.temperatures = tuple(float(t) for t in temperatures)
        if not _positive(output_temperature):
            raise AuralizeError(f"the output temperature must be a positive finite number, got {output_temperature!r:.40}",
                                param="output_temperature")
        self.output_temperature = float(output_temperature)
        self.members = nn.ModuleList([m for m in models if isinstance(m, nn.Module)])
        self._models, self.combine = models, combine
        self.genres, self.sample_rate, self.clip_samples = tuple(first.genres), first.sample_rate, first.clip_samples
        self.name = name or f"ensemble ({combine} of {', '.join(label(m) for m in models)})"
        self.meta: dict = _shared_split(models)
        self.path: Path | None = None

    @property
    def models(self) -> tuple:
        """The members, in order (``m0``, ``m1``, ...)."""
        return tuple(self._models)

    def features(self, audio: torch.Tensor) -> torch.Tensor:
        return audio

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        return self.forward_with_states(audio)[0]

    def forward_with_states(self, audio: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        logps, states = [], {}
        with sharing():  # members on the same front end read one log-mel of the audio
            for k, (m, t) in enumerate(zip(self._models, self.temperatures)):
                logits, own = m.forward_with_states(m.features(audio))
                logps.append(torch.log_softmax(logits / t if t != 1.0 else logits, 1))
                states.update({f"m{k}.{n}": s for n, s in own.items()})
        stacked = torch.stack(logps)
        combined = stacked.mean(0) if self.combine == "mean" else stacked.amin(0)
        return (combined / self.output_temperature if self.output_temperature != 1.0 else combined), states

    def default_layer(self) -> str:
        return f"m0.{default_layer(self._models[0])}"


def _positive(t) -> bool:
    return isinstance(t, (int, float)) and not isinstance(t, bool) and math.isfinite(t) and t > 0


def _shared_split(models) -> dict:
    """The split the members were all trained on (and the union of their training tracks), so that
    ``evaluate`` scores an ensemble on its members' held-out part; ``{}`` when they differ or do not say."""
    keys = ("split", "split_seed", "coverage", "data_summary")
    metas = [getattr(m, "meta", None) or {} for m in models]
    first = {k: metas[0].get(k) for k in keys}
    if not first["split"] or any({k: m.get(k) for k in keys} != first for m in metas):
        return {}
    shared = {k: v for k, v in first.items() if v is not None}
    if all("train_tracks_list" in m for m in metas):
        shared["train_tracks_list"] = sorted(set().union(*(m["train_tracks_list"] for m in metas)))
    return shared


def ensemble(models: Sequence, combine: str = "mean", name: str | None = None,
             temperatures: Sequence[float] | None = None, output_temperature: float = 1.0) -> Ensemble:
    """Several models of the same genres as one :class:`AudioModel` (see :class:`Ensemble`).

    Examples
    --------
    >>> import auralize
    >>> both = auralize.ensemble([auralize.load_model(auralize.default_checkpoint(k)) for k in ("lstm", "rnn")])
    >>> both.genres == auralize.load_model(auralize.default_checkpoint("rnn")).genres
    True
    """
    return Ensemble(models, combine, name, temperatures, output_temperature)


def is_ensemble_file(path) -> bool:
    """Whether ``path`` names an ensemble file (a ``.json``; what it holds is checked when it is read)."""
    return isinstance(path, (str, os.PathLike)) and str(path).lower().endswith(".json")


def check_member(where: Path, named, manifest: Path | None = None) -> Path:
    """``where`` if it names a checkpoint (``.pt``): an ensemble file never names code or another ensemble file."""
    of = f"{manifest}: member {named}" if manifest else f"member {named}"
    if Path(where).suffix.lower() != ".pt":
        raise AuralizeError(f"{of} is not a checkpoint (.pt); an ensemble file names checkpoints only (build "
                            "other ensembles in Python with auralize.ensemble)")
    return Path(where)


def ensemble_path(path: str | Path) -> Path:
    """``path`` as a Path, if it can name an ensemble file (a ``.json``)."""
    if not is_ensemble_file(path):
        raise AuralizeError(f"an ensemble file ends in .json, got {path}", param="path")
    return Path(path)


def write_ensemble_file(path: str | Path, members: Sequence[Path], combine: str, name: str,
                        fits: Sequence | None = None, output_fit=None) -> Path:
    """Write the ensemble file (result kind ``ensemble``): members relative to its folder when under it,
    with ``fits`` (:class:`auralize.calibration.TemperatureFit`, one per member) their temperatures and how
    each was fitted, and with ``output_fit`` the combined output's temperature and how it was fitted."""
    path = ensemble_path(path)
    folder = path.resolve().parent
    named = [os.path.relpath(m.resolve(), folder) if m.resolve().is_relative_to(folder) else str(m.resolve())
             for m in members]
    spec = {"members": named, "combine": combine, "name": name}
    if fits is not None:
        spec["temperatures"] = [round(float(f.temperature), 4) for f in fits]
        spec["calibration"] = [f.to_dict() for f in fits]
    if output_fit is not None:
        spec["output_temperature"] = round(float(output_fit.temperature), 4)
        spec["output_calibration"] = output_fit.to_dict()
    return results.write(path, "ensemble", spec)


class EnsembleSpec(NamedTuple):
    """What an ensemble file says (:func:`read_ensemble_file`)."""

    members: list[Path]  #: member checkpoints, resolved against the file's folder
    combine: str
    name: str | None
    temperatures: list[float] | None  #: ``None``: all 1
    output_temperature: float


def read_ensemble_file(path: str | Path) -> EnsembleSpec:
    """An ensemble file's member checkpoints (resolved against its folder), how they combine, its name, the
    members' temperatures and the output's.

    Raises
    ------
    AuralizeError
        If the file is not an ensemble file, names no member or too many, or a member is not a checkpoint
        (an ensemble file never runs code, nor names another ensemble file).
    """
    path = Path(path)
    spec = results.read(path, "ensemble")
    members = spec["members"]
    if not 1 <= len(members) <= MAX_MEMBERS:
        raise AuralizeError(f"{path} names {len(members)} members; an ensemble has 1 to {MAX_MEMBERS}")
    return EnsembleSpec([check_member(path.parent / m, m, path) for m in members], spec["combine"], spec.get("name"),
                        spec.get("temperatures"), spec.get("output_temperature", 1.0))
