"""Worker processes for the embarrassingly parallel parts (``--jobs``): the songs of ``predict``, the genres of
``--genre all``, the shards of ``cache``.

Workers are spawned (a fresh interpreter: forking a process whose torch has run can hang its thread
pools) and compute on one thread each (the workers are the parallelism). Results come back in the
order of the tasks, so the output never depends on how many there are, and the warnings a task
raised in its worker are raised again in the caller, where the command shows them.
"""
from __future__ import annotations

import os
import signal
import time
import warnings
from typing import Any, Callable, Iterator, Sequence

#: The most worker processes anyone may ask for.
MAX_JOBS = 256
#: The most worker processes ``jobs="auto"`` starts (each holds its own model and prior).
AUTO_MAX = 4


def resolve_jobs(jobs: int | str, tasks: int) -> int:
    """How many worker processes to use for ``tasks`` tasks: ``jobs`` itself, or for ``"auto"`` one per core this
    process may run on (at most :data:`AUTO_MAX`, and never more than the tasks)."""
    from . import checks
    from .errors import AuralizeError

    if jobs == "auto":
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        return max(1, min(cores, AUTO_MAX, tasks))
    if isinstance(jobs, str):
        raise AuralizeError(f"jobs must be a number of worker processes or 'auto', got {jobs!r:.40}", param="jobs")
    return min(checks.count("jobs", jobs, 1, MAX_JOBS), max(1, tasks))


def in_workers(fn: Callable[[Any], Any], tasks: Sequence, jobs: int, initializer: Callable | None = None,
               initargs: tuple = ()) -> Iterator:
    """``fn(task)`` for each task, in ``jobs`` spawned one-thread processes, yielded in the tasks' order.

    ``fn`` and ``initializer`` (run once in each worker, e.g. to load a model) must be module-level
    functions, and tasks and results picklable.
    """
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    pool = ProcessPoolExecutor(max(1, min(jobs, len(tasks))), mp_context=get_context("spawn"), initializer=_start,
                               initargs=(initializer, initargs))
    try:
        for result, caught in pool.map(_call, [(fn, task) for task in tasks]):
            for message in caught:
                warnings.warn(message, stacklevel=2)
            yield result
    except BaseException:
        # Interrupted (Ctrl-C, SIGTERM), a task failed, or the caller stopped early: the other workers stop
        # now rather than finishing their tasks. SIGTERM is their Ctrl-C (auralize.signals), so a worker that is
        # writing a set of files completes or removes it first.
        _stop(pool)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _stop(pool) -> None:
    """Cancel what has not started, send SIGTERM to every worker of ``pool`` and wait (a minute at most) until
    they are gone, so that none is still finishing, or writing to the shared stderr, after this process's
    last line."""
    processes = dict(getattr(pool, "_processes", None) or {})  # the executor's workers, by pid
    pool.shutdown(wait=False, cancel_futures=True)
    for pid in processes:
        try:
            os.kill(pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass
    deadline = time.monotonic() + 60
    for process in processes.values():
        process.join(timeout=max(0.0, deadline - time.monotonic()))


def _start(initializer: Callable | None, initargs: tuple) -> None:
    import torch

    os.environ["OMP_NUM_THREADS"] = "1"
    torch.set_num_threads(1)
    if initializer is not None:
        initializer(*initargs)


def _call(job: tuple[Callable, Any]) -> tuple[Any, list[str]]:
    fn, task = job
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fn(task)
    return result, [str(w.message) for w in caught]
