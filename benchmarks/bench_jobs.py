"""Wall time of the embarrassingly parallel commands with ``--jobs 1`` and ``--jobs 2`` (issue 17), cold
processes, alternating.

    python benchmarks/bench_jobs.py [--repeats 2] [--songs 20] [--busy] [--panel]

``auralize --genre all`` (the defaults, without the panel unless ``--panel``) and ``auralize predict`` over
``--songs`` synthetic 30-s songs with the shipped LSTM. Each worker is a spawned process that imports
torch and loads the model itself, which is what ``--jobs`` costs; the outputs are the same whatever N
(tests/test_distributed.py). ``--busy`` keeps one core busy with another process throughout.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def timed(args: list[str]) -> float:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "auralize", *args], check=True, capture_output=True, env=env)
    return time.perf_counter() - started


def main() -> None:
    import soundfile as sf

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--songs", type=int, default=20)
    ap.add_argument("--busy", action="store_true")
    ap.add_argument("--panel", action="store_true", help="judge the dreams with the panel too (each worker loads it)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="auralize-bench-jobs-"))
    rng = np.random.default_rng(0)
    songs = []
    for i in range(args.songs):
        t = np.arange(30 * 4000) / 4000
        y = 0.2 * np.sin(2 * np.pi * (200 + 40 * i) * t) + 0.05 * rng.standard_normal(t.size)
        sf.write(work / f"song{i:02d}.wav", y.astype(np.float32), 4000)
        songs.append(str(work / f"song{i:02d}.wav"))
    jobs = {
        "auralize --genre all": lambda n: ["--genre", "all", *([] if args.panel else ["--no-panel"]), "--jobs", str(n),
                                           "-o", str(work / f"dreams{n}") + "/", "--quiet"],
        f"auralize predict ({args.songs} songs of 30 s)": lambda n: ["predict", *songs, "--jobs", str(n)],
    }
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if args.busy else None
    try:
        times = {(name, n): [] for name in jobs for n in (1, 2)}
        for repeat in range(args.repeats):
            for name, make in jobs.items():
                for n in ((1, 2) if repeat % 2 == 0 else (2, 1)):  # alternate which goes first
                    times[(name, n)].append(timed(make(n)))
    finally:
        if busy is not None:
            busy.kill()
    load = os.getloadavg()[1]
    print(f"{os.cpu_count()} cores{', one core kept busy' if args.busy else ''}, load average {load:.1f} over the "
          f"last 5 minutes; wall seconds, median of {args.repeats}:")
    for name in jobs:
        one, two = (statistics.median(times[(name, n)]) for n in (1, 2))
        print(f"  {name:36s} --jobs 1 {one:6.1f} s   --jobs 2 {two:6.1f} s   ({one / two:.2f}x)")


if __name__ == "__main__":
    main()
