"""Checkpoints: one ``.pt`` file that maps audio to a prediction with no data set at hand.

A checkpoint is a plain dict of tensors, numbers and strings (``torch.load(...,
weights_only=True)`` safe): the architecture config, the weights, the input scaler fitted on the
training split, the genre names, and metadata (split, data coverage, metrics, command).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from torch import nn

from .errors import AuralizeError
from .features import InputScaler
from .io import atomic_torch_save
from .models import ModelConfig, build_model

FORMAT = "auralize-checkpoint-1"


def save_checkpoint(path: str | Path, model: nn.Module, meta: dict | None = None) -> Path:
    """Write ``model`` (with its ``scaler`` and ``genres``) atomically to ``path``."""
    payload = {
        "format": FORMAT,
        "config": json.dumps(model.config.to_dict()),
        "state_dict": {k: v.detach().clone() for k, v in model.state_dict().items()},
        # the paper's front end is a scaler beside the weights; a kind that owns its front end keeps it in them
        "scaler": model.scaler.to_state() if model.config.entry.front_end == "paper" else {},
        "genres": list(model.genres),
        "meta": json.dumps(meta if meta is not None else getattr(model, "meta", {})),
    }
    return atomic_torch_save(path, payload)


def read_checkpoint(path: str | Path) -> dict:
    """Load a checkpoint dict safely (``weights_only=True``).

    Raises
    ------
    AuralizeError
        If the file is missing or is not an auralize checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise AuralizeError(f"checkpoint not found: {path}; train one with 'auralize train' or use trained/*.pt")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise AuralizeError(f"{path} is not a checkpoint auralize can read ({type(exc).__name__}); "
                            "give a .pt file written by 'auralize train'") from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise AuralizeError(f"{path} is not an auralize checkpoint; give a .pt file written by 'auralize train'")
    return payload


def load_model(path: str | Path) -> nn.Module:
    """Load a model: an auralize checkpoint, an ensemble file, or a user's Python file that builds one.

    ``path`` is a checkpoint (``.pt``, written by ``auralize train``), an ensemble file (``.json``, written
    by :func:`save_ensemble`: member checkpoints and how they combine), or
    ``my_model.py:build``, a Python file and the function in it that returns an
    :class:`~auralize.audiomodel.AudioModel` (:func:`~auralize.audiomodel.load_user_model`; that runs the
    user's code, a checkpoint or an ensemble file never does).

    A checkpoint comes back in eval mode with ``.scaler``, ``.genres`` and ``.meta`` attached. Everything
    is checked before use: the config (sizes within bounds, so a hand-edited hidden size never
    allocates gigabytes), that the weights fit it and are finite, the scaler, one genre name per
    output, and the metadata.

    Raises
    ------
    AuralizeError
        If the file is missing, not a checkpoint, or damaged in any of those ways.

    Examples
    --------
    >>> import auralize
    >>> model = auralize.load_model(auralize.default_checkpoint("lstm"))
    >>> model.genres[:3], model.sample_rate, model.clip_samples
    (('blues', 'classical', 'country'), 4000, 20000)
    """
    from .audiomodel import is_user_model, load_user_model
    from .ensembles import is_ensemble_file

    if path is None or not isinstance(path, (str, os.PathLike)):
        raise AuralizeError(f"path must be a checkpoint (.pt), an ensemble file (.json) or my_model.py:build (a str or Path), got {path!r:.60}",
                            param="path")
    if is_user_model(path):
        return load_user_model(path)
    if is_ensemble_file(path):
        return _load_ensemble(Path(path))
    return _load_checkpoint(Path(path))


def _load_ensemble(path: Path) -> nn.Module:
    """An ensemble file's model: its members loaded as checkpoints (:mod:`auralize.ensembles`)."""
    from .ensembles import Ensemble, read_ensemble_file

    spec = read_ensemble_file(path)
    models = [_load_checkpoint(m) for m in spec.members]
    try:
        model = Ensemble(models, spec.combine, spec.name, spec.temperatures, spec.output_temperature)
    except AuralizeError as exc:
        raise AuralizeError(f"{path}: {exc}") from None
    model.path = path
    return model


def save_ensemble(members, path: str | Path, combine: str = "mean", name: str | None = None,
                  fits=None, output_fit=None) -> Path:
    """Write an ensemble file naming member checkpoints, after checking that they load and fit together.

    Parameters
    ----------
    members : sequence of str or Path
        Checkpoints (``.pt``) of models of the same genres and clips.
    path : str or Path
        The ensemble file to write (``.json``); members are recorded relative to its folder when they
        lie under it, so the folder can move as a whole.
    combine : {"mean", "min"}
        How the members' log-probabilities are combined.
    name : str, optional
        A name for messages and result files.
    fits : sequence of TemperatureFit, optional
        One per member, from :func:`auralize.fit_members` (each member's temperature, fitted on
        the validation part of the split it was trained on), so that under-confident members are not
        outweighed; by default every member's logits are used as they are.
    output_fit : TemperatureFit, optional
        The combined output's temperature, from :func:`auralize.calibration.fit_output` (fitted on the
        validation part of the members' shared split, with ``fits`` applied): the ensemble's probabilities
        then mean what they say, its verdicts and its members' weights unchanged.

    Examples
    --------
    >>> import auralize
    >>> fits = auralize.fit_members(["a.pt", "b.pt"], auralize.load_clips("genres/"))  # doctest: +SKIP
    >>> auralize.save_ensemble(["a.pt", "b.pt"], "team.json", fits=fits)  # doctest: +SKIP

    Returns
    -------
    Path
        ``path``; :func:`load_model` reads it back as one model.
    """
    from .ensembles import Ensemble, check_member, ensemble_path, write_ensemble_file

    path, members = ensemble_path(path), [Path(m) for m in members]
    model = Ensemble([_load_checkpoint(check_member(m, m)) for m in members], combine, name)  # refuses misfits
    if fits is not None and len(fits) != len(members):
        raise AuralizeError(f"give one temperature fit per member ({len(members)}), got {len(fits)}", param="fits")
    return write_ensemble_file(path, members, combine, model.name, fits, output_fit)


def _load_checkpoint(path: Path) -> nn.Module:
    """A ``.pt`` checkpoint, checked (:func:`load_model`)."""
    payload = read_checkpoint(path)

    def damaged(what: str) -> AuralizeError:
        return AuralizeError(f"{path} is a damaged checkpoint: {what}; retrain it or use trained/*.pt")

    missing = [k for k in ("config", "state_dict", "scaler", "genres", "meta") if k not in payload]
    if missing:
        raise damaged(f"it has no {missing[0]}")
    try:
        config = json.loads(payload["config"])
        meta = json.loads(payload["meta"])
        if not isinstance(config, dict) or not isinstance(meta, dict):
            raise ValueError("not a JSON object")
    except (TypeError, ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        raise damaged(f"its config or meta is not valid JSON ({type(exc).__name__})") from None
    try:
        config = ModelConfig(**config)
    except TypeError as exc:
        raise damaged(f"its config does not describe a model ({exc})") from None
    except AuralizeError as exc:
        raise damaged(f"its config is invalid ({exc})") from None
    genres = payload["genres"]
    if (not isinstance(genres, (list, tuple)) or not all(isinstance(g, str) and g for g in genres)
            or len(set(genres)) != len(genres) or len(genres) != config.n_classes):
        named = len(set(genres)) if isinstance(genres, (list, tuple)) and all(isinstance(g, str) for g in genres) \
            else "no"
        raise damaged(f"its genre list ({named} distinct names) does not give one distinct genre to each of the "
                      f"model's {config.n_classes} outputs")
    model = build_model(config)
    state = payload["state_dict"]
    expected = model.state_dict()
    if not isinstance(state, dict) or set(state) != set(expected):
        keys = set(state) if isinstance(state, dict) else set()
        odd = sorted(keys ^ set(expected))
        raise damaged(f"its weights do not fit a {config.kind} model ({odd[0] if odd else 'no weights'} "
                      f"{'is missing' if odd and odd[0] in expected else 'is unexpected'})")
    for key, value in state.items():
        if not torch.is_tensor(value) or value.shape != expected[key].shape:
            raise damaged(f"weight {key} has shape {tuple(getattr(value, 'shape', ()))}, its config needs "
                          f"{tuple(expected[key].shape)}")
        if value.is_floating_point() and not torch.isfinite(value).all():
            raise damaged(f"weight {key} holds NaN or infinity")
    model.load_state_dict(state)
    if config.entry.front_end == "paper":
        try:
            scaler = InputScaler.from_state(payload["scaler"]).check()
        except (TypeError, ValueError, AuralizeError) as exc:
            raise damaged(f"its input scaler is invalid ({exc})") from None
        attach(model, scaler, genres, meta)
    else:
        model.genres, model.meta = tuple(genres), dict(meta)
    model.path = path
    return model.eval()


def attach(model: nn.Module, scaler: InputScaler, genres, meta: dict | None = None) -> nn.Module:
    """Give a model what it needs to read audio: its scaler, genre names and metadata."""
    model.scaler = scaler
    model.genres = tuple(genres)
    model.meta = dict(meta or {})
    return model
