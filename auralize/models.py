"""The paper's recurrent classifiers and its 2-layer MLP, with every internal state reachable.

All models take model input ``(batch, 22, 513)`` and return class logits ``(batch, n_classes)``
from ``forward`` (so captum and plain training use them directly).
``forward_with_states`` also returns a dict of named internal states:

=====================  ===============  ==============================================
name                   shape            what
=====================  ===============  ==============================================
``input``              (B, T, H)        RNN only: ``h^1_t = W x_t`` (the paper's first line)
``layer{l}.h``         (B, T, H)        hidden state of recurrent layer l (1-based)
``layer{l}.c``         (B, T, H)        LSTM cell state of layer l
``attention.alpha``    (B, T)           attention weights over the frames
``attention.context``  (B, H)           ``c = sum_t alpha_t h^L_t``
``attention.h_tilde``  (B, H)           ``tanh(W_c [c; c^L_T])``
``hidden``             (B, 125)         MLP hidden layer (after the sigmoid)
=====================  ===============  ==============================================

The paper's equations are the specification (see ``docs/models.md``); the authors' code
departs from them in two places, available only as options: ``variant='authors'`` makes layers
2..L of the RNN LSTMs, and scores attention with ``a = W_a h_T + b_a`` instead of ``c_T``.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from .errors import AuralizeError
from .features import N_BINS, N_FRAMES

RECURRENT = ("rnn", "lstm", "attention")
NEURAL = RECURRENT + ("mlp",)
ALL_MODELS = NEURAL + ("svm", "softmax")

INPUT_NORMS = ("none", "level")

#: The paper's best size per model (hidden units, layers).
PAPER_SIZES = {"rnn": (125, 2), "lstm": (250, 2), "attention": (60, 2), "mlp": (125, 1)}


@dataclass
class ModelConfig:
    """Everything needed to rebuild a model's architecture."""

    kind: str
    n_classes: int = 10
    hidden: int = 0
    layers: int = 0
    dropout: float = 0.2
    variant: str = "paper"  # or "authors": the departures of the authors' code
    input_norm: str = "none"  # or "level": remove each clip's mean level first (see normalise_input)
    n_bins: int = N_BINS
    n_frames: int = N_FRAMES
    extra: dict = field(default_factory=dict)  # baseline-specific sizes (svm: n_support)

    def __post_init__(self) -> None:
        if self.kind not in ALL_MODELS:
            raise AuralizeError(f"unknown model {self.kind!r}; choose one of {', '.join(ALL_MODELS)}")
        if self.variant not in ("paper", "authors"):
            raise AuralizeError(f"unknown variant {self.variant!r}; use 'paper' or 'authors'")
        if self.input_norm not in INPUT_NORMS:
            raise AuralizeError(f"unknown input normalisation {self.input_norm!r}; use {' or '.join(INPUT_NORMS)}")
        default_hidden, default_layers = PAPER_SIZES.get(self.kind, (0, 0))
        self.hidden = self.hidden or default_hidden
        self.layers = self.layers or default_layers
        if self.kind in RECURRENT and (self.hidden < 1 or self.layers < 1):
            raise AuralizeError("--hidden and --layers must be positive")

    def to_dict(self) -> dict:
        return asdict(self)


def normalise_input(x: torch.Tensor, mode: str) -> torch.Tensor:
    """``level``: subtract each clip's mean over frames and bins (its overall log level).

    Recordings of one artist share a mastering level; removing it makes the models generalise
    across artists (a change of level is a constant shift of the log spectrum). Part of the
    model, so real clips, dreams and attributions all pass through it.
    """
    if mode == "level":
        return x - x.mean(dim=(-2, -1), keepdim=True)
    return x


class LSTMLayer(nn.Module):
    """One LSTM layer, gates (i, f, o, g) = (sigm, sigm, sigm, tanh) W [h^{l-1}_t; h^l_{t-1}]."""

    def __init__(self, n_in: int, hidden: int) -> None:
        super().__init__()
        self.hidden = hidden
        self.unit_mask: torch.Tensor | None = None  # (hidden,) set by neurons.ablate
        # W split into its input and recurrent halves; the input half runs on all frames at once.
        self.w_in = nn.Linear(n_in, 4 * hidden)
        self.w_rec = nn.Linear(hidden, 4 * hidden, bias=False)
        with torch.no_grad():
            self.w_in.bias.zero_()
            self.w_in.bias[hidden : 2 * hidden] = 1.0  # forget bias 1, as the authors' code

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b, t, _ = x.shape
        # unbind, not pre[:, step]: indexing's backward would zero-fill a full-size gradient each step
        pre = self.w_in(x).unbind(1)
        h = x.new_zeros(b, self.hidden)
        c = x.new_zeros(b, self.hidden)
        hs, cs = [], []
        for step in range(t):
            gates = pre[step] + self.w_rec(h)
            i, f, o, g = gates.chunk(4, dim=-1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            if self.unit_mask is not None:  # an ablated unit is silent, also to the recurrence
                h = h * self.unit_mask
            hs.append(h)
            cs.append(c)
        return torch.stack(hs, 1), torch.stack(cs, 1)


class TanhLayer(nn.Module):
    """One vanilla RNN layer, ``h^l_t = tanh(W_hh h^l_{t-1} + W_xh h^{l-1}_t)``."""

    def __init__(self, n_in: int, hidden: int) -> None:
        super().__init__()
        self.hidden = hidden
        self.unit_mask: torch.Tensor | None = None
        self.w_in = nn.Linear(n_in, hidden)
        self.w_rec = nn.Linear(hidden, hidden, bias=False)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, None]:
        pre = self.w_in(x).unbind(1)  # see LSTMLayer.forward
        h = x.new_zeros(x.shape[0], self.hidden)
        hs = []
        for step in range(x.shape[1]):
            h = torch.tanh(pre[step] + self.w_rec(h))
            if self.unit_mask is not None:
                h = h * self.unit_mask
            hs.append(h)
        return torch.stack(hs, 1), None


class RecurrentClassifier(nn.Module):
    """Vanilla RNN, LSTM or LSTM with soft attention, as in the paper's equations.

    - ``rnn``: ``h^1_t = W x_t`` (a linear map of each frame), then ``layers`` tanh recurrences;
      ``y = W_hy h^L_T``.
    - ``lstm``: ``layers`` LSTM layers on the frames; ``y = W_hy h^L_T``.
    - ``attention``: LSTM layers, then ``alpha_t = softmax_t(c^L_T . h^L_t)``,
      ``c = sum_t alpha_t h^L_t``, ``h~ = tanh(W_c [c; c^L_T])``, ``y = W_hy h~``.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        h, kind = config.hidden, config.kind
        self.input = nn.Linear(config.n_bins, h) if kind == "rnn" else None
        layers = []
        for index in range(config.layers):
            n_in = config.n_bins if index == 0 and kind != "rnn" else h
            lstm = kind != "rnn" or (config.variant == "authors" and index > 0)
            layers.append(LSTMLayer(n_in, h) if lstm else TanhLayer(n_in, h))
        self.layers = nn.ModuleList(layers)
        self.dropout = nn.Dropout(config.dropout)
        if kind == "attention":
            self.w_a = nn.Linear(h, h) if config.variant == "authors" else None
            self.w_c = nn.Linear(2 * h, h)
        self.w_hy = nn.Linear(h, config.n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_with_states(x)[0]

    def forward_with_states(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        states: dict[str, torch.Tensor] = {}
        seq = normalise_input(x, self.config.input_norm)
        if self.input is not None:
            seq = states["input"] = self.input(seq)
        c = None
        for number, layer in enumerate(self.layers, start=1):
            seq, c = layer(seq)
            states[f"layer{number}.h"] = seq
            if c is not None:
                states[f"layer{number}.c"] = c
            seq = self.dropout(seq)
        if self.config.kind != "attention":
            return self.w_hy(seq[:, -1]), states
        # Paper: the score vector is the top layer's last memory cell c^L_T.
        key = c[:, -1] if self.w_a is None else self.w_a(seq[:, -1])
        alpha = torch.softmax(torch.einsum("bth,bh->bt", seq, key), dim=1)
        context = torch.einsum("bt,bth->bh", alpha, seq)
        h_tilde = torch.tanh(self.w_c(torch.cat([context, key], dim=-1)))
        states.update({"attention.alpha": alpha, "attention.context": context, "attention.h_tilde": h_tilde})
        return self.w_hy(self.dropout(h_tilde)), states


class MLP(nn.Module):
    """The paper's 2-layer network on the flattened 22x513 input: 125 sigmoid hidden units."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.hidden = nn.Linear(config.n_frames * config.n_bins, config.hidden)
        self.dropout = nn.Dropout(config.dropout)
        self.out = nn.Linear(config.hidden, config.n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_with_states(x)[0]

    def forward_with_states(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        hidden = torch.sigmoid(self.hidden(normalise_input(x, self.config.input_norm).flatten(1)))
        return self.out(self.dropout(hidden)), {"hidden": hidden}


def build_model(config: ModelConfig) -> nn.Module:
    """A fresh, untrained model for ``config``."""
    if config.kind in RECURRENT:
        return RecurrentClassifier(config)
    if config.kind == "mlp":
        return MLP(config)
    from .baselines import build_baseline

    return build_baseline(config)


def state_names(model: nn.Module) -> list[str]:
    """Names of the internal states ``forward_with_states`` returns for ``model``."""
    with torch.no_grad():
        x = torch.zeros(1, model.config.n_frames, model.config.n_bins)
        return list(model.forward_with_states(x)[1])
