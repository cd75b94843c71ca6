"""The on-disk format of a feature store: its index and its memory-mapped shards, read lazily.

Layout of a store folder (written by :func:`auralize.store.build_store`):

``store.json``
    the format, the front end (:func:`auralize.data.frontend_key`), the genres, the data folder it
    was made from, and per shard its file, its tracks (path, genre, clips) and the SHA-1 of its bytes;
``shard-NNNNN.npy``
    ``(clips, 22, 513)`` float32 PSDs of :data:`TRACKS_PER_SHARD` consecutive tracks;
``shard-NNNNN.json``
    the shard's own record (the files it was made from, with their identities, and its checksum),
    written once the shard is complete: what makes a build resumable and parallel.

The clip index (track, genre and clip of each row) follows from the tracks' clip counts.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Sequence

import numpy as np

from . import features as F
from .errors import AuralizeError

FORMAT = "auralize-store-1"
INDEX = "store.json"
#: Tracks per shard: about 17 MB of GTZAN-length PSDs, what a worker holds and what a resumed build redoes.
TRACKS_PER_SHARD = 64
ROW = (F.N_FRAMES, F.N_BINS)


def is_store(path: str | Path) -> bool:
    """Whether ``path`` is a feature store folder (it holds a ``store.json``)."""
    return (Path(path).expanduser() / INDEX).is_file()


def shard_name(number: int) -> str:
    return f"shard-{number:05d}"


def sha1_file(path: Path) -> str:
    """SHA-1 of a shard's PSD bytes, read through a memory map a few MB at a time (flat memory)."""
    rows = np.load(path, mmap_mode="r")
    digest = hashlib.sha1()
    step = max(1, (8 << 20) // (4 * ROW[0] * ROW[1]))
    for i in range(0, len(rows), step):
        digest.update(np.ascontiguousarray(rows[i:i + step]).tobytes())
    del rows
    return digest.hexdigest()


def check_header(folder: Path, index: dict, frontend: str) -> None:
    """A one-line error if ``index`` is not of this version's format and ``frontend``."""
    if not isinstance(index, dict) or index.get("format") != FORMAT:
        raise AuralizeError(f"{folder} is a feature store written by another version of auralize "
                            f"({index.get('format') if isinstance(index, dict) else '?'}, this one reads {FORMAT}); "
                            "delete it and rerun 'auralize cache'", param="store")
    if index.get("frontend") != frontend:
        raise AuralizeError(f"{folder} is a feature store made for another front end ({index.get('frontend')}, this "
                            f"version computes {frontend}); delete it and rerun 'auralize cache'", param="store")


def read_index(folder: Path, frontend: str) -> dict:
    """The checked ``store.json`` of a store folder.

    Raises
    ------
    AuralizeError
        If it cannot be read, or is of another version or front end.
    """
    try:
        index = json.loads((folder / INDEX).read_text())
    except (OSError, ValueError) as exc:
        raise AuralizeError(f"cannot read the feature store {folder} ({exc}); rerun 'auralize cache'") from None
    check_header(folder, index, frontend)
    return index


class StoreRows:
    """The PSDs of a store as a read-only array ``(clips, 22, 513)`` float32 that reads only the rows asked for.

    ``rows[ids]`` (an int, a slice, integer or boolean indices) returns a NumPy copy; each shard is
    memory-mapped while its rows are copied and unmapped after, so the memory a reader holds stays
    that of its batch, however large the store. A shard is checked against its SHA-1 the first time
    this process reads it; one that fails is a one-line error saying how to rebuild it.
    """

    ndim = 3
    dtype = np.dtype(np.float32)

    def __init__(self, folder: Path, shards: Sequence[dict], rows: np.ndarray | None = None) -> None:
        self.folder = folder
        self.shards = list(shards)
        counts = np.array([s["clips"] for s in self.shards], dtype=np.int64)
        self._starts = np.concatenate([[0], np.cumsum(counts)])
        self._rows = rows  # a subset: store rows of this view's rows
        self._checked: set[int] = set()

    def __len__(self) -> int:
        return int(self._starts[-1]) if self._rows is None else len(self._rows)

    @property
    def shape(self) -> tuple[int, int, int]:
        return (len(self), *ROW)

    def subset(self, ids: np.ndarray) -> "StoreRows":
        """A lazy view of the given rows (what :meth:`~auralize.data.Dataset.only` keeps)."""
        ids = np.arange(len(self))[ids]
        view = StoreRows(self.folder, self.shards, ids if self._rows is None else self._rows[ids])
        view._checked = self._checked
        return view

    def __array__(self, dtype=None, copy=None):
        out = self[:]
        return out if dtype is None else out.astype(dtype)

    def __getitem__(self, key) -> np.ndarray:
        if isinstance(key, tuple):
            return self[key[0]][(slice(None), *key[1:])]
        scalar = np.isscalar(key) or (isinstance(key, np.ndarray) and key.ndim == 0)
        ids = np.arange(len(self))[key]
        ids = np.atleast_1d(ids)
        if self._rows is not None:
            ids = self._rows[ids]
        out = np.empty((len(ids), *ROW), np.float32)
        shard_of = np.searchsorted(self._starts, ids, side="right") - 1
        for s in np.unique(shard_of):
            where = np.flatnonzero(shard_of == s)
            out[where] = self._read(int(s), ids[where] - self._starts[s])
        return out[0] if scalar else out

    def _read(self, number: int, local: np.ndarray) -> np.ndarray:
        path = self.folder / self.shards[number]["file"]
        remedy = f"rerun 'auralize cache --data DIR --store {self.folder}' (it rebuilds damaged shards)"
        if number not in self._checked:
            try:
                good = sha1_file(path) == self.shards[number]["sha1"]
            except (OSError, ValueError) as exc:
                raise AuralizeError(f"cannot read store shard {path} ({exc}); {remedy}") from None
            if not good:
                raise AuralizeError(f"store shard {path} fails its checksum (damaged); {remedy}")
            self._checked.add(number)
        rows = np.load(path, mmap_mode="r")
        try:
            return np.asarray(rows[local], dtype=np.float32)
        finally:
            del rows  # unmapped: the pages it touched leave this process




class MappedRows:
    """Rows of a lazy array (:class:`StoreRows`) passed through ``fn`` as they are read: ``rows[ids]`` is
    ``fn(source[ids])``, e.g. a store's PSDs as model input."""

    def __init__(self, source, fn) -> None:
        self.source, self.fn = source, fn

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, key):
        if hasattr(key, "numpy"):  # a torch tensor of indices (a training batch)
            key = key.numpy()
        return self.fn(self.source[key])
