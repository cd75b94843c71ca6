"""Objectives: differentiable scores of one dream, to maximise (after Lucid's ``optvis.objectives``).

An :class:`Objective` maps a :class:`Context` (the model's logits and states on this step's
windows, and the dream's full model input) to one number. Objectives compose with
``+ - * /``, negation and :func:`sum`: ``neuron("layer2.h", 7) + 0.5 * class_logprob(5)``.

:func:`prior_match` pulls the dream's audio towards the statistics of real clips of a genre
(:mod:`.prior`). Penalties are objectives too; they read the full input rather than the model:
:func:`l2` (towards 0, the average training spectrum), :func:`tv_time` and :func:`tv_freq`
(total variation) and :func:`out_of_range` (outside the per-bin range of the training inputs).
:func:`regulariser` is their usual weighted sum, which :func:`~auralize.dream.render.render`
subtracts from every objective.
"""
from __future__ import annotations

from typing import Callable, Iterable

import torch

from .. import checks
from ..errors import AuralizeError
from ..neurons import reduce_time


class Context:
    """What an objective may read at one step of one dream.

    ``logits`` ``(windows, classes)`` and ``states`` (name -> ``(windows, frames, units)``) are the
    model's answer to this step's transformed windows; ``x`` is the dream's full, untransformed
    model input ``(1, frames, 513)``, computed when first read; ``lo``/``hi`` the per-bin range
    of the training inputs.
    """

    def __init__(self, logits: torch.Tensor, states: dict, full_input: Callable[[], torch.Tensor],
                 lo: torch.Tensor, hi: torch.Tensor) -> None:
        self.logits, self.states, self.lo, self.hi = logits, states, lo, hi
        self._full_input, self._x = full_input, None

    @property
    def x(self) -> torch.Tensor:
        if self._x is None:
            self._x = self._full_input()
        return self._x

    @property
    def audio(self) -> torch.Tensor:
        """The dream's untransformed audio ``(1, samples)``, for parameterisations that hold audio."""
        own = getattr(self._full_input, "audio", None)
        if not callable(own):
            raise AuralizeError("this objective reads the dream's audio: use a parameterisation that holds audio "
                                "(fine or waveform)", param="param")
        return own()

    @property
    def grid(self) -> torch.Tensor:
        """What the total-variation penalties smooth ``(1, frames, bins)``: the model input, or the
        parameterisation's own finer grid when it has one (``grid()``, e.g. the fine log-magnitude)."""
        own = getattr(self._full_input, "grid", None)
        return own() if callable(own) else self.x


def _value(term, ctx: Context):
    return term(ctx) if isinstance(term, Objective) else term


def _text(term) -> str:
    return term.description if isinstance(term, Objective) else f"{term:g}"


class Objective:
    """A differentiable score ``f(context) -> scalar tensor`` to maximise."""

    def __init__(self, fn: Callable[[Context], torch.Tensor], description: str) -> None:
        self.fn = fn
        self.description = description

    def __call__(self, ctx: Context) -> torch.Tensor:
        return self.fn(ctx)

    def __add__(self, other) -> "Objective":
        return Objective(lambda c: self(c) + _value(other, c), f"{self.description} + {_text(other)}")

    def __radd__(self, other) -> "Objective":
        if isinstance(other, (int, float)) and other == 0:  # sum() starts from 0
            return self
        return Objective(lambda c: other + self(c), f"{_text(other)} + {self.description}")

    def __sub__(self, other) -> "Objective":
        return Objective(lambda c: self(c) - _value(other, c), f"{self.description} - {_text(other)}")

    def __rsub__(self, other) -> "Objective":
        return Objective(lambda c: other - self(c), f"{_text(other)} - {self.description}")

    def __mul__(self, other) -> "Objective":
        if isinstance(other, Objective):
            return Objective(lambda c: self(c) * other(c), f"({self.description}) * ({other.description})")
        return Objective(lambda c: other * self(c), f"{other:g} * {self.description}")

    __rmul__ = __mul__

    def __truediv__(self, other) -> "Objective":
        return Objective(lambda c: self(c) / _value(other, c), f"({self.description}) / {_text(other)}")

    def __neg__(self) -> "Objective":
        return Objective(lambda c: -self(c), f"-({self.description})")

    @staticmethod
    def sum(objectives: Iterable["Objective"]) -> "Objective":
        """The sum of several objectives."""
        return sum(objectives, 0)

    def __repr__(self) -> str:
        return f"Objective({self.description})"


def neuron(layer: str, unit: int, rule: str = "mean") -> Objective:
    """Activation of one unit of a named state, reduced over frames by ``rule``, mean over windows."""
    if not isinstance(layer, str):
        raise AuralizeError(f"layer must be a state's name (model.state_names()), got {layer!r}", param="layer")
    checks.index("unit", unit, "the unit's position in the layer")
    return Objective(lambda c: reduce_time(c.states[layer], rule)[:, unit].mean(), f"{layer}[{unit}] ({rule})")


def class_logit(index: int, name: str = "") -> Objective:
    """The class's logit (pre-softmax score), mean over windows."""
    checks.index("index", index, "the genre's position in model.genres")
    return Objective(lambda c: c.logits[:, index].mean(), f"logit({name or index})")


def class_logprob(index: int, name: str = "") -> Objective:
    """The class's log-probability (pushes the other classes down as well), mean over windows."""
    checks.index("index", index, "the genre's position in model.genres")
    return Objective(lambda c: torch.log_softmax(c.logits, 1)[:, index].mean(), f"log p({name or index})")


def _over_input(t: torch.Tensor) -> torch.Tensor:
    """Mean over frames and bins of a ``(1, frames, bins)`` term: one number for the dream."""
    return t.mean((1, 2)).squeeze(0)


def prior_match(prior, genre: str, caricature: float = 0.0) -> Objective:
    """Minus the distance of the dream's audio statistics from real clips of ``genre`` under a
    :class:`~auralize.dream.prior.GenrePrior`: 0 when they sit at the genre's mean, moved away from
    the other genres' by ``caricature`` times the difference (:meth:`~auralize.dream.prior.GenrePrior.target`)."""
    from .prior import statistics, z_distance

    target = prior.target_tensors(genre, caricature)  # refuses a genre the prior has no clips of, before any work
    label = f"prior({genre}, caricature {caricature:g})" if caricature else f"prior({genre})"
    return Objective(lambda c: -z_distance(statistics(c.audio, prior.names), target).mean(), label)


def l2() -> Objective:
    """Mean square of the model input: distance from the average training spectrum (a penalty)."""
    return Objective(lambda c: _over_input(c.x.pow(2)), "l2")


def tv_time() -> Objective:
    """Mean absolute difference between neighbouring frames of :attr:`Context.grid` (a penalty)."""
    return Objective(lambda c: _over_input((c.grid[:, 1:] - c.grid[:, :-1]).abs()), "tv_time")


def tv_freq() -> Objective:
    """Mean absolute difference between neighbouring bins of :attr:`Context.grid` (a penalty)."""
    return Objective(lambda c: _over_input((c.grid[:, :, 1:] - c.grid[:, :, :-1]).abs()), "tv_freq")


def out_of_range() -> Objective:
    """Mean squared distance outside the per-bin range of the training inputs (a penalty)."""
    return Objective(lambda c: _over_input((torch.relu(c.x - c.hi) + torch.relu(c.lo - c.x)).pow(2)),
                     "out_of_range")


def regulariser(l2: float = 0.01, tv_time: float = 0.05, tv_freq: float = 0.05,
                clamp: bool = True) -> Objective | None:
    """The usual penalty: weighted L2 and total variation, plus :func:`out_of_range` if ``clamp``.

    ``None`` when every weight is 0 and ``clamp`` is off (nothing to penalise).
    """
    terms = [w * make() for w, make, name in ((l2, _l2, "l2"), (tv_time, _tv_time, "tv_time"),
                                               (tv_freq, _tv_freq, "tv_freq"))
             if checks.number(name, w, lo=0, hi=1e3)]
    if clamp:
        terms.append(out_of_range())
    return Objective.sum(terms) if terms else None


_l2, _tv_time, _tv_freq = l2, tv_time, tv_freq  # regulariser's arguments shadow the names
