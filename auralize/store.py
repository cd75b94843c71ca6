"""Building a feature store (``auralize cache``): a collection's clip PSDs cut into checked shards.

A collection larger than memory (FMA-large: about 29 GB of PSDs) is cut once into shards
(:mod:`auralize.shards` describes the format); a :class:`~auralize.data.Dataset` opened from the store
(``load_dataset(STORE)``, ``--data STORE``) holds only its index in memory and reads the clips a
batch asks for, so training, evaluation and the neuron statistics stream. The build is resumable (a
rerun keeps every complete shard whose files are unchanged and whose checksum holds) and parallel
over shards (``jobs``), and takes the PSDs of the feature cache's checked entries where it has them.
"""
from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from . import features as F
from .errors import AuralizeError
from .io import atomic_save_npy, atomic_write_text, ensure_writable
from .shards import FORMAT, INDEX, ROW, TRACKS_PER_SHARD, check_header, is_store, sha1_file, shard_name


def default_store(data_dir: str | Path) -> Path:
    """Where ``auralize cache`` puts the store of ``data_dir`` when no ``--store`` is given:
    ``<cache dir>/stores/<folder name>-<hash of its absolute path>``."""
    from .data import default_cache_dir

    root = Path(data_dir).expanduser().resolve()
    return default_cache_dir() / "stores" / f"{root.name}-{hashlib.sha1(str(root).encode()).hexdigest()[:8]}"


@dataclass(frozen=True)
class _Job:
    """One shard to build: its tracks (path, genre, identity) and where it goes."""

    folder: Path
    number: int
    tracks: tuple[tuple[str, str, str], ...]
    cache_dir: str | None


def _build_shard(job: _Job) -> dict:
    """Compute (or take from the feature cache) the PSDs of a shard's tracks and write the shard and its
    record; runs in a worker process. Unreadable tracks are recorded as skipped."""
    from .data import FeatureCache

    cache = FeatureCache(job.cache_dir)
    psds, kept, skipped = [], [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a damaged cache entry is recomputed; the store is what this builds
        for path, genre, ident in job.tracks:
            try:
                psd = cache.load(Path(path), ident)
                if psd is None:
                    psd = F.audio_to_psd(F.load_audio(path), name=path)
            except AuralizeError as exc:
                skipped.append([path, str(exc)])
                continue
            psds.append(psd.astype(np.float32, copy=False))
            kept.append({"path": path, "genre": genre, "ident": ident, "clips": len(psd)})
    rows = np.concatenate(psds) if psds else np.zeros((0, *ROW), np.float32)
    name = shard_name(job.number)
    atomic_save_npy(job.folder / f"{name}.npy", rows)
    record = {"file": f"{name}.npy", "sha1": hashlib.sha1(np.ascontiguousarray(rows).tobytes()).hexdigest(),
              "clips": len(rows), "tracks": kept, "skipped": skipped,
              "made_from": [list(t) for t in job.tracks]}
    atomic_write_text(job.folder / f"{name}.json", json.dumps(record))
    return record


def _kept_shard(folder: Path, job: _Job) -> dict | None:
    """The shard's record if it is complete, made from these very files, and passes its checksum; a shard
    whose bytes fail the checksum is rebuilt with a warning (as a damaged cache entry is)."""
    name = shard_name(job.number)
    try:
        record = json.loads((folder / f"{name}.json").read_text())
        same = record["made_from"] == [list(t) for t in job.tracks]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not same:
        return None  # other files, changed ones or other labels: rebuilt quietly
    try:
        good = sha1_file(folder / record["file"]) == record["sha1"]
    except (OSError, ValueError):
        good = False
    if not good:
        warnings.warn(f"store shard {name} has a bad checksum (damaged); rebuilding it", stacklevel=3)
        return None
    return record


def build_store(data_dir: str | Path, store: str | Path | None = None, *, labels: str | Path | None = None,
                jobs: int = 1, cache_dir: str | Path | None = None, progress: bool = True,
                log: Callable[[str], None] = lambda m: None) -> Path:
    """Write (or complete) the feature store of a collection: its clip PSDs as shards, with their index.

    Parameters
    ----------
    data_dir : str or Path
        The collection: genre folders, or any folder with a ``labels`` table.
    store : str or Path, optional
        The store folder (default :func:`default_store`).
    labels : str or Path, optional
        A CSV of ``path,genre`` (:func:`auralize.data.read_labels`) instead of genre folders.
    jobs : int
        Worker processes that compute shards in parallel; the store's bytes do not depend on it.
    cache_dir : str or Path, optional
        The feature cache whose checked entries are reused (default ``$AURALIZE_CACHE``).
    progress, log : a progress bar; where messages go.

    Returns
    -------
    Path
        The store folder.

    Raises
    ------
    AuralizeError
        If the data has no tracks, the folder cannot be written, or it holds a store of another
        version or front end.
    """
    from . import checks
    from .workers import in_workers
    from .data import FeatureCache, default_cache_dir, discover, frontend_key
    from .progress import bar

    jobs = checks.count("jobs", jobs, 1, 256)
    tracks, genres = discover(data_dir, labels)
    folder = Path(store) if store is not None else default_store(data_dir)
    if is_store(folder):
        check_header(folder, json.loads((folder / INDEX).read_text()), frontend_key())  # another version: refuse, do not mix
    ensure_writable(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cache = str(cache_dir) if cache_dir is not None else str(default_cache_dir())
    idents = []
    for t in tracks:
        try:
            idents.append(FeatureCache.identity(t.path))
        except OSError:
            idents.append("unreadable")
    entries = [(str(t.path), t.genre, i) for t, i in zip(tracks, idents)]
    todo = [_Job(folder, n, tuple(entries[s:s + TRACKS_PER_SHARD]), cache)
            for n, s in enumerate(range(0, len(entries), TRACKS_PER_SHARD))]
    records: dict[int, dict] = {}
    for job in todo:
        kept = _kept_shard(folder, job)
        if kept is not None:
            records[job.number] = kept
    missing = [job for job in todo if job.number not in records]
    if records:
        log(f"resuming: {len(records)} of {len(todo)} shards are complete and checked; building {len(missing)}")
    with bar(total=len(todo), initial=len(records), desc="feature store", unit="shard", disable=not progress,
             leave=False) as shown:
        done = map(_build_shard, missing) if jobs == 1 or len(missing) < 2 else in_workers(_build_shard, missing, jobs)
        for job, record in zip(missing, done):
            records[job.number] = record
            for path, why in record["skipped"]:
                warnings.warn(f"skipping {path}: {why}", stacklevel=2)
            shown.update(1)
    shards = [records[n] for n in range(len(todo))]
    index = {"format": FORMAT, "frontend": frontend_key(), "genres": list(genres),
             "root": str(Path(data_dir).expanduser().resolve()),
             "shards": [{"file": r["file"], "sha1": r["sha1"], "clips": r["clips"],
                         "tracks": [[t["path"], t["genre"], t["clips"]] for t in r["tracks"]]} for r in shards],
             "skipped": [s for r in shards for s in r["skipped"]]}
    atomic_write_text(folder / INDEX, json.dumps(index))
    listed = {shard_name(n) for n in range(len(todo))}
    for stale in folder.glob("shard-*.*"):  # shards of tracks that are gone (the data shrank)
        if stale.stem not in listed and stale.suffix in (".npy", ".json"):
            stale.unlink()
    return folder
