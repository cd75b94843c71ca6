"""Every transform keeps shapes, is seeded (same seed, same output) and is random across seeds."""
import numpy as np
import pytest
import torch

from auralize.dream import TRANSFORMS, Compose, from_names
from auralize.dream.transforms import by_domain, margin
from auralize.errors import AuralizeError


def signal_for(t):
    g = torch.Generator().manual_seed(123)
    if t.domain == "input":
        return torch.randn(3, 23, 513, generator=g, dtype=torch.float64)
    return 0.1 * torch.randn(3, 20000 + 896, generator=g, dtype=torch.float64)


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_transform_keeps_shape_and_is_seeded(name):
    t = TRANSFORMS[name]()
    x = signal_for(t)
    a = t(x, torch.Generator().manual_seed(0))
    b = t(x, torch.Generator().manual_seed(0))
    assert a.shape == x.shape and a.dtype == x.dtype and torch.isfinite(a).all()
    assert torch.equal(a, b)
    others = [t(x, torch.Generator().manual_seed(s)) for s in range(1, 6)]
    assert any(not torch.equal(a, o) for o in others), "the transform never changes with the seed"
    assert any(not torch.equal(x, o) for o in [a, *others]), "the transform never changes its input"


def test_transforms_are_differentiable():
    for name, cls in TRANSFORMS.items():
        t = cls()
        x = signal_for(t).requires_grad_(True)
        t(x, torch.Generator().manual_seed(0)).sum().backward()
        assert x.grad is not None and torch.isfinite(x.grad).all(), name


def test_shifts_roll_within_their_margin():
    from auralize.dream import Jitter, Shift

    x = torch.arange(30.0)[None]
    for seed in range(10):
        y = Shift(samples=7)(x, torch.Generator().manual_seed(seed))
        assert 0 <= y[0, 0] <= 7 and torch.equal(y[0, :23], x[0, int(y[0, 0]):int(y[0, 0]) + 23])
    assert Shift(samples=900).margin == 2 and Jitter(3).margin == 3
    assert margin([Jitter(2), Shift(100)]) == 3


def test_noise_hits_its_snr():
    from auralize.dream import Noise

    x = torch.sin(torch.arange(40000.0) / 5)[None].double()
    y = Noise(lo_db=20, hi_db=20)(x, torch.Generator().manual_seed(0))
    snr = 10 * np.log10(float(x.pow(2).mean() / (y - x).pow(2).mean()))
    assert snr == pytest.approx(20, abs=0.3)


def test_masks_zero_a_band():
    from auralize.dream import FreqMask, TimeMask

    x = torch.ones(50, 22, 513)
    m = TimeMask(width=4)(x, torch.Generator().manual_seed(0))
    dropped = (m == 0).all(-1).sum(1)
    assert dropped.max() <= 4 and dropped.max() > 0
    f = FreqMask(width=30)(x, torch.Generator().manual_seed(0))
    assert 0 < (f == 0).all(1).sum(1).max() <= 30


def test_registry_names_and_domains():
    ts = from_names("shift, gain,noise,freq-mask")
    assert [t.name for t in ts] == ["shift", "gain", "noise", "freq-mask"]
    on_audio, on_input = by_domain(ts, has_audio=True)
    assert [t.name for t in on_audio.transforms] == ["shift", "gain", "noise"]
    assert [t.name for t in on_input.transforms] == ["freq-mask"]
    with pytest.raises(AuralizeError, match="acts on audio"):
        by_domain(ts, has_audio=False)
    with pytest.raises(AuralizeError, match="transforms names no transform called 'wobble'"):
        from_names("wobble")
    x = torch.randn(2, 22, 513)
    both = Compose(from_names("freq-shift,time-mask"))
    assert torch.equal(both(x, torch.Generator().manual_seed(1)), both(x, torch.Generator().manual_seed(1)))


def test_transforms_from_the_cli(toy_checkpoint, tmp_path):
    """--transforms reaches the ascent (recorded in the JSON); audio transforms need the waveform."""
    import json

    from click.testing import CliRunner

    from auralize.cli import cli

    args = ["--genre", "jazz", "--checkpoint", str(toy_checkpoint), "--objective", "class", "--steps", "2",
            "--iters", "2", "--quiet"]
    result = CliRunner().invoke(cli, [*args, "--param", "waveform", "--transforms", "shift,gain,noise,time-mask",
                                      "-o", str(tmp_path / "w.wav")])
    assert result.exit_code == 0, result.stderr
    recorded = json.loads((tmp_path / "w.json").read_text())["settings"]["transforms"]
    assert [r.split("(")[0] for r in recorded] == ["Gain", "Dither", "Jitter", "Shift", "Shift", "Gain", "Noise",
                                                        "TimeMask"]  # the defaults, then the four asked for
    result = CliRunner().invoke(cli, [*args, "--param", "spectrogram", "--transforms", "shift",
                                      "-o", str(tmp_path / "s.wav")])
    assert result.exit_code == 2 and "acts on audio" in result.stderr and "--transforms" in result.stderr
    assert not list(tmp_path.glob("s*"))
