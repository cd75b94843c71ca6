"""The panel's judges by name; adding a judge is one entry here."""
from __future__ import annotations

import os
from pathlib import Path

from ..errors import AuralizeError
from ..registry import Registry
from .base import Judge, check_judge
from .cnn import CNNJudge
from .handmade import FeatureJudge
from .melrnn import MelLSTMJudge
from .recurrent import RecurrentJudge

#: name -> judge class; the name is also the file stem in the panel folder.
JUDGES: Registry[type[Judge]] = Registry("judge", "judges")


def register_judge(cls: type[Judge], name: str) -> type[Judge]:
    """Make a judge class available as ``name`` (``auralize judge --judges NAME``, ``train-judge NAME``)."""
    return JUDGES.register(cls, name)


for _name, _cls in (("features", FeatureJudge), ("cnn", CNNJudge), ("lstm-mel", MelLSTMJudge),
                    ("lstm-seed1", RecurrentJudge)):
    register_judge(_cls, _name)

#: The default panel: three judges that fail in different ways (majority: 2 of 3). ``lstm-seed1``
#: stays registered (``judges="lstm-seed1"``) but out of it: on the dreaming LSTM's own 22x513
#: front end it shares that model's blind spot (it hears the default dreams, and noise shaped like a
#: genre's mean spectrum, as the genre; docs/results/panel.md).
PANEL: tuple[str, ...] = ("features", "cnn", "lstm-mel")

#: Why a registered judge is out of :data:`PANEL` (its model card says it).
OUTSIDE_PANEL = {
    "lstm-seed1": ("It reads the dreaming LSTM's own front end (the paper's 22x513 PSD) with the same architecture, "
                   "so it shares that model's blind spot: `benchmarks/bench_panel.py` (docs/results/panel.md, "
                   "column `lstm-seed1 hits`) shows it hearing today's default dreams, and noise shaped like a genre's "
                   "mean spectrum, as the target far more often than the panel's judges, and more often than it "
                   "hears real test clips as their genre. A held-out panel must fail in different ways from the "
                   "dreaming model, so `lstm-mel` (an LSTM on the `cnn` judge's fine log-mel frames) took its place. "
                   "It stays registered: `auralize judge --judges lstm-seed1 WAV...`."),
}

#: The judge whose embedding distances to real music are measured in.
EMBEDDING_JUDGE = "cnn"

#: The random seed each judge is trained with (the recurrent ones: not the dreaming LSTM's seed 0).
DEFAULT_SEEDS = {"lstm-seed1": 1, "lstm-mel": 1}


def panel_dir() -> Path:
    """Where the shipped judges live: ``$AURALIZE_PANEL`` or the repository's ``trained/panel``."""
    from .. import TRAINED_DIR

    env = os.environ.get("AURALIZE_PANEL")
    return Path(env) if env else TRAINED_DIR / "panel"


def check_name(name: str) -> type[Judge]:
    """The class of judge ``name``, or a one-line error listing the judges."""
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
        If the name is unknown, its file is missing (the message says how to make it) or damaged.
    """
    path = judge_path(name, folder)
    if not path.is_file():
        raise AuralizeError(f"panel judge {name!r} not found at {path}; make it with "
                            f"'auralize train-judge {name} --data DIR' (DIR: a folder of genre folders)")
    key = (name, str(path.resolve()), path.stat().st_mtime_ns)
    if key not in _loaded:
        judge = check_name(name).load(path)
        judge.name = name
        _loaded[key] = check_judge(judge, path)  # as load_model checks a dreaming model
    return _loaded[key]
