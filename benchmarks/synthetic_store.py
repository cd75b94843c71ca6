"""Synthetic feature stores of a chosen size, for the store and DDP benchmarks (no audio is decoded).

A store written here has the format ``auralize cache`` writes (:mod:`auralize.shards`): shards of
PSD-shaped float32 rows (22 x 513, positive, log-normal, a per-genre tilt so a model can learn
something) and their index, with fake track paths of the ten GTZAN genres.
"""
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's auralize, not an installed one


def write_store(folder: Path, tracks: int, clips_per_track: int = 6, seed: int = 0) -> Path:
    """A store of ``tracks`` tracks of ``clips_per_track`` clips (GTZAN: 1000 tracks, 6 clips of 5 s each)."""
    from auralize.data import GENRES, frontend_key
    from auralize.io import atomic_save_npy, atomic_write_text
    from auralize.shards import FORMAT, INDEX, ROW, TRACKS_PER_SHARD, shard_name

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    tilt = np.linspace(-1, 1, ROW[1])
    shards = []
    for number, first in enumerate(range(0, tracks, TRACKS_PER_SHARD)):
        ids = range(first, min(tracks, first + TRACKS_PER_SHARD))
        genre = [GENRES[i % len(GENRES)] for i in ids]
        rows = rng.standard_normal((len(ids) * clips_per_track, *ROW), dtype=np.float32)
        rows += np.repeat([(GENRES.index(g) - 4.5) / 4.5 for g in genre], clips_per_track)[:, None, None] * tilt
        np.exp(rows, out=rows)
        atomic_save_npy(folder / f"{shard_name(number)}.npy", rows)
        shards.append({"file": f"{shard_name(number)}.npy", "sha1": hashlib.sha1(rows.tobytes()).hexdigest(),
                       "clips": len(rows),
                       "tracks": [[f"synthetic/{g}/{g}.{i:05d}.wav", g, clips_per_track] for i, g in zip(ids, genre)]})
    atomic_write_text(folder / INDEX, json.dumps({"format": FORMAT, "frontend": frontend_key(), "genres": list(GENRES),
                                                  "root": "synthetic", "shards": shards, "skipped": []}))
    return folder
