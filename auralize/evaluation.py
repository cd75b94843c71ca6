"""Prediction on audio and evaluation on a data set: clip and track accuracy, per genre."""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import torch
from torch import nn

from . import audiomodel
from . import features as F
from .audio import READ_SECONDS, as_audio
from .data import ClipSet, Dataset, Split, make_split, training_overlap
from .errors import AuralizeError
from .io import atomic_write_text


@torch.no_grad()
def predict_logits(model, x: np.ndarray | torch.Tensor, batch: int = 512) -> torch.Tensor:
    """Logits of model inputs ``(n, ...)`` in eval mode, batched (:func:`auralize.audiomodel.forward_batches`)."""
    logits = [out.cpu() for out, _ in audiomodel.forward_batches(model, x, batch)]
    return torch.cat(logits) if logits else torch.zeros(0, len(model.genres))



def probabilities(model: nn.Module, x: np.ndarray | torch.Tensor, name: str = "the input") -> np.ndarray:
    """Genre probabilities ``(n, n_genres)`` of model inputs; NaN or infinity never becomes a verdict.

    Raises
    ------
    AuralizeError
        If the model's outputs are not finite (a damaged checkpoint, or an input far outside
        anything it was trained on).
    """
    logits = predict_logits(model, x)
    if not torch.isfinite(logits).all():
        where = getattr(model, "path", None)
        raise AuralizeError(f"the model{' ' + str(where) if where else ''} gives non-finite outputs on {name}; "
                            "no verdict (is the checkpoint damaged, or the audio far outside [-1, 1]?)")
    return torch.softmax(logits, 1).numpy()


@dataclass
class Prediction:
    """A song's verdict: per-clip probabilities ``(n_clips, n_genres)`` and their vote."""

    probabilities: np.ndarray
    genres: tuple[str, ...]

    @property
    def clip_genres(self) -> list[str]:
        return [self.genres[i] for i in self.probabilities.argmax(1)]

    @property
    def genre(self) -> str:
        return self.genres[int(vote(self.probabilities))]

    @property
    def probability(self) -> float:
        """Mean probability of the verdict over the clips."""
        return float(self.probabilities.mean(0)[self.genres.index(self.genre)])


PREDICTION_FORMATS = (".json", ".csv")


def prediction_format(path: str | Path) -> str:
    """The table format of ``path`` from its suffix (``.json`` or ``.csv``)."""
    suffix = Path(path).suffix.lower()
    if suffix not in PREDICTION_FORMATS:
        raise AuralizeError(f"out must end in .json or .csv, got {str(path)!r}", param="out")
    return suffix


def save_predictions(predictions: list[tuple[str | Path, Prediction]], path: str | Path) -> Path:
    """Write songs' verdicts as a table: JSON (a list of objects) or CSV (one row per song).

    Each row: song, genre, probability (mean over clips), clips, clip_genres; JSON rows also hold
    the per-clip probabilities of every genre.
    """
    import csv
    import io
    import json

    rows = [{"song": str(song), "genre": p.genre, "probability": round(p.probability, 6), "clips": len(p.probabilities),
             "clip_genres": p.clip_genres} for song, p in predictions]
    if prediction_format(path) == ".json":
        for row, (_, p) in zip(rows, predictions):
            row["genres"] = list(p.genres)
            row["clip_probabilities"] = np.round(p.probabilities, 6).tolist()
        text = json.dumps(rows, indent=1, allow_nan=False)
    else:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]) if rows else ["song"], lineterminator="\n")
        writer.writeheader()
        writer.writerows({**row, "clip_genres": " ".join(row["clip_genres"])} for row in rows)
        text = buf.getvalue()
    return atomic_write_text(path, text)


def vote(probabilities: np.ndarray) -> int:
    """Track verdict: the genre most clips predict; ties go to the higher mean probability."""
    counts = np.bincount(probabilities.argmax(1), minlength=probabilities.shape[1]).astype(float)
    return int(np.argmax(counts + 1e-3 * probabilities.mean(0)))


def clips_of(model, audio: np.ndarray, name: str = "audio") -> np.ndarray:
    """Mono audio at the model's rate cut into the model's clips ``(n_clips, clip_samples)``."""
    return F.split_clips(audio, name, int(model.clip_samples), int(model.sample_rate))


def model_input(model, audio: np.ndarray, name: str = "audio") -> torch.Tensor:
    """Mono audio at the model's rate -> the model's input for each of its clips (the paper's: ``(n, 22, 513)``)."""
    return audiomodel.model_input(model, clips_of(model, audio, name), name)


def predict(model, audio: str | Path | np.ndarray | torch.Tensor, sr: int = F.SAMPLE_RATE,
            max_seconds: float | None = READ_SECONDS) -> Prediction:
    """Classify a song: a path to any audio file, or samples at ``sr`` Hz.

    Parameters
    ----------
    model : AudioModel
        The classifier (its own front end reads the audio, resampled to its rate).
    audio : str, Path, numpy.ndarray or torch.Tensor
        An audio file (any format soundfile or librosa reads, stereo mixed down) or samples
        (see :func:`auralize.audio.as_audio`).
    sr : int
        The rate of ``audio`` when it is samples.
    max_seconds : float, optional
        Only the first this many seconds are heard (``None``: all).

    Returns
    -------
    Prediction
        Per-clip probabilities and the song's verdict (a vote of its clips).

    Examples
    --------
    >>> import numpy as np, auralize
    >>> model = auralize.load_model(auralize.default_checkpoint("lstm"))
    >>> tone = np.sin(2 * np.pi * 440 * np.arange(44100 * 6) / 44100).astype(np.float32)
    >>> pred = auralize.predict(model, tone, sr=44100)
    >>> pred.probabilities.shape
    (1, 10)
    """
    name = str(audio) if isinstance(audio, (str, Path)) else "audio"
    # as explain does: silence or NaN gets no verdict
    audio = as_audio(audio, sr, max_seconds=max_seconds, to=int(model.sample_rate))
    return Prediction(probabilities(model, model_input(model, audio, name), name), tuple(model.genres))


def predict_many(model, songs: Sequence[str | Path], max_seconds: float | None = READ_SECONDS, jobs: int = 1,
                 device: str = "cpu") -> Iterator[Prediction | AuralizeError]:
    """Classify many songs, in their order: each one's :class:`Prediction`, or the error that kept it from one.

    Parameters
    ----------
    model : AudioModel
        The classifier; with ``jobs`` above 1 it must come from a file (a checkpoint or
        ``my_model.py:build``), which each worker loads.
    songs : sequence of str or Path
        Audio files.
    max_seconds : float, optional
        Only the first this many seconds of each are heard.
    jobs : int
        Worker processes (one thread each); the verdicts do not depend on it.
    device : str
        ``cpu``, ``cuda`` or ``auto`` (:func:`auralize.distributed.pick_device`).

    Yields
    ------
    Prediction or AuralizeError
        One per song, in the order given (:func:`auralize.workers.in_workers`: a worker's warnings are
        raised again here).
    """
    from . import checks
    from .distributed import pick_device

    jobs = checks.count("jobs", jobs, 1, 256)
    if jobs == 1 or len(songs) < 2:
        if isinstance(model, nn.Module):
            model.to(pick_device(device))
        for song in songs:
            try:
                yield predict(model, song, max_seconds=max_seconds)
            except AuralizeError as exc:
                yield exc
        return
    from .workers import in_workers

    where = audiomodel.source_for_workers(model)
    yield from in_workers(_predict_one, [(str(s), max_seconds) for s in songs], jobs, _predict_worker, (where, device))


_worker_model = None


def _predict_worker(where: str, device: str) -> None:
    """A prediction worker's own copy of the model."""
    global _worker_model
    from .checkpoint import load_model
    from .distributed import pick_device

    _worker_model = load_model(where)
    if isinstance(_worker_model, nn.Module):
        _worker_model.to(pick_device(device))


def _predict_one(task: tuple[str, float | None]) -> Prediction | AuralizeError:
    song, max_seconds = task
    try:
        return predict(_worker_model, song, max_seconds=max_seconds)
    except AuralizeError as exc:
        return exc


def data_inputs(model, data: Dataset | ClipSet, ids: np.ndarray | None = None, batch: int = 256) -> torch.Tensor:
    """Model inputs of a data set's clips ``ids`` (default all): from its cached paper-grid PSDs for a model
    that reads them (``from_psd``), else through the model's front end from the clips' audio. For a data
    set opened from a feature store, rows that read and scale the clips as they are asked for
    (:class:`auralize.shards.MappedRows`), which :func:`predict_logits` and the neuron statistics stream.

    Raises
    ------
    AuralizeError
        If the model has its own front end and ``data`` holds no audio (a :class:`Dataset`, not a
        :class:`ClipSet` from :func:`~auralize.data.load_clips`), or the clips do not fit the model.
    """
    dataset = data.dataset if isinstance(data, ClipSet) else data
    ids = np.arange(len(dataset.label)) if ids is None else ids
    if hasattr(model, "from_psd") and dataset.psd is not None:
        if not isinstance(dataset.psd, np.ndarray):  # a feature store: read and scaled batch by batch
            from .shards import MappedRows

            return MappedRows(dataset.psd.subset(ids), model.from_psd)
        return torch.from_numpy(model.from_psd(dataset.psd[ids]))
    if not isinstance(data, ClipSet):
        raise AuralizeError(f"a {audiomodel.label(model)} model reads audio through its own front end: give the "
                            "clips' audio (auralize.load_clips(DIR, sample_rate=..., clip_samples=...))", param="data")
    if data.audio.shape[1] != int(model.clip_samples) or data.sample_rate != int(model.sample_rate):
        raise AuralizeError(f"the clips are {data.audio.shape[1]} samples at {data.sample_rate} Hz; the model reads "
                            f"{model.clip_samples} at {model.sample_rate} Hz: load them with load_clips(DIR, "
                            f"sample_rate={model.sample_rate}, clip_samples={model.clip_samples})", param="data")
    return torch.cat([audiomodel.model_input(model, data.audio[ids[i:i + batch]]) for i in range(0, len(ids), batch)]) \
        if len(ids) else torch.zeros(0)


def load_data_for(model, root: str | Path, progress: bool = False, audio: bool = False,
                  labels: str | Path | None = None) -> Dataset | ClipSet:
    """What ``model`` evaluates on: the cached paper-grid PSDs for a model that reads them (unless ``audio``
    is asked for too; ``root`` may be a feature store), else the clips' audio at the model's rate and clip
    length (:func:`~auralize.data.load_clips`). ``labels``: a CSV of path and genre instead of genre folders."""
    from .data import load_clips, load_dataset

    if hasattr(model, "from_psd") and not audio:
        return load_dataset(root, progress=progress, labels=labels)
    return load_clips(root, progress=progress, sample_rate=int(model.sample_rate), clip_samples=int(model.clip_samples),
                      labels=labels)


@dataclass
class Evaluation:
    """Figures on one part of a split."""

    split: str
    part: str
    coverage: str
    genres: tuple[str, ...]
    clip_accuracy: float
    track_accuracy: float
    n_clips: int
    n_tracks: int
    clip_confusion: np.ndarray  # rows: true genre, columns: predicted
    track_confusion: np.ndarray
    per_genre: dict[str, dict] = field(default_factory=dict)
    training_overlap: dict | None = None  # tracks of the part the model was trained on (data.training_overlap)

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in ("split", "part", "coverage", "clip_accuracy", "track_accuracy",
                                            "n_clips", "n_tracks", "per_genre", "training_overlap")}
        d["genres"] = list(self.genres)
        d["clip_confusion"] = self.clip_confusion.tolist()
        d["track_confusion"] = self.track_confusion.tolist()
        return d

    def save(self, folder: str | Path, stem: str, title: str) -> tuple[Path, Path]:
        """Write ``<stem>-confusion.png`` and ``<stem>.json`` (strict JSON: no figure is null) into ``folder``."""
        import json

        from .plots import confusion_figure

        png = confusion_figure(self.clip_confusion, self.genres, Path(folder) / f"{stem}-confusion.png", title)
        text = json.dumps(_nan_to_none(self.to_dict()), indent=1, allow_nan=False)
        return png, atomic_write_text(Path(folder) / f"{stem}.json", text)

    def table(self, min_tracks: int = 5) -> str:
        """Per-genre Markdown table; genres with fewer than ``min_tracks`` test tracks are flagged."""
        lines = ["| genre | tracks | clips | clip acc | track acc | note |", "|---|---|---|---|---|---|"]
        for g, row in self.per_genre.items():
            if row["tracks"] == 0:
                continue
            note = "too few tracks to mean much" if row["tracks"] < min_tracks else ""
            lines.append(f"| {g} | {row['tracks']} | {row['clips']} | {row['clip_accuracy']:.3f} | "
                         f"{row['track_accuracy']:.3f} | {note} |")
        return "\n".join(lines)


def _nan_to_none(value):
    """JSON has no NaN: a figure that does not exist (no clip of a genre) is written as null."""
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _nan_to_none(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nan_to_none(v) for v in value]
    return value


def track_votes(probs: np.ndarray, truth: np.ndarray, track_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per track (in sorted track order): its true label and the vote of its clips' probabilities."""
    tracks = np.unique(track_ids)
    truth_of = np.array([truth[track_ids == t][0] for t in tracks], int)
    pred_of = np.array([vote(probs[track_ids == t]) for t in tracks], int)
    return truth_of, pred_of


def model_labels(model, dataset: Dataset, ids: np.ndarray) -> np.ndarray:
    """The labels of clips ``ids`` as indices into the model's own genre list, matched by name (-1 for a genre
    the model does not know)."""
    to_model = np.array([model.genres.index(g) if g in model.genres else -1 for g in dataset.genres])
    return to_model[dataset.label[ids]]


def own_split(model, dataset: Dataset, split: str | Split | None = None, part: str = "test",
              seed: int | None = None) -> Split:
    """The split to score ``model`` on: ``split`` (a name or a made split), by default the one the model was
    trained on, with its seed (a warning says so when the model does not record it).

    Raises
    ------
    AuralizeError
        If ``part`` is not a part of the split.
    """
    meta = getattr(model, "meta", {}) or {}
    if split is None and not meta.get("split"):
        warnings.warn(f"{audiomodel.label(model)} does not say which split it was trained on: scored on the filtered "
                      f"split's {part} part, whose tracks it may have learned from (give the split of its training)",
                      stacklevel=3)
    if split is None:
        split = meta.get("split") or "filtered"
    if isinstance(split, str):
        if seed is None:
            seed = meta.get("split_seed", meta.get("seed", 0)) if meta.get("split") == split else 0
        split = make_split(dataset, split, seed=0 if seed is None else seed)
    if part not in split.parts:
        raise AuralizeError(f"part must be one of {', '.join(split.parts)}, got {part!r}", param="part")
    return split


def evaluate(model, data: Dataset | ClipSet, split: str | Split | None = None, part: str = "test",
             seed: int | None = None) -> Evaluation:
    """Clip accuracy, track accuracy (a vote of each track's clips), per genre, confusions.

    Parameters
    ----------
    model : AudioModel
        The classifier.
    data : Dataset or ClipSet
        The clips (:func:`load_data_for` gives what the model reads: cached PSDs or audio).
    split : str or Split, optional
        A split name (:data:`auralize.settings.SPLITS`) or a split made with :func:`~auralize.data.make_split`;
        default the one the model was trained on, so it is evaluated on its own held-out part.
    part : str
        ``train``, ``valid`` or ``test``.
    seed : int, optional
        Seed of a random split; defaults to the model's (from its metadata).

    Returns
    -------
    Evaluation
        On another split whose part holds tracks the model was trained on, a warning says so and the
        result is marked (:attr:`Evaluation.training_overlap`).
    """
    dataset = data.dataset if isinstance(data, ClipSet) else data
    meta = getattr(model, "meta", {}) or {}
    split = own_split(model, dataset, split, part, seed)
    overlap = training_overlap(dataset, split, part, meta) if part != "train" else None
    if overlap:
        warnings.warn(overlap["note"], stacklevel=2)
    ids = split[part]
    k = len(model.genres)
    x = data_inputs(model, data, ids)
    probs = probabilities(model, x, f"the {split.name} split's {part} clips")
    truth = model_labels(model, dataset, ids)
    pred = probs.argmax(1)
    clip_conf = np.zeros((k, k), dtype=np.int64)
    np.add.at(clip_conf, (truth[truth >= 0], pred[truth >= 0]), 1)
    track_truth, track_pred = track_votes(probs, truth, dataset.track[ids])
    track_conf = np.zeros((k, k), dtype=np.int64)
    np.add.at(track_conf, (track_truth[track_truth >= 0], track_pred[track_truth >= 0]), 1)
    per_genre = {}
    for i, g in enumerate(model.genres):
        n_clips, n_tracks = int(clip_conf[i].sum()), int(track_conf[i].sum())
        per_genre[g] = {
            "clips": n_clips, "tracks": n_tracks,
            "clip_accuracy": float(clip_conf[i, i] / n_clips) if n_clips else float("nan"),
            "track_accuracy": float(track_conf[i, i] / n_tracks) if n_tracks else float("nan"),
            "precision": float(clip_conf[i, i] / clip_conf[:, i].sum()) if clip_conf[:, i].sum() else float("nan"),
            "mean_probability": float(probs[truth == i, i].mean()) if n_clips else float("nan"),
        }
    mean = lambda a, b: float(np.mean(a == b)) if len(a) else float("nan")  # noqa: E731
    return Evaluation(split.name, part, split.coverage, tuple(model.genres), mean(pred, truth),
                      mean(track_pred, track_truth), len(ids), len(track_truth), clip_conf, track_conf, per_genre,
                      overlap)
