"""What did the model listen to? Attributions on real songs, one interface for several methods.

:func:`explain` runs a song through a model clip by clip and attributes each clip's verdict to
its 22x513 input with captum (Integrated Gradients against a silence baseline, Saliency, either
optionally smoothed by a NoiseTunnel). :func:`listened` makes the attribution audible without
phase retrieval: the song's own STFT, masked by the positive attributions, inverted with the
song's own phase.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from . import features as F
from .errors import AuralizeError

METHODS = ("integrated_gradients", "saliency")
ALIASES = {"ig": "integrated_gradients", "integrated-gradients": "integrated_gradients"}


@dataclass
class Explanation:
    """Per-clip probabilities, the verdict, and attributions ``(n_clips, 22, 513)``."""

    probabilities: np.ndarray  # (n_clips, n_genres)
    genres: tuple[str, ...]
    target: np.ndarray  # (n_clips,) class each clip's attribution explains
    attributions: np.ndarray  # (n_clips, 22, 513)
    psd: np.ndarray  # (n_clips, 22, 513) the song's own spectrogram
    method: str
    attention: np.ndarray | None = None  # (n_clips, 22) for the attention model

    @property
    def verdict(self) -> str:
        from .evaluation import vote

        return self.genres[vote(self.probabilities)]


def method_name(method: str) -> str:
    """Canonical method name; raises a one-line error for an unknown one."""
    name = ALIASES.get(method.lower(), method.lower().replace("-", "_"))
    if name not in METHODS:
        raise AuralizeError(f"unknown attribution method {method!r}; use one of: ig, saliency")
    return name


def silence_baseline(model: nn.Module) -> torch.Tensor:
    """Model input of silence (22, 513): the PSD floor through the model's scaler."""
    return torch.as_tensor(model.scaler.transform(np.zeros((F.N_FRAMES, F.N_BINS), np.float32)), dtype=torch.float32)


def explain(model: nn.Module, audio: np.ndarray, method: str = "integrated_gradients", target: str | None = None,
            noise_tunnel: bool = False, n_steps: int = 64, chunk: int = 8, seed: int = 0,
            progress: bool = False, name: str = "audio") -> Explanation:
    """Attribute each clip's prediction to its input.

    Parameters
    ----------
    model : trained model with ``scaler`` and ``genres``
    audio : mono 4 kHz samples (a song of any length >= 5 s)
    method : ``integrated_gradients`` (``ig``) or ``saliency``
    target : explain this genre for every clip (default: the song's verdict)
    noise_tunnel : average attributions over noisy copies (SmoothGrad)
    n_steps : Integrated Gradients steps
    chunk : clips per batch (memory stays bounded for long songs)
    """
    from captum.attr import IntegratedGradients, NoiseTunnel, Saliency
    from tqdm import tqdm

    method = method_name(method)
    audio = np.asarray(audio, dtype=np.float32)
    F.require_audible(audio, name)
    psd = F.audio_to_psd(audio, name)
    x = torch.from_numpy(model.scaler.transform(psd).astype(np.float32))
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    with torch.no_grad():
        logits, states = model.forward_with_states(x)
    probs = torch.softmax(logits, 1).numpy()
    genres = tuple(model.genres)
    if target is not None and target not in genres:
        raise AuralizeError(f"unknown genre {target!r}; the model knows: {', '.join(genres)}")
    from .evaluation import vote

    goal = genres.index(target) if target else vote(probs)
    targets = np.full(len(x), goal)
    base = silence_baseline(model)
    explainer = IntegratedGradients(model) if method == "integrated_gradients" else Saliency(model)
    if noise_tunnel:
        explainer = NoiseTunnel(explainer)
    torch.manual_seed(seed)
    out = []
    for i in tqdm(range(0, len(x), chunk), desc="explaining", unit="chunk", disable=not progress, leave=False):
        xb = x[i:i + chunk].clone().requires_grad_(True)
        tb = torch.from_numpy(targets[i:i + chunk])
        kwargs = {}
        if method == "integrated_gradients":
            kwargs = {"baselines": base.expand_as(xb), "n_steps": n_steps, "internal_batch_size": 64}
        elif not noise_tunnel:
            kwargs = {"abs": False}
        if noise_tunnel:
            kwargs.update(nt_type="smoothgrad", nt_samples=8, stdevs=0.2)
            if method == "integrated_gradients":
                kwargs["nt_samples_batch_size"] = 1
        out.append(explainer.attribute(xb, target=tb, **kwargs).detach())
    attention = states.get("attention.alpha")
    return Explanation(probs, genres, targets, torch.cat(out).numpy(), psd,
                       method + (" + noise tunnel" if noise_tunnel else ""),
                       None if attention is None else attention.numpy())


def listened(audio: np.ndarray, attributions: np.ndarray, floor: float = 0.0) -> np.ndarray:
    """The song's own STFT masked by the positive attributions, inverted with its own phase.

    The mask of each clip is its positive attribution scaled to [0, 1] by the clip's 99th
    percentile; ``floor`` keeps that much of everything else. Returns audio as long as the clips.
    """
    from .invert import istft, stft

    clips = F.split_clips(np.asarray(audio, np.float32))[: len(attributions)]
    pos = np.clip(attributions, 0, None)
    scale = np.quantile(pos.reshape(len(pos), -1), 0.99, axis=1)[:, None, None]
    mask = np.clip(pos / np.maximum(scale, 1e-12), 0, 1)
    mask = floor + (1 - floor) * mask
    spec = stft(torch.from_numpy(clips.astype(np.float64)))
    out = istft(spec * torch.from_numpy(mask), F.CLIP_SAMPLES).numpy()
    return out.reshape(-1).astype(np.float32)


