"""Train a judge on the shipped checkpoints' split, score it on the held-out test part, write it
and its model card."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable


from .. import checks
from ..data import part_genre_counts
from ..errors import AuralizeError
from ..evaluation import track_votes
from ..io import artefact_paths, atomic_write_text
from .base import Judge
from ..data import SHIPPED_SPLIT_SEED, ClipSet, load_clips
from .registry import DEFAULT_SEEDS, OUTSIDE_PANEL, PANEL, check_name, judge_path


@dataclass
class JudgeScore:
    """Accuracy of a judge on one part of the split."""

    part: str
    clip_accuracy: float
    track_accuracy: float
    n_clips: int
    n_tracks: int
    per_genre: dict[str, tuple[int, float]]  # genre -> (tracks, track accuracy)

    def lines(self) -> list[str]:
        return [f"{self.part}: {self.n_clips} clips, {self.n_tracks} tracks",
                f"clip accuracy  {self.clip_accuracy:.3f}", f"track accuracy {self.track_accuracy:.3f}"]


def score_judge(judge: Judge, clips: ClipSet, part: str = "test") -> JudgeScore:
    """Clip accuracy and track accuracy (vote over a track's clips) on one part."""
    ids = clips.split[part]
    probs = judge.probabilities(clips.audio[ids])
    labels, tracks = clips.label[ids], clips.track[ids]
    index = [judge.genres.index(g) for g in clips.genres]  # the judge's genre order may differ
    probs = probs[:, index]
    clip_acc = float((probs.argmax(1) == labels).mean()) if len(ids) else float("nan")
    truth, pred = track_votes(probs, labels, tracks)
    hits = truth == pred
    per_genre = {name: (int((truth == g).sum()), float(hits[truth == g].mean()))
                 for g, name in enumerate(clips.genres) if (truth == g).any()}
    track_acc = float(hits.mean()) if len(hits) else float("nan")
    return JudgeScore(part, clip_acc, track_acc, len(ids), len(hits), per_genre)


@dataclass
class TrainedJudge:
    judge: Judge
    path: Path
    card: Path
    scores: list[JudgeScore]


def train_judge(name: str, data_dir: str | Path, out: str | Path | None = None, seed: int | None = None,
                split_seed: int = SHIPPED_SPLIT_SEED, command: str = "",
                log: Callable[[str], None] = print, force: bool = False) -> TrainedJudge:
    """Train judge ``name`` on the track split (``split_seed``), write it to ``out`` (default the
    panel folder) with a model card beside it (``.md``), and score it on the valid and test parts.

    ``seed`` defaults to the judge's own (1 for the recurrent judges ``lstm-seed1`` and ``lstm-mel``, else 0).
    A shipped judge (or, without ``out``, any judge already there) is replaced only with ``force``;
    that, and that the data has two genres and a validation part, is checked before training.
    """
    cls = check_name(name)
    seed = DEFAULT_SEEDS.get(name, 0) if seed is None else checks.count("seed", seed, 0, 2**32 - 1)
    out, card = artefact_paths(out or judge_path(name), force, default=out is None)
    clips = load_clips(data_dir, split_seed)
    log(clips.dataset.summary())
    log(clips.split.coverage)
    _check_parts(clips)
    judge = cls.fit(clips, seed=seed, log=log)
    judge.name = name
    judge.meta.update({"judge": name, "seed": seed, "split": clips.split.coverage, "command": command})
    scores = [score_judge(judge, clips, part) for part in ("valid", "test")]
    judge.meta["scores"] = {s.part: {"clip_accuracy": s.clip_accuracy, "track_accuracy": s.track_accuracy}
                            for s in scores}
    judge.save(out)
    atomic_write_text(card, model_card(name, judge, clips, scores, command, out))
    return TrainedJudge(judge, out, card, scores)


def _check_parts(clips: ClipSet) -> None:
    """Refuse data a judge cannot learn from: one genre, or no validation part to choose its settings on."""
    trained = sorted({clips.genres[i] for i in clips.label[clips.split["train"]]})
    if len(trained) < 2:
        raise AuralizeError(f"a judge tells genres apart, but the training part holds only {', '.join(trained) or 'none'};"
                            " give data of at least two genres", param="data_dir")
    if len(clips.split["valid"]) == 0 or len(clips.split["test"]) == 0:
        raise AuralizeError("the track split has no validation or test part (a genre needs at least 3 tracks for one "
                            "to be held out); give more tracks per genre", param="data_dir")


def panel_section(name: str) -> str:
    """The card's paragraph on whether the judge votes in the default panel, and why not."""
    if name in PANEL:
        return f"## In the default panel\n\nOne of the default panel's judges ({', '.join(PANEL)}; majority 2 of 3).\n"
    return (f"## Not in the default panel\n\n{OUTSIDE_PANEL.get(name, 'Not one of ' + ', '.join(PANEL) + '.')}\n")


def model_card(name: str, judge: Judge, clips: ClipSet, scores: list[JudgeScore], command: str, path: Path) -> str:
    """The Markdown model card of a trained judge."""
    test = next(s for s in scores if s.part == "test")
    size = path.stat().st_size / 1e6 if path.exists() else 0.0
    counts = part_genre_counts(clips.dataset, clips.split["train"])
    rows = "\n".join(f"| {g} | {n} | {acc:.3f} | {'too few tracks to mean much' if n < 5 else ''} |"
                     for g, (n, acc) in test.per_genre.items())
    metrics = "\n".join(line for s in scores for line in s.lines())
    small = {g: n for g, n in counts.items() if n < 20}
    few = (f"{len(small)} genres have fewer than 20 training tracks ({', '.join(f'{g} {n}' for g, n in small.items())}); "
           "the judge knows them from few songs." if small else "Every genre has at least 20 training tracks.")
    return f"""# Panel judge `{name}` (`trained/panel/{path.name}`)

A held-out listener of auralize's listening panel (issue 8): no dream is optimised against it.
{judge.description}. {size:.2f} MB; loads with `auralize.panel.load_judge("{name}")` (no pickle).

## Made by

```
{command}
```

Seed {judge.meta.get('seed')}. Trained on the TRAIN part of the shipped checkpoints' split, chosen on
its VALID part; the TEST part is held out from the dreaming models and from every judge.

## Data and split

{clips.dataset.summary()}.

Split: **{clips.split.coverage}** (`auralize.make_split(data, "track", seed=0)`, the split of
`trained/lstm.pt`).

Training tracks per genre: {", ".join(f"{g} {n}" for g, n in counts.items())}.

## Metrics

The command above prints:

```
{metrics}
```

Test tracks, per genre:

| genre | tracks | track acc | note |
|---|---|---|---|
{rows}

{panel_section(name)}
## Limitations

- {few}
- 4 kHz audio: nothing above 2 kHz is heard.
- A judge is evidence, not a listener: the panel's worth is that its judges fail in different ways.

## Licence of the data

GTZAN's copyright status is unclear; it is used for research only. This file holds learned
parameters (and feature standardisation statistics), nothing from which the audio could be rebuilt.
"""
