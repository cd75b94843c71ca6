"""Signals: SIGTERM handled like Ctrl-C, and a block that signals may not cut in two.

A user stops a long job with Ctrl-C (SIGINT) or a process manager with SIGTERM; both must leave
nothing half-written, and both must end with a one-line message. :func:`terminate_as_interrupt`
turns SIGTERM into :class:`Terminated` (a ``KeyboardInterrupt``), so the clean-up that runs for
Ctrl-C runs for it too; :func:`held` defers both signals while a set of files is renamed into place.
"""
from __future__ import annotations

import contextlib
import os
import signal
import threading
from typing import Iterator


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so that clean-up runs as for Ctrl-C (exit code 143)."""


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM raises :class:`Terminated` in the block."""
    if not _main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise Terminated

    before = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


@contextlib.contextmanager
def held() -> Iterator[None]:
    """SIGINT and SIGTERM wait until the block is done; one that came meanwhile is acted on then.

    Python handlers, not a signal mask: a mask covers only the main thread, and a signal that
    reaches one of torch's or numba's worker threads would still run its handler mid-block.
    """
    if not _main_thread():
        yield
        return
    arrived: list[int] = []
    before = {sig: signal.signal(sig, lambda signum, frame: arrived.append(signum))
              for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)
        if arrived:
            os.kill(os.getpid(), arrived[0])  # now, under the handler that was in force before
