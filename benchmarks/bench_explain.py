"""A long song through 'auralize explain': time and peak memory (issue 4: a 10-minute song works).

    python benchmarks/bench_explain.py [--minutes 10] [--checkpoint trained/lstm.pt]

Writes a synthetic song (tones, a beat and noise, 22050 Hz stereo, so it is mixed down and
resampled like a user's file), explains it in a child process and prints wall time, peak
resident memory and what was written.
"""
import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--checkpoint", default=None)
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="auralize-explain-"))
    sr = 22050
    t = np.arange(int(args.minutes * 60 * sr)) / sr
    rng = np.random.default_rng(0)
    song = 0.2 * np.sin(2 * np.pi * (220 + 20 * np.sin(2 * np.pi * t / 30)) * t)
    song += 0.2 * ((t % 0.5) < 0.03) * rng.standard_normal(t.size)
    sf.write(folder / "long.wav", np.stack([song, song], 1).astype(np.float32), sr)
    cmd = [sys.executable, "-m", "auralize", "explain", str(folder / "long.wav"), "--out", str(folder / "out"),
           "--quiet"] + (["--checkpoint", args.checkpoint] if args.checkpoint else [])
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if proc.returncode:
        sys.exit(proc.stderr)
    clips = sum(1 for line in proc.stdout.splitlines() if line.startswith("clip"))
    print(f"{args.minutes:g}-minute song: {clips} clips explained in {seconds:.1f} s, "
          f"peak memory {peak_mb:.0f} MB; {proc.stdout.splitlines()[-2]}")
    print("written:", ", ".join(sorted(p.name for p in (folder / "out").iterdir())))


if __name__ == "__main__":
    main()
