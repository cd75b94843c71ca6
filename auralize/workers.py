"""Worker processes for the embarrassingly parallel parts (``--jobs``): the songs of ``predict``, the genres of
``--genre all``, the shards of ``cache``.

Workers are spawned (a fresh interpreter: forking a process whose torch has run can hang its thread
pools) and compute on one thread each (the workers are the parallelism). Results come back in the
order of the tasks, so the output never depends on how many there are, and the warnings a task
raised in its worker are raised again in the caller, where the command shows them.
"""
from __future__ import annotations

import warnings
from typing import Any, Callable, Iterator, Sequence


def in_workers(fn: Callable[[Any], Any], tasks: Sequence, jobs: int, initializer: Callable | None = None,
               initargs: tuple = ()) -> Iterator:
    """``fn(task)`` for each task, in ``jobs`` spawned one-thread processes, yielded in the tasks' order.

    ``fn`` and ``initializer`` (run once in each worker, e.g. to load a model) must be module-level
    functions, and tasks and results picklable.
    """
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    with ProcessPoolExecutor(max(1, min(jobs, len(tasks))), mp_context=get_context("spawn"), initializer=_start,
                             initargs=(initializer, initargs)) as pool:
        for result, caught in pool.map(_call, [(fn, task) for task in tasks]):
            for message in caught:
                warnings.warn(message, stacklevel=2)
            yield result


def _start(initializer: Callable | None, initargs: tuple) -> None:
    import os

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
