"""End-to-end timing and round trip of the main job, as a user runs it (cold processes).

    python benchmarks/bench_dream.py [--checkpoint trained/lstm.pt] [--out /tmp/auralize-bench] [--busy]

Targets (issue 8, for the defaults: fine grid, genre prior, panel verdicts): 'auralize --genre
jazz' <= 15 s cold, '--genre all' <= 60 s on 2 cores; for all ten genres the WAV read back and
re-classified by the dreaming model gets p(target) >= 0.9 with each parameterisation; the same
seed gives byte-identical WAVs. ``--busy`` keeps one core busy with a spinning process
meanwhile (a user's machine is rarely idle). The ``import torch`` time of a cold process is
printed beside as a yardstick of the machine's speed.
"""
import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(args: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "auralize", *args, "--quiet"], check=True, capture_output=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", default=None)
    ap.add_argument("--out", default=None)
    ap.add_argument("--busy", action="store_true", help="keep one core busy while timing")
    args = ap.parse_args()
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if args.busy else None
    try:
        measure(args)
    finally:
        if busy is not None:
            busy.kill()


def measure(args) -> None:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import torch"], check=True)
    print(f"yardstick: a cold 'import torch' takes {time.perf_counter() - t0:.1f} s"
          + (" (one core kept busy)" if args.busy else ""))
    out = Path(args.out or tempfile.mkdtemp(prefix="auralize-bench-"))
    ck = ["--checkpoint", args.checkpoint] if args.checkpoint else []
    t_jazz = run(["--genre", "jazz", "-o", str(out / "jazz.wav"), *ck])
    t_jazz2 = run(["--genre", "jazz", "-o", str(out / "again" / "jazz.wav"), *ck])
    same = hashlib.sha256((out / "jazz.wav").read_bytes()).digest() == \
        hashlib.sha256((out / "again" / "jazz.wav").read_bytes()).digest()
    print(f"auralize --genre jazz: {t_jazz:.1f} s cold (again: {t_jazz2:.1f} s; target <= 15 s); "
          f"same seed, same bytes: {same}")
    rows = {}
    params = ("fine", "spectrogram", "waveform")
    for param in params:
        t_all = run(["--genre", "all", "--param", param, "-o", str(out / param), *ck])
        print(f"auralize --genre all --param {param}: {t_all:.1f} s"
              + (" (the default; target <= 60 s)" if param == "fine" else ""))
        for js in sorted((out / param).glob("*.json")):
            meta = json.loads(js.read_text())
            rows.setdefault(meta["genre"], {})[param] = meta["round_trip"]["p_target_mean"]
    print(f"\n{'genre':10s} " + " ".join(f"{'p ' + p:>14s}" for p in params))
    for g, r in rows.items():
        print(f"{g:10s} " + " ".join(f"{r[p]:14.3f}" for p in params))
    worst = min(min(r.values()) for r in rows.values())
    print(f"lowest round-trip p(target): {worst:.3f} (target >= 0.9)")


if __name__ == "__main__":
    main()
