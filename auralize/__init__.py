"""auralize: train recurrent music-genre classifiers on spectrograms and make what they learned audible.

The Python API the ``auralize`` command is built on::

    import auralize
    model = auralize.load_model(auralize.default_checkpoint("lstm"))
    auralize.predict(model, "song.wav").genre
"""
from __future__ import annotations

from pathlib import Path

from .checkpoint import load_model, save_checkpoint
from .data import GENRES, Dataset, discover, load_dataset, make_split
from .errors import AuralizeError
from .evaluation import evaluate, predict
from .features import InputScaler, TorchSpectrogram, load_audio, spectrogram, split_clips, torch_spectrogram
from .models import ModelConfig, build_model
from .neurons import top_neurons
from .training import TrainSettings, train

__version__ = "0.1.0"

#: Where the shipped checkpoints live (the repository's trained/ folder).
TRAINED_DIR = Path(__file__).resolve().parent.parent / "trained"


def default_checkpoint(kind: str = "lstm") -> Path:
    """Path of a shipped checkpoint (``lstm``, ``rnn`` or ``attention``).

    ``$AURALIZE_CHECKPOINT`` overrides the default LSTM.

    Raises
    ------
    AuralizeError
        If the checkpoint is not there (for example after a non-editable install).
    """
    import os

    if kind == "lstm" and os.environ.get("AURALIZE_CHECKPOINT"):
        return Path(os.environ["AURALIZE_CHECKPOINT"])
    path = TRAINED_DIR / f"{kind}.pt"
    if not path.is_file():
        raise AuralizeError(f"shipped checkpoint {path} not found; install with 'pip install -e .' from the "
                            "repository or pass --checkpoint")
    return path


__all__ = [
    "AuralizeError", "Dataset", "GENRES", "InputScaler", "ModelConfig", "TorchSpectrogram", "TrainSettings",
    "build_model", "default_checkpoint", "discover", "evaluate", "load_audio", "load_dataset", "load_model",
    "make_split", "predict", "save_checkpoint", "spectrogram", "split_clips", "top_neurons", "torch_spectrogram", "train",
]
