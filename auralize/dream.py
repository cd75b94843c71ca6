"""Gradient ascent on the input with the weights fixed: objectives, parameterisations, regularisers
and the render loop that composes them (after Lucid's ``optvis``).

- An :class:`Objective` scores a batch of 5-second windows from the model's logits and states.
- A parameterisation holds what is optimised and cuts it into model-input windows:
  :class:`SpectrogramParam` (the paper's route: the 22x513 model input itself, kept within the
  range of real inputs, made audible by Griffin-Lim) or :class:`WaveformParam` (the samples,
  through the differentiable front end, so no phase retrieval is needed).
- :class:`Regularisers` penalise the full input (L2 towards the average spectrum, total
  variation along time and frequency) and add random time shifts (jitter) and input noise.
- :func:`render` runs the ascent for a batch of objectives (one per dream).

Inputs longer than 5 s are optimised as a whole: each step cuts several 5-second windows at
randomly jittered offsets, and the objective is their mean, so every window serves it.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Callable

import numpy as np
import torch
from torch import nn

from . import features as F
from .errors import AuralizeError
from .neurons import check_layer, reduce_time


class Objective:
    """A differentiable score ``f(logits, states) -> (n_windows,)`` to maximise.

    Objectives add and scale: ``neuron("layer2.h", 7) + 0.5 * class_logprob(5)``.
    """

    def __init__(self, fn: Callable, description: str) -> None:
        self.fn = fn
        self.description = description

    def __call__(self, logits: torch.Tensor, states: dict) -> torch.Tensor:
        return self.fn(logits, states)

    def __add__(self, other: "Objective") -> "Objective":
        return Objective(lambda lg, st: self(lg, st) + other(lg, st), f"{self.description} + {other.description}")

    def __mul__(self, weight: float) -> "Objective":
        return Objective(lambda lg, st: weight * self(lg, st), f"{weight:g} * {self.description}")

    __rmul__ = __mul__

    def __repr__(self) -> str:
        return f"Objective({self.description})"


def neuron(layer: str, unit: int, rule: str = "mean") -> Objective:
    """Activation of one unit of a named state, reduced over frames by ``rule``."""
    return Objective(lambda lg, st: reduce_time(st[layer], rule)[:, unit], f"{layer}[{unit}] ({rule})")


def class_logit(index: int, name: str = "") -> Objective:
    """The class's logit (pre-softmax score)."""
    return Objective(lambda lg, st: lg[:, index], f"logit({name or index})")


def class_logprob(index: int, name: str = "") -> Objective:
    """The class's log-probability (pushes the other classes down as well)."""
    return Objective(lambda lg, st: torch.log_softmax(lg, 1)[:, index], f"log p({name or index})")


def n_frames(seconds: float) -> int:
    """Frames of the front end for ``seconds`` of audio."""
    samples = int(round(seconds * F.SAMPLE_RATE))
    if samples < F.CLIP_SAMPLES:
        raise AuralizeError(f"--seconds must be at least {F.CLIP_SECONDS} (one clip); got {seconds:g}")
    return 1 + (samples - F.N_FFT) // F.HOP


def _starts(span: int, count: int, jitter: int, generator: torch.Generator) -> list[int]:
    """``count`` window offsets spread over ``[0, span]``, each moved by a random jitter."""
    base = np.linspace(0, max(span - jitter, 0), count).round().astype(int) if count > 1 else np.zeros(1, int)
    shift = torch.randint(0, jitter + 1, (1,), generator=generator).item() if jitter > 0 else 0
    return [int(min(b + shift, span)) for b in base]


class SpectrogramParam(nn.Module):
    """Optimise the model input ``(batch, frames, 513)`` directly, clamped to the data range."""

    kind = "spectrogram"

    def __init__(self, init: torch.Tensor, lo: torch.Tensor, hi: torch.Tensor) -> None:
        super().__init__()
        self.x = nn.Parameter(init.clone())
        self.register_buffer("lo", lo)
        self.register_buffer("hi", hi)
        self.project()

    def forward(self) -> torch.Tensor:
        return self.x

    def windows(self, count: int, jitter_frames: int, generator: torch.Generator, noise: float) -> torch.Tensor:
        x = self.x
        if noise > 0:  # robustness to what Griffin-Lim and 16-bit audio change
            x = x + noise * torch.randn(x.shape, generator=generator)
        starts = _starts(x.shape[1] - F.N_FRAMES, count, jitter_frames, generator)
        return torch.stack([x[:, s:s + F.N_FRAMES] for s in starts], 1).flatten(0, 1)

    @torch.no_grad()
    def project(self) -> None:
        self.x.copy_(torch.maximum(torch.minimum(self.x, self.hi), self.lo))


class WaveformParam(nn.Module):
    """Optimise the samples ``(batch, n)`` through the differentiable front end.

    Samples are ``0.99 * tanh(p)``, so they never clip.
    """

    kind = "waveform"

    def __init__(self, init_audio: torch.Tensor, scaler) -> None:
        super().__init__()
        self.p = nn.Parameter(torch.atanh((init_audio / 0.99).clamp(-0.999, 0.999)))
        self.scaler = scaler
        self.spec = F.TorchSpectrogram()

    def audio(self) -> torch.Tensor:
        return 0.99 * torch.tanh(self.p)

    def forward(self) -> torch.Tensor:
        return self.scaler.transform(self.spec(self.audio()))

    def windows(self, count: int, jitter_frames: int, generator: torch.Generator, noise: float) -> torch.Tensor:
        audio = self.audio()
        if noise > 0:  # 16-bit quantisation and small level changes must not undo the dream
            audio = audio * (1 + noise * torch.randn(audio.shape[0], 1, generator=generator)) \
                + 2.0 ** -15 * torch.randn(audio.shape, generator=generator)
        starts = _starts(audio.shape[1] - F.CLIP_SAMPLES, count, jitter_frames * F.HOP, generator)
        clips = torch.stack([audio[:, s:s + F.CLIP_SAMPLES] for s in starts], 1).flatten(0, 1)
        return self.scaler.transform(self.spec(clips))

    def project(self) -> None:
        pass


@dataclass
class Regularisers:
    """Penalties on the full model input and the robustness transforms of each step.

    ``l2`` pulls towards 0, the average training spectrum; ``tv_time``/``tv_freq`` penalise
    the mean absolute difference between neighbouring frames/bins; ``clamp`` keeps a
    spectrogram within the per-bin range of the training inputs (a waveform's input is pulled
    into it by a penalty); ``jitter`` moves the windows by up to that many frames each step;
    ``noise`` adds that much random noise to what the model sees.
    """

    l2: float = 0.01
    tv_time: float = 0.05
    tv_freq: float = 0.05
    clamp: bool = True
    jitter: int = 1
    noise: float = 0.1

    def penalty(self, x: torch.Tensor, lo: torch.Tensor, hi: torch.Tensor) -> torch.Tensor:
        """Per-dream penalty ``(batch,)`` of full model inputs ``(batch, frames, 513)``."""
        pen = self.l2 * x.pow(2).mean((1, 2))
        pen = pen + self.tv_time * (x[:, 1:] - x[:, :-1]).abs().mean((1, 2))
        pen = pen + self.tv_freq * (x[:, :, 1:] - x[:, :, :-1]).abs().mean((1, 2))
        if self.clamp:
            pen = pen + (torch.relu(x - hi) + torch.relu(lo - x)).pow(2).mean((1, 2))
        return pen


@dataclass
class DreamResult:
    """The optimised inputs and how the objective rose."""

    x: torch.Tensor  # (batch, frames, 513) model input
    audio: torch.Tensor | None  # (batch, samples) for the waveform parameterisation
    curve: np.ndarray  # (steps, batch) objective per step
    descriptions: list[str]
    param: str
    settings: dict = field(default_factory=dict)


def initial_input(model: nn.Module, batch: int, frames: int, samples: int, init: str | np.ndarray, param: str,
                  generator: torch.Generator) -> torch.Tensor:
    """Start of the ascent: ``noise``, ``silence`` or a song (mono 4 kHz array).

    Returns model input ``(batch, frames, 513)`` for a spectrogram, samples for a waveform.
    """
    if isinstance(init, np.ndarray):
        audio = np.resize(init.astype(np.float32), max(samples, F.N_FFT + (frames - 1) * F.HOP))  # short: repeated
        audio = torch.from_numpy(audio).expand(batch, -1).clone()
        if param == "waveform":
            return audio
        return model.scaler.transform(F.torch_spectrogram(audio.double())).float()[:, :frames]
    if init not in ("noise", "silence"):
        raise AuralizeError(f"unknown init {init!r}; use noise, silence or an audio file")
    if param == "waveform":
        level = 0.05 if init == "noise" else 1e-4  # exact zeros would have no gradient
        return level * torch.randn(batch, samples, generator=generator)
    if init == "noise":
        return 0.5 * torch.randn(batch, frames, F.N_BINS, generator=generator)
    lo, _ = model.scaler.bounds(torch.zeros(1))
    return lo.expand(batch, frames, -1).clone()


def render(model: nn.Module, objectives: list[Objective], *, param: str = "spectrogram", seconds: float = 5.0,
           steps: int = 200, lr: float | None = None, init: str | np.ndarray = "noise",
           regularisers: Regularisers | None = None, window_step: int = 11, seed: int = 0,
           progress: bool = False) -> DreamResult:
    """Maximise each objective (one dream each, batched) by gradient ascent on the input.

    Parameters
    ----------
    model : trained model (its weights stay fixed)
    objectives : one :class:`Objective` per dream
    param : ``spectrogram`` or ``waveform``
    seconds : length of each dream; longer than 5 s optimises every 5-s window
    steps, lr : Adam steps and learning rate (default 0.1 spectrogram, 0.005 waveform)
    init : ``noise``, ``silence`` or mono 4 kHz audio to start from
    window_step : frames between windows of a long dream
    seed : same seed, same result
    """
    if param not in ("spectrogram", "waveform"):
        raise AuralizeError(f"unknown parameterisation {param!r}; use spectrogram or waveform")
    if steps < 1:
        raise AuralizeError("--steps must be at least 1")
    reg = regularisers or Regularisers()
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    frames = n_frames(seconds) + reg.jitter
    samples = int(round(seconds * F.SAMPLE_RATE)) + reg.jitter * F.HOP
    batch = len(objectives)
    start = initial_input(model, batch, frames, samples, init, param, generator)
    lo, hi = model.scaler.bounds(torch.zeros(1))
    if param == "spectrogram":
        par: nn.Module = SpectrogramParam(start, lo, hi) if reg.clamp else SpectrogramParam(start, lo - 1e3, hi + 1e3)
        lr = lr or 0.1
    else:
        par = WaveformParam(start, model.scaler)
        lr = lr or 0.005  # Adam moves every sample by ~lr per step: keep it well below the signal level
    count = 1 + max(0, frames - reg.jitter - F.N_FRAMES + window_step - 1) // window_step
    opt = torch.optim.Adam(par.parameters(), lr=lr)
    curve = np.zeros((steps, batch))
    from tqdm import trange

    for step in trange(steps, desc="dreaming", unit="step", disable=not progress, leave=False):
        opt.zero_grad()
        windows = par.windows(count, reg.jitter, generator, reg.noise)
        logits, states = model.forward_with_states(windows)
        scores = torch.stack([
            obj(logits[b * count:(b + 1) * count], {k: v[b * count:(b + 1) * count] for k, v in states.items()}).mean()
            for b, obj in enumerate(objectives)])
        loss = (reg.penalty(par(), lo, hi) - scores).sum()
        loss.backward()
        opt.step()
        par.project()
        curve[step] = scores.detach().numpy()
    with torch.no_grad():
        x = par().detach()
        audio = par.audio().detach() if param == "waveform" else None
    settings = {"param": param, "seconds": seconds, "steps": steps, "lr": lr,
                "init": init if isinstance(init, str) else "audio", "window_step": window_step,
                "windows_per_step": count, "seed": seed, **asdict(reg)}
    return DreamResult(x, audio, curve, [o.description for o in objectives], param, settings)


def genre_objective(model: nn.Module, genre: str, objective: str = "neuron", report=None, layer: str | None = None,
                    unit: int | None = None, rule: str = "mean", class_weight: float = 1.0) -> Objective:
    """The objective for one genre.

    ``neuron`` (the paper's): the neuron most commonly active when the model predicts ``genre``
    (from ``report``, see :mod:`auralize.neurons`), or ``unit`` of ``layer`` when given, plus
    ``class_weight`` times the genre's log-probability so the dream stays recognisable
    (``class_weight=0`` is the pure neuron objective). ``class``: the genre's log-probability;
    ``logit``: its logit.
    """
    index = model.genres.index(genre)
    if objective == "class":
        return class_logprob(index, genre)
    if objective == "logit":
        return class_logit(index, genre)
    if objective != "neuron":
        raise AuralizeError(f"unknown objective {objective!r}; use neuron, class or logit")
    if unit is None:
        if report is None:
            raise AuralizeError("the neuron objective needs neuron statistics: run 'auralize neurons CHECKPOINT "
                                "--data DIR' first, give --unit, or use --objective class")
        layer, rule, unit = report.layer, report.rule, report.top_unit(genre)
    from .neurons import default_layer

    layer = layer or default_layer(model)
    check_layer(model, layer)
    size = model.forward_with_states(torch.zeros(1, F.N_FRAMES, F.N_BINS))[1][layer].shape[-1]
    if not 0 <= unit < size:
        raise AuralizeError(f"neuron {unit} is out of range for {layer}, which has {size} units (0-{size - 1})")
    obj = neuron(layer, unit, rule)
    return obj + class_weight * class_logprob(index, genre) if class_weight else obj


def to_audio(result: DreamResult, model: nn.Module, seconds: float, n_iter: int = 100, seed: int = 0) -> np.ndarray:
    """Audio ``(batch, samples)`` of a dream, exactly ``seconds`` long.

    A waveform dream is its samples; a spectrogram dream goes through the inverse input scaling
    to a PSD and through Griffin-Lim.
    """
    samples = int(round(seconds * F.SAMPLE_RATE))
    if result.audio is not None:
        audio = result.audio.numpy()
    else:
        from .invert import psd_to_audio

        psd = model.scaler.inverse(result.x.double())
        audio = np.asarray(psd_to_audio(psd, n_iter=n_iter, seed=seed))
    return audio[:, :samples].astype(np.float32)


def round_trip(model: nn.Module, audio: np.ndarray, genre: str) -> dict:
    """Classify audio as read back from disk: p(genre) per clip, its mean and the verdict."""
    from .evaluation import predict

    pred = predict(model, audio)
    p = pred.probabilities[:, model.genres.index(genre)]
    return {"p_target_mean": float(p.mean()), "p_target_min": float(p.min()),
            "p_target_per_clip": [round(float(v), 4) for v in p], "verdict": pred.genre}
