"""Which dreams does the held-out panel hear as their genre, and how much of it comes from the model? (issue 14)

Every candidate is an ``auralize --genre all`` invocation with options. For each seed it is run once with
``--control`` (each dream beside its prior-only control: the same seed and settings, the model switched
off), and on the conflict seeds the conflict test is made (the candidate's model objective for G with the
genre-aware prior pulling to G+1). The WAVs are read back from disk and scored by
``benchmarks/bench_panel.py`` (:func:`candidate_rows`, :func:`run`) beside its reference rows (real test
clips, real clips through the paper grid and Griffin-Lim, noise); the round trip comes from each dream's JSON.

    python scripts/dream_study.py --data ../shared/gtzan4k --seeds 0,1,2

Dreams go to ``runs/dream-study/<candidate>-seed<S>/`` (not the repo); a folder that already holds all
ten dreams is reused, so an interrupted study resumes (``--redo`` makes them again). Models and priors
that only the study uses are made first, under ``runs/dream-study/`` (``MADE``). Writes
``docs/results/dream-study.md`` and ``.json``.
"""
from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))  # this checkout's auralize, not an installed one

import bench_panel  # noqa: E402

from auralize.data import load_clips  # noqa: E402
from auralize.io import atomic_write_text  # noqa: E402
from auralize.panel.scoring import rows_table  # noqa: E402
from auralize.settings import DreamSettings  # noqa: E402

WORK = "runs/dream-study"
LSTM = ["--checkpoint", "trained/lstm.pt"]
#: The shipped dreaming model's recipe (trained/cnn-mel.pt is this with --seed 0 --robust pgd --robust-eps 0.1).
RECIPE = ["train", "--model", "cnn-mel", "--split", "track", "--split-seed", "0", "--weight-decay", "0.001"]
#: What the study makes before dreaming: path -> the auralize command (options) that makes it.
MADE = {
    f"{WORK}/cnn-mel-plain.pt": [*RECIPE, "--seed", "0"],
    f"{WORK}/cnn-mel-noise.pt": [*RECIPE, "--seed", "0", "--robust", "noise", "--robust-eps", "0.5"],
    f"{WORK}/cnn-mel-seed1.pt": [*RECIPE, "--seed", "1", "--robust", "pgd", "--robust-eps", "0.1"],
    f"{WORK}/cnn-mel-seed2.pt": [*RECIPE, "--seed", "2", "--robust", "pgd", "--robust-eps", "0.1"],
    # trained/cnn-mel-trades.pt's recipe with another seed, and with a larger radius
    f"{WORK}/cnn-mel-trades-seed1.pt": [*RECIPE, "--seed", "1", "--robust", "trades", "--robust-eps", "0.15"],
    f"{WORK}/cnn-mel-trades0.25.pt": [*RECIPE, "--seed", "0", "--robust", "trades", "--robust-eps", "0.25"],
    f"{WORK}/cnn-mel-trades0.4.pt": [*RECIPE, "--seed", "0", "--robust", "trades", "--robust-eps", "0.4"],
    # genre-blind priors with several modes (a Gaussian mixture, no labels)
    **{f"{WORK}/music-mix{k}.npz": ["train-prior", "--kind", "music-mix", "--components", str(k)] for k in (4, 8)},
}
#: Ensemble files the study writes (``auralize ensemble``): path -> (members, how they combine, which temperatures
#: are fitted on validation clips: ``--calibrate`` each member's, ``--calibrate-output`` the combined output's).
ENSEMBLES = {
    f"{WORK}/ensemble-min.json": (["trained/cnn-mel.pt", "trained/cnn-mel-trades.pt"], "min", ()),
    f"{WORK}/ensemble-3.json": (["trained/cnn-mel.pt", "trained/cnn-mel-trades.pt", f"{WORK}/cnn-mel-seed1.pt"],
                                "mean", ()),
    f"{WORK}/ensemble-trades0.25.json": (["trained/cnn-mel.pt", f"{WORK}/cnn-mel-trades0.25.pt"], "mean", ()),
    f"{WORK}/ensemble-trades0.4.json": (["trained/cnn-mel.pt", f"{WORK}/cnn-mel-trades0.4.pt"], "mean", ()),
    f"{WORK}/ensemble-2trades.json": (["trained/cnn-mel-trades.pt", f"{WORK}/cnn-mel-trades-seed1.pt"], "mean", ()),
    f"{WORK}/ensemble-pgd-2trades.json": (["trained/cnn-mel.pt", "trained/cnn-mel-trades.pt",
                                           f"{WORK}/cnn-mel-trades-seed1.pt"], "mean", ()),
    f"{WORK}/ensemble-4.json": (["trained/cnn-mel.pt", "trained/cnn-mel-trades.pt", f"{WORK}/cnn-mel-seed1.pt",
                                  f"{WORK}/cnn-mel-trades-seed1.pt"], "mean", ()),
    f"{WORK}/ensemble-5.json": (["trained/cnn-mel.pt", "trained/cnn-mel-trades.pt", f"{WORK}/cnn-mel-seed1.pt",
                                  f"{WORK}/cnn-mel-trades-seed1.pt", f"{WORK}/cnn-mel-seed2.pt"], "mean", ()),
    f"{WORK}/ensemble-2-output.json": (["trained/cnn-mel.pt", "trained/cnn-mel-trades.pt"], "mean",
                                       ("--calibrate-output",)),
    f"{WORK}/ensemble-pgd-2trades-output.json": (["trained/cnn-mel.pt", "trained/cnn-mel-trades.pt",
                                                  f"{WORK}/cnn-mel-trades-seed1.pt"], "mean", ("--calibrate-output",)),
    f"{WORK}/ensemble-4-output.json": (["trained/cnn-mel.pt", "trained/cnn-mel-trades.pt", f"{WORK}/cnn-mel-seed1.pt",
                                         f"{WORK}/cnn-mel-trades-seed1.pt"], "mean", ("--calibrate-output",)),
    f"{WORK}/ensemble-2-calibrated.json": (["trained/cnn-mel.pt", "trained/cnn-mel-trades.pt"], "mean", ("--calibrate",)),
    f"{WORK}/ensemble-3-calibrated.json": (["trained/cnn-mel.pt", "trained/cnn-mel-trades.pt",
                                            f"{WORK}/cnn-mel-trades-seed1.pt"], "mean", ("--calibrate",)),
}
#: name -> (description, options of ``auralize --genre all``).
CANDIDATES = {
    "default": ("the defaults: the ensemble trained/cnn-mel-ensemble.json (mean log-probability of the robust CNN on "
                "log-mel trained with PGD, trained/cnn-mel.pt, and the same CNN trained with TRADES, "
                "trained/cnn-mel-trades.pt), class objective, genre-blind music mixture prior (trained/music-mix-prior.npz, "
                "16 modes, weight 0.1), fine grid, "
                f"{DreamSettings.steps} steps",
                []),
    "cnn-mel": ("the PGD CNN alone (trained/cnn-mel.pt, training seed 0; the default before the ensembles)",
                ["--checkpoint", "trained/cnn-mel.pt"]),
    "cnn-seed1": ("the PGD CNN's recipe, training seed 1", ["--checkpoint", f"{WORK}/cnn-mel-seed1.pt"]),
    "cnn-seed2": ("the PGD CNN's recipe, training seed 2", ["--checkpoint", f"{WORK}/cnn-mel-seed2.pt"]),
    "trades": ("the TRADES CNN alone (clean loss + 6 x KL to the L2 PGD point, eps 0.15; trained/cnn-mel-trades.pt)",
               ["--checkpoint", "trained/cnn-mel-trades.pt"]),
    "ens-min": ("the default ensemble combined by the minimum of the two log-probabilities instead of the mean",
                ["--checkpoint", f"{WORK}/ensemble-min.json"]),
    "ens3": ("the default ensemble and the PGD CNN of training seed 1 (mean of three)",
             ["--checkpoint", f"{WORK}/ensemble-3.json"]),
    "ens-t25": ("the PGD CNN and a TRADES CNN of a larger radius (eps 0.25) instead of the default's 0.15",
                ["--checkpoint", f"{WORK}/ensemble-trades0.25.json"]),
    "ens-t40": ("the PGD CNN and a TRADES CNN of radius 0.4", ["--checkpoint", f"{WORK}/ensemble-trades0.4.json"]),
    "ens-2trades": ("two TRADES CNNs (eps 0.15, training seeds 0 and 1), no PGD member",
                    ["--checkpoint", f"{WORK}/ensemble-2trades.json"]),
    "ens-pgd-2trades": ("the default ensemble and the TRADES CNN of training seed 1 (mean of three)",
                        ["--checkpoint", f"{WORK}/ensemble-pgd-2trades.json"]),
    "ens4": ("the default ensemble, the PGD CNN and the TRADES CNN of training seed 1 (mean of four)",
             ["--checkpoint", f"{WORK}/ensemble-4.json"]),
    "ens5": ("ens4 and the PGD CNN of training seed 2 (mean of five)", ["--checkpoint", f"{WORK}/ensemble-5.json"]),
    "ens2-cal": ("the default ensemble with each member's temperature fitted on its validation clips "
                 "(auralize ensemble --calibrate)", ["--checkpoint", f"{WORK}/ensemble-2-calibrated.json"]),
    "ens3-cal": ("ens-pgd-2trades with each member's temperature fitted on its validation clips",
                 ["--checkpoint", f"{WORK}/ensemble-3-calibrated.json"]),
    "ens2-out": ("the default ensemble with one temperature on its combined output, fitted on validation clips "
                 "(auralize ensemble --calibrate-output): the members keep their weights",
                 ["--checkpoint", f"{WORK}/ensemble-2-output.json"]),
    "ens-pgd-2trades-out": ("ens-pgd-2trades with one temperature on its combined output, fitted on validation clips",
                            ["--checkpoint", f"{WORK}/ensemble-pgd-2trades-output.json"]),
    "ens-pgd-2trades-250": ("ens-pgd-2trades with 250 gradient steps instead of 150",
                            ["--checkpoint", f"{WORK}/ensemble-pgd-2trades.json", "--steps", "250"]),
    "ens-pgd-2trades-p05": ("ens-pgd-2trades with the music prior at half its weight (0.05)",
                            ["--checkpoint", f"{WORK}/ensemble-pgd-2trades.json", "--prior-weight", "0.05"]),
    "ens4-out": ("ens4 with one temperature on its combined output, fitted on validation clips",
                 ["--checkpoint", f"{WORK}/ensemble-4-output.json"]),
    "logodds": ("the defaults with the genre's log-odds, log p / (1 - p), as the objective instead of its "
                "log-probability, which stops rising as p nears 1", ["--objective", "logodds"]),
    "ens2-cal-logodds": ("ens2-cal with the log-odds objective",
                         ["--checkpoint", f"{WORK}/ensemble-2-calibrated.json", "--objective", "logodds"]),
    "neuron": ("the defaults with the paper's objective (the top neuron of the first member's pooled layer + class)", ["--objective", "neuron"]),
    "music": ("the defaults with the genre-blind prior of one Gaussian (--prior music, trained/music-prior.npz): "
              "the default before the mixture", ["--prior", "music"]),
    **{f"mix{k}": (f"the defaults with a genre-blind mixture prior of {k} modes instead of 16 (auralize train-prior "
                   f"--kind music-mix --components {k})", ["--prior", f"{WORK}/music-mix{k}.npz"]) for k in (4, 8)},
    "drawn": ("the defaults with one mode of the mixture drawn per seed (--prior-sample): the prior of one kind of "
              "music, chosen by the seed, not by the genre", ["--prior-sample"]),
    "mix8-drawn": ("mix8 with one of its modes drawn per seed (--prior-sample): the prior of one kind of music, "
                   "chosen by the seed, not by the genre",
                   ["--prior", f"{WORK}/music-mix8.npz", "--prior-sample"]),
    "no-prior": ("the defaults without any prior (--prior-weight 0): the default ensemble alone", ["--prior-weight", "0"]),
    "prior-x3": ("the defaults with the music prior at three times its weight", ["--prior-weight", "0.3"]),
    "plain-cnn": ("the PGD CNN's recipe trained without an adversary", ["--checkpoint", f"{WORK}/cnn-mel-plain.pt"]),
    "noise-cnn": ("the PGD CNN's recipe trained on Gaussian noise instead (sigma 0.5 in its input)",
                  ["--checkpoint", f"{WORK}/cnn-mel-noise.pt"]),
    "lstm": ("the shipped LSTM, the paper's objective (top neuron + class), music prior", LSTM + ["--objective", "neuron"]),
    "lstm-class": ("the shipped LSTM, class objective, music prior", LSTM),
    "lstm-robust": ("the PGD fine-tuned LSTM, class objective, music prior", ["--checkpoint", "trained/lstm-robust.pt"]),
    "lstm-genre-prior": ("the earlier default: the shipped LSTM, the paper's objective, the genre prior (weight 0.5, "
                         "caricature 1)", LSTM + ["--objective", "neuron", "--prior", "genre"]),
}


def needed(names: list[str]) -> set[str]:
    """The models and ensemble files of ``MADE`` and ``ENSEMBLES`` that the candidates ``names`` dream with."""
    paths = {opt for n in names for opt in CANDIDATES[n][1]}
    paths |= {m for p in paths & set(ENSEMBLES) for m in ENSEMBLES[p][0]}
    return paths & (set(MADE) | set(ENSEMBLES))


def make_prerequisites(data: Path, names: list[str]) -> None:
    """Train the study's own models that the candidates ``names`` need (kept, like the dreams, under runs/)."""
    wanted = needed(names)
    for path, command in MADE.items():
        if path in wanted and not (ROOT / path).is_file():
            print(f"making {path}: auralize {' '.join(command)}", file=sys.stderr, flush=True)
            subprocess.run([sys.executable, "-m", "auralize", *command, "--data", str(data), "-o", path, "--quiet"],
                           check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    for path, (members, combine, fitting) in ENSEMBLES.items():
        if path not in wanted:
            continue
        fit = [*fitting, "--data", str(data), "--quiet"] if fitting else []
        subprocess.run([sys.executable, "-m", "auralize", "ensemble", *members, "--combine", combine, *fit, "-o", path],
                       check=True, cwd=ROOT, stdout=subprocess.DEVNULL)


def command(extra: list[str]) -> str:
    return shlex.join(["auralize", "--genre", "all", "--seed", "S", "--control", *extra])


def conflict_of(scored: dict, name: str, seed: int) -> str:
    """Hits of the conflict test: heard as the model's genre / as the prior's."""
    key = f"{name} conflict (model G, genre prior G+1), seed {seed}"
    if f"{key}: heard as G" not in scored:
        return "-"
    return f"{scored[f'{key}: heard as G']['panel_hits']} / {scored[f'{key}: heard as G+1']['panel_hits']}"


def paired_p(scored: dict, name: str, base: str, seeds: list[int]) -> str:
    """The panel's mean p(G) of ``name``'s dreams minus ``base``'s, paired by seed and genre, with its standard error:
    hit counts move by one or two from noise alone, and a pairing on the same seeds and genres removes the part of
    that noise which both candidates share."""
    diffs = []
    for s in seeds:
        mine = {i["target"]: i["p_target"] for i in scored[f"{name}, seed {s}"]["items"]}
        theirs = {i["target"]: i["p_target"] for i in scored[f"{base}, seed {s}"]["items"]}
        diffs += [mine[g] - theirs[g] for g in mine if g in theirs]
    d = np.asarray(diffs)
    return f"{d.mean():+.3f} ± {d.std(ddof=1) / np.sqrt(len(d)):.3f}" if len(d) > 1 else "-"


def summary(scored: dict, trips: dict, controls: dict, names: list[str], seeds: list[int], conflict: list[int]) -> str:
    """One row per candidate: panel hits per seed, its controls', the model's share, the conflict test, round trip."""
    base = "default" if "default" in names else None
    first = next(iter(scored.values()))
    judges = [j for j in first["judge_hits"] if j not in first.get("outside_judges", ())]
    head = ("| candidate | panel hits per seed (of 10) | mean panel p(G) | prior-only control heard as G, per seed | "
            "the model's share (mean; per seed) | conflict: heard as the model's G / the prior's G+1 | "
            + ("p(G) minus the default's, paired (± SE) | " if base else "")
            + " | ".join(f"{j} hits" for j in judges) + " | round trip mean / lowest |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for name in names:
        rows = [scored[f"{name}, seed {s}"] for s in seeds]
        ctrl = [scored[controls[f"{name}, seed {s}"]] for s in seeds if f"{name}, seed {s}" in controls]
        shares = [bench_panel.model_share(r, c) for r, c in zip(rows, ctrl)]
        ps = np.concatenate([trips[f"{name}, seed {s}"] for s in seeds])
        n = sum(r["n_items"] for r in rows)
        lines.append(
            f"| {name} | {' / '.join(str(r['panel_hits']) for r in rows)} | "
            f"{np.mean([r['mean_p_target'] for r in rows]):.3f} | "
            f"{' / '.join(str(c['panel_hits']) for c in ctrl) or '- (no prior)'} | "
            + (f"{np.mean(shares):+.3f}; {' / '.join(f'{v:+.3f}' for v in shares)}" if shares else "-") + " | "
            + ", ".join(conflict_of(scored, name, s) for s in conflict) + " | "
            + (f"{paired_p(scored, name, base, seeds) if name != base else '0 (itself)'} | " if base else "")
            + " | ".join(f"{sum(r['judge_hits'][j] for r in rows)}/{n}" for j in judges)
            + f" | {ps.mean():.3f} / {ps.min():.3f} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="folder of genre folders (GTZAN at 4 kHz)")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--conflict-seeds", default="0")
    ap.add_argument("--candidates", default=",".join(CANDIDATES), help="comma-separated names")
    ap.add_argument("--per-genre", type=int, default=3, help="real test clips per genre in the reference rows")
    ap.add_argument("--redo", action="store_true", help="make dreams again that the folder already holds")
    ap.add_argument("-o", "--out", type=Path, default=ROOT / "docs" / "results" / "dream-study.md")
    args = ap.parse_args()
    names = [c.strip() for c in args.candidates.split(",") if c.strip()]
    unknown = [n for n in names if n not in CANDIDATES]
    if unknown:
        ap.error(f"unknown candidate {unknown[0]!r}; choose from {', '.join(CANDIDATES)}")
    seeds = [int(s) for s in args.seeds.split(",")]
    conflict = [int(s) for s in args.conflict_seeds.split(",") if s.strip()]
    make_prerequisites(args.data, names)
    clips = load_clips(args.data)
    rows, trips, controls, seconds = {}, {}, {}, {}
    for name in names:
        made, t, c, secs = bench_panel.candidate_rows(name, CANDIDATES[name][1], seeds, ROOT / WORK, clips.genres,
                                                      conflict, args.redo, log=lambda m: print(m, file=sys.stderr))
        rows.update(made), trips.update(t), controls.update(c), seconds.update(secs)
    refs = bench_panel.reference_rows(clips, args.per_genre)
    scored = {r["row"]: r for r in bench_panel.run({**refs, **rows}, clips, trips=trips, controls={})}
    goals = "\n\n".join(f"### {name}\n\n" + bench_panel.targets(
        list(scored.values()), trips, {f"{name}, seed {s}": controls[f"{name}, seed {s}"] for s in seeds
                                       if f"{name}, seed {s}" in controls}) for name in names)
    table = summary(scored, trips, controls, names, seeds, conflict)
    candidates = "\n".join(f"- `{n}`: {CANDIDATES[n][0]}.\n  `{command(CANDIDATES[n][1])}`" for n in names)
    rest = [n for n in CANDIDATES if n not in names]
    left_out = ("\nNot in this run (`--candidates` names them): " + "; ".join(f"`{n}`, {CANDIDATES[n][0]}" for n in rest)
                + ".\n") if rest else ""
    wanted = needed(names)
    made = "\n".join(f"- `{p}`: `auralize {' '.join(c)} --data ../shared/gtzan4k -o {p}`" for p, c in MADE.items()
                     if p in wanted)
    made += "".join(f"\n- `{p}`: `auralize ensemble {' '.join(m)} --combine {c}"
                    f"{''.join(f' {f}' for f in fit)}{' --data ../shared/gtzan4k' if fit else ''} -o {p}`"
                    for p, (m, c, fit) in ENSEMBLES.items() if p in wanted)
    run_line = shlex.join(["python", "scripts/dream_study.py", *sys.argv[1:]]).replace(str(args.data),
                                                                                       "../shared/gtzan4k")
    conflict_text = (f"For seeds {args.conflict_seeds} it also makes the conflict test: for each genre G, the "
                     "candidate's model objective for G with the genre-aware prior\n(`trained/genre-prior.npz`, weight "
                     "0.5) pulling to the next genre G+1." if conflict else "No conflict test was made (no conflict "
                     "seeds).")
    text = f"""# Dream study: what the panel hears, and how much of it comes from the model (issue 14)

Made by (on a shared 2-core machine):

    {run_line}

For every candidate below and S in {args.seeds} it runs `auralize --genre all --seed S --control -o DIR --quiet
--no-panel OPTIONS` in a fresh process: ten dreams, and beside each its prior-only control (the same seed
and settings with the model's objective off). {conflict_text} Every WAV is scored as read back from
disk by `benchmarks/bench_panel.py`: the held-out panel (features, cnn, lstm-mel; majority 2 of 3; no judge
is a dreaming model or part of any objective). *The model's share* is, per genre, the panel's p(G) of the
dream minus that of its control, averaged over genres. The round trip is the dreaming model's own p(G) of
its WAV (a sanity check only). Reference rows: 3 real TEST clips per genre (30 items), the same through the
paper grid and Griffin-Lim, and noise.

Models the study makes for itself (not shipped):

{made}

## Candidates

{candidates}
{left_out}

## Summary per candidate (seeds {args.seeds}; conflict on seeds {args.conflict_seeds or 'none'})

{table}

## Issue 14's targets, per candidate

{goals}

## Every row (reference rows first)

{rows_table(list(scored.values()))}
"""
    atomic_write_text(args.out, text)
    atomic_write_text(args.out.with_suffix(".json"),
                      json.dumps({"command": run_line, "candidates": {n: command(CANDIDATES[n][1]) for n in names},
                                  "seconds": seconds, "round_trips": trips, "controls": controls,
                                  "rows": list(scored.values())}, indent=1))
    print(table)
    print(goals)


if __name__ == "__main__":
    main()
