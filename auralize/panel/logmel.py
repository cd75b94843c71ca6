"""What the panel's neural judges on a fine front end share: a 64-band log-mel spectrogram with
32-ms frames (512/128 STFT at 4 kHz, 157 frames per clip against the paper's 22), a judge that
runs a network on it, and the training loop (random crops, a frequency mask, chosen on valid).

A network for :class:`LogMelJudge` (a :class:`LogMelNet`) maps log-mel ``(B, 64, frames)`` to
logits, has ``embed`` (the penultimate layer, which distances are measured in) and a JSON-able
``config`` dict of its constructor's arguments.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, ClassVar

import numpy as np
import torch
from torch import nn

from .. import features as F
from ..errors import AuralizeError
from ..finemel import mel_filters
from ..io import atomic_torch_save
from .base import Judge, as_clips

N_FFT, HOP, N_MELS = 512, 128, 64
CROP_FRAMES = 128  # ~4.1 s: training sees random crops, so the framing of a clip does not matter


class LogMel(nn.Module):
    """Audio ``(B, samples)`` -> log-mel ``(B, 64, frames)``, each clip's mean log level removed."""

    def __init__(self) -> None:
        super().__init__()
        mel = mel_filters(F.SAMPLE_RATE, N_FFT, N_MELS, fmin=30.0)  # librosa's Slaney filters, without its import
        self.register_buffer("mel", torch.as_tensor(mel, dtype=torch.float32), persistent=False)
        self.register_buffer("window", torch.hann_window(N_FFT), persistent=False)

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        spec = torch.stft(audio, N_FFT, HOP, window=self.window, center=True, return_complex=True).abs() ** 2
        logmel = torch.log(self.mel @ spec + 1e-8)
        return logmel - logmel.mean(dim=(1, 2), keepdim=True)  # the level says nothing of the genre


class LogMelNet(nn.Module):
    """A network on log-mel frames: subclasses set ``config``, ``out`` (the genre layer) and ``embed``."""

    config: dict
    out: nn.Module
    #: Bounds of the sizes a saved config may give (checked before anything is built: an edited
    #: width of 2048 would allocate 4 GB); ``dropout`` and flags are checked on their own.
    LIMITS: ClassVar[dict[str, tuple[int, int]]] = {"n_classes": (2, 1000), "embedding": (1, 1024)}

    def embed(self, logmel: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, logmel: torch.Tensor) -> torch.Tensor:
        return self.out(self.embed(logmel))


def _check_config(net_class: type, config: dict) -> None:
    """A saved network config whose sizes are all within ``net_class.LIMITS`` (ValueError otherwise)."""
    for key, (lo, hi) in net_class.LIMITS.items():
        value = config.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
            raise ValueError(f"its config's {key} is {value!r:.20}, not a whole number from {lo} to {hi}")
    dropout = config.get("dropout", 0.0)
    if not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
        raise ValueError(f"its config's dropout is {dropout!r:.20}")


class LogMelJudge(Judge):
    """A judge that runs :attr:`net_class` on :class:`LogMel` frames; files are torch state dicts
    tagged with :attr:`file_format` (no pickle)."""

    suffix = ".pt"
    #: The network class (built from its saved ``config``), the file tag, and the registry name
    #: the error messages tell the user to train.
    net_class: ClassVar[type[LogMelNet]]
    file_format: ClassVar[str]
    kind: ClassVar[str]

    def __init__(self, genres, net: LogMelNet, meta: dict | None = None) -> None:
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
        payload = {"format": self.file_format, "config": json.dumps(self.net.config), "genres": list(self.genres),
                   "state_dict": {k: v.detach().clone() for k, v in self.net.state_dict().items()},
                   "meta": json.dumps(self.meta)}
        return atomic_torch_save(path, payload)

    @classmethod
    def load(cls, path: str | Path) -> "LogMelJudge":
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
            if not isinstance(payload, dict) or payload.get("format") != cls.file_format:
                raise ValueError("format")
            config, meta, genres = json.loads(payload["config"]), json.loads(payload["meta"]), payload["genres"]
            if not isinstance(config, dict) or not isinstance(meta, dict) or not isinstance(genres, (list, tuple)):
                raise ValueError("its config, meta or genres is not what a judge file holds")
            _check_config(cls.net_class, config)
            if config["n_classes"] != len(genres):
                raise ValueError(f"{len(genres)} genres for {config['n_classes']} outputs")
            state = payload["state_dict"]
            if not all(torch.is_tensor(v) and (not v.is_floating_point() or (torch.isfinite(v).all()
                                                                              and v.abs().max() <= 1e12))
                       for v in state.values() if v.numel()):
                raise ValueError("a weight holds NaN, infinity or a value beyond 1e12")
            net = cls.net_class(**config)
            net.load_state_dict(state)
        except Exception as exc:  # torch raises many types for foreign files
            why = str(exc).splitlines()[0] if str(exc) else ""
            raise AuralizeError(f"{path} is not a {cls.kind} judge auralize can read ({type(exc).__name__}"
                                f"{': ' + why if why else ''}); make one with 'auralize train-judge {cls.kind}'") from exc
        return cls(tuple(genres), net, meta)

    @classmethod
    def fit_net(cls, net: LogMelNet, clips, seed: int = 0, log: Callable[[str], None] = print, epochs: int = 40,
                patience: int = 15, lr: float = 1e-3) -> "LogMelJudge":
        """Train ``net`` (already built, after ``torch.manual_seed(seed)``) on ``clips``' train part:
        AdamW with a cosine schedule, square-root class weights, label smoothing, random crops of
        :data:`CROP_FRAMES` frames and one 8-band frequency mask per clip; keep the epoch with the
        best valid clip accuracy."""
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
        opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-3)
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
            log(f"{cls.kind}: epoch {epoch} loss {total / len(m_train):.3f} valid clip accuracy {acc:.3f}")
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
