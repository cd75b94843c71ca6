"""GTZAN (or any genre-folder collection): discovery, decoding, clips, feature cache and splits.

A data set is a folder in which every audio file sits in a folder named after its genre, e.g.
``genres/<g>/<g>.000NN.au`` (the original), ``Data/genres_original/<g>/...`` (Kaggle) or
``<g>/<g>.000NN.flac``.  Nothing assumes 100 tracks per genre or all ten genres.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import warnings
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Sequence

import numpy as np

from . import checks
from . import features as F
from .errors import AuralizeError
from .io import atomic_write
from .settings import PARTS, SPLITS

GENRES = ("blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock")
AUDIO_EXTENSIONS = {".au", ".wav", ".flac", ".mp3", ".ogg", ".oga", ".aif", ".aiff", ".m4a", ".opus"}
#: The shipped checkpoints' split: song-level, stratified by genre, seed 0. The panel and the genre prior
#: use the same one, so that its test part is held out from the dreaming models and the judges alike.
SHIPPED_SPLIT, SHIPPED_SPLIT_SEED = "track", 0
_STEM = re.compile(r"^(?P<genre>[a-z]+)\.(?P<number>\d{5})$")


@dataclass(frozen=True)
class Track:
    path: Path
    genre: str

    @property
    def stem(self) -> str:
        """Name without extension, e.g. ``jazz.00054``: the key for split lists."""
        return self.path.stem


@dataclass
class Dataset:
    """The clips of a collection: ``label[i]`` and the PSD ``psd[i]`` of clip ``clip_index[i]`` of track ``track[i]``.

    ``psd`` holds the paper's front end of 5-s clips at 4 kHz (cached on disk): an array, or for a data
    set opened from a feature store the rows it reads as they are asked for
    (:class:`auralize.shards.StoreRows`); a data set cut into other clips for a model with its own
    front end (:func:`load_clips`) has none.
    """

    psd: np.ndarray | None  # (n_clips, 22, 513) float32 (or a store's StoreRows)
    label: np.ndarray  # (n_clips,) int64, index into genres
    track: np.ndarray  # (n_clips,) int64, index into tracks
    clip_index: np.ndarray  # (n_clips,) position of the clip within its track
    tracks: list[Track]
    genres: tuple[str, ...]
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    root: Path | None = None

    def track_labels(self) -> np.ndarray:
        return np.array([self.genres.index(t.genre) for t in self.tracks], dtype=np.int64)

    def summary(self) -> str:
        """One paragraph saying what was found: tracks and clips per genre, what was skipped."""
        per_genre = Counter(t.genre for t in self.tracks)
        listed = ", ".join(f"{g} {per_genre.get(g, 0)}" for g in self.genres)
        text = (f"found {len(self.tracks)} tracks ({len(self.label)} clips) in "
                f"{sum(1 for g in self.genres if per_genre.get(g))} of {len(self.genres)} genres: {listed}")
        if self.skipped:
            text += f"; skipped {len(self.skipped)} unreadable: " + ", ".join(p.name for p, _ in self.skipped)
        return text

    def only(self, genres: list[str] | tuple[str, ...]) -> "Dataset":
        """The same data restricted to ``genres`` (in that order); labels are renumbered.

        Raises
        ------
        AuralizeError
            If a genre is unknown or has no track here.
        """
        missing = [g for g in genres if g not in {t.genre for t in self.tracks}]
        if missing:
            raise AuralizeError(f"no tracks of genre {missing[0]!r} in the data; it has: "
                                + ", ".join(sorted({t.genre for t in self.tracks})))
        keep_tracks = [i for i, t in enumerate(self.tracks) if t.genre in genres]
        new_index = {old: new for new, old in enumerate(keep_tracks)}
        clips = np.flatnonzero(np.isin(self.track, keep_tracks))
        remap = np.array([genres.index(g) if g in genres else -1 for g in self.genres])
        psd = None if self.psd is None else self.psd.subset(clips) if hasattr(self.psd, "subset") else self.psd[clips]
        return Dataset(psd, remap[self.label[clips]], np.array([new_index[t] for t in self.track[clips]]),
                       self.clip_index[clips], [self.tracks[i] for i in keep_tracks], tuple(genres), self.skipped,
                       self.root)

    def subset(self, clip_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(psd, label, track) of the given clips."""
        return self.psd[clip_ids], self.label[clip_ids], self.track[clip_ids]


def pick_genres(genre: str | Sequence[str], genres: Sequence[str], param: str = "genre") -> list[str]:
    """The genres ``genre`` names: one of ``genres`` (any case), ``all``, or a list of them (or ``"a,b"``).

    An unknown name is a one-line error about ``param`` that suggests the nearest genre.
    """
    import difflib

    if not isinstance(genre, (str, list, tuple)):
        raise AuralizeError(f"{param} must be a genre's name, 'all', or a list of names, got {genre!r:.40}", param=param)
    if not isinstance(genre, str) or "," in genre:
        names = [n.strip() for n in genre.split(",") if n.strip()] if isinstance(genre, str) else genre
        return list(dict.fromkeys(g for name in names for g in pick_genres(name, genres, param)))
    if genre.lower() == "all":
        return list(genres)
    if genre.lower() in genres:
        return [genre.lower()]
    near = difflib.get_close_matches(genre.lower(), genres, n=1)
    hint = f"did you mean '{near[0]}'? " if near else ""
    raise AuralizeError(f"unknown genre {genre!r}; {hint}the model knows: {', '.join(genres)}, or 'all'",
                        param=param)


def discover(root: str | Path, labels: str | Path | None = None) -> tuple[list[Track], tuple[str, ...]]:
    """Find the audio tracks below ``root``; the genre of a file is its folder's name, or its row of ``labels``.

    Returns the tracks (sorted by genre and name) and the genre vocabulary: the ten GTZAN
    genres in their canonical order when every genre is a GTZAN genre, else the sorted names.

    Parameters
    ----------
    root : str or Path
        The data folder.
    labels : str or Path, optional
        A CSV table of path and genre (:func:`read_labels`), as FMA ships its metadata; without it,
        genre folders.

    Raises
    ------
    AuralizeError
        If ``root`` is missing or holds no audio files in genre folders (or none the table names).
    """
    root = Path(root).expanduser()
    if not root.exists():
        raise AuralizeError(f"data directory not found: {root}; give a folder of genre folders", param="data_dir")
    if not root.is_dir():
        raise AuralizeError(f"{root} is not a directory; give a folder of genre folders", param="data_dir")
    if labels is not None:
        tracks = read_labels(labels, root)
    else:
        tracks = [Track(path, path.parent.name.lower()) for path in _audio_files(root)]
    if not tracks:
        raise AuralizeError(
            f"no audio tracks found under {root}; expected <genre>/<file>.wav|au|flac|... "
            "(for example the GTZAN genres/ folder)")
    found = sorted({t.genre for t in tracks})
    genres = GENRES if set(found) <= set(GENRES) else tuple(found)
    # One file per stem: the Kaggle layout can hold the same excerpt twice.
    unique: dict[tuple[str, str], Track] = {}
    for t in sorted(tracks, key=lambda t: (genres.index(t.genre), t.stem, str(t.path))):
        unique.setdefault((t.genre, t.stem), t)
    return list(unique.values()), genres


#: Column names a labels table may give its file paths and its genres under (FMA's ``tracks.csv`` flattened:
#: ``genre_top``).
PATH_COLUMNS = ("path", "file", "filename", "filepath")
GENRE_COLUMNS = ("genre", "genre_top", "label")


def read_labels(table: str | Path, root: str | Path) -> list[Track]:
    """The tracks a CSV table names: a header row with a path column (:data:`PATH_COLUMNS`, relative to
    ``root`` or absolute) and a genre column (:data:`GENRE_COLUMNS`).

    Rows whose file is missing, or whose genre is empty (FMA leaves ``genre_top`` empty for tracks of
    several genres), are skipped with one warning that counts them.

    Raises
    ------
    AuralizeError
        If the table cannot be read or has no path or no genre column.
    """
    import csv

    table, root = Path(table).expanduser(), Path(root).expanduser()
    try:
        with open(table, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise AuralizeError(f"cannot read the labels table {table} ({exc}); give a CSV of path,genre",
                            param="labels") from None
    header = [h.strip().lower() for h in rows[0]] if rows else []
    where = {name: next((header.index(c) for c in names if c in header), None)
             for name, names in (("path", PATH_COLUMNS), ("genre", GENRE_COLUMNS))}
    for name, names in (("genre", GENRE_COLUMNS), ("path", PATH_COLUMNS)):
        if where[name] is None:
            raise AuralizeError(f"the labels table {table} has no {name} column (its header: "
                                f"{', '.join(header) or 'empty'}); name one of {', '.join(names)}", param="labels")
    tracks, missing, unlabelled = [], [], 0
    for row in rows[1:]:
        if len(row) <= max(where.values()) or not row[where["path"]].strip():
            continue
        genre = row[where["genre"]].strip().lower()
        if not genre:
            unlabelled += 1
            continue
        path = Path(row[where["path"]].strip())
        path = path if path.is_absolute() else root / path
        if not path.is_file():
            missing.append(str(path))
            continue
        tracks.append(Track(path, genre))
    if missing:
        warnings.warn(f"{len(missing)} files the labels table {table.name} names are missing (e.g. {missing[0]}); "
                      "skipped", stacklevel=3)
    if unlabelled:
        warnings.warn(f"{unlabelled} rows of {table.name} have no genre; skipped", stacklevel=3)
    return tracks


#: Folders walked below a data root before giving up: a data set has a few dozen; ``--data /`` has millions.
MAX_FOLDERS = 10_000


def _audio_files(root: Path) -> list[Path]:
    """Audio files in the folders below ``root`` (sorted), following folder links exactly once and
    only within ``root``.

    A folder reached twice (a symlink loop, or two links to one folder) is walked once; a link that
    leads out of ``root`` is not followed (``--data /proc`` would walk the whole file system through
    ``/proc/*/root``); a folder that cannot be listed is reported, never silently taken as empty.
    Each of these is one warning (one per kind, with examples, when there are many).
    """
    seen: set[tuple[int, int]] = set()
    files = []
    real_root = root.resolve()
    notes: dict[str, list[str]] = {"unreadable": [], "outside": [], "again": []}

    def unreadable(exc: OSError) -> None:
        notes["unreadable"].append(f"{exc.filename} ({exc.strerror})")

    for dirpath, dirnames, filenames in os.walk(root, followlinks=True, onerror=unreadable):
        try:
            st = os.stat(dirpath)
        except OSError as exc:
            unreadable(exc)
            dirnames[:] = []
            continue
        if len(seen) >= MAX_FOLDERS:
            raise AuralizeError(f"{root} holds more than {MAX_FOLDERS} folders; give the folder of genre folders "
                                "(for example GTZAN's genres/), not a whole disk", param="data_dir")
        if (st.st_dev, st.st_ino) in seen:
            notes["again"].append(dirpath)
            dirnames[:] = []
            continue
        for name in list(dirnames):  # a link out of the data folder is not walked
            sub = Path(dirpath) / name
            try:
                out = sub.is_symlink() and not sub.resolve().is_relative_to(real_root)
            except (OSError, RuntimeError):  # RuntimeError: a symlink loop
                out = False
            if out:
                notes["outside"].append(str(sub))
                dirnames.remove(name)
        seen.add((st.st_dev, st.st_ino))
        dirnames.sort()
        folder = Path(dirpath)
        if folder == root:
            for name in sorted(filenames):  # a genre folder that is a dangling link lands here
                if (folder / name).is_symlink() and not (folder / name).exists():
                    warnings.warn(f"{folder / name} is a link to nothing; left out", stacklevel=3)
            continue  # files directly in root have no genre folder
        for name in sorted(filenames):
            path = folder / name
            if Path(name).suffix.lower() not in AUDIO_EXTENSIONS or name.startswith("."):
                continue
            try:  # a FIFO or a device would block the read forever (a dangling or unreadable file fails
                special = path.exists() and not path.is_file()  # when read, and is reported then)
            except OSError:
                special = False
            if special:
                warnings.warn(f"{path} is not a regular file; left out", stacklevel=3)
                continue
            files.append(path)
    _warn_once(notes["unreadable"], "cannot read folder {}; its tracks are left out",
               f"cannot read {{}} folders under {root} ({{}}); their tracks are left out")
    _warn_once(notes["outside"], "{} is a link out of the data folder; not followed (copy its tracks in)",
               f"{{}} links lead out of {root} ({{}}); not followed (copy their tracks in)")
    _warn_once(notes["again"], "{} leads to a folder already read (a symlink loop?); skipped",
               "{} folders lead to folders already read (symlink loops?) ({}); skipped")
    return files


def _warn_once(items: list[str], one: str, many: str) -> None:
    """A warning per item for a few, one warning with examples for many (``--data /proc`` has thousands)."""
    if len(items) <= 3:
        for item in items:
            warnings.warn(one.format(item), stacklevel=4)
    else:
        warnings.warn(many.format(len(items), ", ".join(items[:3]) + ", ..."), stacklevel=4)


def default_cache_dir() -> Path:
    """``$AURALIZE_CACHE`` or ``~/.cache/auralize``."""
    env = os.environ.get("AURALIZE_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "auralize"


def frontend_key() -> str:
    """Hash of the front-end settings and the cache format: a change of any invalidates the cache."""
    settings = {"sr": F.SAMPLE_RATE, "clip": F.CLIP_SAMPLES, "nperseg": F.N_FFT, "noverlap": F.NOVERLAP,
                "window": "tukey0.25", "pad": F.PAD_TOLERANCE, "resampler": "soxr_hq", "v": 1,
                "entry": "npz-ident-sha1"}
    return hashlib.sha1(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]


class FeatureCache:
    """Clip PSDs on disk, one checked entry per audio file; optional, never a reason to fail.

    Each entry is an ``.npz`` holding the PSDs, the identity of the file they were computed from
    (path, size, modification time) and a SHA-1 of the PSD bytes. An entry that does not match
    (damaged, NaN, another file's features) is rebuilt with a warning. A cache folder that cannot
    be read or written (read-only, full) is given up with one warning and the features computed
    without it.
    """

    def __init__(self, folder: str | Path | None) -> None:
        self.folder = Path(folder) if folder is not None else None

    def _give_up(self, exc: Exception) -> None:
        warnings.warn(f"feature cache {self.folder} is not usable ({exc}); working without it", stacklevel=4)
        self.folder = None

    @staticmethod
    def identity(path: Path) -> str:
        st = path.stat()
        return f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"

    def entry(self, ident: str) -> Path:
        return self.folder / frontend_key() / (hashlib.sha1(ident.encode()).hexdigest()[:20] + ".npz")

    def load(self, path: Path, ident: str) -> np.ndarray | None:
        """The cached PSDs of ``path``, or ``None`` (absent, unusable, or failing its checks)."""
        if self.folder is None:
            return None
        entry = self.entry(ident)
        try:
            if not entry.is_file():
                return None
            with np.load(entry, allow_pickle=False) as z:
                psd, stored, sha = z["psd"], str(z["ident"]), str(z["sha1"])
        except PermissionError as exc:
            self._give_up(exc)
            return None
        except (OSError, ValueError, KeyError, TypeError, AttributeError, zipfile.BadZipFile):
            psd, stored, sha = None, "", ""
        if (psd is not None and stored == ident and psd.ndim == 3 and psd.shape[1:] == (F.N_FRAMES, F.N_BINS)
                and psd.dtype == np.float32 and np.isfinite(psd).all() and sha == _sha1(psd)):
            return psd
        warnings.warn(f"cache entry {entry.name} of {path.name} is damaged or another file's; rebuilding it",
                      stacklevel=4)
        return None

    def save(self, path: Path, ident: str, psd: np.ndarray) -> None:
        if self.folder is None:
            return

        def write(tmp: Path) -> None:
            with open(tmp, "wb") as fh:
                np.savez(fh, psd=psd, ident=np.array(ident), sha1=np.array(_sha1(psd)))
        try:
            atomic_write(self.entry(ident), write)
        except (AuralizeError, OSError) as exc:
            self._give_up(exc.__cause__ or exc)


def _sha1(psd: np.ndarray) -> str:
    return hashlib.sha1(np.ascontiguousarray(psd).tobytes()).hexdigest()


def track_psd(path: Path, cache: FeatureCache | str | Path | None = None) -> np.ndarray:
    """Clip PSDs ``(n_clips, 22, 513)`` of one file, read from or written to the cache.

    Raises
    ------
    AuralizeError
        If the file cannot be read (missing, a dangling link, in an unreadable folder) or decoded.
    """
    path = Path(path)
    if not isinstance(cache, FeatureCache):
        cache = FeatureCache(cache)
    try:
        ident = cache.identity(path)
    except OSError as exc:
        raise AuralizeError(f"cannot read {path}: {exc.strerror or exc}") from None
    psd = cache.load(path, ident)
    if psd is None:
        psd = F.audio_to_psd(F.load_audio(path), name=str(path))
        cache.save(path, ident, psd)
    return psd


def load_dataset(root: str | Path, cache_dir: str | Path | None = None, progress: bool = True,
                 use_cache: bool = True, labels: str | Path | None = None) -> Dataset:
    """Discover, decode and cut every track under ``root`` into clip PSDs; or open a feature store.

    Unreadable or too-short files are skipped with a warning naming them (counted in
    :meth:`Dataset.summary`).  Features are cached on disk, keyed by the front-end settings and
    each file's path, size and modification time, so a second run skips decoding. ``labels`` is a
    CSV of path and genre (:func:`read_labels`) instead of genre folders.

    When ``root`` is a feature store (:func:`auralize.store.build_store`, ``auralize cache``), the
    data set holds only its index and reads its PSDs lazily (:class:`auralize.shards.StoreRows`):
    what training, evaluation and the neuron statistics stream from.
    """
    from .progress import bar as tqdm  # a bar that suits a notebook too
    from .shards import is_store

    if is_store(root):
        if labels is not None:
            raise AuralizeError(f"{root} is a feature store, which holds its labels; give labels when building it "
                                "('auralize cache --labels')", param="labels")
        return _open_store(Path(root).expanduser())
    tracks, genres = discover(root, labels)
    cache = FeatureCache((Path(cache_dir) if cache_dir else default_cache_dir()) if use_cache else None)
    kept, skipped, psds, genre_ids, track_ids, clip_ids = [], [], [], [], [], []
    for track in tqdm(tracks, desc="reading audio", unit="track", disable=not progress, leave=False):
        try:
            psd = track_psd(track.path, cache)
        except AuralizeError as exc:
            warnings.warn(f"skipping {track.path}: {exc}", stacklevel=2)
            skipped.append((track.path, str(exc)))
            continue
        psds.append(psd)
        genre_ids.append(np.full(len(psd), genres.index(track.genre)))
        track_ids.append(np.full(len(psd), len(kept)))
        clip_ids.append(np.arange(len(psd)))
        kept.append(track)
    if not kept:
        raise AuralizeError(f"none of the {len(tracks)} audio files under {root} could be read")
    return Dataset(np.concatenate(psds), np.concatenate(genre_ids).astype(np.int64),
                   np.concatenate(track_ids).astype(np.int64), np.concatenate(clip_ids).astype(np.int64),
                   kept, genres, skipped, Path(root))


def _open_store(folder: Path) -> Dataset:
    """The :class:`~auralize.data.Dataset` of a feature store: its index in memory, its PSDs read lazily
    (:class:`~auralize.shards.StoreRows`).

    Raises
    ------
    AuralizeError
        If the store is damaged, or was written by another version or for another front end.
    """
    from .shards import StoreRows, read_index

    index = read_index(folder, frontend_key())
    try:
        genres = tuple(index["genres"])
        tracks, labels, track_ids, clip_ids = [], [], [], []
        for shard in index["shards"]:
            if sum(n for _, _, n in shard["tracks"]) != shard["clips"]:
                raise ValueError(f"{shard['file']} lists other clips than it holds")
            for path, genre, n in shard["tracks"]:
                labels.append(np.full(n, genres.index(genre)))
                track_ids.append(np.full(n, len(tracks)))
                clip_ids.append(np.arange(n))
                tracks.append(Track(Path(path), genre))
        skipped = [(Path(p), str(why)) for p, why in index.get("skipped", [])]
        root = Path(index["root"])
    except (KeyError, TypeError, ValueError) as exc:
        raise AuralizeError(f"the feature store {folder} has a damaged index ({exc}); rerun 'auralize cache'") from None
    if not tracks:
        raise AuralizeError(f"the feature store {folder} holds no readable track; rerun 'auralize cache'")
    cat = lambda parts: np.concatenate(parts).astype(np.int64)  # noqa: E731
    return Dataset(StoreRows(folder, index["shards"]), cat(labels), cat(track_ids), cat(clip_ids), tracks, genres,
                   skipped, root)


@dataclass
class ClipSet:
    """Audio clips ``audio[i]`` aligned with ``dataset``'s clips (its labels, tracks and genres), and a split.

    What a model with its own front end, the listening panel and the genre prior read. At the
    paper's clips (5 s at 4 kHz) the ``dataset`` also holds their cached paper-grid PSDs.
    """

    audio: np.ndarray  # (n_clips, clip_samples) float32 at sample_rate
    dataset: Dataset
    split: Split
    sample_rate: int = F.SAMPLE_RATE

    @property
    def genres(self) -> tuple[str, ...]:
        return self.dataset.genres

    @property
    def label(self) -> np.ndarray:
        return self.dataset.label

    @property
    def track(self) -> np.ndarray:
        return self.dataset.track

    def part(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(audio clips, labels) of one part of the split."""
        ids = self.split[name]
        return self.audio[ids], self.dataset.label[ids]

    def only(self, genres: list[str] | tuple[str, ...]) -> "ClipSet":
        """The same clips restricted to ``genres`` (see :meth:`Dataset.only`), split again the same way."""
        kept = np.flatnonzero(np.isin(self.dataset.label, [self.genres.index(g) for g in genres if g in self.genres]))
        dataset = self.dataset.only(genres)
        return ClipSet(self.audio[kept], dataset, make_split(dataset, self.split.name, self.split.seed), self.sample_rate)


def load_clips(root: str | Path, split_seed: int = SHIPPED_SPLIT_SEED, progress: bool = False,
               sample_rate: int = F.SAMPLE_RATE, clip_samples: int = F.CLIP_SAMPLES,
               split: str = SHIPPED_SPLIT, labels: str | Path | None = None) -> ClipSet:
    """Read every track under ``root`` as clips of audio, and split it (default: the shipped checkpoints' split).

    At the paper's clips (5 s at 4 kHz) the PSDs come from the feature cache (as for ``auralize
    train``) and the audio is decoded again, cut into as many clips as the cache holds; for other
    clips (a model with its own front end) every track is decoded at ``sample_rate`` and cut into
    ``clip_samples``; unreadable or too short tracks are skipped with a warning. ``labels``: a CSV of
    path and genre (:func:`read_labels`) instead of genre folders.

    Examples
    --------
    >>> clips = load_clips("../shared/gtzan4k")  # doctest: +SKIP
    >>> clips.audio.shape, clips.split.name  # doctest: +SKIP
    ((2988, 20000), 'track')
    """
    if (sample_rate, clip_samples) == (F.SAMPLE_RATE, F.CLIP_SAMPLES):
        from .shards import is_store

        if is_store(root):
            raise AuralizeError(f"{root} is a feature store, which holds PSDs, not audio; give the data folder it was "
                                "made from", param="data_dir")
        data = load_dataset(root, progress=progress, labels=labels)
        audio = np.empty((len(data.psd), F.CLIP_SAMPLES), dtype=np.float32)
        for number, track in enumerate(data.tracks):
            ids = np.flatnonzero(data.track == number)
            clips = F.split_clips(F.load_audio(track.path), str(track.path))
            if len(clips) != len(ids):
                raise AuralizeError(f"{track.path} cuts into {len(clips)} clips but the feature cache holds "
                                    f"{len(ids)}; clear the cache ($AURALIZE_CACHE) and retry")
            audio[ids] = clips[data.clip_index[ids]]
    else:
        data, audio = _decode_clips(root, sample_rate, clip_samples, progress, labels)
    return ClipSet(audio, data, make_split(data, split, seed=split_seed), sample_rate)


def _decode_clips(root, sample_rate: int, clip_samples: int, progress: bool, labels=None) -> tuple[Dataset, np.ndarray]:
    """Every track under ``root`` decoded at ``sample_rate`` and cut into ``clip_samples`` (no feature cache)."""
    from tqdm import tqdm

    tracks, genres = discover(root, labels)
    kept, skipped, parts, genre_ids, track_ids, clip_ids = [], [], [], [], [], []
    for track in tqdm(tracks, desc="reading audio", unit="track", disable=not progress, leave=False):
        try:
            clips = F.split_clips(F.load_audio(track.path, sr=sample_rate), str(track.path), clip_samples, sample_rate)
        except AuralizeError as exc:
            warnings.warn(f"skipping {track.path}: {exc}", stacklevel=3)
            skipped.append((track.path, str(exc)))
            continue
        parts.append(clips)
        genre_ids.append(np.full(len(clips), genres.index(track.genre)))
        track_ids.append(np.full(len(clips), len(kept)))
        clip_ids.append(np.arange(len(clips)))
        kept.append(track)
    if not kept:
        raise AuralizeError(f"none of the {len(tracks)} audio files under {root} could be read")
    data = Dataset(None, np.concatenate(genre_ids).astype(np.int64), np.concatenate(track_ids).astype(np.int64),
                   np.concatenate(clip_ids).astype(np.int64), kept, genres, skipped, Path(root))
    return data, np.concatenate(parts)


def filtered_lists() -> dict[str, list[str]]:
    """The fault-filtered, artist-disjoint split (Kereliuk, Sturm & Larsen 2015) as stems."""
    lists = {}
    for part in PARTS:
        text = resources.files("auralize").joinpath(f"splits/{part}_filtered.txt").read_text()
        lists[part] = [Path(line.strip()).stem for line in text.splitlines() if line.strip()]
    return lists


@dataclass
class Split:
    """Clip indices of each part, and a note on how much of the split the data covers."""

    name: str
    parts: dict[str, np.ndarray]
    coverage: str
    seed: int = 0  # of a random split (what make_split was given)

    def __getitem__(self, part: str) -> np.ndarray:
        return self.parts[part]


#: The paper's seed of its clip shuffle: every model on the clip split sees this one split.
CLIP_SEED = 42


def make_split(data: Dataset, name: str = "filtered", seed: int = 0) -> Split:
    """Split a data set's clips into train/valid/test.

    ``filtered``
        the fault-filtered artist-disjoint lists (shipped with the package); tracks missing
        from the data are reported, tracks not on the lists are left out.
    ``clip``
        the paper's: all clips shuffled with its seed (:data:`CLIP_SEED`; ``seed`` is not
        used) and cut 70/10/20, so clips of one song sit on both sides; kept only to compare
        with the paper.
    ``track``
        song-level, stratified by genre, 70/10/20 with ``seed``.
    """
    n_tracks = len(data.tracks)
    if name == "clip":
        seed = CLIP_SEED
        order = np.random.RandomState(seed).permutation(len(data.label))
        a, b = int(0.7 * len(order)), int(0.8 * len(order))
        parts = {"train": order[:a], "valid": order[a:b], "test": order[b:]}
        return Split(name, {k: np.sort(v) for k, v in parts.items()},
                     f"clip split (seed {seed}): {a} / {b - a} / {len(order) - b} clips; "
                     "clips of one song are on both sides (the paper's leaky protocol)")
    if name == "track":
        rng = np.random.RandomState(checks.count("seed", seed, lo=0, hi=2**32 - 1))
        labels = data.track_labels()
        part_of = np.empty(n_tracks, dtype=object)
        for g in np.unique(labels):
            ids = rng.permutation(np.flatnonzero(labels == g))
            n = len(ids)
            n_test = max(1, round(0.2 * n)) if n >= 3 else 0
            n_valid = max(1, round(0.1 * n)) if n >= 3 else 0
            part_of[ids[:n_test]] = "test"
            part_of[ids[n_test:n_test + n_valid]] = "valid"
            part_of[ids[n_test + n_valid:]] = "train"
        parts = {p: np.flatnonzero(part_of[data.track] == p) for p in PARTS}
        counts = {p: int(np.sum(part_of == p)) for p in PARTS}
        return Split(name, parts, f"track split (seed {seed}, stratified by genre): "
                     f"{counts['train']} / {counts['valid']} / {counts['test']} tracks", seed)
    if name != "filtered":
        raise AuralizeError(f"unknown split {name!r}; choose one of {', '.join(SPLITS)}")
    if not set(data.genres) <= set(GENRES):
        raise AuralizeError("the filtered split lists GTZAN tracks only; use the track split for your own genre "
                            "folders", param="split")
    lists = filtered_lists()
    part_of_stem = {stem: part for part, stems in lists.items() for stem in stems}
    track_part = np.array([part_of_stem.get(t.stem, "") for t in data.tracks], dtype=object)
    parts = {p: np.flatnonzero(track_part[data.track] == p) for p in PARTS}
    present = {p: int(np.sum(track_part == p)) for p in PARTS}
    unlisted = int(np.sum(track_part == ""))
    coverage = "filtered split: " + ", ".join(
        f"{p} {present[p]} of {len(lists[p])} tracks" for p in PARTS)
    if unlisted:
        coverage += f"; {unlisted} tracks present are not on the lists (left out)"
    if present["train"] == 0 or present["test"] == 0:
        raise AuralizeError(f"{coverage}: too little of the filtered split is present; use the track split",
                            param="split")
    return Split(name, parts, coverage)


def track_keys(data: Dataset, clip_ids: np.ndarray) -> list[str]:
    """``genre/stem`` of each track among the given clips (sorted): what a checkpoint records of its
    training tracks (``meta["train_tracks_list"]``)."""
    return sorted({f"{data.tracks[i].genre}/{data.tracks[i].stem}" for i in np.unique(data.track[clip_ids])})


def training_overlap(data: Dataset, split: Split, part: str, meta: dict) -> dict | None:
    """How many tracks of ``split``'s ``part`` a checkpoint (its ``meta``) was trained on, when the
    split is not its own: ``{"tracks", "of", "training_split", "note"}``, or ``None`` (no overlap,
    its own split, or a checkpoint that does not say how it was trained).

    The training tracks are those the checkpoint lists; for an older checkpoint, the filtered
    split's training list, or its own random split remade on ``data`` when that is the data it was
    trained on.
    """
    if not meta.get("split") or split.coverage == meta.get("coverage"):
        return None
    trained = meta.get("train_tracks_list")
    if trained is None and meta["split"] == "filtered":
        trained = [f"{stem.split('.')[0]}/{stem}" for stem in filtered_lists()["train"]]
    elif trained is None:
        if meta.get("data_summary") != data.summary():
            return None  # other data: its random split cannot be remade
        seed = meta.get("split_seed", meta.get("seed", 0))
        trained = track_keys(data, make_split(data, meta["split"], seed=0 if seed is None else seed)["train"])
    asked = track_keys(data, split[part])
    both = set(asked) & set(trained)
    if not both:
        return None
    note = (f"{len(both)} of the {len(asked)} {part} tracks of the {split.name} split are in this checkpoint's "
            f"training part ({meta.get('coverage', meta['split'])}): these figures are inflated; evaluate on the "
            "checkpoint's own split (leave split out)")
    return {"tracks": len(both), "of": len(asked), "training_split": str(meta.get("coverage", meta["split"])),
            "note": note}


def part_genre_counts(data: Dataset, clip_ids: np.ndarray) -> dict[str, int]:
    """Tracks per genre among the given clips."""
    tracks = np.unique(data.track[clip_ids])
    counts = Counter(data.tracks[i].genre for i in tracks)
    return {g: counts.get(g, 0) for g in data.genres}
