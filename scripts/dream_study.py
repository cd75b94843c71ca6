"""Which dream recipe does the held-out listening panel hear as the genre? (issue 8, part 2)

Every candidate is an ``auralize --genre all`` invocation with options (the recipes are entries
of the dream package: ``--param fine``, ``--transforms``, ``--copies``, ``--checkpoint``); each
is run per seed in a fresh process (timed, whole process), its WAVs read back from disk and
scored on the current default panel by ``benchmarks/bench_panel.py`` (:func:`run`), beside the
four reference rows and the same-model round trip from each dream's JSON.

    python scripts/dream_study.py --data ../shared/gtzan4k --seeds 0,1,2

Dreams go to ``runs/dream-study/<candidate>-seed<S>/`` (not the repo); a folder that already
holds all ten dreams is reused, so an interrupted study resumes (``--redo`` makes them again).
Writes ``docs/results/dream-study.md`` and ``.json``.
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))  # this checkout's auralize, not an installed one

import bench_panel  # noqa: E402

from auralize.io import atomic_write_text  # noqa: E402
from auralize.data import load_clips  # noqa: E402
from auralize.panel.scoring import rows_table  # noqa: E402

ROBUST = ["--checkpoint", "trained/lstm-robust.pt"]
LSTM = ["--checkpoint", "trained/lstm.pt"]
#: The earlier study's fine-grid recipe (without the genre prior): a 512/128 log-magnitude with
#: Griffin-Lim in the loop, TV 0.02 on it, no L2, 8 transformed copies per step (the fine param's
#: gain, dither and 0-896-sample crop, plus noise at 10-30 dB SNR, a frequency shift within +-2.56
#: bins = +-10 Hz, a time mask <= 3 frames and a frequency mask <= 60 bins).
FINE = ["--param", "fine", "--objective", "class", "--transforms", "noise,freq-shift:2.56,time-mask:3,freq-mask:60",
        "--copies", "8", "--l2", "0", "--tv-time", "0.02", "--tv-freq", "0.02", "--prior-weight", "0"]
#: A prior without the random-filter texture statistic (made by the study itself, see ``PRIORS``).
NO_TEXTURE = "runs/dream-study/prior-no-texture.npz"
#: Priors the study fits before dreaming: path -> ``auralize train-prior`` options.
PRIORS = {NO_TEXTURE: ["--statistics", "level,spread,correlation,modulation,rhythm,onsets"]}
#: name -> (description, options of ``auralize --genre all``).
CANDIDATES = {
    "default": ("the defaults: shipped LSTM, neuron + class objective, fine grid, genre prior (weight 0.5, "
                "caricature 1), 200 steps", []),
    "class": ("the defaults with the class objective only (no neuron)", ["--objective", "class"]),
    "robust": ("the defaults through the robust LSTM (PGD fine-tuned), class objective", ROBUST + ["--objective", "class"]),
    "no-prior": ("the defaults without the genre prior (--prior-weight 0): the model's objective alone on the fine grid",
                 ["--prior-weight", "0"]),
    "plain-mean": ("the prior's target is the genre's plain mean (--caricature 0)", ["--caricature", "0"]),
    "no-texture": ("a prior without the random-filter texture statistic", ["--prior", NO_TEXTURE]),
    "prior-x2": ("the prior at twice the default weight", ["--prior-weight", "1"]),
    "paper": ("the earlier default: paper-grid spectrogram param (no prior, which needs audio), neuron + class, "
              "150 steps, Griffin-Lim", ["--param", "spectrogram", "--steps", "150"]),
    "robust-fine": ("the earlier study's best: robust LSTM, class objective, fine grid + transforms, 8 copies, "
                    "no prior", ROBUST + FINE),
    "lstm-fine": ("the same recipe through the shipped LSTM", LSTM + FINE),
    "robust-spec": ("robust LSTM, class objective, paper-grid spectrogram param",
                    ROBUST + ["--objective", "class", "--param", "spectrogram", "--steps", "150"]),
}


def fit_priors(data_dir: Path) -> None:
    """Fit the priors some candidates use (kept, like the dreams, under runs/)."""
    import subprocess

    for path, options in PRIORS.items():
        if not (ROOT / path).is_file():
            subprocess.run([sys.executable, "-m", "auralize", "train-prior", "--data", str(data_dir), "-o", path,
                            "--quiet", *options], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)


def together(name: str) -> str:
    """The row of a candidate's dreams of every seed as one set."""
    return f"{name}, seeds together"


def command(extra: list[str]) -> str:
    return shlex.join(["auralize", "--genre", "all", "--seed", "S", *extra])


def make(name: str, seed: int, folder: Path, redo: bool) -> float | None:
    """The candidate's dreams for one seed; its whole-process seconds, or ``None`` when reused."""
    if not redo and len(list(folder.glob("*.json"))) == 10:
        return None
    return bench_panel.make_dreams(seed, folder, CANDIDATES[name][1])


def summary(scored: dict, trips: dict, seconds: dict, names: list[str], seeds: list[int]) -> str:
    """Per candidate: panel hits per seed, mean p(G), each judge's hits, round trip, seconds."""
    first = next(iter(scored.values()))
    judges, outside = list(first["judge_hits"]), set(first.get("outside_judges", ()))
    head = ("| candidate | panel hits per seed (of 10) | mean panel p(G) | "
            + " | ".join(f"{j} hits" + (" (outside the panel)" if j in outside else "") for j in judges)
            + " | nearest genre = G (seeds together; per seed) | copies | round trip p mean / min (per dream) | s per 10 genres |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for name in names:
        rows = [scored[f"{name}, seed {s}"] for s in seeds]
        ps = np.concatenate([trips[f"{name}, seed {s}"] for s in seeds])
        secs = [seconds[f"{name}, seed {s}"] for s in seeds if seconds.get(f"{name}, seed {s}")]
        n = sum(r["n_items"] for r in rows)
        lines.append(f"| {name} | {' / '.join(str(r['panel_hits']) for r in rows)} | "
                     f"{np.mean([r['mean_p_target'] for r in rows]):.3f} | "
                     + " | ".join(f"{sum(r['judge_hits'][j] for r in rows)}/{n}" for j in judges)
                     + f" | {scored[together(name)]['nearest_hits']}; {' / '.join(str(r['nearest_hits']) for r in rows)} | "
                     f"{sum(r['copies'] for r in rows)}/{n} | "
                     f"{ps.mean():.3f} / {ps.min():.3f} | {f'{np.mean(secs):.0f}' if secs else '-'} |")
    return "\n".join(lines)


def robust_table(paths: list[Path], data_dir: Path, eps_list=(0.0, 0.05, 0.1)) -> str:
    """Test-clip accuracy of checkpoints, clean and under L2 PGD (5 steps) of each RMS radius."""
    import torch

    from auralize.checkpoint import load_model
    from auralize.data import load_dataset, make_split
    from auralize.robust import robust_accuracy

    data = load_dataset(data_dir, progress=False)
    ids = make_split(data, "track", seed=0)["test"]
    y = torch.from_numpy(data.label[ids])
    lines = ["| checkpoint | " + " | ".join(f"PGD eps {e:g}" if e else "clean" for e in eps_list) + " |",
             "|---|" + "---|" * len(eps_list)]
    for path in paths:
        model = load_model(path)
        x = torch.from_numpy(model.scaler.transform(data.psd[ids]).astype(np.float32))
        lines.append(f"| {Path(path).name} | " + " | ".join(f"{robust_accuracy(model, x, y, e):.3f}" for e in eps_list)
                     + " |")
    return "\n".join(lines)


def wav_row(folder: Path, genres) -> list:
    """Every ``<genre>.wav`` or ``NN-<genre>.wav`` in ``folder`` (not the -22050 copies), read back."""
    from auralize import features as F

    items = [(p.stem.split("-")[-1], F.load_audio(p)) for p in sorted(folder.glob("*.wav"))
             if p.stem.split("-")[-1] in genres]
    if not items:
        raise SystemExit(f"no <genre>.wav in {folder}")
    return items


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="folder of genre folders (GTZAN at 4 kHz)")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--candidates", default=",".join(CANDIDATES), help="comma-separated names")
    ap.add_argument("--per-genre", type=int, default=3, help="real test clips per genre in the reference rows")
    ap.add_argument("--wavs", type=Path, default=ROOT / "runs" / "dream-study", help="where the dreams go")
    ap.add_argument("--redo", action="store_true", help="make dreams again that the folder already holds")
    ap.add_argument("-o", "--out", type=Path, default=ROOT / "docs" / "results" / "dream-study.md")
    ap.add_argument("--rescore", type=Path, action="append", default=[], metavar="DIR",
                    help="also score a folder of WAVs made otherwise (e.g. by an earlier version), as a row of its own")
    ap.add_argument("--note", default="", help="a paragraph for the page (e.g. where --rescore folders come from)")
    ap.add_argument("--robust-accuracy", type=Path, nargs="+", default=None, metavar="CKPT",
                    help="only print these checkpoints' test-clip accuracy, clean and under L2 PGD")
    args = ap.parse_args()
    if args.robust_accuracy:
        print(robust_table(args.robust_accuracy, args.data))
        return
    names = [c.strip() for c in args.candidates.split(",") if c.strip()]
    unknown = [n for n in names if n not in CANDIDATES]
    if unknown:
        ap.error(f"unknown candidate {unknown[0]!r}; choose from {', '.join(CANDIDATES)}")
    seeds = [int(s) for s in args.seeds.split(",")]
    saved = json.loads(args.out.with_suffix(".json").read_text()) if args.out.with_suffix(".json").is_file() else {}
    seconds = saved.get("seconds", {})
    clips = load_clips(args.data)
    fit_priors(args.data)
    rows, trips = {}, {}
    for seed in seeds:
        for name in names:
            key, folder = f"{name}, seed {seed}", args.wavs / f"{name}-seed{seed}"
            made = make(name, seed, folder, args.redo)
            seconds[key] = made if made is not None else seconds.get(key)
            rows[key], trips[key] = bench_panel.dream_row(folder, clips.genres), bench_panel.round_trips(folder)
            print(f"{key}: {'made in %.1f s' % made if made is not None else 'reused'}", file=sys.stderr, flush=True)
    for name in names:  # each genre's dreams of all seeds as one set, for the nearest genre
        rows[together(name)] = [item for seed in seeds for item in rows[f"{name}, seed {seed}"]]
    refs = bench_panel.reference_rows(clips, args.per_genre)
    extra = {f"rescored {d.parent.name}/{d.name}": wav_row(d, clips.genres) for d in args.rescore}
    scored = {r["row"]: r for r in bench_panel.run({**refs, **rows, **extra}, clips, trips=trips)}
    goals = "\n\n".join(f"### {name}\n\n" + bench_panel.targets(
        [scored[f"{name}, seed {s}"] for s in seeds] + [scored[together(name)]],
        {**{f"{name}, seed {s}": trips[f"{name}, seed {s}"] for s in seeds},
         together(name): [v for s in seeds for v in trips[f"{name}, seed {s}"]]}, together(name))
        for name in names)
    rescored = ("\nRows named `rescored DIR` are WAVs made elsewhere (given with `--rescore`), scored on the same panel; "
                "they have no round trip and no timing here.\n" if extra else "")
    rescored += f"\n{args.note}\n" if args.note else ""
    candidates = "\n".join(f"- `{n}`: {CANDIDATES[n][0]}.\n  `{command(CANDIDATES[n][1])}`" for n in names)
    shown = [a for i, a in enumerate(sys.argv[1:]) if a != "--note" and (i == 0 or sys.argv[i] != "--note")]
    run_line = shlex.join(["python", "scripts/dream_study.py", *shown]).replace(str(args.data), "../shared/gtzan4k")
    text = f"""# Dream study on the current panel (issue 8, part 2)

Made by (with `OMP_NUM_THREADS=1 nice -n 5`):

    {run_line}

which runs, for every candidate below and S in {args.seeds}, `auralize --genre all --seed S -o DIR --quiet
--no-panel OPTIONS` in a fresh process (the seconds are that whole process, ten 5-s dreams, on a
shared 2-core machine, averaged over the seeds whose timing was recorded when their dreams were
made; a folder reused from an interrupted run has none), then scores the WAVs as read back from disk with `benchmarks/bench_panel.py`'s
`run`: panel {', '.join(j for j in next(iter(scored.values()))['judge_hits'] if j not in next(iter(scored.values())).get('outside_judges', []))}
(majority 2 of 3; no judge is a dreaming model or part of any objective). Reference rows: 3 real
TEST clips per genre (30 items). The round trip is each dream's own model p(G) from its JSON.
Figures from an earlier panel (with `lstm-seed1` voting) are superseded and not repeated here;
`lstm-seed1` is still scored beside the panel, alone and without a vote.
{rescored}
## Candidates

{candidates}

## Summary per candidate (seeds {args.seeds})

{summary(scored, trips, seconds, names, seeds)}

## Issue 8's targets, per candidate

{goals}

## Every row (reference rows first)

{rows_table(list(scored.values()))}
"""
    atomic_write_text(args.out, text)
    atomic_write_text(args.out.with_suffix(".json"),
                      json.dumps({"command": run_line, "candidates": {n: command(CANDIDATES[n][1]) for n in names},
                                  "seconds": seconds, "round_trips": trips, "rows": list(scored.values())}, indent=1))
    print(summary(scored, trips, seconds, names, seeds))
    print(goals)


if __name__ == "__main__":
    main()
