"""Issue 18, C: hangs and memory bombs are refused before they start.

The cases that hung or allocated gigabytes before the fix run in a subprocess, with a timeout and an
address-space limit (``ulimit -v``), so that a regression fails the test instead of the machine.
"""
import os
import resource
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from auralize import data as D
from conftest import ends_in_error, make_gtzan, one_line_error, run_cli, write_song as song

REPO = Path(__file__).resolve().parents[1]
GB = 2**30


def limited(args, gb=3, timeout=240, code=None):
    """``auralize ARGS`` (or ``python -c CODE``) in a fresh process under a ``gb`` address-space limit:
    (exit code, stdout, stderr); a hang past ``timeout`` fails the test."""
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (gb * GB, gb * GB))

    cmd = [sys.executable, "-c", code] if code else [sys.executable, "-m", "auralize", *map(str, args)]
    try:
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout, preexec_fn=limit)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{' '.join(map(str, cmd))[:200]} still ran after {timeout} s (a hang)")
    return proc.returncode, proc.stdout, proc.stderr






# 9: a FIFO is refused by its metadata, never opened
@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
@pytest.mark.parametrize("command", [["predict", "{fifo}"], ["judge", "{fifo}"], ["explain", "{fifo}", "-o", "{out}"],
                                     ["--genre", "jazz", "--init", "{fifo}", "--steps", "1", "-o", "{out}/j.wav"]])
def test_item9_a_fifo_as_audio_is_refused_not_read(tmp_path, command):
    fifo = tmp_path / "song.wav"
    os.mkfifo(fifo)
    args = [a.format(fifo=fifo, out=tmp_path / "out") for a in command]
    code, _, err = limited(args, timeout=120)
    ends_in_error(code, err, "song.wav", "not a regular file")


# 10: a sample rate of NaN or infinity is refused where audio enters
@pytest.mark.slow
def test_item10_non_finite_sample_rates_are_refused_not_hung(toy_checkpoint, tmp_path):
    wav = song(tmp_path / "s.wav")
    code, out, err = limited(None, timeout=120, code=textwrap.dedent(f"""
        import numpy as np, auralize
        model = auralize.load_model({str(toy_checkpoint)!r})
        x = np.random.default_rng(0).standard_normal(40000).astype(np.float32) * 0.1
        calls = {{"predict": lambda sr: auralize.predict(model, x, sr=sr),
                  "explain": lambda sr: auralize.explain(model, x, method="saliency", sr=sr),
                  "judge": lambda sr: auralize.judge(x, sr=sr),
                  "load_audio": lambda sr: auralize.load_audio({str(wav)!r}, sr=sr)}}
        for name, call in calls.items():
            for sr in (float("nan"), float("inf"), 0, -4000):
                try:
                    call(sr)
                except auralize.AuralizeError as exc:
                    print(name, exc.param, exc)
        """))
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 16 and all(" sr sr must be a sample rate" in line for line in lines), out


# 11: duration and size are capped from the header, before decoding
@pytest.mark.slow
def test_item11_a_74_hour_header_is_not_decoded_whole(toy_checkpoint, tmp_path):
    big = tmp_path / "big.wav"
    size = 2**31
    header = (b"RIFF" + struct.pack("<I", size - 8) + b"WAVE" + b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, 4000, 8000,
                                                                                          2, 16)
              + b"data" + struct.pack("<I", size - 44))
    with open(big, "wb") as fh:
        fh.write(header)
        fh.truncate(size)  # 2 GB of silence, sparse: the header says 74 hours at 4 kHz
    code, _, err = limited(["predict", big, "--checkpoint", toy_checkpoint], gb=3)
    assert "big.wav is 75 h long; using its first 600 s" in err, err
    ends_in_error(code, err, "big.wav", "is silent")
    code, _, err = limited(["predict", big, "--checkpoint", toy_checkpoint, "--max-seconds", "30"], gb=3)
    assert "using its first 30 s" in err
    ends_in_error(code, err, "is silent")


# 12: small crafted files that declare gigabytes are refused from their headers
def _npy_header(shape, dtype="<f8"):
    fh = __import__("io").BytesIO()
    np.lib.format.write_array_header_1_0(fh, {"descr": dtype, "fortran_order": False, "shape": shape})
    return fh.getvalue()


@pytest.mark.slow
def test_item12_a_prior_member_declaring_gigabytes_is_refused(tmp_path):
    import zipfile

    from auralize import TRAINED_DIR

    crafted = tmp_path / "prior.npz"
    with np.load(TRAINED_DIR / "genre-prior.npz") as z, zipfile.ZipFile(crafted, "w", zipfile.ZIP_DEFLATED) as out:
        for name in z.files:
            body = _npy_header((10, 250_000_000)) if name == "mean/level" else None
            if body is None:
                buf = __import__("io").BytesIO()
                np.save(buf, z[name])
                body = buf.getvalue()
            out.writestr(name + ".npy", body + (b"\0" * 1000 if name == "mean/level" else b""))
    code, _, err = limited(["--genre", "jazz", "--prior", crafted, "--steps", "1", "--no-panel", "-o",
                            tmp_path / "j.wav", "--quiet"], gb=3)
    ends_in_error(code, err, "prior.npz", "mean/level", "(10, 250000000)")


def test_item12_an_npy_declaring_a_terabyte_is_refused(tmp_path):
    spec = tmp_path / "huge.npy"
    spec.write_bytes(_npy_header((10**12, 513)) + b"\0" * 4096)
    one_line_error(*run_cli(["invert", spec])[::2], "huge.npy", "1000000000000 frames")


# 13: options that cannot fit together are refused before the work
@pytest.mark.slow
@pytest.mark.parametrize("extra,needle", [
    (["--seconds", "60", "--copies", "256"], "GB of memory"),
    (["--seconds", "600", "--copies", "256"], "GB of memory"),
    (["--transforms", ",".join(["jitter:22"] * 300)], "transforms shift the dream by up to 6602 frames"),  # 300 x 22 + the defaults: jitter 1, shift 1
])
@pytest.mark.slow
def test_item13_dreams_that_cannot_fit_are_refused_up_front(tmp_path, extra, needle):
    code, _, err = limited(["--genre", "jazz", "--steps", "1", "--iters", "1", "--no-panel", "-o", tmp_path / "j.wav",
                            "--quiet", *extra], gb=3)
    ends_in_error(code, err, needle)
    assert not list(tmp_path.iterdir())


def test_item13_a_dream_that_fits_still_runs(toy_checkpoint, tmp_path):
    code, _, err = run_cli(["--genre", "jazz", "--checkpoint", toy_checkpoint, "--steps", "1", "--iters", "1",
                            "--copies", "4", "--seconds", "10", "--objective", "class", "--no-panel", "-o",
                            tmp_path / "j.wav", "--quiet"])
    assert code == 0, err


# 15: links do not lead the walk out of the data folder
def test_item15_links_out_of_the_data_folder_are_not_followed(tmp_path):
    outside = make_gtzan(tmp_path / "elsewhere", {"train": 2}, seconds=5.5, sr=4000, genres=("metal",))
    data = make_gtzan(tmp_path / "data", {"train": 2}, seconds=5.5, sr=4000, genres=("classical",))
    (data / "metal").symlink_to(outside / "metal", target_is_directory=True)
    (data / "classical" / "more").symlink_to(outside, target_is_directory=True)
    inside = data / "classical-again"
    inside.symlink_to(data / "classical", target_is_directory=True)  # a link within the folder is followed once
    with pytest.warns(UserWarning, match="link out of the data folder; not followed") as caught:
        ds = D.load_dataset(data, progress=False, use_cache=False)
    assert {t.genre for t in ds.tracks} == {"classical"} and len(ds.tracks) == 2
    assert len([w for w in caught if "link out" in str(w.message)]) == 2
