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
from ..registry import Registry


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


def class_logodds(index: int, name: str = "") -> Objective:
    """The class's log-odds ``log p / (1 - p)``, mean over windows: the log-probability's pull on the other
    classes, without its ceiling (log p stops rising as p nears 1, the log-odds does not)."""
    checks.index("index", index, "the genre's position in model.genres")

    def logodds(c: Context) -> torch.Tensor:
        others = torch.cat([c.logits[:, :index], c.logits[:, index + 1:]], 1)
        return (c.logits[:, index] - torch.logsumexp(others, 1)).mean()

    return Objective(logodds, f"log-odds({name or index})")


def _over_input(t: torch.Tensor) -> torch.Tensor:
    """Mean over frames and bins of a ``(1, frames, bins)`` term: one number for the dream."""
    return t.mean((1, 2)).squeeze(0)


def prior_match(prior, genre: str, caricature: float = 0.0) -> Objective:
    """The pull of a prior on the dream's audio: for a :class:`~auralize.dream.prior.GenrePrior`, minus the
    distance of its statistics from real clips of ``genre`` (moved away from the other genres' by
    ``caricature``); for the genre-blind :class:`~auralize.dream.music_prior.MusicPrior`, minus their
    energy under real music of every genre, the same for any ``genre``."""
    return prior.match(genre, caricature)


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


# --- objective kinds: what a genre's dream maximises (``Target.objective``, ``--objective``) ---------

#: Objective kinds: name -> ``builder(model, genre, target, report) -> Objective`` for one genre's
#: dream; ``target`` is a :class:`~auralize.settings.Target`, ``report`` the model's neuron statistics.
OBJECTIVE_KINDS: Registry[Callable] = Registry("objective", "objective")


def register_objective(name: str, neurons: bool = False):
    """Decorator: make a builder ``(model, genre, target, report) -> Objective`` an objective kind;
    ``neurons``: it reads a neuron (``target.unit`` and ``target.layer``, else the saved statistics)."""
    def register(builder: Callable) -> Callable:
        builder.uses_neurons = neurons
        return OBJECTIVE_KINDS.register(builder, name)

    return register


def uses_neurons(objective: str) -> bool:
    """Whether objective kind ``objective`` reads a neuron (and so the model's neuron statistics)."""
    return getattr(OBJECTIVE_KINDS[objective], "uses_neurons", False)


@register_objective("neuron", neurons=True)
def _neuron_kind(model, genre: str, target, report) -> Objective:
    """The paper's: the genre's most commonly active neuron (or ``target.unit`` of ``target.layer``),
    plus ``target.class_weight`` times the genre's log-probability."""
    from ..audiomodel import check_layer, default_layer

    layer, rule, unit = target.layer, target.rule, target.unit
    if unit is None:
        if report is None:
            raise AuralizeError("the neuron objective needs neuron statistics: run 'auralize neurons CHECKPOINT "
                                "--data DIR' first, give --unit, or use --objective class")
        layer, rule, unit = report.layer, report.rule, report.top_unit(genre)
    layer = layer or default_layer(model)
    size = check_layer(model, layer)
    if not 0 <= unit < size:
        raise AuralizeError(f"neuron {unit} is out of range for {layer}, which has {size} units (0-{size - 1})",
                            param="unit")
    obj = neuron(layer, unit, rule)
    index = model.genres.index(genre)
    return obj + target.class_weight * class_logprob(index, genre) if target.class_weight else obj


@register_objective("class")
def _class_kind(model, genre: str, target, report) -> Objective:
    """The genre's log-probability."""
    return class_logprob(model.genres.index(genre), genre)


@register_objective("logodds")
def _logodds_kind(model, genre: str, target, report) -> Objective:
    """The genre's log-odds: like ``class``, but it keeps rising once the model is sure."""
    return class_logodds(model.genres.index(genre), genre)


@register_objective("logit")
def _logit_kind(model, genre: str, target, report) -> Objective:
    """The genre's logit."""
    return class_logit(model.genres.index(genre), genre)


def check_target(target):
    """``target`` (a :class:`~auralize.settings.Target`), if every number is in range (:meth:`Target.check`), its
    objective is registered and a unit or layer comes only with an objective that has neurons; else a
    one-line error."""
    target.check()
    if not uses_neurons(target.objective) and (target.unit is not None or target.layer is not None):
        # a unit given for the class objective would be ignored: say so rather than dream something else
        raise AuralizeError(f"unit and layer choose a neuron, and the {target.objective} objective has none; "
                            "add objective='neuron' (--objective neuron)", param="objective")
    return target
