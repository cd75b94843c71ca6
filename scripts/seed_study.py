"""How much do the filtered-split figures move with the seed? Train one model with several seeds.

    python scripts/seed_study.py --data ../shared/gtzan4k [--model lstm] [--seeds 0,1,2]
        [--genres blues,classical,jazz,rock] [--input-norm level] [--weight-decay 0] [--layers 2] [--out docs/results/seeds-lstm.md]

Writes a Markdown table (one row per seed, then mean and standard deviation) of test clip and track
accuracy on the filtered split; checkpoints go to runs/seed-study/.
"""
import argparse
import shlex
import sys
from pathlib import Path

import numpy as np

from auralize import evaluate, load_dataset, train
from auralize.io import atomic_write_text
from auralize.training import TrainSettings


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--model", default="lstm")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--genres", default=None)
    ap.add_argument("--input-norm", default="level")
    ap.add_argument("--weight-decay", type=float, default=0.0)
    ap.add_argument("--layers", type=int, default=0, help="recurrent layers (default: the paper's 2)")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    data = load_dataset(args.data, progress=False)
    if args.genres:
        data = data.only(args.genres.split(","))
    rows = []
    for seed in [int(s) for s in args.seeds.split(",")]:
        out = (Path("runs/seed-study") /
               f"{args.model}-{len(data.genres)}g-{args.input_norm}-wd{args.weight_decay:g}-l{args.layers}-seed{seed}.pt")
        model = train(args.model, data, "filtered", seed=seed, layers=args.layers, input_norm=args.input_norm, out=out,
                      settings=TrainSettings(weight_decay=args.weight_decay), progress=False, log=lambda m: None).model
        ev = evaluate(model, data, "filtered", "test")
        rows.append((seed, ev.clip_accuracy, ev.track_accuracy, model.meta["best_epoch"]))
        print(f"seed {seed}: clip {ev.clip_accuracy:.3f}, track {ev.track_accuracy:.3f}", flush=True)
    clip, track = np.array([r[1] for r in rows]), np.array([r[2] for r in rows])
    lines = [f"# Seed study: {args.model}, filtered split, {len(data.genres)} genres, input norm {args.input_norm}, "
             f"weight decay {args.weight_decay:g}, {model.config.layers} layers", "",
             "Made by `python scripts/seed_study.py " + " ".join(shlex.quote(a) for a in sys.argv[1:]) + "`.", "",
             "| seed | test clip acc | test track acc | best epoch |", "|---|---|---|---|"]
    lines += [f"| {s} | {c:.3f} | {t:.3f} | {e} |" for s, c, t, e in rows]
    lines += [f"| mean ± sd | {clip.mean():.3f} ± {clip.std(ddof=1):.3f} | {track.mean():.3f} ± {track.std(ddof=1):.3f} | |", ""]
    text = "\n".join(lines)
    print(text)
    if args.out:
        atomic_write_text(args.out, text)


if __name__ == "__main__":
    main()
