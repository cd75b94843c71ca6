"""Several processes, one training run: ``torchrun --nproc-per-node N -m auralize train ...``.

PyTorch's own engine: a ``torch.distributed`` process group (gloo on CPU, NCCL on GPUs) and
DistributedDataParallel, which averages the gradients of the ranks at every step. This module
holds what the rest of the package asks of it: which rank this process is (:func:`world`), the
device of a command (:func:`pick_device`), and what the ranks must share (:func:`agree`,
:func:`read_on_main`, :func:`total`). A process that ``torchrun`` did not start is rank 0 of 1,
and every function here is then a no-op.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from .errors import AuralizeError

#: ``--device`` choices: ``auto`` is CUDA when torch sees a GPU, else the CPU.
DEVICES = ("cpu", "cuda", "auto")


@dataclass(frozen=True)
class World:
    """This process's rank among ``size`` processes; rank 0 alone writes files, logs and shows progress."""

    rank: int = 0
    size: int = 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def launched() -> bool:
    """Whether ``torchrun`` (or another launcher) started this process as one of several."""
    try:
        return int(os.environ.get("WORLD_SIZE", "1")) > 1
    except ValueError:
        return False


def world() -> World:
    """This process's rank and the number of processes (rank 0 of 1 without a process group)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return World(dist.get_rank(), dist.get_world_size())
    return World()


def pick_device(name: str = "cpu"):
    """The ``torch.device`` of ``--device NAME``; under ``torchrun`` on GPUs, this rank's GPU (``LOCAL_RANK``).

    Raises
    ------
    AuralizeError
        If ``name`` is unknown, or is ``cuda`` and torch sees no GPU.
    """
    import torch

    if name not in DEVICES:
        raise AuralizeError(f"device must be one of {', '.join(DEVICES)}, got {name!r}", param="device")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        if not torch.cuda.is_available():
            raise AuralizeError("device cuda: torch sees no CUDA GPU on this machine (torch.cuda.is_available() is "
                                "False); use cpu or auto", param="device")
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")) % torch.cuda.device_count())
    return torch.device("cpu")


def start(device) -> World:
    """Join the process group ``torchrun`` set up (NCCL for a GPU device, gloo for the CPU); a no-op when
    this process was not launched as one of several, or has joined already."""
    import torch
    import torch.distributed as dist

    if launched() and not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return world()


def stop() -> None:
    """Leave the process group (if any)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def agree(what: str, description: str, remedy: str) -> None:
    """Check that every rank has the same ``description`` of ``what`` (compared by hash).

    Raises
    ------
    AuralizeError
        On every rank, if they differ: rank 0's message says which ranks differ and how; the other
        ranks' says to read rank 0's.
    """
    import torch.distributed as dist

    here = world()
    if here.size == 1:
        return
    mine = (hashlib.sha1(description.encode()).hexdigest(), description)
    everyone: list = [None] * here.size
    dist.all_gather_object(everyone, mine)
    odd = [r for r, (digest, _) in enumerate(everyone) if digest != everyone[0][0]]
    if not odd:
        return
    if here.main:
        raise AuralizeError(f"the torchrun ranks disagree on the {what}: rank {odd[0]} has {everyone[odd[0]][1]!r}, "
                            f"rank 0 has {everyone[0][1]!r} ({len(odd)} of {here.size} ranks differ from rank 0: "
                            f"{', '.join(map(str, odd))}); {remedy}")
    import time

    time.sleep(2)  # let rank 0 say which first: torchrun stops every rank as soon as one has failed
    raise AuralizeError(f"the torchrun ranks disagree on the {what} (rank 0 says which); {remedy}")


def read_on_main(path: Path | None) -> bytes | None:
    """The bytes of ``path`` as rank 0 reads them, on every rank (``None`` if rank 0 has no such file), so
    that a resume file need not be on a file system the ranks share."""
    import torch.distributed as dist

    data = path.read_bytes() if path is not None and world().main and path.is_file() else None
    if world().size == 1:
        return data
    box = [data]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def total(value: float) -> float:
    """The sum of ``value`` over the ranks."""
    import torch
    import torch.distributed as dist

    if world().size == 1:
        return value
    t = torch.tensor([value], dtype=torch.float64)
    dist.all_reduce(t)
    return float(t)
