"""The small-op paths with 1 thread (auralize's policy) and 2 (torch's default), on a quiet machine
and with one core kept busy by another process (issue 10, item 15).

    python benchmarks/bench_load.py [--repeats 3]

Paths: the dream loop (one genre, 60 steps, shipped LSTM), Griffin-Lim (10 spectrograms of 5 s,
64 iterations) and per-clip inference (predict on 60 s of audio). Every configuration is timed
in the same process, alternating, so each sees the same machine; the busy core is a
``python -c "while True: pass"`` started and stopped around its rounds. Medians are printed.
"""
import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's auralize, not an installed one


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    import auralize
    from auralize import threads

    model = auralize.load_model(auralize.default_checkpoint("lstm"))
    jazz = model.genres.index("jazz")
    rng = np.random.default_rng(0)
    psd = auralize.spectrogram(rng.standard_normal((10, 20000)) * 0.1)
    song = (0.1 * rng.standard_normal(60 * 4000)).astype(np.float32)
    paths = {
        "dream loop (60 steps)": lambda: auralize.render(model, auralize.class_logprob(jazz),
                                                         auralize.DreamSettings(param="spectrogram", steps=60)),
        "Griffin-Lim (10 x 5 s, 64 it.)": lambda: auralize.psd_to_audio(psd, n_iter=64),
        "per-clip inference (60 s)": lambda: auralize.predict(model, song),
    }
    for run in paths.values():  # warm-up
        with threads.limited(1):
            run()
    times: dict = {}
    for _ in range(args.repeats):
        for load in ("quiet", "one busy core"):
            busy = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if load != "quiet" else None
            try:
                time.sleep(0.3 if busy else 0)
                for n in (1, 2):
                    for name, run in paths.items():
                        # limited(n) sets the threads the paths would otherwise choose themselves
                        threads.use(n)
                        t0 = time.perf_counter()
                        run()
                        times.setdefault((name, load, n), []).append(time.perf_counter() - t0)
                        threads.use(None)
            finally:
                if busy:
                    busy.kill()
                    busy.wait()
    with open("/proc/loadavg") as fh:
        loadavg = fh.read().split()[0]
    print(f"medians of {args.repeats} alternating rounds, seconds (1-min load average at the end: {loadavg})")
    print(f"{'path':32s} {'load':14s} {'1 thread':>9s} {'2 threads':>10s} {'2 / 1':>6s}")
    for name in paths:
        for load in ("quiet", "one busy core"):
            one, two = (float(np.median(times[name, load, n])) for n in (1, 2))
            print(f"{name:32s} {load:14s} {one:9.2f} {two:10.2f} {two / one:6.2f}")
    torch.set_num_threads(2)


if __name__ == "__main__":
    main()
