"""Make a genre audible, end to end: objective, ascent, audio, files, round trip.

This is what ``auralize --genre jazz`` runs. For each genre it writes, with a common stem:
``<stem>.wav`` (16-bit PCM, 4 kHz), ``<stem>-22050.wav`` (the same at 22050 Hz for players that
dislike 4 kHz), ``<stem>.npy`` (the optimised PSD, frames x 513, for ``auralize invert``),
``<stem>.png`` (its spectrogram beside a real clip of the genre, when data is given) and
``<stem>.json`` (objective, settings, seed, objective curve and the round trip: the WAV read
back from disk, through the front end, into the same model).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from torch import nn

from . import features as F
from .dream import Regularisers, genre_objective, n_frames, render, round_trip, to_audio
from .io import atomic_save_npy, atomic_write_text, save_wav
from .plots import dream_figure


def make_audible(model: nn.Module, genres: list[str], stems: list[Path], *, objective: str = "neuron",
                 param: str = "spectrogram", seconds: float = 5.0, steps: int = 200, lr: float | None = None,
                 init: str | np.ndarray = "noise", regularisers: Regularisers | None = None, seed: int = 0,
                 report=None, layer: str | None = None, unit: int | None = None, rule: str = "mean",
                 class_weight: float = 1.0, griffin_lim_iters: int = 100, real_psd: dict | None = None,
                 progress: bool = False) -> list[dict]:
    """Dream every genre in one batch and write its files; returns one summary dict per genre."""
    objectives = [genre_objective(model, g, objective, report, layer, unit, rule, class_weight) for g in genres]
    result = render(model, objectives, param=param, seconds=seconds, steps=steps, lr=lr, init=init,
                    regularisers=regularisers, seed=seed, progress=progress)
    audio = to_audio(result, model, seconds, n_iter=griffin_lim_iters, seed=seed)
    # The jitter margin beyond `seconds` is not part of the dream.
    psd = model.scaler.inverse(result.x[:, :n_frames(seconds)].double()).numpy()
    summaries = []
    for b, (genre, stem) in enumerate(zip(genres, stems)):
        stem = Path(stem)
        wav = save_wav(stem.with_suffix(".wav"), audio[b], F.SAMPLE_RATE)
        save_wav(stem.with_name(stem.name + "-22050.wav"), F.resample(audio[b], F.SAMPLE_RATE, 22050), 22050)
        atomic_save_npy(stem.with_suffix(".npy"), psd[b].astype(np.float32))
        trip = round_trip(model, F.load_audio(wav), genre)  # the file as written, read back
        png = dream_figure(psd[b], genre, stem.with_suffix(".png"), result.descriptions[b], trip,
                           None if real_psd is None else real_psd.get(genre))
        summary = {
            "genre": genre, "checkpoint": str(getattr(model, "path", "")), "model": model.config.kind,
            "objective": result.descriptions[b], "settings": result.settings,
            "objective_start": float(result.curve[0, b]), "objective_end": float(result.curve[-1, b]),
            "objective_curve": [round(float(v), 5) for v in result.curve[:, b]],
            "round_trip": trip,
            "files": {"wav": str(wav), "wav_22050": str(stem.with_name(stem.name + "-22050.wav")),
                      "spectrogram": str(stem.with_suffix(".npy")), "png": str(png)},
        }
        atomic_write_text(stem.with_suffix(".json"), json.dumps(summary, indent=1))
        summaries.append(summary)
    return summaries


