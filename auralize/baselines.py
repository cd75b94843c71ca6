"""Fitting the paper's non-neural baselines (RBF SVM, softmax regression) with scikit-learn.

The fitted weights are stored as plain tensors in the small torch modules of
:mod:`auralize.models` (``KernelSVM``, ``SoftmaxRegression``), so every model of the toolkit
saves, loads (``weights_only=True``), evaluates and explains the same way.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .errors import AuralizeError
from .models import KernelSVM, ModelConfig, SoftmaxRegression, normalise_input


def fit_baseline(config: ModelConfig, x: np.ndarray, y: np.ndarray, seed: int = 0,
                 c: float = 1.0) -> nn.Module:
    """Fit an SVM or softmax baseline with scikit-learn on model inputs ``x`` (n, 22, 513).

    The SVM is one-vs-rest (``OneVsRestClassifier(SVC(kernel='rbf'))``) as in the paper; the
    softmax regression uses the newton-cg solver.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.svm import SVC

    if config.entry.cls not in (KernelSVM, SoftmaxRegression):
        raise AuralizeError(f"a {config.kind} model is trained, not fitted; use training.train", param="kind")
    flat = normalise_input(torch.from_numpy(x), config.input_norm).reshape(len(x), -1).double().numpy()
    k = config.n_classes
    if config.entry.cls is SoftmaxRegression:
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
