"""The ``lstm-mel`` judge: the panel's recurrent listener, an LSTM over the fine log-mel frames of
:mod:`~auralize.panel.logmel` (64 bands, 32-ms frames, pooled in pairs: 79 steps of 64 ms per clip)
rather than the paper's 22 frames x 513 bins.

A recurrent judge on the paper's own front end (``lstm-seed1``) shares the dreaming LSTM's blind
spot: it hears the default dreams, and noise shaped like a genre's mean spectrum, as the genre.
This one reads time 3.5 times finer, on a mel scale, and hears only how the spectrum moves: each
band's mean over the clip is removed (``centre_bands``), so a stationary texture with a genre's
mean spectrum does not reach it. It pools its states over time (mean and max) instead of reading
the last one. (Without the centring, the same LSTM, trained the same way, heard the default dreams
and genre-mean-spectrum noise as the genre more often than the other judges did.)
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from .logmel import N_MELS, LogMelJudge, LogMelNet

HIDDEN, LAYERS = 96, 2
CENTRE_BANDS = True


class MelLSTM(LogMelNet):
    """Per-band normalisation, mean-pooling of frame pairs, an LSTM, mean+max pooling of its
    states over time, a 64-unit embedding, and the genre layer."""

    LIMITS = {**LogMelNet.LIMITS, "hidden": (1, 1024), "layers": (1, 8)}

    def __init__(self, n_classes: int, hidden: int = HIDDEN, layers: int = LAYERS, embedding: int = 64,
                 dropout: float = 0.3, centre_bands: bool = CENTRE_BANDS) -> None:
        super().__init__()
        self.config = {"n_classes": n_classes, "hidden": hidden, "layers": layers, "embedding": embedding,
                       "dropout": dropout, "centre_bands": centre_bands}
        self.centre_bands = centre_bands
        self.band_norm = nn.BatchNorm1d(N_MELS)
        self.pool = nn.AvgPool1d(2, ceil_mode=True)
        self.rnn = nn.LSTM(N_MELS, hidden, num_layers=layers, batch_first=True,
                           dropout=dropout if layers > 1 else 0.0)
        self.embedding = nn.Sequential(nn.Dropout(dropout), nn.Linear(2 * hidden, embedding), nn.ReLU())
        self.out = nn.Sequential(nn.Dropout(dropout), nn.Linear(embedding, n_classes))

    def embed(self, logmel: torch.Tensor) -> torch.Tensor:
        if self.centre_bands:  # blind to the clip's mean spectrum: only how each band moves
            logmel = logmel - logmel.mean(dim=2, keepdim=True)
        frames = self.pool(self.band_norm(logmel)).transpose(1, 2)  # (B, steps, bands)
        states, _ = self.rnn(frames)
        return self.embedding(torch.cat([states.mean(dim=1), states.amax(dim=1)], dim=1))

class MelLSTMJudge(LogMelJudge):
    net_class = MelLSTM
    file_format = "auralize-panel-lstm-mel-1"
    kind = "lstm-mel"
    description = (f"LSTM {LAYERS}x{HIDDEN} over a 64-band log-mel spectrogram, 512/128 STFT at 4 kHz (157 frames "
                   "of 32 ms per clip, pooled in pairs: 79 steps), each band's mean over the clip removed (it hears how the spectrum moves, not the mean spectrum), states "
                   "pooled over time (mean and max); the "
                   "`cnn` judge's front end and training loop (random 4-s crops, one frequency mask)")

    @classmethod
    def fit(cls, clips, seed: int = 1, log: Callable[[str], None] = print, epochs: int = 40,
            patience: int = 15, hidden: int = HIDDEN, layers: int = LAYERS,
            centre_bands: bool = CENTRE_BANDS) -> "MelLSTMJudge":
        torch.manual_seed(seed)
        net = MelLSTM(len(clips.genres), hidden=hidden, layers=layers, centre_bands=centre_bands)
        return cls.fit_net(net, clips, seed=seed, log=log, epochs=epochs, patience=patience)
