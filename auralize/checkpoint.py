"""Checkpoints: one ``.pt`` file that maps audio to a prediction with no data set at hand.

A checkpoint is a plain dict of tensors, numbers and strings (``torch.load(...,
weights_only=True)`` safe): the architecture config, the weights, the input scaler fitted on the
training split, the genre names, and metadata (split, data coverage, metrics, command).
"""
from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from .errors import AuralizeError
from .features import InputScaler
from .io import atomic_write
from .models import ModelConfig, build_model

FORMAT = "auralize-checkpoint-1"


def save_checkpoint(path: str | Path, model: nn.Module, meta: dict | None = None) -> Path:
    """Write ``model`` (with its ``scaler`` and ``genres``) atomically to ``path``."""
    payload = {
        "format": FORMAT,
        "config": json.dumps(model.config.to_dict()),
        "state_dict": {k: v.detach().clone() for k, v in model.state_dict().items()},
        "scaler": model.scaler.to_state(),
        "genres": list(model.genres),
        "meta": json.dumps(meta if meta is not None else getattr(model, "meta", {})),
    }
    return atomic_write(path, lambda tmp: torch.save(payload, tmp))


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
    """Load a trained model, in eval mode, with ``.scaler``, ``.genres`` and ``.meta`` attached."""
    payload = read_checkpoint(path)
    model = build_model(ModelConfig(**json.loads(payload["config"])))
    model.load_state_dict(payload["state_dict"])
    attach(model, InputScaler.from_state(payload["scaler"]), payload["genres"], json.loads(payload["meta"]))
    model.path = Path(path)
    return model.eval()


def attach(model: nn.Module, scaler: InputScaler, genres, meta: dict | None = None) -> nn.Module:
    """Give a model what it needs to read audio: its scaler, genre names and metadata."""
    model.scaler = scaler
    model.genres = tuple(genres)
    model.meta = dict(meta or {})
    return model
