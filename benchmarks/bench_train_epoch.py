"""Seconds per training epoch of the paper's 2x250 LSTM (target: <= 3 s on 2 cores).

    python benchmarks/bench_train_epoch.py [--data ../shared/gtzan4k] [--split filtered] [--model lstm]

With --data, the epoch runs over that split's training clips; without, over the same number
(1332, the filtered split's training clips in ../shared/gtzan4k) of random inputs.
"""
import argparse
import time

import numpy as np
import torch


def main() -> None:
    from auralize.models import ModelConfig, build_model
    from auralize.training import augment_batch

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=None)
    ap.add_argument("--split", default="filtered")
    ap.add_argument("--model", default="lstm")
    ap.add_argument("--clips", type=int, default=1332)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.data:
        from auralize.data import load_dataset, make_split
        from auralize.features import InputScaler

        ds = load_dataset(args.data, progress=False)
        ids = make_split(ds, args.split)["train"]
        x = InputScaler().fit(ds.psd[ids]).transform(ds.psd[ids]).astype(np.float32)
        y = ds.label[ids]
        source = f"{len(ids)} training clips of the {args.split} split in {args.data}"
    else:
        rng = np.random.default_rng(0)
        x = rng.standard_normal((args.clips, 22, 513)).astype(np.float32)
        y = rng.integers(0, 10, args.clips)
        source = f"{args.clips} random clips"
    model = build_model(ModelConfig(args.model)).train()
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    xt, yt = torch.from_numpy(x), torch.from_numpy(np.asarray(y))
    inv_std = torch.ones(513)
    times = []
    for epoch in range(args.epochs):
        gen = torch.Generator().manual_seed(epoch)
        t0 = time.perf_counter()
        for ids in torch.randperm(len(xt), generator=gen).split(128):
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(augment_batch(xt[ids], inv_std, gen)), yt[ids])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
        times.append(time.perf_counter() - t0)
    cfg = model.config
    print(f"{cfg.kind} {cfg.layers}x{cfg.hidden}, {source}, batch 128, {args.threads} threads")
    print("seconds per epoch: " + ", ".join(f"{t:.2f}" for t in times) + f"  (best {min(times):.2f}; target <= 3 s)")


if __name__ == "__main__":
    main()
