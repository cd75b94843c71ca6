"""Model kinds: the registry every classifier is one entry of, the config a checkpoint stores, and the base class.

:data:`MODELS` maps a kind's name to its :class:`ModelKind` entry (class, table label, the paper's figure,
default size, training defaults, front end). The kinds register themselves: the paper's six in
:mod:`auralize.models`, the dreaming CNN in :mod:`auralize.melmodels`; :mod:`auralize.models` loads both, so
import the registry from there to see every kind.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from . import checks
from . import features as F
from .errors import AuralizeError
from .features import N_BINS, N_FRAMES
from .registry import Registry
from .settings import INPUT_NORMS, VARIANTS

#: Largest sizes a config may declare: a checkpoint's config is read before any weight, and a
#: hand-edited hidden size of 10**6 would otherwise try to allocate tens of gigabytes.
MAX_HIDDEN, MAX_LAYERS, MAX_CLASSES, MAX_SUPPORT = 4096, 16, 1000, 50000
MAX_PARAMETERS = 200_000_000  # 800 MB of float32


@dataclass(frozen=True)
class ModelKind:
    """One registry entry: everything the toolkit needs to know about a model kind by its name.

    Adding a model kind is one :func:`register` call with a :class:`PaperModel` subclass; the
    CLI's choices, training defaults, reproduce tables and neuron tools all read this entry.
    """

    name: str
    cls: type
    label: str  # as in the result tables, e.g. "LSTM 2x250"
    paper_accuracy: float | None = None  # test clip accuracy in the paper's Figures 1-2 (clip split)
    size: tuple[int, int] = (0, 0)  # default (hidden units, layers); (0, 0): the kind has no sizes
    train_defaults: dict = field(default_factory=lambda: {"epochs": 60, "optimizer": "adam", "lr": 1e-3})
    neural: bool = True  # trained by gradient descent; else fitted by ``baselines.fit_baseline``
    recurrent: bool = False
    #: ``paper``: reads the paper's 22 x 513 PSD through an InputScaler attached from the checkpoint;
    #: ``logmel``: owns a fine log-mel front end (:mod:`auralize.melmodels`), trained on clips of audio.
    front_end: str = "paper"
    input_shape: tuple[int, int] = (N_FRAMES, N_BINS)  # (frames, bins) of one clip's input
    dropout: float = 0.2  # the default dropout of its training


#: The model registry: name -> :class:`ModelKind`, in the order the CLI lists them.
MODELS: Registry[ModelKind] = Registry("model", "kind")


def register_model(kind: ModelKind) -> ModelKind:
    """Add (or replace) a model kind in :data:`MODELS`; returns it."""
    return MODELS.register(kind)


def model_kind(name: str) -> ModelKind:
    """The registry entry of ``name``; an unknown name is a one-line error listing the known ones."""
    return MODELS[name]


def model_names(*, neural: bool | None = None) -> tuple[str, ...]:
    """Registered kind names (only the neural or non-neural ones if ``neural`` is given)."""
    return tuple(k.name for k in MODELS.values() if neural is None or k.neural == neural)


@dataclass
class ModelConfig:
    """Everything needed to rebuild a model's architecture; sizes are checked before any build."""

    kind: str
    n_classes: int = 10
    hidden: int = 0
    layers: int = 0
    dropout: float = 0.2
    variant: str = "paper"  # or "authors": the departures of the authors' code
    input_norm: str = "none"  # or "level": remove each clip's mean level first (see normalise_input)
    n_bins: int = 0  # 0: the kind's input size (ModelKind.input_shape)
    n_frames: int = 0
    extra: dict = field(default_factory=dict)  # baseline-specific sizes (svm: n_support)

    def __post_init__(self) -> None:
        entry = model_kind(self.kind)
        if self.variant not in VARIANTS:
            raise AuralizeError(f"unknown variant {self.variant!r}; use 'paper' or 'authors'", param="variant")
        if self.input_norm not in INPUT_NORMS:
            raise AuralizeError(f"unknown input normalisation {self.input_norm!r}; use {' or '.join(INPUT_NORMS)}",
                                param="input_norm")
        default_hidden, default_layers = entry.size
        self.hidden = checks.count("hidden", self.hidden, lo=0, hi=MAX_HIDDEN) or default_hidden
        self.layers = checks.count("layers", self.layers, lo=0, hi=MAX_LAYERS) or default_layers
        self.n_classes = checks.count("n_classes", self.n_classes, lo=2, hi=MAX_CLASSES)
        checks.number("dropout", self.dropout, lo=0, hi=1, hi_open=True)
        for name, value in zip(("n_frames", "n_bins"), entry.input_shape):
            setattr(self, name, getattr(self, name) or value)
            if getattr(self, name) != value:
                raise AuralizeError(f"{name} must be {value} (the front end's), got {getattr(self, name)!r}",
                                    param=name)
        if not isinstance(self.extra, dict):
            raise AuralizeError(f"extra must be a dict, got {type(self.extra).__name__}", param="extra")
        if "n_support" in self.extra:
            checks.count("n_support", self.extra["n_support"], lo=1, hi=MAX_SUPPORT)

    @property
    def entry(self) -> ModelKind:
        return model_kind(self.kind)

    def to_dict(self) -> dict:
        return asdict(self)


class Classifier(nn.Module):
    """Base of every registered kind: logits from ``forward``, named states from ``forward_with_states``,
    and the hooks the neuron, weight and ablation tools call (a kind overrides those it has). Its front
    end comes from :class:`PaperModel` or the kind's own (:mod:`auralize.melmodels`)."""

    config: ModelConfig
    genres: tuple[str, ...]
    sample_rate: int = F.SAMPLE_RATE
    clip_samples: int = F.CLIP_SAMPLES
    #: The state whose units read the spectrogram directly (their weight rows are spectra).
    input_layer: str | None = None
    #: LSTM-style gates whose first-layer weight rows :meth:`weight_rows` can return.
    weight_gates: tuple[str, ...] = ()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_with_states(x)[0]

    def forward_with_states(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        raise NotImplementedError

    def features(self, audio: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def default_layer(self) -> str:
        """The state whose neurons ``auralize neurons`` and neuron dreams use by default."""
        raise AuralizeError(f"a {self.config.kind} model has no neurons to analyse; use one of "
                            f"{', '.join(k for k in model_names(neural=True))}")

    def weight_rows(self, gate: str = "g") -> tuple[torch.Tensor, str]:
        """First-layer input-weight rows ``(units, frames_or_1, 513)`` and the state they feed."""
        raise AuralizeError(f"a {self.config.kind} model has no learned units to render; use one of "
                            f"{', '.join(k for k in model_names(neural=True) if MODELS[k].cls.input_layer)}")

    def unit_layer(self, layer: str) -> nn.Module:
        """The module whose ``unit_mask`` (a ``(hidden,)`` tensor or None) silences units of ``layer``."""
        raise AuralizeError(f"cannot ablate {layer!r}: a {self.config.kind} model has no units to silence", param="layer")

    def size_label(self) -> str:
        """The size as ``info`` prints it after the kind (``2x250``, ``(125 hidden units)``)."""
        return ""
