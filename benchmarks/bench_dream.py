"""End-to-end timing and round trip of the main job, as a user runs it (cold processes).

    python benchmarks/bench_dream.py [--checkpoint trained/lstm.pt] [--out /tmp/auralize-bench] [--busy]

Targets (issue 14, for the defaults: the shipped dreaming model, fine grid, music prior, panel verdicts):
'auralize --genre jazz' cold at most 5x a cold ``python -c "import torch"``, '--genre all' at most 25x (with its
default ``--jobs auto``; ``--jobs 1`` is timed too).
Machines differ about 2x in speed and are shared, so each command is timed right after a cold
``import torch`` (the yardstick), alternating, and its time is given as a ratio to the median
yardstick. For all ten genres the WAV read back and re-classified by the dreaming model gets p(target)
>= 0.9 with each parameterisation asked for (``--params``); the same seed gives byte-identical WAVs.
``--busy`` keeps one core busy with a spinning process meanwhile (a user's machine is rarely idle).
"""
import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def run(args: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "auralize", *args, "--quiet"], check=True, capture_output=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", default=None)
    ap.add_argument("--out", default=None)
    ap.add_argument("--busy", action="store_true", help="keep one core busy while timing")
    ap.add_argument("--params", default="fine", help="parameterisations of the --genre all runs (fine,waveform,...)")
    args = ap.parse_args()
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if args.busy else None
    try:
        measure(args)
    finally:
        if busy is not None:
            busy.kill()


def yardstick() -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import torch"], check=True)
    return time.perf_counter() - t0


def measure(args) -> None:
    out = Path(args.out or tempfile.mkdtemp(prefix="auralize-bench-"))
    ck = ["--checkpoint", args.checkpoint] if args.checkpoint else []
    sticks = [yardstick()]
    t_jazz = run(["--genre", "jazz", "-o", str(out / "jazz.wav"), *ck])
    sticks.append(yardstick())
    t_jazz2 = run(["--genre", "jazz", "-o", str(out / "again" / "jazz.wav"), *ck])
    same = hashlib.sha256((out / "jazz.wav").read_bytes()).digest() == \
        hashlib.sha256((out / "again" / "jazz.wav").read_bytes()).digest()
    rows, times = {}, {}
    params = [p.strip() for p in args.params.split(",") if p.strip()]
    for param in params:
        sticks.append(yardstick())
        times[param] = run(["--genre", "all", "--param", param, "-o", str(out / param), *ck])
        for js in sorted((out / param).glob("*.json")):
            meta = json.loads(js.read_text())
            rows.setdefault(meta["genre"], {})[param] = meta["round_trip"]["p_target_mean"]
    # --jobs auto (the default) shares the genres between worker processes; one process, for comparison
    sticks.append(yardstick())
    t_one = run(["--genre", "all", "--jobs", "1", "-o", str(out / "one-process"), *ck])
    stick = float(np.median(sticks))
    print(f"yardstick: a cold 'import torch' takes {stick:.2f} s (median of {len(sticks)}, one before each command)"
          + (", one core kept busy" if args.busy else ""))
    print(f"auralize --genre jazz: {t_jazz:.1f} s cold = {t_jazz / stick:.1f}x the yardstick (target <= 5x; again: "
          f"{t_jazz2:.1f} s = {t_jazz2 / stick:.1f}x); same seed, same bytes: {same}")
    for param in params:
        print(f"auralize --genre all --param {param}: {times[param]:.1f} s = {times[param] / stick:.1f}x"
              + (" (the default, --jobs auto; target <= 25x)" if param == "fine" else ""))
    print(f"auralize --genre all --jobs 1 (one process): {t_one:.1f} s = {t_one / stick:.1f}x")
    print(f"\n{'genre':10s} " + " ".join(f"{'p ' + p:>14s}" for p in params))
    for g, r in rows.items():
        print(f"{g:10s} " + " ".join(f"{r[p]:14.3f}" for p in params))
    worst = min(min(r.values()) for r in rows.values())
    print(f"lowest round-trip p(target): {worst:.3f} (target >= 0.9)")


if __name__ == "__main__":
    main()
