"""The held-out listening panel on dreams, their controls and reference rows (issues 8 and 14): one table.

    python benchmarks/bench_panel.py --data ../shared/gtzan4k --seeds 0,1,2 --blind-seeds 0-9 [--options="..."]
    python benchmarks/bench_panel.py --data ../shared/gtzan4k --dreams DIR0 --dreams DIR1 ...

``--seeds`` makes the default dreams (``auralize --genre all --seed S --control [OPTIONS]``, timed) with
their prior-only controls (the same seeds and settings, the model's objective off), one row each per
seed, and for ``--conflict-seeds`` the conflict test (the model's objective for G, the genre-aware prior
for G+1). Each ``--dreams DIR`` is a folder of ``<genre>.wav`` made otherwise and becomes one row. Issue
14's targets (printed and written under the table) are checked on the dream rows and their controls:
what the panel hears and how much of it the model contributes. ``--blind-seeds`` checks that the prior
knows no genre: the prior alone from noise, for each seed, the same bytes for two genres, and what the
panel hears in it against chance. The reference rows use real clips of the
held-out TEST part of the shipped checkpoints' split (3 tracks per genre, one clip each):

- real test clips (the upper bound);
- the same clips through the paper-grid PSD and Griffin-Lim (100 iterations);
- white noise, and noise with each genre's mean training spectrum (the lower bound).

The panel (``auralize.panel.PANEL``) votes; every other registered judge (``lstm-seed1``) is scored
beside it, alone, so the table shows how each judge fails. Writes ``docs/results/panel.md`` and
``panel.json``. Rows are pluggable: a study script imports :func:`candidate_rows` (a candidate's dreams,
controls and conflict test), :func:`reference_rows` and :func:`run`, and passes its rows
(``{name: [(genre, audio), ...]}``) to :func:`run`.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from auralize import features as F  # noqa: E402
from auralize.errors import AuralizeError  # noqa: E402
from auralize.finemel import LEVEL_RMS  # noqa: E402
from auralize.io import atomic_write_text  # noqa: E402
from auralize.data import ClipSet, load_clips  # noqa: E402
from auralize.panel.registry import JUDGES, OUTSIDE_PANEL, PANEL  # noqa: E402
from auralize.panel.scoring import build_reference, rows_table, score_row, temporal_table  # noqa: E402
from auralize.references import mean_spectrum, shaped_noise, test_clips  # noqa: E402

Rows = dict[str, list[tuple[str, np.ndarray]]]
REAL = "real test clips"
GENRE_PRIOR = ROOT / "trained" / "genre-prior.npz"
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


def paper_grid_griffin_lim(audio: np.ndarray, seed: int = 0) -> np.ndarray:
    """A clip through the paper's 22x513 PSD and back by Griffin-Lim (100 iterations)."""
    from auralize.invert import psd_to_audio

    return np.asarray(psd_to_audio(F.audio_to_psd(audio)[0], n_iter=100, seed=seed), dtype=np.float32)


def reference_rows(clips: ClipSet, per_genre: int = 3, seed: int = 0) -> Rows:
    """The four reference rows of issue 8."""
    real = test_clips(clips, per_genre)
    train = clips.split["train"]
    spectra = {g: mean_spectrum(clips, g) for i, g in enumerate(clips.genres) if np.any(clips.label[train] == i)}
    flat = np.ones(F.N_BINS)
    return {
        REAL: real,
        "real -> paper-grid PSD -> Griffin-Lim": [(g, paper_grid_griffin_lim(a, seed)) for g, a in real],
        "white noise": [(g, shaped_noise(flat, seed + k)) for k, (g, _) in enumerate(real)],
        "noise with the genre's mean spectrum": [(g, shaped_noise(spectra[g], seed + k))
                                                 for k, (g, _) in enumerate(real) if g in spectra],
    }


def dream_row(folder: str | Path, genres, suffix: str = "") -> list[tuple[str, np.ndarray]]:
    """``<folder>/<genre><suffix>.wav`` for every genre present (``-control``: the controls), read back from disk."""
    folder = Path(folder)
    items = [(g, F.load_audio(folder / f"{g}{suffix}.wav")) for g in genres if (folder / f"{g}{suffix}.wav").is_file()]
    if not items:
        raise AuralizeError(f"no <genre>{suffix}.wav dreams in {folder}; make them with 'auralize --genre all -o {folder}'")
    return items


def make_dreams(seed: int, folder: Path, extra: list[str], control: bool = True) -> float:
    """``auralize --genre all --seed SEED -o FOLDER [--control] [EXTRA]`` in a fresh process; returns its seconds."""
    started = time.time()
    subprocess.run([sys.executable, "-m", "auralize", "--genre", "all", "--seed", str(seed), "-o", str(folder),
                    "--quiet", "--no-panel", *(["--control"] if control else []), *extra], check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)
    return time.time() - started


def conflict_options(extra: list[str]) -> list[str]:
    """A candidate's options with its prior replaced by the genre-aware shipped prior at the default weight."""
    kept, args = [], list(extra)
    while args:
        arg = args.pop(0)
        if arg in ("--prior", "--prior-weight", "--prior-genre"):
            args = args[1:]
        elif not arg.startswith(("--prior=", "--prior-weight=", "--prior-genre=")):
            kept.append(arg)
    return kept + ["--prior", str(GENRE_PRIOR), "--prior-weight", "0.5"]


def make_conflict(seed: int, folder: Path, extra: list[str], genres) -> None:
    """The conflict test: for each genre G, the candidate's model objective for G with the genre prior pulling
    to the next genre G+1 (``--prior-genre``), ``<folder>/<G>.wav``; in this process, one dream at a time."""
    from click.testing import CliRunner

    from auralize.cli import cli

    for k, genre in enumerate(genres):
        if (folder / f"{genre}.json").is_file():
            continue
        args = ["--genre", genre, "--seed", str(seed), "-o", str(folder / f"{genre}.wav"), "--quiet", "--no-panel",
                *conflict_options(extra), "--prior-genre", genres[(k + 1) % len(genres)]]
        result = CliRunner().invoke(cli, args)
        if result.exit_code:
            raise AuralizeError(f"the conflict dream of {genre} failed: {result.output.strip()}")


def next_genre_row(items: list[tuple[str, np.ndarray]], genres) -> list[tuple[str, np.ndarray]]:
    """The same audio with each target moved to the next genre: what a conflict dream's prior asked for."""
    return [(genres[(list(genres).index(g) + 1) % len(genres)], a) for g, a in items]


def round_trips(folder: Path) -> list[float]:
    """The same-model round trip p(target) of each dream in ``folder`` (from its JSON; controls left out)."""
    from auralize import results

    # a folder of dreams may hold other results too (a quiz's key and scores: auralize listen)
    read = [results.read(p, "dream") for p in sorted(folder.glob("*.json")) if results.kind_of(p) == "dream"]
    return [d["round_trip"]["p_target_mean"] for d in read if "role" not in d]  # not a control of either kind


def model_share(dream: dict, control: dict) -> float:
    """Mean over a row's items of panel p(G) of the dream minus that of its control (same genres, same order)."""
    mine = {i["target"]: i["p_target"] for i in control["items"]}
    return float(np.mean([i["p_target"] - mine[i["target"]] for i in dream["items"]]))


def targets(scored: list[dict], trips: dict[str, list[float]], controls: dict[str, str]) -> str:
    """Issue 14's targets for a candidate's dream rows (one per seed), each met or not, in this run's figures.

    ``controls`` maps each dream row to its prior-only control's row.
    """
    by_name = {r["row"]: r for r in scored}
    dreams = [by_name[name] for name in controls]
    if not dreams:
        return ""
    ctrl = [by_name[controls[r["row"]]] for r in dreams]
    shares = [model_share(d, c) for d, c in zip(dreams, ctrl)]
    lowest = [min(trips[r["row"]]) for r in dreams]
    checks = [
        ("panel majority = G for at least 8 of 10 genres on every seed", all(r["panel_hits"] >= 8 for r in dreams),
         ", ".join(f"{r['panel_hits']}" for r in dreams)),
        ("the prior-only control heard as G in at most 2 of 10 on every seed", all(c["panel_hits"] <= 2 for c in ctrl),
         ", ".join(f"{c['panel_hits']}" for c in ctrl)),
        ("the model's share (panel p(G) of the dream minus its control), mean over genres and seeds, at least 0.4",
         float(np.mean(shares)) >= 0.4, f"{np.mean(shares):+.3f} (per seed: {', '.join(f'{v:+.3f}' for v in shares)})"),
        ("same-model round trip p(G) at least 0.9 for every dream", all(v >= 0.9 for v in lowest),
         ", ".join(f"lowest {v:.3f}" for v in lowest)),
        ("no dream nearer to a training clip than the 5th percentile of real-to-real distances",
         all(r["copies"] == 0 for r in dreams), ", ".join(f"{r['copies']} copies" for r in dreams)),
    ]
    lines = ["| target | met | figures (one per seed) |", "|---|---|---|"]
    lines += [f"| {name} | {'yes' if ok else '**no**'} | {figures} |" for name, ok, figures in checks]
    return "\n".join(lines)


def candidate_rows(name: str, extra: list[str], seeds: list[int], work: Path, genres, conflict_seeds: list[int],
                   redo: bool = False, log=print) -> tuple[Rows, dict, dict, dict]:
    """A candidate's rows: per seed its dreams and their prior-only controls (one ``--control`` run), and for
    ``conflict_seeds`` the conflict test (scored for the model's genre and for the prior's).

    Returns the rows, each dream row's round trips, each dream row's control row, and the seconds per seed.
    Folders that already hold every dream are reused (``redo`` makes them again).
    """
    rows, trips, controls, seconds = {}, {}, {}, {}
    control = "--prior-weight" not in extra or extra[extra.index("--prior-weight") + 1] not in ("0", "0.0")
    for seed in seeds:
        folder = work / f"{name}-seed{seed}"
        key = f"{name}, seed {seed}"
        if redo or len(round_trips(folder) if folder.is_dir() else []) < len(genres):
            seconds[key] = make_dreams(seed, folder, extra, control)
            log(f"{key}: made in {seconds[key]:.1f} s")
        rows[key], trips[key] = dream_row(folder, genres), round_trips(folder)
        if control:
            rows[controls.setdefault(key, f"{name} prior-only control, seed {seed}")] = dream_row(folder, genres,
                                                                                                  "-control")
        if any((folder / f"{g}-component-control.wav").is_file() for g in genres):  # a mixture prior's
            rows[f"{name} prior alone at each dream's mixture component, seed {seed}"] = dream_row(
                folder, genres, "-component-control")
    for seed in conflict_seeds:
        folder = work / f"{name}-conflict-seed{seed}"
        make_conflict(seed, folder, extra, genres)
        items = dream_row(folder, genres)
        rows[f"{name} conflict (model G, genre prior G+1), seed {seed}: heard as G"] = items
        rows[f"{name} conflict (model G, genre prior G+1), seed {seed}: heard as G+1"] = next_genre_row(items, genres)
    return rows, trips, controls, seconds


def blind_prior(seeds: list[int], work: Path, genres, extra: list[str], log=print) -> str:
    """Issue 14's genre-blindness check of the default prior: the prior alone (``--model-weight 0``) from noise,
    one dream per seed, for two genres; the two must be the same bytes (the prior knows no genre), and the
    panel's verdicts over the seeds are compared with chance (each of the genres equally likely). The same for
    the prior centred on a draw per seed (``--prior-sample``), and, as the reference, seeded white noise at the
    dreams' level, which holds no genre at all. Each is also given judge by judge."""
    from auralize import judge

    def heard(name: str, verdicts: list) -> str:
        """The panel's verdicts over the seeds, chance's p for the most frequent genre, and each judge's tally."""
        counts = tally([v.majority or "split" for v in verdicts])
        most = max((n for v, n in counts.items() if v != "split"), default=0)
        p = most_often_p(most, len(seeds), len(genres))
        judges = "; ".join(f"{j.judge} " + ", ".join(f"{g} {n}" for g, n in tally(
            [v.verdicts[k].genre for v in verdicts]).items()) for k, j in enumerate(verdicts[0].verdicts))
        return (f"{name}: the panel hears " + ", ".join(f"{v} {n}" for v, n in counts.items())
                + f" of {len(seeds)} (chance of one genre {most} or more times: p = {p:.2g}, 10 genres equally "
                f"likely, union bound); judge by judge: {judges}.")

    lines = []
    for label, folder_name, options in (("The prior alone", "prior-alone", []),
                                        ("The prior alone, centred on a draw per seed (`--prior-sample`)",
                                         "prior-drawn", ["--prior-sample"])):
        verdicts, same = [], 0
        for seed in seeds:
            folder = work / f"{folder_name}-seed{seed}"
            wavs = [folder / f"{g}.wav" for g in genres[:2]]
            if not all(w.is_file() for w in wavs):
                subprocess.run([sys.executable, "-m", "auralize", "--genre", ",".join(genres[:2]), "--seed",
                                str(seed), "--model-weight", "0", *options, "-o", str(folder), "--quiet",
                                "--no-panel", *extra], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
            same += len({hashlib.sha256(w.read_bytes()).hexdigest() for w in wavs}) == 1
            verdicts.append(judge(wavs[0])[0])
            log(f"{label}, seed {seed}: the panel hears {verdicts[-1].majority or 'split'}")
        command = shlex.join(["auralize", "--genre", ",".join(genres[:2]), "--seed", "S", "--model-weight", "0",
                              *options, *extra])
        lines.append(heard(f"{label} (`{command}`, S in {seeds[0]}..{seeds[-1]}; the two genres' dreams are the "
                           f"same bytes for {same} of {len(seeds)} seeds)", verdicts))
    noise = [judge(shaped_noise(np.ones(F.N_BINS), seed, LEVEL_RMS), sr=F.SAMPLE_RATE)[0] for seed in seeds]
    lines.append(heard(f"For comparison, white noise at the dreams' level (RMS {LEVEL_RMS}, seeded by S), which "
                       "holds no genre", noise))
    return "\n\n".join(lines)


def most_often_p(most: int, seeds: int, genres: int) -> float:
    """Chance's p that one genre is heard ``most`` or more times in ``seeds`` verdicts, each verdict one of ``genres``
    equally likely genres (union bound over the genres; 1 when ``most`` is 0)."""
    from scipy.stats import binom

    return min(1.0, genres * float(binom.sf(most - 1, seeds, 1 / genres))) if most else 1.0


def real_clips_heard(clips: ClipSet) -> str:
    """What the panel hears in every TEST clip of the real data: per genre, the share of clips whose majority verdict
    is their genre; their sum is how many genres one real test clip per genre is heard as on average, the figure
    to set beside a dream row's "panel majority = target"."""
    from auralize import judge

    ids = clips.split["test"]
    heard = np.array([v.majority or "split" for v in judge(clips.audio[ids], sr=F.SAMPLE_RATE)])
    labels = np.array([clips.genres[i] for i in clips.label[ids]])
    shares = {g: float(np.mean(heard[labels == g] == g)) for g in clips.genres if np.any(labels == g)}
    return (f"The panel on every real TEST clip ({len(ids)} clips of {len(set(clips.track[ids].tolist()))} tracks): "
            "each genre's share of clips whose majority verdict is their genre: "
            + ", ".join(f"{g} {v:.2f} ({int(np.sum(labels == g))} clips)" for g, v in shares.items())
            + f". One real test clip per genre is heard as its genre in {sum(shares.values()):.1f} of "
            f"{len(shares)} genres on average, what the panel achieves on real music, to set beside a dream row's "
            "\"panel majority = target\".")


def tally(verdicts: list[str]) -> dict[str, int]:
    """How often each verdict occurs, the most frequent first (ties by name: the same text on every run)."""
    return {v: verdicts.count(v) for v in sorted(set(verdicts), key=lambda v: (-verdicts.count(v), v))}


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
        trips: dict[str, list[float]] | None = None, controls: dict[str, str] | None = None) -> list[dict]:
    """Score every row on the panel; write ``out`` (.md and .json) if given.

    ``trips``: for dream rows, each dream's same-model round trip; ``controls``: each dream row's
    prior-only control row, on which issue 14's targets are checked (:func:`targets`).
    """
    ref = build_reference(clips, outside=[n for n in JUDGES if n not in PANEL])
    scored = []
    for name, items in rows.items():
        started = time.time()
        scored.append(score_row(name, items, ref))
        print(f"{name}: {scored[-1]['panel_hits']}/{len(items)} ({time.time() - started:.1f} s)", file=sys.stderr)
    table = rows_table(scored)
    goals = targets(scored, trips or {}, controls or {})
    if out is not None:
        text = f"""# The held-out listening panel on dreams, their controls and reference rows

Made by `{_command()}`.

Panel: {', '.join(j.name for j in ref.judges)} (trained/panel/, none is part of any dream's
objective). Scored beside it, alone and without a vote: {', '.join(j.name for j in ref.outside) or 'none'}.
{real_note(scored)}

{outside_note(scored)}

Real clips come from the TEST part of the shipped checkpoints' track split (seed 0), held out from the dreaming
models and the judges; distances are measured in the `cnn` judge's 64-unit penultimate layer against the TRAIN
clips of each genre (kernel distance, KID's cubic kernel). A copy is an item nearer to a training clip than
{ref.threshold:.3f}, the 5th percentile of the distances of real training clips to their nearest clip of another
track. {note}

- *prior-only control*: the same dream (seed, settings) with the model's objective off (`--control`): what the prior
  alone makes. *The model's share* is the panel's p(G) of a dream minus that of its control.
- *conflict*: the model's objective for G with the genre-aware prior pulling to the next genre G+1
  (`--prior trained/genre-prior.npz --prior-genre G+1`), scored for G and for G+1: who wins, model or prior?
- *panel majority = target*: items whose majority verdict (at least 2 of the 3 panel judges) is the target genre.
- *genres (of 10)*: the same per genre, averaged over a genre's items.
- *mean panel p(target)*: each panel judge's mean p(target) over the item's clips, averaged over panel judges and items.
- *J hits*: items judge J alone hears as their target (its vote over the item's clips).
- *nearest genre = target*: genres whose items, as a set, are nearest to real clips of their own genre.
- temporal statistics (`auralize.panel.temporal`): modulation depth (dB), share of envelope modulation at
  2-8 Hz, onset-strength coefficient of variation, spectral flux.

{table}

{"## Issue 14's targets" + chr(10) + chr(10) + goals if goals else ""}

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
    parser.add_argument("--seeds", default="", help="make the default dreams (and controls) for these seeds, e.g. 0,1,2")
    parser.add_argument("--conflict-seeds", default="0", help="seeds of the conflict test (empty: none)")
    parser.add_argument("--options", default="",
                        help="options of 'auralize --genre all' for the dreams, as --options='--steps 400' (with '=': "
                             "a value that starts with -- is otherwise read as an option of this script)")
    parser.add_argument("--per-genre", type=int, default=3, help="real test clips per genre in the reference rows")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", type=Path, default=None, help="where the dreams go (default: a fresh temporary folder)")
    parser.add_argument("-o", "--out", type=Path, default=ROOT / "docs" / "results" / "panel.md")
    parser.add_argument("--note", default="", help="a sentence on how the dreams were made")
    parser.add_argument("--blind-seeds", default="", help="the prior-alone check for these seeds, e.g. 0-9 (empty: none)")
    args = parser.parse_args()
    import tempfile

    clips = load_clips(args.data)
    rows = {f"dreams {d.name}": dream_row(d, clips.genres) for d in args.dreams}
    trips = {f"dreams {d.name}": round_trips(d) for d in args.dreams if any(d.glob("*.json"))}
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    controls = {}
    if seeds:
        made, t, controls, _ = candidate_rows("default", shlex.split(args.options), seeds,
                                              args.work or Path(tempfile.mkdtemp(prefix="bench-panel-")), clips.genres,
                                              [int(s) for s in args.conflict_seeds.split(",") if s.strip()],
                                              log=lambda m: print(m, file=sys.stderr))
        rows.update(made)
        trips.update(t)
    note = args.note
    if seeds and not note:
        note = (f"Dreams: `auralize --genre all --seed S --control {args.options}`".replace(" `", "`") +
                f" for S in {args.seeds}, judged as the WAVs read back from disk.")
    rows.update(reference_rows(clips, args.per_genre, args.seed))
    real_heard = real_clips_heard(clips)
    print(real_heard)
    note = f"{note}\n\n{real_heard}".strip()
    if args.blind_seeds:
        lo, _, hi = args.blind_seeds.partition("-")
        blind = blind_prior(list(range(int(lo), int(hi or lo) + 1)), args.work or Path(tempfile.mkdtemp()), clips.genres,
                            shlex.split(args.options), log=lambda m: print(m, file=sys.stderr))
        print(blind)
        note = f"{note}\n\n{blind}".strip()
    run(rows, clips, args.out, note, trips, controls)


if __name__ == "__main__":
    main()
