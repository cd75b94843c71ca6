"""Shared set-up of the example studies: options, the model, the data (real or synthetic)."""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

import auralize

REPO = Path(__file__).resolve().parents[1]
REAL_DATA = REPO.parent / "shared" / "gtzan4k"


def options(description: str, name: str, model: str = "lstm") -> argparse.ArgumentParser:
    """The studies' options; ``model``: the shipped checkpoint the study uses unless --checkpoint is given."""
    ap = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    shipped = auralize.default_checkpoint(model)
    ap.add_argument("--checkpoint", type=Path, default=shipped, help=f"default: the shipped {shipped.name}")
    ap.add_argument("--data", type=Path, default=None, help=f"genre folders (default: {REAL_DATA} when present)")
    ap.add_argument("--synthetic", action="store_true", help="use synthetic audio even when real data is present")
    ap.add_argument("--out", type=Path, default=REPO / "examples" / "out" / name)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="tiny settings (smoke test)")
    return ap


def synth_gtzan(root: Path, genres, seed: int = 0, tracks: int = 2, seconds: float = 10.0) -> Path:
    """A small GTZAN-shaped folder: per genre a characteristic mix of tones, noise and beats."""
    import soundfile as sf

    sr = 4000
    t = np.arange(int(seconds * sr)) / sr
    for gi, genre in enumerate(genres):
        (root / genre).mkdir(parents=True, exist_ok=True)
        for k in range(tracks):
            rng = np.random.default_rng([seed, gi, k])
            f0 = 80 * 2 ** (gi / 4) * (1 + 0.05 * k)
            tone = sum(np.sin(2 * np.pi * f0 * h * t) / h for h in range(1, 2 + gi % 4))
            beat = ((t * (1 + gi % 3)) % 1 < 0.05) * rng.standard_normal(t.size)
            noise = np.diff(rng.standard_normal(t.size + 1)) * (gi % 5) / 5
            y = tone + (gi % 2) * beat + noise
            sf.write(root / genre / f"{genre}.{k:05d}.wav", (0.3 * y / np.abs(y).max()).astype(np.float32), sr)
    return root


def setup(args):
    """(model, data set, a note saying where the data came from)."""
    model = auralize.load_model(args.checkpoint)
    if args.data is None and REAL_DATA.is_dir() and not args.synthetic:
        args.data = REAL_DATA
    if args.data is not None and not args.synthetic:
        data = auralize.load_dataset(args.data, progress=False)
        note = f"real data: {data.summary()}"
    else:
        root = synth_gtzan(Path(tempfile.mkdtemp(prefix="auralize-synth-")), model.genres, args.seed,
                           tracks=1 if args.quick else 2, seconds=5.5 if args.quick else 10.0)
        data = auralize.load_dataset(root, progress=False, use_cache=False)
        note = ("SYNTHETIC audio (tones, beats and noise standing in for GTZAN; no real data was found or "
                f"--synthetic was given): {data.summary()}. The figures say nothing about real music.")
    args.out.mkdir(parents=True, exist_ok=True)
    return model, data, note


def inputs(model, data) -> np.ndarray:
    """Model inputs of every clip of a data set."""
    return model.scaler.transform(data.psd).astype(np.float32)


def finish(args, title: str, note: str, body: list[str]) -> str:
    """Write and print summary.md."""
    text = "\n".join([f"# {title}", "", note, "", *body, ""])
    (args.out / "summary.md").write_text(text)
    print(text)
    print(f"written: {args.out}/")
    return text
