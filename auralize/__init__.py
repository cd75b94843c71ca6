"""auralize: train recurrent music-genre classifiers on spectrograms and make what they learned audible.

The Python API the ``auralize`` command is built on::

    import auralize
    model = auralize.load_model(auralize.default_checkpoint("lstm"))
    auralize.predict(model, "song.wav").genre
    dream = auralize.render(model, auralize.class_logprob(model.genres.index("jazz"), "jazz"))

Names are imported on first use (``import auralize`` stays cheap; torch loads when needed).
"""
from __future__ import annotations

import importlib
from pathlib import Path

__version__ = "0.1.0"

#: Where the shipped checkpoints live (the repository's trained/ folder).
TRAINED_DIR = Path(__file__).resolve().parent.parent / "trained"

#: The shipped model that dreams by default (``auralize --genre G``): an ensemble file
#: (``trained/cnn-mel-ensemble.json``) of two robust CNNs on the prior's log-mel, trained with PGD
#: (``trained/cnn-mel.pt``) and with TRADES (``trained/cnn-mel-trades.pt``); a dream must be heard as the genre
#: by both. It is the recipe whose genre the held-out panel hears most under the genre-blind music prior
#: (docs/results/dream-study.md). The paper's LSTM (``trained/lstm.pt``) stays the default for ``predict``
#: and ``explain``, and dreams with ``--checkpoint trained/lstm.pt``.
DREAMING_MODEL = "cnn-mel-ensemble"

#: The public API: module (relative to this package) -> names it provides. A new public name is
#: one entry here.
_PUBLIC = {
    "audio": ["as_audio"],
    "audiomodel": ["AudioModel", "WrappedModel", "load_user_model", "state_sizes", "wrap"],
    "ensembles": ["Ensemble", "ensemble"],
    "calibration": ["TemperatureFit", "fit_members", "fit_output", "fit_temperature", "held_out_fit"],
    "checkpoint": ["load_model", "save_checkpoint", "save_ensemble"],
    "data": ["GENRES", "ClipSet", "Dataset", "Split", "discover", "load_clips", "load_dataset", "make_split",
             "read_labels"],
    "store": ["build_store"],
    "errors": ["AuralizeError"],
    "evaluation": ["data_inputs", "evaluate", "predict", "predict_many"],
    "features": ["HOP", "InputScaler", "N_BINS", "N_FFT", "N_FRAMES", "SAMPLE_RATE", "TorchSpectrogram", "load_audio",
                 "spectrogram", "split_clips", "torch_spectrogram"],
    "models": ["MODELS", "ModelConfig", "ModelKind", "PaperModel", "build_model", "register_model"],
    "neurons": ["NeuronReport", "RULES", "ablate", "activations", "load_report", "register_rule", "top_neurons"],
    "exemplars": ["dataset_examples", "save_examples"],
    "registry": ["Registry"],
    "settings": ["DreamSettings", "Target"],
    "training": ["TrainSettings", "train"],
    "dream": ["Compose", "Context", "Dither", "DreamResult", "FineParam", "FreqMask", "FreqShift",
              "Gain", "InputNoise", "Jitter", "Noise", "OBJECTIVE_KINDS", "Objective", "PARAMS", "Param", "STATISTICS",
              "Shift", "SpectrogramParam", "TRANSFORMS", "TimeMask", "WaveformParam", "check_settings", "check_target",
              "class_logit", "class_logodds", "class_logprob",
              "genre_objective", "l2", "make_audible", "GenrePrior", "MusicPrior", "MixturePrior", "fit_prior",
              "fit_music_prior", "fit_mixture_prior",
              "load_prior", "prior_match",
              "train_prior", "neuron", "out_of_range", "register_objective", "register_param", "register_statistic",
              "register_transform", "regulariser", "render", "round_trip", "to_audio", "tv_freq", "tv_time"],
    "invert": ["griffin_lim", "psd_to_audio"],
    "io": ["save_figure", "save_wav"],
    "plots": ["pyplot"],
    "attribution": ["METHODS", "Explanation", "Method", "explain", "listened", "register_method", "save_explanation"],
    "panel": ["JUDGES", "PANEL", "Judge", "judge", "load_judge", "register_judge"],
    "quiz": ["build_quiz", "read_answers", "read_key", "score_quiz"],
}
_WHERE = {name: module for module, names in _PUBLIC.items() for name in names}


def __getattr__(name: str):
    if name in _WHERE:
        value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
        globals()[name] = value  # later lookups skip this function
        return value
    raise AttributeError(f"module 'auralize' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))


def default_checkpoint(kind: str = "lstm") -> Path:
    """Path of a shipped checkpoint (``lstm``, ``rnn``, ``attention``, ``cnn-mel`` or :data:`DREAMING_MODEL`, an
    ensemble file).

    ``$AURALIZE_CHECKPOINT`` overrides the defaults (the LSTM and the dreaming model).

    Raises
    ------
    AuralizeError
        If the checkpoint is not there (for example after a non-editable install).
    """
    import os

    from .errors import AuralizeError

    if kind in ("lstm", DREAMING_MODEL) and os.environ.get("AURALIZE_CHECKPOINT"):
        return Path(os.environ["AURALIZE_CHECKPOINT"])
    path = TRAINED_DIR / f"{kind}.pt"
    if not path.is_file() and (TRAINED_DIR / f"{kind}.json").is_file():  # an ensemble file
        path = TRAINED_DIR / f"{kind}.json"
    if not path.is_file():
        raise AuralizeError(f"shipped checkpoint {path} not found; install with 'pip install -e .' from the "
                            "repository or pass --checkpoint")
    return path


__all__ = sorted(["DREAMING_MODEL", "TRAINED_DIR", "default_checkpoint", *_WHERE])
