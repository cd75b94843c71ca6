"""The render loop: gradient ascent on the input with the model's weights fixed.

:func:`render` takes objectives (:mod:`.objectives`) and a :class:`~auralize.settings.DreamSettings`
naming the parameterisation (:mod:`.params`), the transforms (:mod:`.transforms`) and the penalty
weights; it composes them into the ascent. Each objective is one
dream, optimised on its own with its own random generator seeded by ``seed``: a dream depends
only on its seed and settings, never on the other dreams rendered with it (batching them would
let BLAS round the shared products differently).

Inputs longer than 5 s are optimised as a whole: each step cuts several 5-second windows spread
over the dream, and the objective is their mean, so every window serves it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import torch
from torch import nn

from .. import checks
from .. import features as F
from .. import threads
from ..audiomodel import frames_by_bins, input_bounds, label
from ..errors import AuralizeError
from ..checks import MAX_SECONDS
from ..settings import DreamSettings
from . import budget
from .objectives import Context, Objective, regulariser
from .params import get_param
from .transforms import Compose, by_domain, from_names, margin as margin_of


def n_frames(seconds: float) -> int:
    """Frames of the front end for ``seconds`` of audio (5 s to 10 minutes)."""
    checks.number("seconds", seconds, lo=F.CLIP_SECONDS, hi=MAX_SECONDS)
    return 1 + (int(round(seconds * F.SAMPLE_RATE)) - F.N_FFT) // F.HOP


@dataclass
class DreamResult:
    """The optimised inputs and how the objective rose, one row per dream."""

    x: torch.Tensor  # (batch, ...) model input of each whole dream, with the transforms' margin at the end
    audio: torch.Tensor | None  # (batch, samples) for parameterisations that hold audio
    curve: np.ndarray  # (steps, batch) objective per step
    descriptions: list[str]
    param: str
    settings: dict = field(default_factory=dict)
    params: list = field(default_factory=list, repr=False)  # the optimised Param modules
    model: object = field(default=None, repr=False, compare=False)  # the dreaming model

    def psd(self) -> np.ndarray:
        """The dreams' PSDs ``(batch, frames, 513)`` on the paper's grid, without the transforms' margin:
        the optimised input's own PSD where the model's input is one, else that of the dream's audio."""
        frames = n_frames(self.settings["seconds"])
        if hasattr(self.model, "input_psd"):
            return self.model.input_psd(self.x[:, :frames])
        samples = int(round(self.settings["seconds"] * F.SAMPLE_RATE))
        return F.spectrogram(self.audio[:, :samples].double().numpy())

    def _repr_html_(self) -> str:
        """In a notebook: each dream's objective, a player and its spectrogram."""
        import html

        from ..plots import spectrogram_png
        from ..results import html_image, html_player

        audio, psd = to_audio(self), self.psd()
        return "".join(
            f"<div><p><b>{html.escape(d)}</b> ({self.param}; objective {self.curve[0, b]:.3f} -> "
            f"{self.curve[-1, b]:.3f})</p>{html_player(audio[b], F.SAMPLE_RATE, d)}"
            f"{html_image(spectrogram_png(psd[b], d), 'spectrogram of the dream')}</div>"
            for b, d in enumerate(self.descriptions))


class Adam:
    """``torch.optim.Adam`` (defaults, CPU single-tensor update), written out step for step.

    The same arithmetic in the same order, so dreams are bit-identical to it; but the first
    use of ``torch.optim`` imports ``torch._dynamo`` (2.5 s of start-up), which a dream does not need.
    """

    def __init__(self, params, lr: float, betas=(0.9, 0.999), eps: float = 1e-8) -> None:
        self.params = [p for p in params if p.requires_grad]
        self.lr, (self.beta1, self.beta2), self.eps = lr, betas, eps
        self.exp_avg = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params]
        self.t = 0

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        self.t += 1
        step = float(self.t)
        for p, m, v in zip(self.params, self.exp_avg, self.exp_avg_sq):
            if p.grad is None:
                continue
            m.lerp_(p.grad, 1 - self.beta1)
            v.mul_(self.beta2).addcmul_(p.grad, p.grad, value=1 - self.beta2)
            step_size = self.lr / (1 - self.beta1 ** step)
            denom = (v.sqrt() / (1 - self.beta2 ** step) ** 0.5).add_(self.eps)
            p.addcdiv_(m, denom, value=-step_size)


def transforms_of(settings: DreamSettings) -> list:
    """The transforms of every step: the parameterisation's (from ``jitter`` and ``noise``), then ``transforms``
    (names, made here, or transform objects)."""
    named = [t for t in settings.transforms if isinstance(t, str)]
    made = iter(from_names(named))
    extra = [next(made) if isinstance(t, str) else t for t in settings.transforms]
    return get_param(settings.param).default_transforms(settings.jitter, settings.noise) + extra


def penalty_of(settings: DreamSettings, bounded: bool = True) -> Objective | None:
    """The penalty subtracted from every objective (:func:`~auralize.dream.objectives.regulariser`).

    ``bounded``: the model knows its input's range (``input_bounds``); the L2 and out-of-range terms read
    that input, so a model without it gets the total-variation terms only.
    """
    if not bounded:
        return regulariser(0.0, settings.tv_time, settings.tv_freq, clamp=False)
    return regulariser(settings.l2, settings.tv_time, settings.tv_freq, settings.clamp)


def check_settings(settings: DreamSettings) -> DreamSettings:
    """``settings``, if every number is in range (:meth:`DreamSettings.check`) and every name is registered: the
    parameterisation and the transforms, each in a domain the parameterisation has; else a one-line error."""
    settings.check()
    by_domain(transforms_of(settings), get_param(settings.param).has_audio)  # an audio transform needs audio
    return settings


@dataclass(frozen=True)
class _Plan:
    """What every step of every dream of one render shares."""

    param: type  # the parameterisation class
    lr: float
    transforms: list
    on_audio: Compose
    on_input: Compose
    margin: int  # frames of extra length, so that shifts never wrap into a window
    frames: int  # of the whole dream, with the margin
    samples: int
    count: int  # windows per step
    bounds: tuple | None  # the model input's range, when the model gives it
    penalty: Objective | None


def _plan(model, settings: DreamSettings) -> _Plan:
    """The transforms, lengths, windows per step, bounds and penalty of a render."""
    param = get_param(settings.param)
    transforms = transforms_of(settings)
    on_audio, on_input = by_domain(transforms, param.has_audio)
    if on_input and not frames_by_bins(model):
        raise AuralizeError(f"transforms {', '.join(getattr(t, 'name', repr(t)) for t in on_input.transforms)} act on a "
                            f"(frames, bins) model input, which this {label(model)} model does not have; use transforms "
                            "that act on audio (shift, gain, noise, dither)", param="transforms")
    margin = margin_of(transforms)
    frames = n_frames(settings.seconds) + margin
    samples = int(round(settings.seconds * F.SAMPLE_RATE)) + margin * F.HOP
    clip_frames = 1 + (int(model.clip_samples) - F.N_FFT) // F.HOP
    count = 1 + max(0, frames - margin - clip_frames + settings.window_step - 1) // settings.window_step
    bounds = input_bounds(model)
    lr = param.default_lr if settings.lr is None else settings.lr
    return _Plan(param, lr, transforms, on_audio, on_input, margin, frames, samples, count, bounds,
                 penalty_of(settings, bounded=bounds is not None))


def _check_dreamer(model, param: type) -> None:
    """Refuse a model a dream cannot be made with, before any work."""
    if int(model.sample_rate) != F.SAMPLE_RATE:
        raise AuralizeError(f"dreams are made at {F.SAMPLE_RATE} Hz (the genre prior and the listening panel listen at "
                            f"{F.SAMPLE_RATE} Hz); this {label(model)} model reads {model.sample_rate} Hz audio",
                            param="model")
    param.check_model(model)


def render(model, objectives: Objective | Sequence[Objective], settings: DreamSettings = DreamSettings(), *,
           progress: bool = False) -> DreamResult:
    """Maximise each objective (one dream each) by gradient ascent on the input, the model's weights fixed.

    Parameters
    ----------
    model : AudioModel
        The dreaming model (:class:`~auralize.audiomodel.AudioModel`; its weights stay fixed).
    objectives : Objective or sequence of Objective
        One per dream.
    settings : DreamSettings
        How to dream (:class:`~auralize.settings.DreamSettings`): parameterisation, length, steps and
        learning rate, start (``init``: noise, silence, or a path or samples of a song), penalties,
        transforms (objects or registry names, ``"shift"``) and ``copies`` per step (Lucid's
        transformation robustness averages over several random transforms), ``max_change`` (every
        optimised value stays within this distance of its start: with a song as ``init``, genre
        transfer that stays near it) and ``seed`` (same seed, same result).
    progress : bool
        Show a progress bar.

    Returns
    -------
    DreamResult
        The optimised inputs, the objective per step and the parameterisations (:func:`to_audio`).

    Raises
    ------
    AuralizeError
        For objectives that are not :class:`Objective` s, settings out of range, a model the
        parameterisation cannot dream with, a step that would not fit in memory, or an objective that is
        not finite at the start.

    Examples
    --------
    >>> import auralize
    >>> model = auralize.load_model(auralize.default_checkpoint("lstm"))
    >>> jazz = auralize.class_logprob(model.genres.index("jazz"), "jazz")
    >>> dream = auralize.render(model, jazz, auralize.DreamSettings(steps=5))
    >>> auralize.to_audio(dream).shape
    (1, 20000)
    """
    objectives = [objectives] if isinstance(objectives, Objective) else objectives
    if not isinstance(objectives, (list, tuple)) or not objectives or not all(isinstance(o, Objective)
                                                                               for o in objectives):
        raise AuralizeError(f"objectives must be an Objective or a list of them (auralize.class_logprob(...), "
                            f"auralize.neuron(...)), got {objectives!r:.60}", param="objectives")
    if not isinstance(settings, DreamSettings):
        raise AuralizeError(f"settings must be a DreamSettings, got {type(settings).__name__}", param="settings")
    check_settings(settings)
    _check_dreamer(model, get_param(settings.param))
    plan = _plan(model, settings)
    if isinstance(model, nn.Module):
        model.eval()
        for p in model.parameters():
            p.requires_grad_(False)
    budget.check(model, plan.param.has_audio, plan.count, settings.copies, settings.seconds,
                 plan.margin)  # before any work
    curve = np.zeros((settings.steps, len(objectives)))
    start = settings.start()
    bar = _bar(settings.steps * len(objectives)) if progress else None
    with threads.limited():
        pars = [_ascend(model, objective, plan, settings, start, curve[:, b], bar) for b, objective in enumerate(objectives)]
    if bar is not None:
        bar.close()
    with torch.no_grad():
        audio = torch.cat([par.audio().detach() for par in pars]) if hasattr(pars[0], "audio") else None
        x = torch.cat([par().detach() for par in pars]) if audio is None or hasattr(model, "input_psd") else None
    recorded = {"param": plan.param.name, "seconds": settings.seconds, "steps": settings.steps,
                "lr": float(plan.lr), "init": start if isinstance(start, str) else "audio",
                "window_step": settings.window_step, "windows_per_step": plan.count, "copies": settings.copies,
                "max_change": settings.max_change, "seed": settings.seed,
                "transforms": [repr(t) for t in plan.transforms],
                "penalty": plan.penalty.description if plan.penalty is not None else None}
    return DreamResult(x, audio, curve, [o.description for o in objectives], plan.param.name, recorded,
                       pars, model)


def _bar(total: int):
    from ..progress import bar  # a bar that suits a notebook too

    return bar(total=total, desc="dreaming", unit="step", leave=False)


def _ascend(model, objective: Objective, plan: _Plan, settings: DreamSettings, start, curve: np.ndarray, bar):
    """One dream: Adam on its parameterisation from ``start``, with its own generator; fills ``curve``."""
    torch.manual_seed(settings.seed)
    generator = torch.Generator().manual_seed(settings.seed)  # each dream its own: batch-mates never matter
    par = plan.param.initial(model, plan.frames, plan.samples, start, generator, clamp=settings.clamp)
    opt = Adam(par.parameters(), lr=plan.lr)
    starts = [p.detach().clone() for p in par.parameters()] if settings.max_change is not None else []
    lo, hi = plan.bounds if plan.bounds is not None else (None, None)
    for step in range(settings.steps):
        opt.zero_grad()
        windows = torch.cat([par.windows(plan.count, plan.margin, plan.on_audio, plan.on_input, generator)
                             for _ in range(settings.copies)])
        logits, states = model.forward_with_states(windows)
        ctx = Context(logits, states, par, lo, hi)
        score = objective(ctx)
        if step == 0 and not torch.isfinite(score):  # NaN now is NaN at the end: say so before the ascent
            raise AuralizeError(f"the objective {objective.description} is not finite ({float(score)}) at the "
                                "start of the ascent; is the prior or the checkpoint damaged?")
        loss = (plan.penalty(ctx) - score) if plan.penalty is not None else -score
        loss.backward()
        opt.step()
        if settings.max_change is not None:
            _stay_near(par, starts, settings.max_change)
        par.project()
        curve[step] = float(score.detach())
        if bar is not None:
            bar.update()
    return par


@torch.no_grad()
def _stay_near(par: nn.Module, starts: list[torch.Tensor], bound: float) -> None:
    """Clamp each parameter to within ``bound`` of its start (before the parameterisation's own
    projection, which may narrow it further)."""
    for p, p0 in zip(par.parameters(), starts):
        p.copy_(torch.maximum(torch.minimum(p, p0 + bound), p0 - bound))


def to_audio(result: DreamResult, n_iter: int = 100, seed: int = 0) -> np.ndarray:
    """Audio ``(batch, samples)`` of the dreams, exactly ``seconds`` long.

    A waveform dream is its samples; a spectrogram dream goes through the inverse input scaling
    to a PSD and through Griffin-Lim (each dream on its own, so it never depends on the others).
    """
    if not isinstance(result, DreamResult):
        raise AuralizeError(f"result must be what render returns (a DreamResult), got {type(result).__name__}",
                            param="result")
    samples = int(round(result.settings["seconds"] * F.SAMPLE_RATE))
    with threads.limited():  # small FFTs: more threads only wait for each other (and for a busy core)
        return np.concatenate([par.to_audio(n_iter, seed)[:, :samples] for par in result.params]).astype(np.float32)


def round_trip(model: nn.Module, audio: np.ndarray, genre: str) -> dict:
    """Classify audio as read back from disk: p(genre) per clip, its mean and the verdict."""
    from ..evaluation import predict

    with threads.limited():
        pred = predict(model, audio)
    p = pred.probabilities[:, model.genres.index(genre)]
    return {"p_target_mean": float(p.mean()), "p_target_min": float(p.min()),
            "p_target_per_clip": [round(float(v), 4) for v in p], "verdict": pred.genre}
