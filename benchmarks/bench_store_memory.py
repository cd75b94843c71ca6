"""Peak memory of ``auralize train --epochs 1`` and ``auralize neurons`` on feature stores of 1x, 4x and 16x a
data set's size (issue 17; target: at 16x, peak RSS within 1.5x of that at 1x).

    python benchmarks/bench_store_memory.py [--tracks 1000] [--scales 1,4,16] [--folder /tmp/auralize-bench-store]

1x is ``--tracks`` synthetic tracks of 6 clips (GTZAN: 1000 tracks of 30 s, 6000 clips, 271 MB of PSDs),
written straight into stores (benchmarks/synthetic_store.py: no audio is decoded). Each command runs
as its own process (``python -m auralize``, one thread); its peak resident set (``ru_maxrss`` from
``wait4``) includes the pages of the memory-mapped shards it has touched and not yet unmapped. The
yardstick is the same training on the 1x data held in memory (``Dataset.psd`` an array), as every
version before the store did.
"""
import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from synthetic_store import write_store

REPO = Path(__file__).resolve().parents[1]
IN_MEMORY = """
import sys, numpy as np
from auralize import data as D
from auralize.training import train
lazy = D.load_dataset(sys.argv[1])
data = D.Dataset(np.asarray(lazy.psd), lazy.label, lazy.track, lazy.clip_index, lazy.tracks, lazy.genres)
train(sys.argv[2], data, "track", hidden=int(sys.argv[3]), progress=False, log=lambda m: None,
      settings=__import__("auralize").TrainSettings(epochs=1))
"""


def peak(args: list[str]) -> tuple[float, float]:
    """(peak RSS in MB, seconds) of one child process."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join([str(REPO),
                                                                                os.environ.get("PYTHONPATH", "")])}
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode()
    if proc.returncode:
        raise SystemExit(f"{' '.join(args)} failed:\n{err}")
    return usage.ru_maxrss / 1024, time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tracks", type=int, default=1000, help="tracks of the 1x data set (GTZAN: 1000)")
    ap.add_argument("--scales", default="1,4,16")
    ap.add_argument("--model", default="lstm")
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--folder", type=Path, default=Path("/tmp/auralize-bench-store"))
    ap.add_argument("--keep", action="store_true", help="keep the stores (they take 271 MB per 1000 tracks)")
    args = ap.parse_args()
    scales = [int(s) for s in args.scales.split(",")]
    rows = []
    for scale in scales:
        store = args.folder / f"x{scale}"
        if not (store / "store.json").exists():
            write_store(store, args.tracks * scale)
        ckpt = args.folder / f"x{scale}.pt"
        train_mb, train_s = peak(["-m", "auralize", "train", "--model", args.model, "--hidden", str(args.hidden),
                                  "--data", str(store), "--split", "track", "--epochs", "1", "-o", str(ckpt), "--quiet"])
        neurons_mb, neurons_s = peak(["-m", "auralize", "neurons", str(ckpt), "--data", str(store), "--quiet"])
        rows.append((scale, args.tracks * scale * 6, train_mb, train_s, neurons_mb, neurons_s))
        print(f"{scale:3d}x ({args.tracks * scale * 6} clips, {args.tracks * scale * 6 * 22 * 513 * 4 / 1e9:.2f} GB): "
              f"train --epochs 1 peak {train_mb:.0f} MB ({train_s:.0f} s); neurons peak {neurons_mb:.0f} MB "
              f"({neurons_s:.0f} s)", flush=True)
    memory_mb, memory_s = peak(["-c", IN_MEMORY, str(args.folder / f"x{scales[0]}"), args.model, str(args.hidden)])
    print(f"yardstick: the same training on the {scales[0]}x data held in memory: peak {memory_mb:.0f} MB "
          f"({memory_s:.0f} s)")
    first, last = rows[0], rows[-1]
    for name, i in (("train", 2), ("neurons", 4)):
        ratio = last[i] / first[i]
        print(f"{name}: peak RSS at {last[0]}x / at {first[0]}x = {ratio:.2f} (target <= 1.5: "
              f"{'met' if ratio <= 1.5 else 'NOT met'})")
    print(f"model: {args.model} 2x{args.hidden}; stores of {args.tracks} tracks x 6 clips per 1x; one thread")
    if not args.keep:
        shutil.rmtree(args.folder, ignore_errors=True)


if __name__ == "__main__":
    main()
