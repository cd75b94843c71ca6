"""Models that own a fine log-mel front end: the dreaming CNN.

Gradient ascent on the paper's LSTM (22 frames of 224 ms) finds patterns no other listener hears, and
a genre prior then supplies the genre itself (issue 14). A classifier whose input is a fine log-mel
spectrogram, trained against small adversarial perturbations of that input, has input gradients that
other classifiers follow (robust models' perceptually aligned gradients: Santurkar et al. 2019,
Engstrom et al. 2019): a dream through it, under a prior that knows no genre, is heard as the genre
the model asks for. It is a registered kind (``cnn-mel``), trained by ``auralize train --model cnn-mel``
on clips of audio, and an :class:`~auralize.audiomodel.AudioModel` like any other.

The front end (:class:`MelFrontEnd`): audio scaled to the listening level (RMS 0.05, so the model is
blind to level and reads a dream as its WAV is written), the genre prior's 48-band log-mel (512/128
STFT from 40 Hz, each clip's mean level removed; :class:`auralize.finemel.Frames`), each band
standardised by its mean and spread over the training clips. The network (:class:`MelCNN`): 1-D
convolutions over time with the mel bands as channels (not the panel's 2-D CNN), batch norm, ReLU and
max-pooling, the mean over time, and the genre layer.
"""
from __future__ import annotations

import torch
from torch import nn

from .finemel import N_MELS, level_logmel
from .modelkinds import Classifier, ModelConfig, ModelKind, register_model


class MelFrontEnd(nn.Module):
    """Audio ``(B, samples)`` -> standardised log-mel ``(B, 48, frames)`` (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("mu", torch.zeros(N_MELS, 1))
        self.register_buffer("sd", torch.ones(N_MELS, 1))

    @staticmethod
    def logmel(audio: torch.Tensor) -> torch.Tensor:
        """The log-mel before standardisation ``(B, 48, frames)``."""
        return level_logmel(audio)

    def fit(self, logmel: torch.Tensor) -> "MelFrontEnd":
        """Set each band's mean and spread from training log-mels ``(n, 48, frames)``."""
        with torch.no_grad():
            self.mu.copy_(logmel.mean((0, 2))[:, None])
            self.sd.copy_(logmel.std((0, 2), correction=0)[:, None])
        return self

    def standardise(self, logmel: torch.Tensor) -> torch.Tensor:
        return (logmel - self.mu) / self.sd

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        return self.standardise(self.logmel(audio))


class MelCNN(Classifier):
    """A 1-D CNN over time on :class:`MelFrontEnd`: ``layers`` blocks of convolution (kernels 5, 5, 3, 3, ...;
    ``hidden`` channels, a third more in the second half), batch norm and ReLU, max-pooled by 2 between
    blocks; the mean over time; dropout; the genre layer.

    States: ``conv{i}`` ``(B, frames, channels)`` after each block's ReLU, and ``pooled`` ``(B, channels)``,
    what the genre layer reads (the default layer of the neuron tools).
    """

    input_layout = "bins, frames"  # channels first: the transforms that act on a (frames, bins) input do not apply

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.front = MelFrontEnd()
        width, n = config.hidden, config.layers
        chans = [config.n_bins] + [width] * (n // 2) + [width * 4 // 3] * (n - n // 2)
        self.blocks = nn.ModuleList()
        for i, (a, b) in enumerate(zip(chans, chans[1:])):
            k = 5 if i < 2 else 3
            self.blocks.append(nn.Sequential(nn.Conv1d(a, b, k, padding=k // 2, bias=False), nn.BatchNorm1d(b),
                                             nn.ReLU()))
        self.pool = nn.MaxPool1d(2)
        self.dropout = nn.Dropout(config.dropout)
        self.out = nn.Linear(chans[-1], config.n_classes)

    def features(self, audio: torch.Tensor) -> torch.Tensor:
        return self.front(audio)

    def forward_with_states(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        states = {}
        h = x
        for i, block in enumerate(self.blocks, 1):
            h = block(h)
            states[f"conv{i}"] = h.transpose(1, 2)
            if i < len(self.blocks):
                h = self.pool(h)
        pooled = states["pooled"] = h.mean(2)
        return self.out(self.dropout(pooled)), states

    def default_layer(self) -> str:
        return "pooled"

    def size_label(self) -> str:
        return f"{self.config.layers}x{self.config.hidden}"


register_model(ModelKind(
    "cnn-mel", MelCNN, "CNN on 48-band log-mel (dreaming model)", size=(96, 4),
    train_defaults={"epochs": 40, "optimizer": "adamw", "lr": 2e-3, "weight_decay": 1e-3, "schedule": "cosine",
                    "class_weights": "sqrt", "label_smoothing": 0.05, "batch_size": 32, "crop": 128,
                    "clip_norm": 0.0, "patience": 40},
    front_end="logmel", input_shape=(157, 48), dropout=0.3))
