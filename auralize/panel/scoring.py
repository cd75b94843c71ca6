"""Score sets of audio (dreams, or reference rows) on the panel, beside real music of each genre.

A *row* is a named list of ``(target genre, mono 4 kHz audio)`` items. :func:`score_row` gives,
for one row: how many items the panel's majority hears as their target, the mean panel p(target),
each judge's hits (and those of *outside* judges, scored alone but not voting), the genres whose items are nearest (kernel distance in the embedding judge's
space) to real clips of their own genre, the items nearer to a real training clip than real clips
of different tracks usually are (copies), and temporal statistics.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import features as F
from ..data import ClipSet
from .distance import kernel_distance, nearest_genre, novelty, real_nn_threshold
from .registry import EMBEDDING_JUDGE, load_judge
from .temporal import STATS, mean_temporal_stats
from .verdict import judge_names, judge_verdict, panel_verdict

Item = tuple[str, np.ndarray]


@dataclass
class Reference:
    """Real music to measure against: training clips' embeddings by genre, and the copy threshold."""

    genres: tuple[str, ...]
    judges: list
    outside: list  # judges scored beside the panel, not voting in it
    embedder: object
    real_by_genre: dict[str, np.ndarray]
    train_embedding: np.ndarray
    train_tracks: np.ndarray
    threshold: float


def build_reference(clips: ClipSet, judges=None, folder: str | Path | None = None, quantile: float = 0.05,
                    outside=()) -> Reference:
    """Embed ``clips``' training part with the embedding judge and fix the novelty threshold.

    ``judges`` vote (default the panel); ``outside`` judges get their hits counted but no vote.
    """
    loaded = [load_judge(n, folder) for n in judge_names(judges)]
    outside = [load_judge(n, folder) for n in judge_names(outside)] if outside else []
    embedder = load_judge(EMBEDDING_JUDGE, folder)
    ids = clips.split["train"]
    emb = embedder.embed(clips.audio[ids])
    labels = clips.label[ids]
    real = {g: emb[labels == i] for i, g in enumerate(clips.genres) if np.any(labels == i)}
    tracks = clips.track[ids]
    return Reference(clips.genres, loaded, outside, embedder, real, emb, tracks, real_nn_threshold(emb, tracks, quantile))


def as_clip_array(audio: np.ndarray) -> np.ndarray:
    """Audio -> clips ``(n, 20000)``; audio just short of a clip (a Griffin-Lim frame grid) is padded."""
    audio = np.asarray(audio, dtype=np.float32)
    if audio.size < F.CLIP_SAMPLES:
        audio = np.pad(audio, (0, F.CLIP_SAMPLES - audio.size))
    return F.split_clips(F.require_audible(audio), "audio")


def score_row(name: str, items: list[Item], ref: Reference) -> dict:
    """The panel's figures for one row (see the module docstring)."""
    verdicts, alone, embeddings, targets, temporal = [], [], [], [], []
    for target, audio in items:
        clips = as_clip_array(audio)
        verdicts.append(panel_verdict(name, clips, ref.judges, target))
        alone.append([judge_verdict(j, clips, target) for j in ref.outside])
        embeddings.append(ref.embedder.embed(clips))
        targets.append(target)
        temporal.append(mean_temporal_stats(clips))
    genres = [g for g in ref.genres if g in targets]
    nearest = {}
    for g in genres:
        mine = np.concatenate([e for e, t in zip(embeddings, targets) if t == g])
        nearest[g] = nearest_genre(mine, ref.real_by_genre, kernel_distance)[0]
    check = novelty(np.concatenate(embeddings), ref.train_embedding, ref.train_tracks, threshold=ref.threshold)
    per_item_copy, start = [], 0
    for e in embeddings:
        per_item_copy.append(bool(check.copies[start:start + len(e)].any()))
        start += len(e)
    judges = [v.judge for v in verdicts[0].verdicts + alone[0]]
    return {
        "row": name, "n_items": len(items), "n_genres": len(genres),
        "panel_hits": int(sum(bool(v.hit) for v in verdicts)),
        "genres_hit": float(sum(np.mean([bool(v.hit) for v in verdicts if v.target == g]) for g in genres)),
        "mean_p_target": float(np.mean([v.p_target for v in verdicts])),
        "judge_hits": {j: int(sum((v.verdicts + a)[k].genre == v.target for v, a in zip(verdicts, alone)))
                       for k, j in enumerate(judges)},
        "outside_judges": [j.name for j in ref.outside],
        "nearest_hits": int(sum(nearest[g] == g for g in genres)), "nearest": nearest,
        "copies": int(sum(per_item_copy)), "nearest_real_min": float(check.nearest.min()),
        "copy_threshold": ref.threshold,
        "temporal": {k: float(np.mean([t[k] for t in temporal])) for k in STATS},
        "temporal_by_genre": {g: {k: float(np.mean([t[k] for t, tg in zip(temporal, targets) if tg == g]))
                                  for k in STATS} for g in genres},
        "items": [{"target": v.target, "majority": v.majority, "votes": v.votes, "p_target": v.p_target,
                   "judges": {j.judge: {"genre": j.genre, "p_target": j.p_target} for j in v.verdicts + a}}
                  for v, a in zip(verdicts, alone)],
    }


def rows_table(rows: list[dict]) -> str:
    """Markdown table of scored rows."""
    judges = list(rows[0]["judge_hits"]) if rows else []
    outside = set(rows[0].get("outside_judges", ())) if rows else set()
    head = ("| row | items | panel majority = target | genres (of 10) | mean panel p(target) | "
            + " | ".join(f"{j} hits" + (" (outside the panel)" if j in outside else "") for j in judges)
            + " | nearest genre = target | copies | mod. depth | mod. 2-8 Hz | onset CV | flux |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        t = r["temporal"]
        lines.append(
            f"| {r['row']} | {r['n_items']} | {r['panel_hits']}/{r['n_items']} | {r['genres_hit']:.1f} | "
            f"{r['mean_p_target']:.3f} | " + " | ".join(f"{r['judge_hits'][j]}/{r['n_items']}" for j in judges)
            + f" | {r['nearest_hits']}/{r['n_genres']} | {r['copies']}/{r['n_items']} | "
            f"{t['modulation_depth']:.2f} | {t['modulation_2-4Hz'] + t['modulation_4-8Hz']:.2f} | "
            f"{t['onset_cv']:.2f} | {t['spectral_flux']:.3f} |")
    return "\n".join(lines)


def temporal_table(rows: list[dict], real_row: str) -> str:
    """Per genre, temporal statistics of each row beside the real clips' row."""
    stat_names = (("modulation_depth", "mod. depth"), ("onset_cv", "onset CV"), ("spectral_flux", "flux"))
    by_name = {r["row"]: r for r in rows}
    real = by_name.get(real_row)
    genres = list(real["temporal_by_genre"]) if real else []
    head = "| genre | row | " + " | ".join(label for _, label in stat_names) + " |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for g in genres:
        for r in [real] + [r for r in rows if r is not real]:
            if g in r["temporal_by_genre"]:
                s = r["temporal_by_genre"][g]
                lines.append(f"| {g} | {r['row']} | " + " | ".join(f"{s[k]:.3f}" for k, _ in stat_names) + " |")
    return "\n".join(lines)
