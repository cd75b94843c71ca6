"""The paper's six classifiers as torch modules, every internal state reachable, and the full model registry.

:data:`MODELS` (from :mod:`auralize.modelkinds`) maps a kind's name (``rnn``, ``lstm``, ``attention``,
``mlp``, ``svm``, ``softmax``, and ``cnn-mel`` from :mod:`auralize.melmodels`) to its :class:`ModelKind`
entry: class, table label, the paper's figure, default size and training defaults. Nothing else in the toolkit compares kind names; a model class
answers for itself what its states are, which one reads the spectrogram, its default neuron
layer and its first-layer weight rows (see :class:`PaperModel`).

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

import re

import torch
from torch import nn

import numpy as np

from . import features as F
from .errors import AuralizeError
from .features import InputScaler
# the registry's public face: every kind is registered once this module is imported (the paper's here, below)
from .modelkinds import (MAX_PARAMETERS, MODELS, Classifier, ModelConfig, ModelKind, model_kind,  # noqa: F401
                         model_names, register_model)
from .settings import GATES

def normalise_input(x: torch.Tensor, mode: str) -> torch.Tensor:
    """``level``: subtract each clip's mean over frames and bins (its overall log level).

    Recordings of one artist share a mastering level; removing it makes the models generalise
    across artists (a change of level is a constant shift of the log spectrum). Part of the
    model, so real clips, dreams and attributions all pass through it.
    """
    if mode == "level":
        return x - x.mean(dim=(-2, -1), keepdim=True)
    return x


class PaperModel(Classifier):
    """The paper's front end as an :class:`~auralize.audiomodel.AudioModel`: base of the paper's six kinds.

    It reads the paper's input: the 22 x 513 PSD of a 5-s clip at 4 kHz, scaled by the
    :class:`~auralize.features.InputScaler` fitted on its training clips and attached with its genres by
    :func:`auralize.checkpoint.attach`.
    """

    scaler: InputScaler
    input_layout: str = "frames, bins"

    # --- the front end ---------------------------------------------------------------------------

    def features(self, audio: torch.Tensor) -> torch.Tensor:
        """Differentiable: audio ``(..., samples)`` -> scaled PSD ``(..., frames, 513)``."""
        return self.scaler.transform(F.torch_spectrogram(audio))

    def model_input(self, clips: np.ndarray, name: str = "audio") -> torch.Tensor:
        """The exact input of numpy clips ``(n, 20000)``: SciPy's spectrogram (the reference), then the scaler."""
        return torch.from_numpy(self.from_psd(F.clips_to_psd(clips, name)))

    def from_psd(self, psd: np.ndarray) -> np.ndarray:
        """Model input of PSDs ``(n, 22, 513)`` (a data set's cached features) as float32."""
        return self.scaler.transform(psd).astype(np.float32)

    def input_bounds(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-bin range of the training inputs (lo, hi), each ``(513,)``."""
        return self.scaler.bounds(torch.zeros(1))

    def input_psd(self, x: torch.Tensor) -> np.ndarray:
        """The PSD a model input stands for (the scaler's exact inverse), float64."""
        return self.scaler.inverse(x.double()).numpy()

    def inverse(self, x: torch.Tensor, n_iter: int = 100, seed: int = 0) -> np.ndarray:
        """Audio of model inputs ``(batch, frames, 513)``: their PSDs through Griffin-Lim."""
        from .invert import psd_to_audio

        return np.asarray(psd_to_audio(torch.from_numpy(self.input_psd(x)), n_iter=n_iter, seed=seed))


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


class RecurrentClassifier(PaperModel):
    """Vanilla RNN, LSTM or LSTM with soft attention, as in the paper's equations.

    - ``rnn``: ``h^1_t = W x_t`` (a linear map of each frame), then ``layers`` tanh recurrences;
      ``y = W_hy h^L_T``.
    - ``lstm``: ``layers`` LSTM layers on the frames; ``y = W_hy h^L_T``.
    - ``attention``: LSTM layers, then ``alpha_t = softmax_t(c^L_T . h^L_t)``,
      ``c = sum_t alpha_t h^L_t``, ``h~ = tanh(W_c [c; c^L_T])``, ``y = W_hy h~``.

    The three kinds differ by two class attributes, so each is a small subclass.
    """

    linear_input = False  # rnn: a linear map of each frame before the recurrences
    attention = False
    cell = "lstm"  # the recurrence of every layer ("tanh" for the vanilla RNN)

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        h = config.hidden
        self.input = nn.Linear(config.n_bins, h) if self.linear_input else None
        layers = []
        for index in range(config.layers):
            n_in = config.n_bins if index == 0 and not self.linear_input else h
            lstm = self.cell == "lstm" or (config.variant == "authors" and index > 0)
            layers.append(LSTMLayer(n_in, h) if lstm else TanhLayer(n_in, h))
        self.layers = nn.ModuleList(layers)
        self.dropout = nn.Dropout(config.dropout)
        if self.attention:
            self.w_a = nn.Linear(h, h) if config.variant == "authors" else None
            self.w_c = nn.Linear(2 * h, h)
        self.w_hy = nn.Linear(h, config.n_classes)

    @property
    def input_layer(self) -> str:
        return "input" if self.input is not None else "layer1.h"

    @property
    def weight_gates(self) -> tuple[str, ...]:
        return () if self.input is not None else GATES

    def default_layer(self) -> str:
        return f"layer{len(self.layers)}.h"

    def weight_rows(self, gate: str = "g") -> tuple[torch.Tensor, str]:
        if self.input is not None:
            return self.input.weight.detach()[:, None, :], "input"
        if gate not in GATES:
            raise AuralizeError(f"unknown gate {gate!r}; use one of {', '.join(GATES)}", param="gate")
        w = self.layers[0].w_in.weight.detach()  # (4H, 513), gates stacked i, f, o, g
        h = self.config.hidden
        k = GATES.index(gate)
        return w[k * h:(k + 1) * h, None, :], "layer1.h"

    def unit_layer(self, layer: str) -> nn.Module:
        match = re.fullmatch(r"layer(\d+)\.h", layer)
        if match is None or not 1 <= int(match.group(1)) <= len(self.layers):
            raise AuralizeError(f"cannot ablate {layer!r}; give a recurrent hidden state such as layer1.h",
                                param="layer")
        return self.layers[int(match.group(1)) - 1]

    def size_label(self) -> str:
        return f"{self.config.layers}x{self.config.hidden}"

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
        if not self.attention:
            return self.w_hy(seq[:, -1]), states
        # Paper: the score vector is the top layer's last memory cell c^L_T.
        key = c[:, -1] if self.w_a is None else self.w_a(seq[:, -1])
        alpha = torch.softmax(torch.einsum("bth,bh->bt", seq, key), dim=1)
        context = torch.einsum("bt,bth->bh", alpha, seq)
        h_tilde = torch.tanh(self.w_c(torch.cat([context, key], dim=-1)))
        states.update({"attention.alpha": alpha, "attention.context": context, "attention.h_tilde": h_tilde})
        return self.w_hy(self.dropout(h_tilde)), states


class VanillaRNN(RecurrentClassifier):
    linear_input, cell = True, "tanh"


class LSTM(RecurrentClassifier):
    pass


class AttentionLSTM(RecurrentClassifier):
    attention = True


class MLP(PaperModel):
    """The paper's 2-layer network on the flattened 22x513 input: 125 sigmoid hidden units."""

    input_layer = "hidden"

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.hidden = nn.Linear(config.n_frames * config.n_bins, config.hidden)
        self.dropout = nn.Dropout(config.dropout)
        self.out = nn.Linear(config.hidden, config.n_classes)

    def forward_with_states(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        hidden = torch.sigmoid(self.hidden(normalise_input(x, self.config.input_norm).flatten(1)))
        return self.out(self.dropout(hidden)), {"hidden": hidden}

    def default_layer(self) -> str:
        return "hidden"

    def weight_rows(self, gate: str = "g") -> tuple[torch.Tensor, str]:
        w = self.hidden.weight.detach()  # each row is a whole 22x513 input
        return w.reshape(w.shape[0], self.config.n_frames, self.config.n_bins), "hidden"

    def size_label(self) -> str:
        return f"({self.config.hidden} hidden units)"


class KernelSVM(PaperModel):
    """One-vs-rest RBF SVM: ``f_k(x) = sum_i A_ik exp(-gamma |x - s_i|^2) + b_k``.

    ``support`` holds the union of the support vectors of the per-class machines; the weights
    come from ``baselines.fit_baseline`` (scikit-learn), stored as plain tensors so every model
    saves, loads (``weights_only=True``), evaluates and explains the same way.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        n_sv = int(config.extra.get("n_support", 1))
        d = config.n_frames * config.n_bins
        self.register_buffer("support", torch.zeros(n_sv, d))
        self.register_buffer("coef", torch.zeros(n_sv, config.n_classes))
        self.register_buffer("intercept", torch.zeros(config.n_classes))
        self.register_buffer("gamma", torch.tensor(1.0))

    def forward_with_states(self, x: torch.Tensor) -> tuple[torch.Tensor, dict]:
        flat = normalise_input(x, self.config.input_norm).flatten(1).to(self.support.dtype)
        sq = (flat**2).sum(1, keepdim=True) - 2 * flat @ self.support.T + (self.support**2).sum(1)
        return torch.exp(-self.gamma * sq.clamp(min=0)) @ self.coef + self.intercept, {}


class SoftmaxRegression(PaperModel):
    """Multinomial logistic regression on the flattened input (fitted by ``baselines.fit_baseline``)."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.linear = nn.Linear(config.n_frames * config.n_bins, config.n_classes)

    def forward_with_states(self, x: torch.Tensor) -> tuple[torch.Tensor, dict]:
        return self.linear(normalise_input(x, self.config.input_norm).flatten(1)), {}


def build_model(config: ModelConfig) -> PaperModel:
    """A fresh, untrained model for ``config`` (its kind's registered class).

    The size is measured on torch's ``meta`` device first (no memory), so a config of absurd
    size is a one-line error, not an attempt to allocate gigabytes.
    """
    with torch.device("meta"):
        n = sum(p.numel() for p in config.entry.cls(config).state_dict().values())
    if n > MAX_PARAMETERS:
        raise AuralizeError(f"a {config.kind} model of this size has {n:,} parameters; the limit is "
                            f"{MAX_PARAMETERS:,}: choose a smaller hidden or layers", param="hidden")
    return config.entry.cls(config)


_SKLEARN = {"epochs": 1, "optimizer": "sklearn", "lr": 0.0}
for _kind in (
    # The paper's six, with its sizes and its Figures 1-2 test accuracies (clip split).
    ModelKind("svm", KernelSVM, "SVM (RBF, one-vs-rest)", 0.405, train_defaults=_SKLEARN, neural=False),
    ModelKind("softmax", SoftmaxRegression, "Softmax regression (newton-cg)", 0.3809, train_defaults=_SKLEARN,
              neural=False),
    ModelKind("mlp", MLP, "2-layer MLP (125 sigmoid)", 0.70, size=(125, 1)),
    ModelKind("rnn", VanillaRNN, "Vanilla RNN 2x125", 0.655, size=(125, 2), recurrent=True),
    ModelKind("lstm", LSTM, "LSTM 2x250", 0.79, size=(250, 2), recurrent=True),
    ModelKind("attention", AttentionLSTM, "LSTM + attention 2x60", 0.748, size=(60, 2), recurrent=True),
):
    register_model(_kind)

from . import melmodels  # noqa: E402,F401  (registers the kinds that own their front end: cnn-mel)
