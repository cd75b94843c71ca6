"""Epoch time of ``auralize train`` in one process and under ``torchrun`` in two (DDP, gloo), and the scaling
efficiency (issue 17).

    python benchmarks/bench_ddp.py [--tracks 300] [--hidden 250] [--repeats 2] [--busy]

The data is a synthetic feature store of ``--tracks`` tracks x 6 clips (benchmarks/synthetic_store.py;
70% of it is the training part), the model the paper's LSTM (2 x ``--hidden``), the global batch 128.
Three configurations, alternating within each repeat so each sees the same machine:

- 1 process, 1 thread (the yardstick of the scaling efficiency);
- 1 process, 2 threads (both cores, through torch's intra-op threads);
- ``torchrun --nproc-per-node 2``: 2 processes x 1 thread, DistributedDataParallel over gloo.

An epoch's time is what the checkpoint's history records (training pass plus validation, which every
rank runs in full), the fastest epoch after the first (the first checks the shards' checksums); medians over
the repeats are printed. ``--busy`` keeps one core busy with another process throughout.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from synthetic_store import write_store

REPO = Path(__file__).resolve().parents[1]


def epoch_seconds(launcher: list[str], threads: int, store: Path, out: Path, args) -> float:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads),
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    cmd = [*launcher, "train", "--model", "lstm", "--hidden", str(args.hidden), "--data", str(store), "--split",
           "track", "--epochs", str(args.epochs), "--patience", "99", "--batch-size", "128", "-o", str(out), "--quiet"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr}")
    import torch

    history = json.loads(torch.load(out, weights_only=True)["meta"])["history"]
    return min(h["seconds"] for h in history[1:])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tracks", type=int, default=300)
    ap.add_argument("--hidden", type=int, default=250)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--busy", action="store_true", help="keep one core busy with another process")
    ap.add_argument("--folder", type=Path, default=Path("/tmp/auralize-bench-ddp"))
    args = ap.parse_args()
    store = args.folder / "store"
    if not (store / "store.json").exists():
        write_store(store, args.tracks)
    single = [sys.executable, "-m", "auralize"]
    configs = {"1 process x 1 thread": (single, 1),
               "1 process x 2 threads": (single, 2),
               "torchrun 2 processes x 1 thread": ([sys.executable, "-m", "torch.distributed.run", "--standalone",
                                                    "--nproc-per-node", "2", "-m", "auralize"], 1)}
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if args.busy else None
    try:
        times: dict[str, list[float]] = {name: [] for name in configs}
        for repeat in range(args.repeats):
            names = list(configs) if repeat % 2 == 0 else list(configs)[::-1]  # alternate the order
            for name in names:
                launcher, threads = configs[name]
                times[name].append(epoch_seconds(launcher, threads, store, args.folder / "m.pt", args))
    finally:
        if busy is not None:
            busy.kill()
    load = os.getloadavg()[1]  # the machine may be shared: what else ran shapes every figure
    median = {name: statistics.median(t) for name, t in times.items()}
    clips = int(0.7 * args.tracks) * 6
    print(f"LSTM 2x{args.hidden}, about {clips} training clips, global batch 128, {os.cpu_count()} cores"
          f"{', one core kept busy' if args.busy else ''}, load average {load:.1f} over the last 5 minutes; "
          f"epoch seconds (median of {args.repeats}):")
    for name, t in median.items():
        print(f"  {name:34s} {t:6.2f} s  ({', '.join(f'{x:.2f}' for x in times[name])})")
    one, two = median["1 process x 1 thread"], median["torchrun 2 processes x 1 thread"]
    print(f"speed-up of 2 processes over 1 process x 1 thread: {one / two:.2f}; scaling efficiency "
          f"{one / two / 2:.0%}")
    print(f"2 processes against 1 process x 2 threads (the same cores): {median['1 process x 2 threads'] / two:.2f}x")


if __name__ == "__main__":
    main()
