"""The paper's non-neural baselines on the flattened 22x513 input: RBF SVM and softmax regression.

They are fitted with scikit-learn, then stored as plain tensors in small torch modules, so every
model of the toolkit saves, loads (``weights_only=True``), evaluates and explains the same way.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .models import ModelConfig, normalise_input


class KernelSVM(nn.Module):
    """One-vs-rest RBF SVM: ``f_k(x) = sum_i A_ik exp(-gamma |x - s_i|^2) + b_k``.

    ``support`` holds the union of the support vectors of the per-class machines.
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

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_with_states(x)[0]

    def forward_with_states(self, x: torch.Tensor) -> tuple[torch.Tensor, dict]:
        flat = normalise_input(x, self.config.input_norm).flatten(1).to(self.support.dtype)
        sq = (flat**2).sum(1, keepdim=True) - 2 * flat @ self.support.T + (self.support**2).sum(1)
        return torch.exp(-self.gamma * sq.clamp(min=0)) @ self.coef + self.intercept, {}


class SoftmaxRegression(nn.Module):
    """Multinomial logistic regression on the flattened input."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.linear = nn.Linear(config.n_frames * config.n_bins, config.n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(normalise_input(x, self.config.input_norm).flatten(1))

    def forward_with_states(self, x: torch.Tensor) -> tuple[torch.Tensor, dict]:
        return self.forward(x), {}


def build_baseline(config: ModelConfig) -> nn.Module:
    return KernelSVM(config) if config.kind == "svm" else SoftmaxRegression(config)


def fit_baseline(config: ModelConfig, x: np.ndarray, y: np.ndarray, seed: int = 0,
                 c: float = 1.0) -> nn.Module:
    """Fit an SVM or softmax baseline with scikit-learn on model inputs ``x`` (n, 22, 513).

    The SVM is one-vs-rest (``OneVsRestClassifier(SVC(kernel='rbf'))``) as in the paper; the
    softmax regression uses the newton-cg solver.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.svm import SVC

    flat = normalise_input(torch.from_numpy(x), config.input_norm).reshape(len(x), -1).double().numpy()
    k = config.n_classes
    if config.kind == "softmax":
        clf = LogisticRegression(solver="newton-cg", C=c, max_iter=200, random_state=seed)
        clf.fit(flat, y)
        weight = np.zeros((k, flat.shape[1]))
        bias = np.full(k, -1e4)  # classes absent from training never win
        weight[clf.classes_] = clf.coef_ if len(clf.classes_) > 2 else np.vstack([-clf.coef_, clf.coef_])
        bias[clf.classes_] = clf.intercept_ if len(clf.classes_) > 2 else [-clf.intercept_[0], clf.intercept_[0]]
        model = SoftmaxRegression(config)
        with torch.no_grad():
            model.linear.weight.copy_(torch.from_numpy(weight))
            model.linear.bias.copy_(torch.from_numpy(bias))
        return model

    gamma = 1.0 / (flat.shape[1] * flat.var())  # sklearn's gamma='scale'
    svm = OneVsRestClassifier(SVC(kernel="rbf", C=c, gamma=gamma, cache_size=1000, random_state=seed)).fit(flat, y)
    coef = np.zeros((len(flat), k))
    intercept = np.full(k, -1e4)
    for cls, est in zip(svm.classes_, svm.estimators_):
        if not hasattr(est, "support_"):  # a constant predictor: class seen alone
            continue
        # SVC's decision_function is positive for its second class, which is `cls` here.
        coef[est.support_, cls] = est.dual_coef_[0]
        intercept[cls] = est.intercept_[0]
    used = np.flatnonzero(np.abs(coef).sum(1) > 0)
    config.extra = {"n_support": int(len(used))}
    model = KernelSVM(config)
    with torch.no_grad():
        model.support.copy_(torch.from_numpy(flat[used]))
        model.coef.copy_(torch.from_numpy(coef[used]))
        model.intercept.copy_(torch.from_numpy(intercept))
        model.gamma.fill_(gamma)
    return model
