"""Every figure auralize draws: confusion matrices, neuron heatmaps, dream and explanation figures.

:func:`pyplot` gives matplotlib's pyplot on the non-interactive Agg backend; scripts and examples
use it too, so figures render the same on a machine without a screen.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from . import features as F
from .io import save_figure
from .results import panel_line

# Figures sit below the modules whose results they draw (a neuron report, an explanation): they read
# those results by their fields and import neither module, so no import runs back up.


def _plain(text) -> str:
    """``text`` as matplotlib shows it literally: a ``$`` in a song or genre name ("$\\foo$") would
    otherwise start mathtext, which fails on what it cannot parse."""
    return str(text).replace("$", r"\$")


def pyplot():
    """matplotlib.pyplot on the Agg backend (no screen needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def confusion_figure(confusion: np.ndarray, genres, path: str | Path, title: str = "") -> Path:
    """Row-normalised confusion matrix (rows: true genre) with counts, saved as PNG."""
    plt = pyplot()
    confusion = np.asarray(confusion)
    rows = confusion.sum(1, keepdims=True)
    share = np.divide(confusion, rows, out=np.zeros(confusion.shape, float), where=rows > 0)
    fig, ax = plt.subplots(figsize=(6.4, 5.6))
    im = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    k = len(genres)
    ax.set_xticks(range(k), [_plain(g) for g in genres], rotation=60, ha="right")
    ax.set_yticks(range(k), [_plain(f"{g} ({int(n)})") for g, n in zip(genres, rows[:, 0])])
    for i in range(k):
        for j in range(k):
            if confusion[i, j]:
                ax.text(j, i, int(confusion[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if share[i, j] > 0.5 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true (count)")
    ax.set_title(_plain(title), fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.046, label="share of the true genre's items")
    return save_figure(path, fig)


def heatmap(report, path: str | Path, k: int | None = None) -> Path:
    """Genres x neurons heatmap of active rates over the union of every genre's top neurons."""
    units = []
    for g in report.genres:
        units += [t["unit"] for t in report.top(g, k) if t["unit"] not in units]
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(max(6, 0.32 * len(units) + 2), 4.2))
    data = report.active_rate[:, units] if units else np.zeros((len(report.genres), 1))
    im = ax.imshow(data, aspect="auto", cmap="magma", vmin=0, vmax=1)
    ax.set_yticks(range(len(report.genres)), [_plain(f"{g} ({n})") for g, n in zip(report.genres, report.n_clips)])
    ax.set_xticks(range(len(units)), [str(u) for u in units], rotation=90, fontsize=7)
    ax.set_xlabel(_plain(f"neuron of {report.layer} (timestep rule: {report.rule})"))
    ax.set_ylabel("predicted genre (clips)")
    ax.set_title(f"share of clips on which the neuron is active (> its {report.quantile:.0%} quantile)", fontsize=9)
    fig.colorbar(im, ax=ax, label="active rate")
    return save_figure(path, fig)


def _db(psd: np.ndarray) -> np.ndarray:
    return 10 * np.log10(np.maximum(psd, 1e-12))


def _time_line(stats: dict | None) -> str:
    if not stats:
        return ""
    return (f"\nmodulation depth {stats['modulation_depth']:.1f} dB, onset CV {stats['onset_cv']:.2f}, "
            f"flux {stats['spectral_flux']:.2f}")


def dream_figure(psd: np.ndarray, genre: str, path: Path, description: str, trip: dict,
                 real: np.ndarray | None = None, panel: dict | None = None, temporal: dict | None = None,
                 source: dict | None = None) -> Path:
    """The optimised spectrogram (dB), beside a real clip's PSD of the genre when one is given.

    The title gives what the genre comes from (``source``: the dream's ``genre_from`` and, when its
    control was made, ``model_share``), what the held-out listening panel heard beside the same-model
    round trip, and ``temporal`` (``{"dream": stats, "real": stats}``) how each changes over time.
    """
    temporal, source = temporal or {}, source or {}
    share = (f"; the model's share of the panel's p({genre}): {source['model_share']:+.3f}"
             if source.get("model_share") is not None else "")
    if source.get("model_share_beyond_component") is not None:
        share += f" ({source['model_share_beyond_component']:+.3f} beyond its kind of music)"
    origin = f"genre from {source['genre_from']}{share}\n" if source.get("genre_from") else ""
    title = (f"dream: {description}\n{origin}{panel_line(panel, genre)}\n"
             f"(same-model round trip p({genre}) = {trip['p_target_mean']:.3f}){_time_line(temporal.get('dream'))}")
    panels = [(psd, title)]
    if real is not None:
        panels.append((real, f"a real {genre} clip{_time_line(temporal.get('real'))}"))
    return save_figure(path, _spectrograms(panels))


def spectrogram_grid(rows: list[list[tuple[np.ndarray, str]]], path: str | Path, row_titles: list[str]) -> Path:
    """Rows of PSDs ``(frames, 513)`` in dB, each panel with its title and each row with ``row_titles``; PNG."""
    plt = pyplot()
    width = max(1, max(len(r) for r in rows))
    fig, axes = plt.subplots(len(rows), width, figsize=(2.6 * width, 2.4 * len(rows)), squeeze=False)
    hop_s = F.HOP / F.SAMPLE_RATE
    for ax_row, row, heading in zip(axes, rows, row_titles):
        ax_row[0].set_ylabel("Hz")
        ax_row[0].annotate(heading, (0, 1.18), xycoords="axes fraction", fontsize=8, weight="bold")
        for ax, (psd, title) in zip(ax_row, row):
            ax.imshow(_db(psd).T, origin="lower", aspect="auto", cmap="magma", vmin=_db(psd).max() - 80,
                      extent=[0, psd.shape[0] * hop_s, 0, F.SAMPLE_RATE / 2])
            ax.set_title(title, fontsize=6)
        for ax in ax_row[len(row):]:
            ax.axis("off")
    fig.tight_layout()
    return save_figure(path, fig)


def spectrogram_png(psd: np.ndarray, title: str = "") -> bytes:
    """One PSD ``(frames, 513)`` in dB as PNG bytes (for inline HTML)."""
    return png_bytes(_spectrograms([(psd, title)]))


def _spectrograms(panels: list):
    """PSDs ``(frames, 513)`` side by side in dB on one colour scale; ``panels``: (psd, title) pairs."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 3.8), squeeze=False)
    hop_s = F.HOP / F.SAMPLE_RATE
    vmax = max(_db(p).max() for p, _ in panels)
    for ax, (p, title) in zip(axes[0], panels):
        im = ax.imshow(_db(p).T, origin="lower", aspect="auto", cmap="magma", vmin=vmax - 80, vmax=vmax,
                       extent=[0, p.shape[0] * hop_s, 0, F.SAMPLE_RATE / 2])
        ax.set_title(_plain(title), fontsize=8)
        ax.set_xlabel("time (s)")
    axes[0][0].set_ylabel("frequency (Hz)")
    fig.colorbar(im, ax=axes[0].tolist(), label="PSD (dB)")
    return fig


def png_bytes(fig) -> bytes:
    """A figure as PNG bytes (for inline HTML: notebooks, :func:`auralize.results.html_image`); closes it."""
    import io

    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    finally:
        pyplot().close(fig)
    return buf.getvalue()


def explanation_figure(exp, path: str | Path, title: str = "") -> Path:
    """Song overview: genre probabilities per clip, spectrogram, attributions, attention; saved as PNG."""
    return save_figure(path, _explanation(exp, title))


def explanation_png(exp, title: str = "") -> bytes:
    """The figure of :func:`explanation_figure` as PNG bytes."""
    return png_bytes(_explanation(exp, title))


def _explanation(exp, title: str):
    """Rows: genre probabilities per clip (the legend beside them), the song's spectrogram, the
    attributions and, for the attention model, its weights; each image with its colour scale in a
    narrow right-hand column, and the title above everything (never under the legend)."""
    plt = pyplot()
    n = len(exp.psd)
    rows = 4 if exp.attention is not None else 3
    heights = [1.2, 2, 2] + ([0.6] if exp.attention is not None else [])
    fig = plt.figure(figsize=(min(5 + 1.1 * n, 19), 7.8))
    grid = fig.add_gridspec(rows, 2, height_ratios=heights, width_ratios=[40, 1], hspace=0.25, wspace=0.03)
    axes = [fig.add_subplot(grid[0, 0])]
    axes += [fig.add_subplot(grid[r, 0], sharex=axes[0]) for r in range(1, rows)]
    side = [fig.add_subplot(grid[r, 1]) for r in range(rows)]
    clip_s = exp.clip_seconds
    seconds = n * clip_s
    t_clip = (np.arange(n) + 0.5) * clip_s
    ax = axes[0]
    bottom = np.zeros(n)
    cmap = plt.get_cmap("tab10")
    for g, name in enumerate(exp.genres):
        ax.bar(t_clip, exp.probabilities[:, g], width=clip_s * 0.95, bottom=bottom, color=cmap(g % 10),
               label=_plain(name))
        bottom += exp.probabilities[:, g]
    ax.set_ylabel("p(genre)")
    ax.set_ylim(0, 1)
    side[0].axis("off")
    side[0].legend(*ax.get_legend_handles_labels(), loc="center left", fontsize=6, frameon=False,
                   ncol=1 if len(exp.genres) <= 6 else 2)
    fig.suptitle(_plain(title or f"verdict: {exp.verdict}; {exp.method} for {exp.genres[int(exp.target[0])]}"),
                 fontsize=9, y=0.95)
    bins = exp.psd.shape[-1]
    db = 10 * np.log10(np.maximum(exp.psd.reshape(-1, bins), 1e-12))
    extent = [0, seconds, 0, exp.sample_rate / 2]
    im = axes[1].imshow(db.T, origin="lower", aspect="auto", cmap="magma", extent=extent, vmin=db.max() - 80)
    fig.colorbar(im, cax=side[1], label="PSD (dB)")
    axes[1].set_ylabel("Hz")
    attr = exp.attributions.reshape(-1, bins)
    lim = np.quantile(np.abs(attr), 0.995) or 1.0
    im = axes[2].imshow(attr.T, origin="lower", aspect="auto", cmap="RdBu_r", vmin=-lim, vmax=lim, extent=extent)
    fig.colorbar(im, cax=side[2], label="attribution")
    axes[2].set_ylabel("Hz (attribution)")
    if exp.attention is not None:
        im = axes[3].imshow(exp.attention.reshape(1, -1), aspect="auto", cmap="Greens", extent=[0, seconds, 0, 1])
        fig.colorbar(im, cax=side[3], label="weight")
        axes[3].set_yticks([])
        axes[3].set_ylabel("attention", fontsize=7)
    for a in axes[:-1]:
        a.tick_params(labelbottom=False)
    axes[-1].set_xlabel("time (s)")
    return fig
