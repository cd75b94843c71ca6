"""The held-out listening panel: genre classifiers no dream is optimised against.

    from auralize import panel
    for v in panel.judge(["jazz.wav"], genre="jazz"):
        print(v.summary())

Judges (:data:`JUDGES`) read mono 4 kHz audio in 5-s clips; :func:`judge` gives each judge's
verdict and p(genre) and whether the panel (by default :data:`PANEL`) agrees.
:mod:`~auralize.panel.distance` measures how near a set of dreams is to real music of each genre
(and whether a dream copies a real clip);
:mod:`~auralize.panel.temporal` gives the statistics of time that tell music from a texture.
"""
from __future__ import annotations

from .base import Judge
from .distance import frechet_distance, kernel_distance, nearest_genre, novelty
from .registry import EMBEDDING_JUDGE, JUDGES, PANEL, judge_path, load_judge, panel_dir, register_judge
from .temporal import temporal_stats
from .training import score_judge, train_judge
from .verdict import JudgeVerdict, PanelVerdict, judge

__all__ = ["EMBEDDING_JUDGE", "JUDGES", "Judge", "JudgeVerdict", "PANEL", "PanelVerdict", "frechet_distance",
           "judge", "judge_path", "kernel_distance", "load_judge", "nearest_genre", "novelty", "panel_dir", "score_judge",
           "temporal_stats", "train_judge"]
