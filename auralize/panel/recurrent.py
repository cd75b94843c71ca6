"""The ``lstm-seed1`` judge: the paper's recurrent model on the paper's front end, trained with
the project's own training code from another seed (and a smaller size) than the dreaming LSTM.

It shares the dreaming model's blind spots of input (22 frames x 513 bins) but not its weights,
so a dream that fools only the weights it was optimised on does not fool it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import torch

from ..audiomodel import default_layer, model_input
from ..checkpoint import load_model, save_checkpoint
from ..errors import AuralizeError
from .base import Judge, as_clips

HIDDEN, LAYERS = 125, 2


class RecurrentJudge(Judge):
    suffix = ".pt"
    description = (f"LSTM {LAYERS}x{HIDDEN} (auralize's own model and training code) on the paper's 22x513 "
                   "log-PSD, from another seed than the dreaming LSTM 2x250. The training is that of `auralize train "
                   f"--model lstm --hidden {HIDDEN} --layers {LAYERS} --split track --split-seed 0 --seed 1` (split seed "
                   "0, training seed 1)")

    def __init__(self, model) -> None:
        super().__init__(model.genres, model.meta)
        self.model = model.eval()
        self.layer = default_layer(model)

    @torch.no_grad()
    def _forward(self, clips: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        logits, states = self.model.forward_with_states(model_input(self.model, as_clips(clips)))
        return logits, states[self.layer][:, -1]

    def probabilities(self, clips: np.ndarray) -> np.ndarray:
        return torch.softmax(self._forward(clips)[0], 1).numpy().astype(np.float64)

    def embed(self, clips: np.ndarray) -> np.ndarray:
        return self._forward(clips)[1].numpy().astype(np.float64)

    def save(self, path: str | Path) -> Path:
        return save_checkpoint(path, self.model, self.meta)

    @classmethod
    def load(cls, path: str | Path) -> "RecurrentJudge":
        model = load_model(path)
        if not model.config.entry.recurrent:
            raise AuralizeError(f"{path} holds a {model.config.kind} model; the recurrent judge needs an rnn, "
                                "lstm or attention checkpoint")
        return cls(model)

    @classmethod
    def fit(cls, clips, seed: int = 1, log: Callable[[str], None] = print, hidden: int = HIDDEN,
            layers: int = LAYERS, epochs: int | None = None) -> "RecurrentJudge":
        from ..training import TrainSettings, train

        result = train("lstm", clips.dataset, clips.split, hidden=hidden, layers=layers, seed=seed, progress=False,
                       log=log, settings=TrainSettings(epochs=epochs))
        return cls(result.model)
