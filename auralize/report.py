"""Figures and Markdown tables: confusion matrices, results tables."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .io import save_figure


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def confusion_figure(confusion: np.ndarray, genres, path: str | Path, title: str = "") -> Path:
    """Row-normalised confusion matrix (rows: true genre) with counts, saved as PNG."""
    plt = _pyplot()
    confusion = np.asarray(confusion)
    rows = confusion.sum(1, keepdims=True)
    share = np.divide(confusion, rows, out=np.zeros(confusion.shape, float), where=rows > 0)
    fig, ax = plt.subplots(figsize=(6.4, 5.6))
    im = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    k = len(genres)
    ax.set_xticks(range(k), genres, rotation=60, ha="right")
    ax.set_yticks(range(k), [f"{g} ({int(n)})" for g, n in zip(genres, rows[:, 0])])
    for i in range(k):
        for j in range(k):
            if confusion[i, j]:
                ax.text(j, i, int(confusion[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if share[i, j] > 0.5 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true (count)")
    ax.set_title(title, fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.046, label="share of the true genre's items")
    return save_figure(path, fig)


def fmt(value: float) -> str:
    """A figure for a table: three decimals, or an en dash for 'not available'."""
    return "–" if value is None or not np.isfinite(value) else f"{value:.3f}"
