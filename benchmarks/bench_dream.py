"""End-to-end timing and round trip of the main job, as a user runs it (cold processes).

    python benchmarks/bench_dream.py [--checkpoint trained/lstm.pt] [--out /tmp/auralize-bench]

Targets (issue 3): 'auralize --genre jazz' <= 10 s, '--genre all' <= 30 s on 2 cores; for all
ten genres the WAV read back and re-classified gets p(target) >= 0.9 with each
parameterisation; the same seed gives byte-identical WAVs.
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
    args = ap.parse_args()
    out = Path(args.out or tempfile.mkdtemp(prefix="auralize-bench-"))
    ck = ["--checkpoint", args.checkpoint] if args.checkpoint else []
    t_jazz = run(["--genre", "jazz", "-o", str(out / "jazz.wav"), *ck])
    t_jazz2 = run(["--genre", "jazz", "-o", str(out / "again" / "jazz.wav"), *ck])
    same = hashlib.sha256((out / "jazz.wav").read_bytes()).digest() == \
        hashlib.sha256((out / "again" / "jazz.wav").read_bytes()).digest()
    print(f"auralize --genre jazz: {t_jazz:.1f} s cold (again: {t_jazz2:.1f} s; target <= 10 s); "
          f"same seed, same bytes: {same}")
    rows = {}
    for param in ("spectrogram", "waveform"):
        t_all = run(["--genre", "all", "--param", param, "-o", str(out / param), *ck])
        print(f"auralize --genre all --param {param}: {t_all:.1f} s (target <= 30 s)")
        for js in sorted((out / param).glob("*.json")):
            meta = json.loads(js.read_text())
            rows.setdefault(meta["genre"], {})[param] = meta["round_trip"]["p_target_mean"]
    print(f"\n{'genre':10s} {'p spectrogram':>14s} {'p waveform':>11s}")
    for g, r in rows.items():
        print(f"{g:10s} {r['spectrogram']:14.3f} {r['waveform']:11.3f}")
    worst = min(min(r.values()) for r in rows.values())
    print(f"lowest round-trip p(target): {worst:.3f} (target >= 0.9)")


if __name__ == "__main__":
    main()
