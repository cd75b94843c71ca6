"""The render loop: gradient ascent on the input with the model's weights fixed.

:func:`render` takes objects: a parameterisation class (:mod:`.params`), objectives
(:mod:`.objectives`), transforms (:mod:`.transforms`) and a penalty. Each objective is one
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
from ..errors import AuralizeError
from ..invert import MAX_SECONDS
from ..audio import as_audio
from . import budget
from .objectives import Context, Objective, regulariser
from .params import SpectrogramParam, get_param
from .transforms import by_domain, from_names, margin as margin_of


def n_frames(seconds: float) -> int:
    """Frames of the front end for ``seconds`` of audio (5 s to 10 minutes)."""
    checks.number("seconds", seconds, lo=F.CLIP_SECONDS, hi=MAX_SECONDS)
    return 1 + (int(round(seconds * F.SAMPLE_RATE)) - F.N_FFT) // F.HOP


@dataclass
class DreamResult:
    """The optimised inputs and how the objective rose, one row per dream."""

    x: torch.Tensor  # (batch, frames, 513) model input, with the transforms' margin at the end
    audio: torch.Tensor | None  # (batch, samples) for parameterisations that hold audio
    curve: np.ndarray  # (steps, batch) objective per step
    descriptions: list[str]
    param: str
    settings: dict = field(default_factory=dict)
    params: list = field(default_factory=list, repr=False)  # the optimised Param modules

    def psd(self) -> np.ndarray:
        """The dreams' PSDs ``(batch, frames, 513)``, without the transforms' margin."""
        frames = n_frames(self.settings["seconds"])
        scaler = self.params[0].scaler
        return scaler.inverse(self.x[:, :frames].double()).numpy()

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


DEFAULT_PENALTY = regulariser()


def render(model: nn.Module, objectives: Objective | Sequence[Objective], *, param: type = SpectrogramParam,
           transforms: Sequence | None = None, penalty: Objective | None = DEFAULT_PENALTY, seconds: float = 5.0,
           steps: int = 200, lr: float | None = None, init: str | np.ndarray = "noise", clamp: bool = True,
           window_step: int = 11, copies: int = 1, max_change: float | None = None, seed: int = 0,
           progress: bool = False) -> DreamResult:
    """Maximise each objective (one dream each) by gradient ascent on the input.

    Parameters
    ----------
    model : trained model (its weights stay fixed)
    objectives : one :class:`Objective` per dream
    param : a parameterisation class or its name in :data:`~auralize.dream.params.PARAMS` (``"fine"``)
    transforms : applied afresh at every step, objects or names in :data:`~auralize.dream.transforms.TRANSFORMS`
        (default: the parameterisation's jitter and noise)
    penalty : subtracted from every objective (default :func:`regulariser`); ``None`` for none
    seconds : length of each dream; longer than 5 s optimises every 5-s window
    steps, lr : Adam steps and learning rate (default: the parameterisation's)
    init : ``noise``, ``silence``, or audio to start from: a path, or mono 4 kHz samples (numpy or torch)
    clamp : keep the input within the range of real inputs (where the parameterisation can)
    window_step : frames between windows of a long dream
    copies : independently transformed copies per step; the objective is their mean (Lucid's
        transformation robustness averages over several random transforms, not one)
    max_change : keep every optimised value within this distance of its start, in the
        parameterisation's own units (``fine``: natural-log magnitude, so 0.5 is +-4.3 dB per
        bin and frame; ``spectrogram``: scaled input). With ``init`` a real song this bounds how
        far the dream moves from it (genre transfer or accentuation); ``None``: no bound
    seed : same seed, same result
    """
    objectives = [objectives] if isinstance(objectives, Objective) else objectives
    if not isinstance(objectives, (list, tuple)) or not objectives or not all(isinstance(o, Objective)
                                                                               for o in objectives):
        raise AuralizeError(f"objectives must be an Objective or a list of them (auralize.class_logprob(...), "
                            f"auralize.neuron(...)), got {objectives!r:.60}", param="objectives")
    param = get_param(param) if isinstance(param, str) else param  # the CLI's spelling ("fine") works too
    seed = checks.seed(seed)
    if not (isinstance(init, str) and init in ("noise", "silence")):
        init = as_audio(init, name="init", max_seconds=MAX_SECONDS)  # a path, an array or a tensor; never silence
    steps = checks.count("steps", steps, 1, 100_000)
    lr = param.default_lr if lr is None else checks.number("lr", lr, lo=0, lo_open=True, hi=10)
    window_step = checks.count("window_step", window_step, 1)
    copies = checks.count("copies", copies, 1, 256)
    if max_change is not None:
        max_change = checks.number("max_change", max_change, lo=0, lo_open=True, hi=100)
    transforms = param.default_transforms(1, 0.1) if transforms is None else \
        [from_names([t])[0] if isinstance(t, str) else t for t in transforms]  # registry names too ("shift")
    on_audio, on_input = by_domain(transforms, param.has_audio)
    margin = margin_of(transforms)
    frames = n_frames(seconds) + margin
    samples = int(round(seconds * F.SAMPLE_RATE)) + margin * F.HOP
    count = 1 + max(0, frames - margin - F.N_FRAMES + window_step - 1) // window_step
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    budget.check(model, param.has_audio, count, copies, seconds, margin)  # before any work
    lo, hi = model.scaler.bounds(torch.zeros(1))
    curve = np.zeros((steps, len(objectives)))
    bar = None
    if progress:
        from ..progress import bar as tqdm  # a bar that suits a notebook too

        bar = tqdm(total=steps * len(objectives), desc="dreaming", unit="step", leave=False)
    pars = []
    with threads.limited():
        for b, objective in enumerate(objectives):
            torch.manual_seed(seed)
            generator = torch.Generator().manual_seed(seed)  # each dream its own: batch-mates never matter
            par = param.initial(model, frames, samples, init, generator, clamp=clamp)
            opt = Adam(par.parameters(), lr=lr)
            starts = [p.detach().clone() for p in par.parameters()] if max_change is not None else []
            for step in range(steps):
                opt.zero_grad()
                windows = torch.cat([par.windows(count, margin, on_audio, on_input, generator)
                                     for _ in range(copies)])
                logits, states = model.forward_with_states(windows)
                ctx = Context(logits, states, par, lo, hi)
                score = objective(ctx)
                if step == 0 and not torch.isfinite(score):  # NaN now is NaN at the end: say so before the ascent
                    raise AuralizeError(f"the objective {objective.description} is not finite ({float(score)}) at the "
                                        "start of the ascent; is the prior or the checkpoint damaged?")
                loss = (penalty(ctx) - score) if penalty is not None else -score
                loss.backward()
                opt.step()
                if max_change is not None:
                    _stay_near(par, starts, max_change)
                par.project()
                curve[step, b] = float(score.detach())
                if bar is not None:
                    bar.update()
            pars.append(par)
    if bar is not None:
        bar.close()
    with torch.no_grad():
        x = torch.cat([par().detach() for par in pars])
        audio = torch.cat([par.audio().detach() for par in pars]) if hasattr(pars[0], "audio") else None
    settings = {"param": param.name, "seconds": seconds, "steps": steps, "lr": lr,
                "init": init if isinstance(init, str) else "audio", "window_step": window_step,
                "windows_per_step": count, "copies": copies, "max_change": max_change, "seed": seed,
                "transforms": [repr(t) for t in transforms],
                "penalty": penalty.description if penalty is not None else None}
    return DreamResult(x, audio, curve, [o.description for o in objectives], param.name, settings, pars)


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
