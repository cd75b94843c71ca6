"""Temperature scaling: one number per model that makes its probabilities mean what they say.

A model trained against an adversary with a smoothness term (TRADES) is right far more often than it is
sure: ``trained/cnn-mel-trades.pt`` is right on 0.67 of its validation clips with a mean top probability
of 0.33. Dividing its logits by a temperature T fitted on held-out clips (Guo et al. 2017, "On calibration
of modern neural networks") fixes that without changing any verdict. An ensemble that averages its
members' log-probabilities (:class:`auralize.ensembles.Ensemble`) then weighs them by what they know,
not by how loud their logits are. One temperature on the ensemble's combined output
(:func:`fit_output`) instead makes the ensemble's own probabilities mean what they say, and leaves the
members' weights as they are.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np
import torch

from .errors import AuralizeError

#: The temperatures a fit may return: beyond them a model is either a constant or a hard argmax.
BOUNDS = (0.05, 20.0)


def fit_temperature(logits: np.ndarray | torch.Tensor, labels: np.ndarray | torch.Tensor) -> float:
    """The temperature T that minimises the negative log-likelihood of ``softmax(logits / T)`` on ``labels``.

    The likelihood is convex in 1/T, so a bounded scalar search finds the one minimum.

    Parameters
    ----------
    logits : array (n, n_classes)
    labels : array (n,) of class indices

    Returns
    -------
    float
        T within :data:`BOUNDS`; below 1 the model was under-confident, above 1 over-confident.

    Raises
    ------
    AuralizeError
        If there are no labelled rows, a label is out of range, or a logit is not finite.

    Examples
    --------
    >>> import numpy as np
    >>> z = np.array([[2.0, 0.0], [0.0, 2.0], [2.0, 0.0], [2.0, 0.0]])
    >>> round(fit_temperature(z, np.array([0, 1, 0, 1])), 2) > 1  # one in four is wrong: soften
    True
    """
    from scipy.optimize import minimize_scalar

    z = torch.as_tensor(logits, dtype=torch.float64)
    y = torch.as_tensor(labels, dtype=torch.long)
    if z.ndim != 2 or len(z) == 0 or y.shape != (len(z),):
        raise AuralizeError(f"need logits (n, classes) and n labels, n > 0; got {tuple(z.shape)} and "
                            f"{tuple(y.shape)}", param="logits")
    if not torch.isfinite(z).all():
        raise AuralizeError("the logits are not all finite: the model is damaged", param="logits")
    if int(y.min()) < 0 or int(y.max()) >= z.shape[1]:
        raise AuralizeError(f"labels must lie in 0..{z.shape[1] - 1}", param="labels")

    def nll(beta: float) -> float:
        return float(torch.nn.functional.cross_entropy(z * beta, y))

    lo, hi = BOUNDS
    best = minimize_scalar(nll, bounds=(1 / hi, 1 / lo), method="bounded", options={"xatol": 1e-4})
    return float(1 / best.x)


@dataclass(frozen=True)
class TemperatureFit:
    """A model's temperature and what it changes on the clips it was fitted on."""

    temperature: float
    part: str  #: the part of the model's split the fit used
    n_clips: int
    accuracy: float  #: clip accuracy (no temperature changes it)
    confidence: float  #: mean top probability before
    calibrated_confidence: float  #: and after

    def to_dict(self) -> dict:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(self).items()}

    def line(self) -> str:
        """What it is, in the words ``auralize ensemble --calibrate`` prints."""
        return (f"temperature {self.temperature:.3f} on {self.n_clips} {self.part} clips of its split: accuracy "
                f"{self.accuracy:.3f}, mean top probability {self.confidence:.3f} -> {self.calibrated_confidence:.3f}")


def held_out_fit(model, data, part: str = "valid") -> TemperatureFit:
    """``model``'s temperature, fitted on the ``part`` clips of the split it was trained on.

    Parameters
    ----------
    model : AudioModel
        A classifier whose metadata names its split (a checkpoint of ``auralize train``).
    data : ClipSet
        The clips (``auralize.load_clips``); their labels are mapped to the model's genres by name.
    part : str
        The part of the model's split to fit on; its validation part by default, never its test part, so
        the test figures stay held out.

    Raises
    ------
    AuralizeError
        If that part holds no clip of the model's genres.
    """
    from .data import ClipSet
    from .evaluation import data_inputs, model_labels, own_split, predict_logits

    dataset = data.dataset if isinstance(data, ClipSet) else data
    ids = own_split(model, dataset, part=part)[part]
    labels = model_labels(model, dataset, ids)
    keep = labels >= 0
    if not keep.any():
        raise AuralizeError(f"the {part} part of the split this model was trained on holds no clip of its genres "
                            "in this data; give the data it was trained on", param="data")
    logits = predict_logits(model, data_inputs(model, data, ids[keep]))
    t = fit_temperature(logits, labels[keep])
    top = lambda z: float(torch.softmax(z.double(), 1).max(1).values.mean())  # noqa: E731
    return TemperatureFit(t, part, int(keep.sum()), float((logits.argmax(1).numpy() == labels[keep]).mean()),
                          top(logits), top(logits / t))


def fit_members(members: Sequence, data, part: str = "valid") -> list[TemperatureFit]:
    """:func:`held_out_fit` of each member (a model, or a path :func:`auralize.load_model` reads), for
    :func:`auralize.save_ensemble`'s ``fits``."""
    return [held_out_fit(_as_model(m), data, part) for m in members]


def fit_output(members: Sequence, data, combine: str = "mean", fits: Sequence[TemperatureFit] | None = None,
               part: str = "valid") -> TemperatureFit:
    """The temperature of the combined output of an ensemble of ``members`` (models or paths), with the
    members' own temperatures from ``fits`` applied, fitted by :func:`held_out_fit` on the ``part`` clips of
    the split the members share; for :func:`auralize.save_ensemble`'s ``output_fit``."""
    from .ensembles import Ensemble

    temperatures = None if fits is None else [f.temperature for f in fits]
    return held_out_fit(Ensemble([_as_model(m) for m in members], combine, temperatures=temperatures), data, part)


def _as_model(member):
    """A member given as a model, or as a path :func:`auralize.load_model` reads."""
    from .checkpoint import load_model

    return member if hasattr(member, "genres") else load_model(member)
