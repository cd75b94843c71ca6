"""Atomic file writing: a file is either absent or complete, never half-written."""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from .errors import AuralizeError


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is renamed onto ``path``.

    Raises
    ------
    AuralizeError
        If the destination folder cannot be created or written.
    """
    path = Path(path)
    if path.is_dir():
        raise AuralizeError(f"{path} is a directory; give a file path to write")
    blocking = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
    if blocking is not None:  # mkdir would say only "File exists"
        raise AuralizeError(f"cannot write {path}: {blocking} is a file, not a folder; choose another output path")
    tmp: Path | None = None
    try:  # one try from the file's creation on: an interrupt at any point leaves no temporary file
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp" + path.suffix, dir=path.parent)
            tmp = Path(name)
            os.close(fd)
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; the result should look like any other file
        except OSError as exc:
            raise AuralizeError(f"cannot write {path}: {exc.strerror or exc}; choose a writable output path") from exc
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp is not None and tmp.exists():
            tmp.unlink()


def ensure_writable(folder: str | Path) -> Path:
    """Create ``folder`` if needed and check a file can be written there, before long work starts."""
    if Path(folder).exists() and not Path(folder).is_dir():
        raise AuralizeError(f"cannot write into {folder}: it is a file, not a folder; choose another output path",
                            param="out")
    with atomic_path(Path(folder) / ".auralize-write-check") as tmp:
        tmp.write_bytes(b"")
    (Path(folder) / ".auralize-write-check").unlink()
    return Path(folder)


def atomic_write(path: str | Path, writer: Callable[[Path], object]) -> Path:
    """Call ``writer(tmp_path)`` and move the result onto ``path`` atomically."""
    with atomic_path(path) as tmp:
        writer(tmp)
    return Path(path)


def atomic_save_npy(path: str | Path, array: np.ndarray) -> Path:
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            np.save(fh, array)
    return atomic_write(path, write)


def atomic_save_npz(path: str | Path, arrays: dict[str, np.ndarray]) -> Path:
    """Named arrays to an ``.npz`` (no pickle inside), atomically."""
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
    return atomic_write(path, write)


def atomic_write_text(path: str | Path, text: str) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_text(text))


def save_wav(path: str | Path, audio: np.ndarray, sr: int) -> Path:
    """Write 16-bit PCM WAV atomically (audio clipped to [-1, 1])."""
    import soundfile as sf

    data = np.clip(np.asarray(audio, dtype=np.float64), -1.0, 1.0)
    return atomic_write(path, lambda tmp: sf.write(str(tmp), data, sr, subtype="PCM_16", format="WAV"))


def save_figure(path: str | Path, fig) -> Path:
    """Save a matplotlib figure atomically as PNG and close it."""
    import matplotlib.pyplot as plt

    try:
        return atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight"))
    finally:
        plt.close(fig)
