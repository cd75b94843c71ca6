"""Synthetic GTZAN-shaped data: tones, noise and rhythms in genre folders, made per test session."""
from __future__ import annotations

import os
import zlib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

# /work/shared beside a checkout at /work/main; $AURALIZE_SHARED for a checkout elsewhere (a worktree)
SHARED = Path(os.environ.get("AURALIZE_SHARED") or Path(__file__).resolve().parents[2] / "shared")
GTZAN4K = SHARED / "gtzan4k"


def synth_track(genre: str, index: int, seconds: float, sr: int) -> np.ndarray:
    """A few seconds of audio whose spectrum says which of three genres it is."""
    rng = np.random.default_rng(zlib.crc32(f"{genre}{index}".encode()))
    t = np.arange(int(seconds * sr)) / sr
    if genre == "classical":  # sustained low harmonic tones over a dark (low-passed) noise floor
        f0 = 180 + 20 * index
        y = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 4))
        y = y + 0.3 * np.convolve(rng.standard_normal(t.size), np.ones(16) / 4, mode="same")
    elif genre == "metal":  # loud noise tilted towards the highs
        y = np.diff(rng.standard_normal(t.size + 1)) * 0.8
    else:  # "hiphop": clicks on a beat plus a high tone
        y = 0.3 * np.sin(2 * np.pi * (1200 + 30 * index) * t)
        beat = (np.arange(t.size) % int(0.5 * sr)) < int(0.02 * sr)
        y = y + beat * rng.standard_normal(t.size)
    y = y + 0.01 * rng.standard_normal(t.size)
    return (0.3 * y / np.max(np.abs(y))).astype(np.float32)


def _stems(part: str, genre: str, n: int) -> list[str]:
    from auralize.data import filtered_lists

    return [s for s in filtered_lists()[part] if s.startswith(genre + ".")][:n]


def make_gtzan(root: Path, per_part: dict[str, int] | None = None, seconds: float = 10.5, sr: int = 8000,
               ext: str = "wav", genres=("classical", "metal", "hiphop")) -> Path:
    """Write synthetic tracks named after the filtered split's stems, in ``root/<genre>/``."""
    per_part = per_part or {"train": 4, "valid": 1, "test": 2}
    for genre in genres:
        (root / genre).mkdir(parents=True, exist_ok=True)
        for part, n in per_part.items():
            for i, stem in enumerate(_stems(part, genre, n)):
                sf.write(str(root / genre / f"{stem}.{ext}"), synth_track(genre, i, seconds, sr), sr)
    return root


@pytest.fixture(scope="session")
def gtzan_dir(tmp_path_factory) -> Path:
    """A small synthetic GTZAN: 3 genres x 7 tracks x 2 clips, at 8 kHz (so it is resampled)."""
    return make_gtzan(tmp_path_factory.mktemp("gtzan") / "genres")


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory):
    """The feature cache of the whole session lives in its temporary folder: set before any
    module- or session-scoped fixture loads data, so no test writes to ~/.cache/auralize."""
    patch = pytest.MonkeyPatch()
    patch.setenv("AURALIZE_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
    yield
    patch.undo()


def pytest_collection_modifyitems(items):
    """A test that reads ../shared/gtzan4k is marked ``realdata`` (``-m "not realdata"`` leaves it out)."""
    for item in items:
        if "real_data" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.realdata)


@pytest.fixture(scope="session")
def real_data() -> Path:
    if not (GTZAN4K / "MANIFEST.tsv").exists():
        pytest.skip(f"real GTZAN data not present at {GTZAN4K} (tests on synthetic audio still run)")
    return GTZAN4K


@pytest.fixture(scope="session")
def toy_checkpoint(tmp_path_factory):
    """An untrained 2x8 LSTM over the ten genres, saved as a checkpoint (no training: instant)."""
    import numpy as np
    import torch

    from auralize import features as F
    from auralize.checkpoint import attach, save_checkpoint
    from auralize.data import GENRES
    from auralize.models import ModelConfig, build_model

    torch.manual_seed(0)
    model = build_model(ModelConfig("lstm", n_classes=len(GENRES), hidden=8, layers=2)).eval()
    rng = np.random.default_rng(0)
    psd = F.spectrogram(rng.standard_normal((8, 20000)) * 0.1 * rng.uniform(0.1, 1, (8, 1)))
    attach(model, F.InputScaler().fit(psd), GENRES)
    return save_checkpoint(tmp_path_factory.mktemp("toy") / "toy.pt", model)


@pytest.fixture(scope="session")
def ckpt(gtzan_dir, tmp_path_factory):
    """A small MLP trained on the synthetic data (a real checkpoint, made in seconds)."""
    from auralize import data as D
    from auralize.training import TrainSettings, train

    ds = D.load_dataset(gtzan_dir, progress=False)
    path = tmp_path_factory.mktemp("mlp") / "mlp.pt"
    train("mlp", ds, "track", hidden=8, settings=TrainSettings(epochs=3, batch_size=8, lr=3e-3), out=path,
          progress=False, log=lambda m: None)
    return path


def run_cli(args, env=None):
    """Run ``auralize ARGS`` through click's test runner; returns (exit code, stdout, stderr)."""
    from click.testing import CliRunner

    from auralize.cli import cli

    result = CliRunner(env=env).invoke(cli, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def one_line_error(code, err, *needles):
    """Exit code 2 and one line on stderr, 'auralize: error: ...', holding every needle; no traceback."""
    assert code == 2, err
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("auralize: error:"), err
    assert all(n in lines[0] for n in needles), err
    assert "Traceback" not in err


def ends_in_error(code, err, *needles):
    """Exit code 2 and, after any progress lines, one line 'auralize: error: ...' holding every needle."""
    assert code == 2 and "Traceback" not in err, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("auralize: error:") and all(n in last for n in needles), err


def write_song(path, seconds=15.0, sr=4000):
    """A synthetic song (the hiphop track's beat and tone) written to ``path``; returns the path."""
    sf.write(path, synth_track("hiphop", 1, seconds, sr), sr)
    return path
