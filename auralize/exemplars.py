"""Dataset examples: the real clips that drive a neuron, or a class, the most (and the least).

A dream shows what a unit asks for when the input is free; the real clips that activate it most
show what it responds to in music, whatever a dream does (Lucid and Distill pair every feature
visualisation with such dataset examples). For each genre, :func:`dataset_examples` takes the
genre's top neuron (from a :class:`~auralize.neurons.NeuronReport`) and the genre's class, and
finds among a data set's clips the ``k`` that drive each most and the ``bottom`` that drive each
least, one clip per track so that the examples are different songs. :func:`save_examples` writes
them as WAVs with a figure per genre and an ``examples`` result (:mod:`auralize.results`), which the
gallery shows beside the genre's dreams.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from . import checks, results
from . import features as F
from .audiomodel import label, source
from .data import ClipSet
from .errors import AuralizeError


@dataclass
class Example:
    """One real clip: which track, which clip of it, and how strongly it drives the unit or class."""

    clip: int  # index into the data set's clips
    track: str
    start: float  # seconds into the track
    value: float  # the unit's activation, or the class's probability


@dataclass
class GenreExamples:
    genre: str
    unit: int | None  # the genre's top neuron (None: the model predicted no clip as the genre)
    neuron_top: list[Example]
    neuron_bottom: list[Example]
    class_top: list[Example]
    class_bottom: list[Example]


def _ranked(values: np.ndarray, tracks: np.ndarray, count: int, highest: bool) -> list[int]:
    """The clips of the ``count`` tracks whose best (or worst) clip has the highest (lowest) value, best first;
    each track contributes its one most (least) driving clip."""
    order = np.argsort(-values if highest else values, kind="stable")
    picked, seen = [], set()
    for i in order:
        if tracks[i] not in seen:
            seen.add(tracks[i])
            picked.append(int(i))
            if len(picked) == count:
                break
    return picked


def check_counts(k: int, bottom: int, clips: ClipSet) -> tuple[int, int]:
    """``k`` and ``bottom`` if the data holds that many tracks; else a one-line error, before any work."""
    n_tracks = len(np.unique(clips.track))
    k, bottom = checks.count("examples", k, 1), checks.count("bottom", bottom, 0)
    if max(k, bottom) > n_tracks:
        raise AuralizeError(f"examples asks for {max(k, bottom)} tracks; the data holds {n_tracks}: give at most "
                            f"{n_tracks}", param="examples")
    return k, bottom


def dataset_examples(model, clips: ClipSet, report, k: int = 5, bottom: int = 2,
                     genres: list[str] | None = None) -> list[GenreExamples]:
    """For each genre, the real clips that drive its top neuron and its class most and least.

    Parameters
    ----------
    model : AudioModel
        The classifier whose units are examined.
    clips : ClipSet
        The real clips to search (:func:`~auralize.data.load_clips`; at the model's rate and clip length).
    report : NeuronReport
        The neuron statistics naming each genre's top neuron (layer and timestep rule).
    k, bottom : int
        How many clips (from distinct tracks) drive each most, and least.
    genres : list of str, optional
        Default: every genre of the model.

    Returns
    -------
    list of GenreExamples

    Raises
    ------
    AuralizeError
        If ``k`` or ``bottom`` asks for more tracks than the data holds.
    """
    from .evaluation import data_inputs
    from .neurons import activations

    tracks = clips.track
    k, bottom = check_counts(k, bottom, clips)
    x = data_inputs(model, clips)
    acts, _ = activations(model, x, report.layer, report.rule)
    with torch.no_grad():
        from .evaluation import predict_logits

        probs = torch.softmax(predict_logits(model, x), 1).numpy()
    hop = clips.audio.shape[1] / clips.sample_rate

    def examples(values: np.ndarray, ids: list[int]) -> list[Example]:
        return [Example(i, clips.dataset.tracks[tracks[i]].path.name, float(clips.dataset.clip_index[i] * hop),
                        float(values[i])) for i in ids]

    out = []
    for genre in genres or list(model.genres):
        g = list(model.genres).index(genre)
        top = report.top(genre, 1)
        unit = top[0]["unit"] if top else None
        unit_values = acts[:, unit] if unit is not None else None
        out.append(GenreExamples(
            genre, unit,
            examples(unit_values, _ranked(unit_values, tracks, k, True)) if unit is not None else [],
            examples(unit_values, _ranked(unit_values, tracks, bottom, False)) if unit is not None else [],
            examples(probs[:, g], _ranked(probs[:, g], tracks, k, True)),
            examples(probs[:, g], _ranked(probs[:, g], tracks, bottom, False))))
    return out


LISTS = ("neuron_top", "neuron_bottom", "class_top", "class_bottom")


def save_examples(found: list[GenreExamples], clips: ClipSet, model, report, folder: str | Path) -> Path:
    """Write each example as ``<genre>/<list>-<n>.wav`` (4 kHz), a figure per genre (``<genre>.png``: the
    clips' spectrograms, most driving first) and ``examples.json`` (an ``examples`` result) last."""
    from .io import ensure_writable, save_wav
    from .plots import spectrogram_grid

    folder = ensure_writable(folder)
    genres = {}
    for entry in found:
        lists = {}
        for name in LISTS:
            rows = []
            for n, ex in enumerate(getattr(entry, name), 1):
                wav = save_wav(folder / entry.genre / f"{name.replace('_', '-')}-{n}.wav", clips.audio[ex.clip],
                               clips.sample_rate)
                rows.append({"track": ex.track, "start": ex.start, "value": round(ex.value, 6),
                             "wav": wav.relative_to(folder).as_posix()})
            lists[name] = rows
        grid = [[(clip_psd(clips.audio[ex.clip], clips.sample_rate), f"{ex.track} at {ex.start:g} s: {ex.value:.3g}")
                 for ex in getattr(entry, name)] for name in ("neuron_top", "class_top")]
        png = spectrogram_grid(grid, folder / f"{entry.genre}.png",
                               [f"{entry.genre}: the clips that drive {report.layer}[{entry.unit}] most",
                                f"{entry.genre}: the clips the model hears as {entry.genre} most (p)"])
        genres[entry.genre] = {"unit": entry.unit, **lists, "png": png.relative_to(folder).as_posix()}
    return results.write(folder / "examples.json", "examples", {
        "model": label(model), "checkpoint": source(model), "layer": report.layer, "rule": report.rule,
        "sample_rate": int(clips.sample_rate), "genres": genres})


def clip_psd(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """A clip's PSD on the paper's grid at 4 kHz (for figures), whatever its rate."""
    return F.spectrogram(F.resample(np.asarray(audio, np.float32), sample_rate, F.SAMPLE_RATE))
