"""Writing files: a file is either absent or complete, never half-written, and never one the user
did not mean to replace.

:func:`atomic_path` is the one way a file is written: a temporary file beside it, renamed into
place once complete. A write that fails because the disk is full (or the file too large, or the
file system read-only) ends in one line, ``cannot write PATH: No space left on device``, whatever
library was writing; the folders it made for the file are removed again. Before long work, a
command checks its outputs with :func:`ensure_writable` (which creates nothing),
:func:`refuse_overwriting` (an output that is one of its inputs) and :func:`protect_shipped`
(an artefact the repository ships).
"""
from __future__ import annotations

import contextlib
import errno
import io
import os
import tempfile
import threading
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from .errors import AuralizeError

#: What a failed write says about the disk rather than the program: these become one line.
WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS}


def _write_error(exc: BaseException) -> OSError | None:
    """The OSError of a full (or read-only) disk behind ``exc``, also when a library wrapped it."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in WRITE_ERRNOS:
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


def means_folder(out: str | Path) -> bool:
    """Whether ``out`` names a folder: one that exists, or a path ending in a slash (``run3/``)."""
    return Path(out).is_dir() or str(out).endswith(("/", os.sep))


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is renamed onto ``path``.

    Raises
    ------
    AuralizeError
        If the destination folder cannot be created or written, or the disk fills up (the folders
        made for the file are then removed again).
    """
    path = Path(path)
    if path.is_dir():
        raise AuralizeError(f"{path} is a directory; give a file path to write")
    blocking = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
    if blocking is not None:  # mkdir would say only "File exists"
        raise AuralizeError(f"cannot write {path}: {blocking} is a file, not a folder; choose another output path")
    made = [p for p in path.parents if not p.exists()]  # deepest first: removed in this order on failure
    tmp: Path | None = None
    done = False
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
        try:
            yield tmp
            os.replace(tmp, path)
        except Exception as exc:
            full = _write_error(exc)
            if full is None:
                raise
            raise AuralizeError(f"cannot write {path}: {full.strerror}; free some space or choose another output "
                                "path") from exc
        done = True
    finally:
        if tmp is not None and tmp.exists():
            tmp.unlink()
        if not done:
            for folder in made:  # only what this write made, and only if it stayed empty
                with contextlib.suppress(OSError):
                    folder.rmdir()


def ensure_writable(folder: str | Path) -> Path:
    """``folder`` if files can be written there, checked before long work starts; creates nothing
    (the folder is made when its first file is written), so a command that fails leaves no folder."""
    folder = Path(folder)
    existing = next(p for p in (folder, *folder.absolute().parents) if p.exists())
    if not existing.is_dir():
        raise AuralizeError(f"cannot write into {folder}: {existing} is a file, not a folder; choose another output "
                            "path", param="out")
    # a name of this process and thread: worker processes check the same folder at the same time
    probe = existing / f".auralize-write-check-{os.getpid()}-{threading.get_ident()}"
    with atomic_path(probe) as tmp:
        tmp.write_bytes(b"")
    probe.unlink()
    return folder


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b) or a.resolve() == b.resolve()
    except OSError:
        return False


def refuse_overwriting(outputs: Iterable[str | Path], inputs: dict[str, str | Path | None]) -> None:
    """A one-line error if writing any of ``outputs`` would replace one of ``inputs`` (argument name ->
    path; ``None`` for an argument not given), before any work."""
    for out in outputs:
        for name, given in inputs.items():
            if given is not None and not isinstance(given, (str, os.PathLike)):
                continue
            if given is not None and _same_file(Path(out), Path(given)):
                raise AuralizeError(f"out would replace {out}, which is the {name} this command reads; choose another "
                                    "output path", param="out")


def shipped_folders() -> tuple[Path, ...]:
    """The folders whose files the repository ships: ``trained/`` and ``docs/``."""
    from . import TRAINED_DIR

    return TRAINED_DIR.resolve(), TRAINED_DIR.resolve().parent / "docs"


def protect_shipped(paths: Iterable[str | Path], force: bool, default: bool = False,
                    elsewhere: str = "choose another output path (-o)") -> None:
    """Refuse to replace, without ``force``, an existing file the repository ships (under
    :func:`shipped_folders`) or, when ``default`` (the command chose the path), any existing file.
    ``elsewhere`` is the message's other way out."""
    if force:
        return
    for path in map(Path, paths):
        if not path.exists():
            continue
        shipped = any(path.resolve().is_relative_to(f) for f in shipped_folders())
        if shipped or default:
            what = "a file the repository ships" if shipped else "already there"
            raise AuralizeError(f"{path} is {what}; replace it with force=True (--force), or {elsewhere}",
                                param="force")


def artefact_paths(out: str | Path, force: bool = False, default: bool = False) -> tuple[Path, Path]:
    """Where a trained artefact and its model card (``.md`` beside it) go, checked before training:
    the card must not be the artefact itself, neither may replace a shipped file (or, for a path the
    command chose, ``default``, any file) without ``force``, and the folder must be writable."""
    out = Path(out)
    card = out.with_suffix(".md")
    if card == out:
        raise AuralizeError(f"out {out} is where its model card goes, which would replace it; give the artefact's own "
                            "suffix (.npz or .pt)", param="out")
    protect_shipped([out, card], force, default)
    ensure_writable(out.parent)
    return out, card


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


def atomic_torch_save(path: str | Path, payload: dict) -> Path:
    """``torch.save`` atomically, through a Python file, so a full disk is an OSError that says so
    (torch writing to a path reports it as ``enforce fail ... unexpected pos``).

    Ctrl-C and SIGTERM wait until the file is in place (:func:`auralize.signals.held`): raised inside
    torch's writer, they came out as its ``unexpected pos`` error instead of an interrupt.
    """
    import torch

    from .signals import held

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            torch.save(payload, fh)
    with held():
        return atomic_write(path, write)


def atomic_write_text(path: str | Path, text: str) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_text(text))


def save_wav(path: str | Path, audio: np.ndarray, sr: int) -> Path:
    """Write 16-bit PCM WAV atomically (audio clipped to [-1, 1]).

    Encoded in memory, then written as bytes: libsndfile writing to a full disk says only
    "System error"; Python's own write says which.
    """
    import soundfile as sf

    data = np.clip(np.asarray(audio, dtype=np.float64), -1.0, 1.0)
    buf = io.BytesIO()
    sf.write(buf, data, sr, subtype="PCM_16", format="WAV")
    return atomic_write(path, lambda tmp: tmp.write_bytes(buf.getvalue()))


def save_figure(path: str | Path, fig) -> Path:
    """Save a matplotlib figure atomically as PNG and close it."""
    import matplotlib.pyplot as plt

    try:
        return atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight"))
    finally:
        plt.close(fig)
