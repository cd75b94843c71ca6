"""How many threads the small-op paths use, chosen on purpose rather than left to torch.

torch's default intra-op pool (one thread per core) pays on large matrix products, as in
training. The dream loop (one 22-frame sequence per step), Griffin-Lim (FFTs of a few dozen
frames) and per-clip inference are chains of small ops instead: splitting each op over two
threads gains little on a quiet machine, and when another process holds one of the two cores
every op waits for the descheduled thread, so the path crawls (``benchmarks/bench_load.py``
measures both cases). Those paths therefore run on :data:`SMALL_OPS` threads unless the user
says otherwise, in this order:

1. :func:`use` (``auralize --threads N``), for this process;
2. ``AURALIZE_THREADS``;
3. ``OMP_NUM_THREADS`` (the usual knob; when set, it is respected here too; a value above
   :data:`MAX_THREADS`, as a scheduler may set for a bigger machine, is capped with a warning).

Other modules wrap their small-op work in :func:`limited`.
"""
from __future__ import annotations

import contextlib
import os
import warnings
from typing import Iterator

from . import checks
from .errors import AuralizeError

#: Threads of the small-op paths when nothing overrides it.
SMALL_OPS = 1
#: The most threads anyone may ask for.
MAX_THREADS = 256

_override: int | None = None
_warned: set[tuple[str, str]] = set()  # each capped setting is said once per process


def use(threads: int | None) -> None:
    """Use ``threads`` threads everywhere in this process (``None``: back to the policy)."""
    global _override
    if threads is None:
        _override = None
        return
    _override = checks.count("threads", threads, 1, MAX_THREADS)
    import torch

    torch.set_num_threads(_override)


def _from_env(name: str) -> int | None:
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n > MAX_THREADS:  # set by a scheduler for a bigger machine: cap it rather than refuse every command
        cap = os.cpu_count() or 1
        if (name, value) not in _warned:
            _warned.add((name, value))
            warnings.warn(f"{name}={value} is more than the {MAX_THREADS} threads auralize uses; using {cap} (this "
                          "machine's CPUs)", stacklevel=3)
        return cap
    if n < 1:
        raise AuralizeError(f"{name} must be a whole number from 1 to {MAX_THREADS}, got {value!r}")
    return n


def small_ops() -> int:
    """Threads for the small-op paths (dream loop, Griffin-Lim, per-clip inference)."""
    if _override is not None:
        return _override
    for name in ("AURALIZE_THREADS", "OMP_NUM_THREADS"):
        n = _from_env(name)
        if n is not None:
            return n
    return SMALL_OPS


@contextlib.contextmanager
def limited(threads: int | None = None) -> Iterator[int]:
    """Run the block on ``threads`` (default :func:`small_ops`) torch threads, then restore."""
    import torch

    n = threads or small_ops()
    before = torch.get_num_threads()
    if n != before:
        torch.set_num_threads(n)
    try:
        yield n
    finally:
        if n != before:
            torch.set_num_threads(before)
