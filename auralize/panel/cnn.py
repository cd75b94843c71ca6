"""The ``cnn`` judge: a small convolutional network on a log-mel spectrogram with 32-ms frames
(512/128 STFT at 4 kHz, 157 frames per clip against the paper's 22), trained on random crops.

Its penultimate layer is the embedding the panel measures distances in.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from .. import features as F
from ..errors import AuralizeError
from ..io import atomic_write
from .base import Judge, as_clips

N_FFT, HOP, N_MELS = 512, 128, 64
CROP_FRAMES = 128  # ~4.1 s: training sees random crops, so the framing of a clip does not matter
FORMAT = "auralize-panel-cnn-1"


class LogMel(nn.Module):
    """Audio ``(B, samples)`` -> log-mel ``(B, 64, frames)``, each clip's mean log level removed."""

    def __init__(self) -> None:
        super().__init__()
        import librosa

        mel = librosa.filters.mel(sr=F.SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS, fmin=30.0, fmax=F.SAMPLE_RATE / 2)
        self.register_buffer("mel", torch.as_tensor(mel, dtype=torch.float32), persistent=False)
        self.register_buffer("window", torch.hann_window(N_FFT), persistent=False)

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        spec = torch.stft(audio, N_FFT, HOP, window=self.window, center=True, return_complex=True).abs() ** 2
        logmel = torch.log(self.mel @ spec + 1e-8)
        return logmel - logmel.mean(dim=(1, 2), keepdim=True)  # the level says nothing of the genre


class GenreCNN(nn.Module):
    """Four conv blocks (3x3, batch norm, ReLU, 2x2 max-pool), global mean+max pooling, a 64-unit
    embedding, and the genre layer."""

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

    def forward(self, logmel: torch.Tensor) -> torch.Tensor:
        return self.out(self.embed(logmel))


class CNNJudge(Judge):
    suffix = ".pt"
    description = ("convolutional network (4 conv blocks, 8-32 channels) on a 64-band log-mel spectrogram, "
                   "512/128 STFT at 4 kHz (157 frames of 32 ms per clip), trained on random 4-s crops")

    def __init__(self, genres, net: GenreCNN, meta: dict | None = None) -> None:
        super().__init__(genres, meta)
        self.net = net.eval()
        self.front = LogMel()

    @torch.no_grad()
    def _run(self, clips: np.ndarray, what: str, batch: int = 64) -> np.ndarray:
        x = torch.from_numpy(as_clips(clips))
        outs = []
        for i in range(0, len(x), batch):
            logmel = self.front(x[i:i + batch])
            outs.append(self.net.embed(logmel) if what == "embed" else torch.softmax(self.net(logmel), 1))
        return torch.cat(outs).numpy().astype(np.float64)

    def probabilities(self, clips: np.ndarray) -> np.ndarray:
        return self._run(clips, "probabilities")

    def embed(self, clips: np.ndarray) -> np.ndarray:
        return self._run(clips, "embed")

    def save(self, path: str | Path) -> Path:
        payload = {"format": FORMAT, "config": json.dumps(self.net.config), "genres": list(self.genres),
                   "state_dict": {k: v.detach().clone() for k, v in self.net.state_dict().items()},
                   "meta": json.dumps(self.meta)}
        return atomic_write(path, lambda tmp: torch.save(payload, tmp))

    @classmethod
    def load(cls, path: str | Path) -> "CNNJudge":
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
            if not isinstance(payload, dict) or payload.get("format") != FORMAT:
                raise ValueError("format")
            net = GenreCNN(**json.loads(payload["config"]))
            net.load_state_dict(payload["state_dict"])
        except Exception as exc:  # torch raises many types for foreign files
            raise AuralizeError(f"{path} is not a cnn judge auralize can read ({type(exc).__name__}); "
                                "make one with 'auralize train-judge cnn'") from exc
        return cls(tuple(payload["genres"]), net, json.loads(payload["meta"]))

    @classmethod
    def fit(cls, clips, seed: int = 0, log: Callable[[str], None] = print, epochs: int = 40,
            patience: int = 15, width: int = 8) -> "CNNJudge":
        torch.manual_seed(seed)
        front = LogMel()
        x_train, y_train = clips.part("train")
        x_valid, y_valid = clips.part("valid")
        with torch.no_grad():
            m_train = torch.cat([front(torch.from_numpy(x_train[i:i + 256])) for i in range(0, len(x_train), 256)])
            m_valid = front(torch.from_numpy(x_valid)) if len(x_valid) else m_train[:0]
        yt = torch.from_numpy(y_train)
        counts = np.bincount(y_train, minlength=len(clips.genres)).astype(np.float64)
        # Half-way to balanced (square root): small genres count more, without drowning the large ones.
        weight = torch.as_tensor(np.where(counts > 0, np.sqrt(counts.max() / np.maximum(counts, 1)), 0.0),
                                 dtype=torch.float32)
        net = GenreCNN(len(clips.genres), width=width)
        opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=1e-3)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
        loss_fn = nn.CrossEntropyLoss(weight=weight, label_smoothing=0.05)
        gen = torch.Generator().manual_seed(seed)
        best, since, history = (-1.0, 0), 0, []
        n_frames = m_train.shape[-1]
        crop = min(CROP_FRAMES, n_frames)
        for epoch in range(1, epochs + 1):
            net.train()
            total = 0.0
            for ids in torch.randperm(len(m_train), generator=gen).split(32):
                start = torch.randint(0, n_frames - crop + 1, (1,), generator=gen).item()
                xb = m_train[ids, :, start:start + crop].clone()
                f0 = torch.randint(0, N_MELS - 8, (len(ids),), generator=gen)  # one frequency mask per clip
                bands = torch.arange(N_MELS).view(1, -1, 1)
                xb = xb.masked_fill((bands >= f0.view(-1, 1, 1)) & (bands < f0.view(-1, 1, 1) + 8), 0.0)
                opt.zero_grad()
                loss = loss_fn(net(xb), yt[ids])
                loss.backward()
                opt.step()
                total += loss.item() * len(ids)
            sched.step()
            net.eval()
            with torch.no_grad():
                pred = torch.cat([net(m_valid[i:i + 256]).argmax(1) for i in range(0, len(m_valid), 256)])
            acc = float((pred.numpy() == y_valid).mean()) if len(y_valid) else 0.0
            history.append({"epoch": epoch, "loss": total / len(m_train), "valid_acc": acc})
            log(f"cnn: epoch {epoch} loss {total / len(m_train):.3f} valid clip accuracy {acc:.3f}")
            if acc > best[0]:
                best, since = (acc, epoch), 0
                state = {k: v.detach().clone() for k, v in net.state_dict().items()}
            else:
                since += 1
                if since >= patience:
                    break
        net.load_state_dict(state)
        return cls(clips.genres, net, {"best_valid_acc": best[0], "best_epoch": best[1], "epochs_run": epoch,
                                       "seed": seed, "history": history})
