"""What one step of the dream's ascent costs, per dreaming model, in one process (a breakdown, not a target).

    python benchmarks/bench_ascent_step.py [--steps 60] [--checkpoints trained/cnn-mel.pt,trained/cnn-mel-ensemble.json]

For each model it makes the default jazz dream (class objective, the genre-blind music prior, fine grid) for
``--steps`` steps after a warm-up of 5, and prints the milliseconds per step, median of ``--repeats`` runs
alternating between the models. ``python benchmarks/bench_dream.py`` times whole commands against a yardstick.
"""
import argparse
import time

import numpy as np

import auralize
from auralize.dream import audible
from auralize.dream.render import render
from auralize.settings import DreamSettings, Target


def step_ms(model, objective, steps: int) -> float:
    render(model, [objective], DreamSettings(steps=5))  # warm-up: first calls allocate and pick kernels
    t0 = time.perf_counter()
    render(model, [objective], DreamSettings(steps=steps))
    return (time.perf_counter() - t0) / steps * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--checkpoints", default="trained/cnn-mel.pt,trained/cnn-mel-ensemble.json")
    args = ap.parse_args()
    target = Target()
    weight, prior, _ = audible._prior_for(target, "fine", ["jazz"])
    runs = {}
    for path in args.checkpoints.split(","):
        model = auralize.load_model(path)
        runs[path] = (model, audible.genre_objective(model, "jazz", target, None, prior, weight), [])
    for _ in range(args.repeats):
        for model, objective, times in runs.values():
            times.append(step_ms(model, objective, args.steps))
    for path, (_, _, times) in runs.items():
        print(f"{path}: {np.median(times):.1f} ms per step of the ascent (median of {args.repeats}, {args.steps} steps)")


if __name__ == "__main__":
    main()
