"""The panel's judges by name; adding a judge is one entry here."""
from __future__ import annotations

import os
from pathlib import Path

from ..errors import AuralizeError
from .base import Judge
from .cnn import CNNJudge
from .handmade import FeatureJudge
from .recurrent import RecurrentJudge

#: name -> judge class; the name is also the file stem in the panel folder.
JUDGES: dict[str, type[Judge]] = {
    "features": FeatureJudge,
    "cnn": CNNJudge,
    "lstm-seed1": RecurrentJudge,
}

#: The judge whose embedding distances to real music are measured in.
EMBEDDING_JUDGE = "cnn"

#: The random seed each judge is trained with (``lstm-seed1``: not the dreaming LSTM's seed 0).
DEFAULT_SEEDS = {"lstm-seed1": 1}


def panel_dir() -> Path:
    """Where the shipped judges live: ``$AURALIZE_PANEL`` or the repository's ``trained/panel``."""
    from .. import TRAINED_DIR

    env = os.environ.get("AURALIZE_PANEL")
    return Path(env) if env else TRAINED_DIR / "panel"


def check_name(name: str) -> type[Judge]:
    """The class of judge ``name``, or a one-line error listing the judges."""
    if name not in JUDGES:
        raise AuralizeError(f"unknown judge {name!r}; choose from {', '.join(JUDGES)}", param="judges")
    return JUDGES[name]


def judge_path(name: str, folder: str | Path | None = None) -> Path:
    """File of judge ``name`` in ``folder`` (default :func:`panel_dir`)."""
    return Path(folder or panel_dir()) / f"{name}{check_name(name).suffix}"


_loaded: dict[tuple[str, str, int], Judge] = {}


def load_judge(name: str, folder: str | Path | None = None) -> Judge:
    """Load judge ``name`` from the panel folder (cached per file and modification time).

    Raises
    ------
    AuralizeError
        If the name is unknown or its file is missing (the message says how to make it).
    """
    path = judge_path(name, folder)
    if not path.is_file():
        raise AuralizeError(f"panel judge {name!r} not found at {path}; make it with "
                            f"'auralize train-judge {name} --data DIR' (DIR: a folder of genre folders)")
    key = (name, str(path.resolve()), path.stat().st_mtime_ns)
    if key not in _loaded:
        judge = check_name(name).load(path)
        judge.name = name
        _loaded[key] = judge
    return _loaded[key]
