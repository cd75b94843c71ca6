""".npy and .npz files a user may have edited, damaged or crafted: sizes are read from the headers
and checked before any array is read.

``np.load`` allocates what a header declares, so a 2 MB zip whose member declares (10, 25e6) float64
takes 2 GB before anything is said, and a damaged zip raises ``BadZipFile`` from deep inside. Here
every problem is one :class:`~auralize.errors.AuralizeError`: a file that is no zip (or no .npy), a
member that is not a plain numeric array, one larger than ``max_bytes``, a bad CRC, a header that
promises more data than there is.
"""
from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from .errors import AuralizeError

#: The largest array a shipped-size file holds is well below this.
MAX_BYTES = 64 * 2**20


def _header(fh) -> tuple[tuple[int, ...], np.dtype]:
    """(shape, dtype) from a .npy header, reading nothing else; ``fh`` is left at its start."""
    version = np.lib.format.read_magic(fh)
    read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    shape, _, dtype = read(fh)
    fh.seek(0)  # read_array reads the header again
    return shape, dtype


def _checked(shape: tuple[int, ...], dtype: np.dtype, max_bytes: int, what: str) -> None:
    if dtype.hasobject or dtype.kind not in "biufcSU":
        raise ValueError(f"{what} holds {dtype} values, not plain numbers or text")
    size = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if size > max_bytes:
        raise ValueError(f"{what} declares shape {shape} of {dtype} ({size / 1e6:.0f} MB), more than such a file holds")


def read_npz(path: str | Path, what: str, remedy: str, max_bytes: int = MAX_BYTES,
             param: str | None = None) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` by name, each checked from its header before it is read.

    ``what`` names the file's kind (``a genre prior``) and ``remedy`` says how to make a good one;
    both go into the one-line error.
    """
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as zf:
            arrays = {}
            for info in zf.infolist():
                name = info.filename[:-len(".npy")] if info.filename.endswith(".npy") else None
                if name is None:
                    raise ValueError(f"member {info.filename!r} is not an array")
                if info.file_size > max_bytes + 4096:
                    raise ValueError(f"member {name!r} unpacks to {info.file_size / 1e6:.0f} MB")
                with zf.open(info) as fh:
                    shape, dtype = _header(fh)
                    _checked(shape, dtype, max_bytes, f"member {name!r}")
                    arrays[name] = np.lib.format.read_array(fh, allow_pickle=False)
                    fh.read()  # to the end, so that the CRC is checked
            return arrays
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, NotImplementedError,
            RecursionError) as exc:  # zipfile and numpy raise these for damaged or foreign files
        raise AuralizeError(f"{path} is not {what} auralize can read ({type(exc).__name__}: "
                            f"{str(exc).splitlines()[0] if str(exc) else 'damaged'}); {remedy}", param=param) from None


def read_npy(path: str | Path, what: str, remedy: str, expect=None, max_bytes: int = MAX_BYTES) -> np.ndarray:
    """The array of a ``.npy``, its header checked first: ``expect(shape, dtype)`` may return why
    the array is not what is wanted (then nothing is read)."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            shape, dtype = _header(fh)
            why = expect(shape, dtype) if expect is not None else None
            if why:
                raise AuralizeError(f"{path} holds {why}; {remedy}")
            _checked(shape, dtype, max_bytes, "it")
            return np.lib.format.read_array(fh, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise AuralizeError(f"{path} is not {what} ({type(exc).__name__}: "
                            f"{str(exc).splitlines()[0] if str(exc) else 'damaged'}); {remedy}") from None
