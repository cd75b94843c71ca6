"""The held-out listening panel on dreams and on reference rows (issue 8): one table.

    python benchmarks/bench_panel.py --data ../shared/gtzan4k --seeds 0,1,2 [--pure-neuron]
    python benchmarks/bench_panel.py --data ../shared/gtzan4k --dreams DIR0 --dreams DIR1 ...

``--seeds`` makes the default dreams itself (``auralize --genre all --seed S``, timed; with
``--pure-neuron`` also ``--class-weight 0``), one row per seed; each ``--dreams DIR`` is a folder
of ``<genre>.wav`` made otherwise and becomes one row. Dream rows are checked against issue 8's
targets (printed and written under the table). The reference rows use real clips of the held-out TEST part of the
shipped checkpoints' split (3 tracks per genre, one clip each):

- real test clips (the upper bound);
- the same clips through the paper-grid PSD and Griffin-Lim (100 iterations);
- white noise, and noise with each genre's mean training spectrum (the lower bound).

The panel (``auralize.panel.PANEL``) votes; every other registered judge (``lstm-seed1``) is scored
beside it, alone, so the table shows how each judge fails. Writes ``docs/results/panel.md`` and
``panel.json``. Rows are pluggable: a study script imports
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
from auralize.data import ClipSet, load_clips  # noqa: E402
from auralize.panel.registry import JUDGES, OUTSIDE_PANEL, PANEL  # noqa: E402
from auralize.panel.scoring import build_reference, rows_table, score_row, temporal_table  # noqa: E402

Rows = dict[str, list[tuple[str, np.ndarray]]]
REAL = "real test clips"
MEAN_NOISE = "noise with the genre's mean spectrum"


def real_note(scored: list[dict]) -> str:
    """How many real test clips each judge hears as their genre."""
    real = next((r for r in scored if r["row"] == REAL), None)
    if real is None:
        return ""
    return ("Real test clips heard as their genre, judge by judge: "
            + ", ".join(f"{j} {n}/{real['n_items']}" for j, n in real["judge_hits"].items()) + ".")


def outside_note(scored: list[dict]) -> str:
    """Why the judges outside the panel are out of it, in this run's figures."""
    rows = {r["row"]: r for r in scored}
    dreams = [r for r in scored if r["row"].startswith("dreams")]
    notes = []
    for j in scored[0].get("outside_judges", []) if scored else []:
        figures = [f"the dreams in {sum(r['judge_hits'][j] for r in dreams)} of {sum(r['n_items'] for r in dreams)} "
                   "items"] if dreams else []
        figures += [f"{name} in {rows[name]['judge_hits'][j]} of {rows[name]['n_items']}" for name in (MEAN_NOISE, REAL)
                    if name in rows]
        panel = [k for k in scored[0]["judge_hits"] if k not in scored[0]["outside_judges"]]
        others = [f"{k} {sum(r['judge_hits'][k] for r in dreams)}" for k in panel] if dreams else []
        notes.append(f"Outside the panel, `{j}`: {OUTSIDE_PANEL.get(j, '')} In this run it hears as the target "
                     + ", ".join(figures)
                     + (f" (dream items heard as the target by the panel's judges: {', '.join(others)})" if others else "")
                     + ".")
    return " ".join(notes)


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


def make_dreams(seed: int, folder: Path, extra: list[str]) -> float:
    """``auralize --genre all --seed SEED -o FOLDER [EXTRA]`` in a fresh process; returns its seconds."""
    import subprocess

    started = time.time()
    subprocess.run([sys.executable, "-m", "auralize", "--genre", "all", "--seed", str(seed), "-o", str(folder),
                    "--quiet", "--no-panel", *extra], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return time.time() - started


def round_trips(folder: Path) -> list[float]:
    """The same-model round trip p(target) of each dream in ``folder`` (from its JSON)."""
    from auralize import results

    return [results.read(p, "dream")["round_trip"]["p_target_mean"] for p in sorted(folder.glob("*.json"))]


def targets(scored: list[dict], trips: dict[str, list[float]], pooled: str | None = None) -> str:
    """Issue 8's targets for the dream rows (one per seed), each met or not, in this run's figures.

    ``pooled``: the row of all seeds' dreams together; the nearest genre is then that of each
    genre's set of dreams (as many per genre as seeds, like the real clips' 3 per genre), and the
    per-seed figures are given beside it.
    """
    dreams = [r for r in scored if r["row"] in trips and r["row"] != pooled]
    if not dreams:
        return ""
    lowest = {r["row"]: min(trips[r["row"]]) for r in dreams}
    together = next((r for r in scored if r["row"] == pooled), None)
    per_seed = ", ".join(f"{r['nearest_hits']}" for r in dreams)
    nearest = (("nearest genre by distance = G for at least 8 of 10 (each genre's dreams of all seeds as one set)",
                together["nearest_hits"] >= 8, f"{together['nearest_hits']} (one seed at a time: {per_seed})")
               if together else ("nearest genre by distance = G for at least 8 of 10",
                                 all(r["nearest_hits"] >= 8 for r in dreams), per_seed))
    checks = [
        ("panel majority = G for at least 8 of 10 genres on every seed",
         all(r["panel_hits"] >= 8 for r in dreams), ", ".join(f"{r['panel_hits']}" for r in dreams)),
        ("mean panel p(G) at least 0.5", all(r["mean_p_target"] >= 0.5 for r in dreams),
         ", ".join(f"{r['mean_p_target']:.3f}" for r in dreams)),
        nearest,
        ("no dream nearer to a training clip than the 5th percentile of real-to-real distances",
         all(r["copies"] == 0 for r in dreams), ", ".join(f"{r['copies']} copies" for r in dreams)),
        ("same-model round trip p(G) at least 0.9 for every dream", all(v >= 0.9 for v in lowest.values()),
         ", ".join(f"lowest {v:.3f}" for v in lowest.values())),
    ]
    lines = ["| target | met | figures (one per dream row) |", "|---|---|---|"]
    lines += [f"| {name} | {'yes' if ok else '**no**'} | {figures} |" for name, ok, figures in checks]
    return "\n".join(lines)


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


def run(rows: Rows, clips: ClipSet, out: Path | None = None, note: str = "",
        trips: dict[str, list[float]] | None = None, target_rows: list[str] | None = None,
        pooled: str | None = None) -> list[dict]:
    """Score every row on the panel; write ``out`` (.md and .json) if given.

    ``trips``: for dream rows, each dream's same-model round trip; issue 8's targets are checked on
    ``target_rows`` (default: every row with round trips), ``pooled`` being their seeds together.
    """
    ref = build_reference(clips, outside=[n for n in JUDGES if n not in PANEL])
    scored = []
    for name, items in rows.items():
        started = time.time()
        scored.append(score_row(name, items, ref))
        print(f"{name}: {scored[-1]['panel_hits']}/{len(items)} ({time.time() - started:.1f} s)", file=sys.stderr)
    table = rows_table(scored)
    trips = trips or {}
    checked = {k: v for k, v in trips.items() if target_rows is None or k in target_rows or k == pooled}
    goals = targets(scored, checked, pooled)
    if out is not None:
        text = f"""# The held-out listening panel on dreams and reference rows

Made by `{_command()}`.

Panel: {', '.join(j.name for j in ref.judges)} (trained/panel/, none is part of any dream's
objective). Scored beside it, alone and without a vote: {', '.join(j.name for j in ref.outside) or 'none'}.
{real_note(scored)}

{outside_note(scored)}

Real clips come from the TEST part of the shipped checkpoints' track split (seed 0), held out from the dreaming models and the judges; distances are measured in the `cnn` judge's
64-unit penultimate layer against the TRAIN clips of each genre (kernel distance, KID's cubic
kernel). A copy is an item nearer to a training clip than {ref.threshold:.3f}, the 5th percentile
of the distances of real training clips to their nearest clip of another track. {note}

- *panel majority = target*: items whose majority verdict (at least 2 of the 3 panel judges) is the target genre.
- *genres (of 10)*: the same per genre, averaged over a genre's items.
- *mean panel p(target)*: each panel judge's mean p(target) over the item's clips, averaged over panel judges and items.
- *J hits*: items judge J alone hears as their target (its vote over the item's clips).
- *nearest genre = target*: genres whose items, as a set, are nearest to real clips of their own genre.
- temporal statistics (`auralize.panel.temporal`): modulation depth (dB), share of envelope modulation at
  2-8 Hz, onset-strength coefficient of variation, spectral flux.

{table}

{"## Issue 8's targets (the default dreams)" + chr(10) + chr(10) + goals if goals else ""}

## Temporal statistics per genre, beside real clips

{temporal_table(scored, REAL)}
"""
        atomic_write_text(out.with_suffix(".md"), text)
        atomic_write_text(out.with_suffix(".json"), json.dumps(scored, indent=1))
    print(table)
    if goals:
        print(goals)
    return scored


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="folder of genre folders (GTZAN at 4 kHz)")
    parser.add_argument("--dreams", type=Path, action="append", default=[], help="folder of <genre>.wav (repeatable)")
    parser.add_argument("--seeds", default="", help="make the default dreams for these seeds (e.g. 0,1,2) and score them")
    parser.add_argument("--pure-neuron", action="store_true", help="with --seeds: also the --class-weight 0 dreams")
    parser.add_argument("--per-genre", type=int, default=3, help="real test clips per genre in the reference rows")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-o", "--out", type=Path, default=ROOT / "docs" / "results" / "panel.md")
    parser.add_argument("--note", default="", help="a sentence on how the dreams were made")
    args = parser.parse_args()
    import tempfile

    clips = load_clips(args.data)
    rows = {f"dreams {d.name}": dream_row(d, clips.genres) for d in args.dreams}
    trips = {f"dreams {d.name}": round_trips(d) for d in args.dreams if any(d.glob("*.json"))}
    work = Path(tempfile.mkdtemp(prefix="bench-panel-"))
    variants = [("default", [])] + ([("pure neuron", ["--class-weight", "0"])] if args.pure_neuron else [])
    for seed in [int(s) for s in args.seeds.split(",") if s.strip()]:
        for label, extra in variants:
            folder = work / f"{label.replace(' ', '-')}-seed{seed}"
            seconds = make_dreams(seed, folder, extra)
            name = f"{label} dreams, seed {seed}"
            rows[name], trips[name] = dream_row(folder, clips.genres), round_trips(folder)
            print(f"{name}: made in {seconds:.1f} s", file=sys.stderr)
    seeds = [s for s in args.seeds.split(",") if s.strip()]
    defaults = [f"default dreams, seed {s}" for s in seeds]
    pooled = None
    if len(defaults) > 1:  # each genre's dreams of all seeds as one set, as the real row has 3 clips per genre
        pooled = f"default dreams, seeds {args.seeds} together"
        rows[pooled] = [item for name in defaults for item in rows[name]]
        trips[pooled] = [v for name in defaults for v in trips[name]]
    note = args.note
    if args.seeds and not note:
        note = (f"Dreams: `auralize --genre all --seed S` with the defaults, for S in {args.seeds}"
                + (" (and with `--class-weight 0`, the pure neuron objective)" if args.pure_neuron else "")
                + ", judged as the WAVs read back from disk.")
    rows.update(reference_rows(clips, args.per_genre, args.seed))
    run(rows, clips, args.out, note, trips, target_rows=defaults or None, pooled=pooled)


if __name__ == "__main__":
    main()
