"""Reproduce the paper's result tables: train and evaluate all six models on one split."""
from __future__ import annotations

import json
import shlex
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np

from .checkpoint import load_model
from .data import Dataset, make_split, part_genre_counts
from .evaluation import Evaluation, evaluate
from .io import atomic_write_text, ensure_writable, protect_shipped
from .models import model_kind, model_names
from .plots import confusion_figure
from .training import TrainSettings, train


def fmt(value: float) -> str:
    """A figure for a table: three decimals, or an en dash for 'not available'."""
    return "–" if value is None or not np.isfinite(value) else f"{value:.3f}"


def reproduce(data: Dataset, split: str, out_dir: str | Path, *, models=None, seed: int = 0,
              epochs: int | None = None, progress: bool = True, log: Callable[[str], None] = print,
              command: str | None = None, name: str | None = None, input_norm: str = "level",
              force: bool = False) -> Path:
    """Train and evaluate ``models`` on ``split``; write ``<out_dir>/<split>.md`` and figures.

    ``name`` (default: the split's) names the outputs.
    Each model's checkpoint goes to ``<out_dir>/<name>/<model>.pt``; a model whose finished
    checkpoint is already there is evaluated, not retrained, so an interrupted run resumes.
    ``models`` defaults to every registered kind; each row shows the kind's label and the
    paper's figure from the model registry. Returns the path of the Markdown table. A table the
    repository ships (``docs/results/``) is replaced only with ``force``, checked before any training.
    """
    models = list(models) if models is not None else list(model_names())
    kinds = {kind: model_kind(kind) for kind in models}  # an unknown kind fails before any work
    out_dir = Path(out_dir)
    name = name or split
    work = out_dir / name
    table, figures = out_dir / f"{name}.md", out_dir / f"{name}.json"
    protect_shipped([table, figures], force)  # a one-model run must not replace the six-model table
    ensure_writable(out_dir)
    sp = make_split(data, split, seed=seed)
    command = command or "auralize " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    rows: dict[str, Evaluation] = {}
    meta: dict[str, dict] = {}
    for number, kind in enumerate(models, 1):
        ckpt = work / f"{kind}.pt"
        done = work / f"{kind}.done"
        started = time.time()
        if ckpt.exists() and done.exists():
            log(f"{kind}: reusing finished checkpoint {ckpt}")
            model = load_model(ckpt)
        else:
            resume = ckpt.with_suffix(".resume.pt").exists()
            log(f"{kind}: {'resuming' if resume else 'training'} (model {number} of {len(models)})")
            settings = TrainSettings(epochs=epochs)
            model = train(kind, data, sp, settings=settings, seed=seed, out=ckpt, resume=resume, input_norm=input_norm,
                          progress=progress, log=log, meta={"command": command}).model
            atomic_write_text(done, "finished\n")
        rows[kind] = ev = evaluate(model, data, sp, "test")
        best = model.meta.get("best_epoch") if kinds[kind].neural else None  # a baseline fit has no epochs
        meta[kind] = {"best_epoch": best if best is not None else "–", "seconds": round(time.time() - started, 1)}
        confusion_figure(ev.clip_confusion, ev.genres, work / f"{kind}-confusion.png",
                         f"{kinds[kind].label} - {split} split, test clips (acc {ev.clip_accuracy:.3f})")
        log(f"{kind}: test clip accuracy {ev.clip_accuracy:.3f}, track accuracy {ev.track_accuracy:.3f}")

    lines = [f"# Results on the `{split}` split" + (f" ({len(data.genres)} genres)" if name != split else ""), "",
             f"Made by `{command}`.", "",
             f"Data: {data.summary()}.", "",
             f"Split: {sp.coverage}.", "",
             "Training tracks per genre: " + ", ".join(f"{g} {n}" for g, n in part_genre_counts(data, sp['train']).items()) + ".",
             "",
             "| model | paper (clip split) | test clip acc | test track acc | best epoch |",
             "|---|---|---|---|---|"]
    for kind, ev in rows.items():
        lines.append(f"| {kinds[kind].label} | {fmt(kinds[kind].paper_accuracy)} | {fmt(ev.clip_accuracy)} | {fmt(ev.track_accuracy)} | "
                     f"{meta[kind]['best_epoch']} |")
    lines += ["", "Track accuracy is a vote of each test track's clips. The paper reports clip accuracy on its clip split.", ""]
    for kind, ev in rows.items():
        lines += [f"## {kinds[kind].label}", "",
                  f"Test: {ev.n_clips} clips, {ev.n_tracks} tracks. ![confusion]({name}/{kind}-confusion.png)", "",
                  ev.table(), ""]
    atomic_write_text(table, "\n".join(lines))
    atomic_write_text(figures, json.dumps(
        {k: {**ev.to_dict(), **meta[k]} for k, ev in rows.items()}, indent=1, allow_nan=True))
    return table
