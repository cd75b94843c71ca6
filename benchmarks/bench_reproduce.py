"""Wall time of 'auralize reproduce' for all six models (target, issue 2: <= 30 min on 2 cores).

    python benchmarks/bench_reproduce.py --data ../shared/gtzan4k [--split clip] [--input-norm level]

Runs the command as a user would, in a child process, into a fresh temporary folder (so nothing
is reused), with the feature cache as it is (decoding is timed only on a cold cache), and prints
the total and each model's seconds as reproduce recorded them.
"""
import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--split", default="clip", choices=["clip", "filtered", "track"])
    ap.add_argument("--input-norm", default="level", choices=["level", "none"])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="auralize-bench-reproduce-") as out:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "auralize", "reproduce", "--data", args.data, "--split", args.split,
                        "--input-norm", args.input_norm, "--out", out, "--quiet"], check=True, capture_output=True)
        total = time.perf_counter() - t0
        rows = json.loads((Path(out) / f"{args.split}.json").read_text())
    for kind, row in rows.items():
        print(f"{kind:10s} {row['seconds']:7.1f} s  test clip {row['clip_accuracy']:.3f}")
    print(f"reproduce --split {args.split} (all six): {total:.0f} s = {total / 60:.1f} min (target <= 30 min)")


if __name__ == "__main__":
    main()
