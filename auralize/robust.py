"""Robust training: perturb each training batch so the model's input gradients mean something.

Gradient ascent on a standard classifier's input finds adversarial patterns that fool that one
network; on a model trained against small perturbations of its input, the same ascent draws
features a person (or another classifier) recognises: robust models have perceptually aligned
gradients (Santurkar et al. 2019; Engstrom et al. 2019). The recipes (:data:`ROBUST`, one entry
each), all on the scaled input the model reads:

- ``noise``: add Gaussian noise (randomised smoothing style augmentation);
- ``pgd``: replace the batch by its L2 projected-gradient-descent adversary (Madry et al. 2018);
- ``trades``: the clean loss plus :data:`TRADES_BETA` times the KL divergence of the model's
  prediction on the L2 PGD point that moves it most (TRADES, Zhang et al. 2019): accuracy on clean
  input and smoothness around it, traded off by beta instead of training on adversaries alone.

``eps`` is a root-mean-square per input element, so it reads the same for any input size: the
L2 radius of the PGD ball is ``eps * sqrt(frames * bins)`` and the noise has standard deviation
``eps``. The model input is normalised per bin, so ``eps = 0.25`` is a quarter of each bin's
natural spread.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from . import checks
from .errors import AuralizeError
from .registry import Registry

#: PGD steps per batch; 3 steps with step size 2.5 eps / steps reach the ball's surface.
PGD_STEPS = 3
#: TRADES's weight of the KL term (the paper's value for CIFAR-10, 1/lambda = 6).
TRADES_BETA = 6.0


@dataclass(frozen=True)
class RobustKind:
    """A recipe of robust training (``auralize train --robust NAME``).

    ``loss(model, x, y, loss_fn, eps, generator, forward)`` is the batch's training loss (a scalar tensor to
    back-propagate): ``x`` the model inputs, ``y`` their labels, ``loss_fn`` the run's criterion on
    (logits, labels), ``eps`` the RMS size of :mod:`the perturbation <auralize.robust>`; the perturbation
    is found on ``model`` and the loss taken through ``forward`` (``model``, or its DistributedDataParallel
    wrapper under torchrun, whose one forward per step shares the gradients).
    """

    name: str
    loss: Callable
    help: str = ""


#: The recipes :func:`training_loss` knows: ``none``, ``noise``, ``pgd`` and ``trades``.
ROBUST: Registry[RobustKind] = Registry("robust training", "robust")


def check(kind: str, eps: float) -> None:
    """Refuse an unknown kind or a radius that is not a finite non-negative number."""
    if kind not in ROBUST:
        raise AuralizeError(f"robust must be one of {', '.join(ROBUST)}, got {kind!r}", param="robust")
    checks.non_negative("robust_eps", eps)
    if kind != "none" and eps == 0:
        raise AuralizeError(f"robust_eps must be > 0 with robust={kind!r}, got 0", param="robust_eps")


def _l2_project(delta: torch.Tensor, radius: float) -> torch.Tensor:
    """Scale each item of ``delta`` back onto the L2 ball of ``radius`` (items inside stay)."""
    norm = delta.flatten(1).norm(dim=1).clamp(min=1e-12).view(-1, *[1] * (delta.dim() - 1))
    return delta * (radius / norm).clamp(max=1.0)


def pgd_l2(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, steps: int = PGD_STEPS,
           generator: torch.Generator | None = None) -> torch.Tensor:
    """L2 PGD adversary of ``x`` against labels ``y`` within RMS radius ``eps`` (see module doc).

    Starts at a random point of the ball, takes ``steps`` normalised gradient steps of
    ``2.5 * radius / steps`` on the cross-entropy and projects back each time. The model runs
    in eval mode for the attack (dropout would make the gradient noise) and is restored after;
    its weights get no gradient.
    """
    radius = eps * x[0].numel() ** 0.5
    was_training = model.training
    model.eval()
    delta = _l2_project(torch.randn(x.shape, generator=generator).to(x.device) * eps, radius)
    step = 2.5 * radius / steps
    for _ in range(steps):
        delta.requires_grad_(True)
        loss = nn.functional.cross_entropy(model(x + delta), y)
        (grad,) = torch.autograd.grad(loss, delta)
        grad = grad / grad.flatten(1).norm(dim=1).clamp(min=1e-12).view(-1, *[1] * (x.dim() - 1))
        delta = _l2_project(delta.detach() + step * grad, radius)
    model.train(was_training)
    return (x + delta).detach()


def trades_l2(model: nn.Module, x: torch.Tensor, eps: float, steps: int = PGD_STEPS,
              generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """TRADES's inner point: within the L2 ball of RMS radius ``eps`` around ``x``, the point whose prediction
    differs most (KL divergence) from the model's on ``x``; returns it and the clean log-probabilities.

    The same steps as :func:`pgd_l2` (random start, normalised steps, projection, eval mode), on the KL
    divergence from the clean prediction instead of the cross-entropy with the labels: it needs no label.
    """
    radius = eps * x[0].numel() ** 0.5
    was_training = model.training
    model.eval()
    with torch.no_grad():
        clean = nn.functional.log_softmax(model(x), 1)
    delta = _l2_project(torch.randn(x.shape, generator=generator).to(x.device) * eps, radius)
    step = 2.5 * radius / steps
    for _ in range(steps):
        delta.requires_grad_(True)
        kl = nn.functional.kl_div(nn.functional.log_softmax(model(x + delta), 1), clean, reduction="batchmean",
                                  log_target=True)
        (grad,) = torch.autograd.grad(kl, delta)
        grad = grad / grad.flatten(1).norm(dim=1).clamp(min=1e-12).view(-1, *[1] * (x.dim() - 1))
        delta = _l2_project(delta.detach() + step * grad, radius)
    model.train(was_training)
    return (x + delta).detach(), clean


def perturb_batch(model: nn.Module, x: torch.Tensor, y: torch.Tensor, kind: str, eps: float,
                  generator: torch.Generator) -> torch.Tensor:
    """The training batch ``x`` as the model should learn from it under ``kind`` (see module doc).

    ``none`` returns ``x`` itself; ``noise`` adds N(0, eps^2); ``pgd`` returns the adversary; ``trades``,
    whose loss is not one on a perturbed batch alone, returns its inner point (:func:`trades_l2`).
    """
    check(kind, eps)
    if kind == "none" or eps == 0:
        return x
    if kind == "noise":
        return x + eps * torch.randn(x.shape, generator=generator).to(x.device)
    if kind == "pgd":
        return pgd_l2(model, x, y, eps, generator=generator)
    return trades_l2(model, x, eps, generator=generator)[0]


def training_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn: Callable, kind: str, eps: float,
                  generator: torch.Generator, forward: nn.Module | None = None) -> torch.Tensor:
    """One batch's training loss under the robust recipe ``kind`` (:data:`ROBUST`), to back-propagate
    (``forward``: what the batch goes through for the loss, default ``model``)."""
    check(kind, eps)
    return ROBUST[kind].loss(model, x, y, loss_fn, eps, generator, forward or model)


def _perturbed_loss(kind: str) -> Callable:
    def loss(model, x, y, loss_fn, eps, generator, forward):
        return loss_fn(forward(perturb_batch(model, x, y, kind, eps, generator)), y)

    return loss


def _trades_loss(model, x, y, loss_fn, eps, generator, forward):
    if forward is not model:  # two forward passes per step, which DistributedDataParallel does not share
        raise AuralizeError("--robust trades does not run under torchrun yet; train it in one process, or use "
                            "--robust pgd", param="robust")
    adversary, _ = trades_l2(model, x, eps, generator=generator)
    logits = model(x)  # in training mode, like the step it is part of
    kl = nn.functional.kl_div(nn.functional.log_softmax(model(adversary), 1), nn.functional.log_softmax(logits, 1),
                              reduction="batchmean", log_target=True)
    return loss_fn(logits, y) + TRADES_BETA * kl


for _kind, _help in (("none", "no perturbation"), ("noise", "Gaussian noise of RMS eps on each batch's input"),
                     ("pgd", "each batch replaced by its L2 PGD adversary (Madry et al. 2018)")):
    ROBUST.register(RobustKind(_kind, _perturbed_loss(_kind), _help))
ROBUST.register(RobustKind("trades", _trades_loss, "clean loss + beta x KL to the L2 PGD point that moves the "
                                                   "prediction most (Zhang et al. 2019)"))


def warm_start(model: nn.Module, path) -> nn.Module:
    """Load the weights of checkpoint ``path`` into ``model`` to fine-tune it (robustly).

    The checkpoint must have the same architecture, genres and input scaling (the same split
    and seed give the same scaler), or the weights would read a different input.
    """
    import numpy as np

    from .checkpoint import load_model

    source = load_model(path)  # validated: damaged, NaN or mismatched checkpoints are refused here
    config = source.config.to_dict()
    if config != model.config.to_dict():
        differ = sorted(k for k in config if config[k] != model.config.to_dict().get(k))
        raise AuralizeError(f"init_from {path} is a different architecture ({', '.join(differ)} differ); "
                            "train with the same model, hidden, layers and variant", param="init_from")
    if tuple(source.genres) != tuple(model.genres):
        raise AuralizeError(f"init_from {path} knows other genres ({', '.join(source.genres)})",
                            param="init_from")
    theirs = getattr(source, "scaler", None)  # a kind that owns its front end carries it in its weights
    if theirs is not None and (theirs.compression != model.scaler.compression
                               or not np.allclose(theirs.mean, model.scaler.mean, atol=1e-4)
                               or not np.allclose(theirs.std, model.scaler.std, atol=1e-4)):
        raise AuralizeError(f"init_from {path} was trained with other input scaling; use the same data, split "
                            "and seed", param="init_from")
    model.load_state_dict(source.state_dict())
    return model


def robust_accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, steps: int = 5,
                    batch: int = 200, seed: int = 0) -> float:
    """Clip accuracy on model inputs ``x`` under the L2 PGD adversary of RMS radius ``eps`` (0: clean)."""
    checks.non_negative("eps", eps)
    generator = torch.Generator().manual_seed(seed)
    correct = 0
    for i in range(0, len(x), batch):
        xb, yb = x[i:i + batch], y[i:i + batch]
        if eps > 0:
            xb = pgd_l2(model, xb, yb, eps, steps, generator)
        with torch.no_grad():
            correct += int((model.eval()(xb).argmax(1) == yb).sum())
    return correct / max(len(x), 1)
