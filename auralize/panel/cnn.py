"""The ``cnn`` judge: a small convolutional network on the panel's log-mel front end
(:mod:`~auralize.panel.logmel`: 64 bands, 32-ms frames, 157 per clip against the paper's 22),
trained on random crops.

Its penultimate layer is the embedding the panel measures distances in.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from .logmel import N_MELS, LogMelJudge, LogMelNet


class GenreCNN(LogMelNet):
    """Four conv blocks (3x3, batch norm, ReLU, 2x2 max-pool), global mean+max pooling, a 64-unit
    embedding, and the genre layer."""

    LIMITS = {**LogMelNet.LIMITS, "width": (1, 64)}

    def __init__(self, n_classes: int, width: int = 8, embedding: int = 64, dropout: float = 0.3) -> None:
        super().__init__()
        self.config = {"n_classes": n_classes, "width": width, "embedding": embedding, "dropout": dropout}
        self.band_norm = nn.BatchNorm1d(N_MELS)
        chans = [1, width, 2 * width, 4 * width, 4 * width]
        blocks = []
        for a, b in zip(chans, chans[1:]):
            blocks += [nn.Conv2d(a, b, 3, padding=1, bias=False), nn.BatchNorm2d(b), nn.ReLU(), nn.MaxPool2d(2)]
        self.conv = nn.Sequential(*blocks)
        self.embedding = nn.Sequential(nn.Dropout(dropout), nn.Linear(2 * chans[-1], embedding), nn.ReLU())
        self.out = nn.Sequential(nn.Dropout(dropout), nn.Linear(embedding, n_classes))

    def embed(self, logmel: torch.Tensor) -> torch.Tensor:
        h = self.conv(self.band_norm(logmel).unsqueeze(1))
        pooled = torch.cat([h.mean(dim=(2, 3)), h.amax(dim=(2, 3))], dim=1)
        return self.embedding(pooled)

class CNNJudge(LogMelJudge):
    net_class = GenreCNN
    file_format = "auralize-panel-cnn-1"
    kind = "cnn"
    description = ("convolutional network (4 conv blocks, 8-32 channels) on a 64-band log-mel spectrogram, "
                   "512/128 STFT at 4 kHz (157 frames of 32 ms per clip), trained on random 4-s crops")

    @classmethod
    def fit(cls, clips, seed: int = 0, log: Callable[[str], None] = print, epochs: int = 40,
            patience: int = 15, width: int = 8) -> "CNNJudge":
        torch.manual_seed(seed)
        net = GenreCNN(len(clips.genres), width=width)
        return cls.fit_net(net, clips, seed=seed, log=log, epochs=epochs, patience=patience)
