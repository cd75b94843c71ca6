"""The held-out listening panel on dreams and on reference rows (issue 8): one table.

    python benchmarks/bench_panel.py --data ../shared/gtzan4k --dreams DIR0 --dreams DIR1 ...

Each ``--dreams DIR`` is a folder of ``<genre>.wav`` (e.g. ``python -m auralize --genre all --seed S
-o DIR``) and becomes one row. The reference rows use real clips of the held-out TEST part of the
shipped checkpoints' split (3 tracks per genre, one clip each):

- real test clips (the upper bound);
- the same clips through the paper-grid PSD and Griffin-Lim (100 iterations);
- white noise, and noise with each genre's mean training spectrum (the lower bound).

Writes ``docs/results/panel.md`` and ``panel.json``. Rows are pluggable: a study script imports
:func:`reference_rows`, :func:`dream_row` and :func:`run`, and passes its own rows
(``{name: [(genre, audio), ...]}``) to :func:`run`.
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from auralize import features as F  # noqa: E402
from auralize.errors import AuralizeError  # noqa: E402
from auralize.io import atomic_write_text  # noqa: E402
from auralize.panel.data import ClipSet, load_clips  # noqa: E402
from auralize.panel.scoring import build_reference, rows_table, score_row, temporal_table  # noqa: E402

Rows = dict[str, list[tuple[str, np.ndarray]]]
REAL = "real test clips"


def test_clips(clips: ClipSet, per_genre: int = 3) -> list[tuple[str, np.ndarray]]:
    """One middle clip of each of the first ``per_genre`` test tracks of every genre."""
    items = []
    ids = clips.split["test"]
    for g, genre in enumerate(clips.genres):
        tracks = sorted({int(t) for t in clips.track[ids][clips.label[ids] == g]})[:per_genre]
        for t in tracks:
            mine = ids[clips.track[ids] == t]
            items.append((genre, clips.audio[mine[len(mine) // 2]]))
    return items


def paper_grid_griffin_lim(audio: np.ndarray, seed: int = 0) -> np.ndarray:
    """A clip through the paper's 22x513 PSD and back by Griffin-Lim (100 iterations)."""
    from auralize.invert import psd_to_audio

    return np.asarray(psd_to_audio(F.audio_to_psd(audio)[0], n_iter=100, seed=seed), dtype=np.float32)


def shaped_noise(amplitude: np.ndarray, seed: int, rms: float = 0.1) -> np.ndarray:
    """5 s of Gaussian noise whose spectrum follows ``amplitude`` (on the 513 bins of 0-2 kHz)."""
    rng = np.random.default_rng(seed)
    spec = np.fft.rfft(rng.standard_normal(F.CLIP_SAMPLES))
    spec *= np.interp(np.linspace(0, 1, spec.size), np.linspace(0, 1, amplitude.size), amplitude)
    y = np.fft.irfft(spec, n=F.CLIP_SAMPLES)
    return (rms * y / np.sqrt(np.mean(y**2))).astype(np.float32)


def reference_rows(clips: ClipSet, per_genre: int = 3, seed: int = 0) -> Rows:
    """The four reference rows of issue 8."""
    real = test_clips(clips, per_genre)
    train = clips.split["train"]
    mean_spectrum = {g: np.sqrt(clips.dataset.psd[train][clips.label[train] == i].mean(axis=(0, 1)))
                     for i, g in enumerate(clips.genres) if np.any(clips.label[train] == i)}
    flat = np.ones(F.N_BINS)
    return {
        REAL: real,
        "real -> paper-grid PSD -> Griffin-Lim": [(g, paper_grid_griffin_lim(a, seed)) for g, a in real],
        "white noise": [(g, shaped_noise(flat, seed + k)) for k, (g, _) in enumerate(real)],
        "noise with the genre's mean spectrum": [(g, shaped_noise(mean_spectrum[g], seed + k))
                                                 for k, (g, _) in enumerate(real) if g in mean_spectrum],
    }


def dream_row(folder: str | Path, genres) -> list[tuple[str, np.ndarray]]:
    """``<folder>/<genre>.wav`` for every genre present, read back from disk."""
    folder = Path(folder)
    items = [(g, F.load_audio(folder / f"{g}.wav")) for g in genres if (folder / f"{g}.wav").is_file()]
    if not items:
        raise AuralizeError(f"no <genre>.wav dreams in {folder}; make them with 'auralize --genre all -o {folder}'")
    return items


def _command() -> str:
    """This run's command line, without the ``--note`` (which the page quotes in full)."""
    args, shown = sys.argv[1:], []
    while args:
        arg = args.pop(0)
        if arg == "--note":
            args = args[1:]
        elif not arg.startswith("--note="):
            shown.append(arg)
    return shlex.join(["python", "benchmarks/bench_panel.py"] + shown)


def run(rows: Rows, clips: ClipSet, out: Path | None = None, note: str = "") -> list[dict]:
    """Score every row on the panel; write ``out`` (.md and .json) if given."""
    ref = build_reference(clips)
    scored = []
    for name, items in rows.items():
        started = time.time()
        scored.append(score_row(name, items, ref))
        print(f"{name}: {scored[-1]['panel_hits']}/{len(items)} ({time.time() - started:.1f} s)", file=sys.stderr)
    table = rows_table(scored)
    if out is not None:
        text = f"""# The held-out listening panel on dreams and reference rows

Made by `{_command()}`.

Panel: {', '.join(j.name for j in ref.judges)} (trained/panel/, none is part of any dream's
objective). Real clips come from the TEST part of the shipped checkpoints' track split (seed 0),
held out from the dreaming models and the judges; distances are measured in the `cnn` judge's
64-unit penultimate layer against the TRAIN clips of each genre (kernel distance, KID's cubic
kernel). A copy is an item nearer to a training clip than {ref.threshold:.3f}, the 5th percentile
of the distances of real training clips to their nearest clip of another track. {note}

- *panel majority = target*: items whose majority verdict (2 of 3 judges) is the target genre.
- *genres (of 10)*: the same per genre, averaged over a genre's items.
- *mean panel p(target)*: each judge's mean p(target) over the item's clips, averaged over judges and items.
- *nearest genre = target*: genres whose items, as a set, are nearest to real clips of their own genre.
- temporal statistics (`auralize.panel.temporal`): modulation depth (dB), share of envelope modulation at
  2-8 Hz, onset-strength coefficient of variation, spectral flux.

{table}

## Temporal statistics per genre, beside real clips

{temporal_table(scored, REAL)}
"""
        atomic_write_text(out.with_suffix(".md"), text)
        atomic_write_text(out.with_suffix(".json"), json.dumps(scored, indent=1))
    print(table)
    return scored


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="folder of genre folders (GTZAN at 4 kHz)")
    parser.add_argument("--dreams", type=Path, action="append", default=[], help="folder of <genre>.wav (repeatable)")
    parser.add_argument("--per-genre", type=int, default=3, help="real test clips per genre in the reference rows")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-o", "--out", type=Path, default=ROOT / "docs" / "results" / "panel.md")
    parser.add_argument("--note", default="", help="a sentence on how the dreams were made")
    args = parser.parse_args()
    clips = load_clips(args.data)
    rows = {f"dreams {d.name}": dream_row(d, clips.genres) for d in args.dreams}
    rows.update(reference_rows(clips, args.per_genre, args.seed))
    run(rows, clips, args.out, args.note)


if __name__ == "__main__":
    main()
