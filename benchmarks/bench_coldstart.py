"""Start-up cost against torch's own import, alternating the commands in one run (issue 10, item 16).

    python benchmarks/bench_coldstart.py [--repeats 5]

Times cold processes of ``python -c "import torch"`` (the yardstick), ``python -c "import
auralize.cli"``, ``python -m auralize --help`` and ``python -m auralize --genre jazz`` one after
the other in each round, so all see the same machine, and prints medians and ratios to the
yardstick. Target: ``import auralize.cli`` <= 2x ``import torch``.
"""
import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    out = Path(tempfile.mkdtemp(prefix="auralize-cold-"))
    commands = {
        "import torch": [sys.executable, "-c", "import torch"],
        "import auralize.cli": [sys.executable, "-c", "import auralize.cli"],
        "auralize --help": [sys.executable, "-m", "auralize", "--help"],
        "auralize --genre jazz": [sys.executable, "-m", "auralize", "--genre", "jazz", "--quiet", "-o",
                                  str(out / "j.wav")],
    }
    times: dict = {k: [] for k in commands}
    for _ in range(args.repeats):
        for name, cmd in commands.items():
            t0 = time.perf_counter()
            subprocess.run(cmd, cwd=REPO, check=True, capture_output=True)
            times[name].append(time.perf_counter() - t0)
    base = float(np.median(times["import torch"]))
    print(f"medians of {args.repeats} alternating rounds")
    for name in commands:
        t = float(np.median(times[name]))
        print(f"{name:24s} {t:6.2f} s   {t / base:5.2f}x import torch")


if __name__ == "__main__":
    main()
