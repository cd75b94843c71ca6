"""What a dream costs, checked before its first step: options that are each in range can together
ask for more than a machine has (``--seconds 60 --copies 256`` needs about 8 GB per step), and more
audio than the dream is long (300 ``jitter:22`` transforms add 25 minutes to a 5-s dream).

The memory of a step is dominated by what autograd keeps for the backward pass of every window:
the model's share is measured on one window (its saved tensors), the front end's and the whole
dream's are estimated from their sizes; twice that (the gradients and the temporaries of the
backward pass) is compared with the memory the process may still take.
"""
from __future__ import annotations

import os

import torch
from torch import nn

from .. import features as F
from .. import threads
from ..errors import AuralizeError

#: Bytes autograd keeps per 5-s window for the front end of a parameterisation that holds audio
#: (the clip, its frames, their FFT and PSD), and per sample of the whole dream (the parameters,
#: the prior's statistics of the full audio); measured on the fine parameterisation.
FRONT_END_BYTES, AUDIO_BYTES_PER_SAMPLE = 400_000, 200
#: Saved tensors are about half of a step's peak: the backward pass makes gradients of their size.
PEAK_FACTOR = 2.0


def window_bytes(model: nn.Module) -> int:
    """What autograd keeps for one window through ``model``, its weights left out (they are kept once,
    however many windows there are): measured on one forward pass of one window."""
    own = list(model.parameters()) + list(model.buffers()) if isinstance(model, nn.Module) else []
    weights = {p.untyped_storage().data_ptr() for p in own}
    storages: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        ptr = t.untyped_storage().data_ptr()
        if ptr not in weights:
            storages[ptr] = t.untyped_storage().nbytes()
        return t

    with torch.no_grad():  # one window of the model's own input (the paper's: 22 x 513)
        x = model.features(torch.full((1, int(model.clip_samples)), 1e-3)).detach()
    x.requires_grad_(True)
    with threads.limited(), torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        model.forward_with_states(x)
    return sum(storages.values())


def free_bytes() -> int:
    """Memory this process may still take: the system's available memory, or less under an
    address-space limit (``ulimit -v``)."""
    free = None
    try:
        with open("/proc/meminfo") as fh:
            free = next(int(line.split()[1]) * 1024 for line in fh if line.startswith("MemAvailable:"))
    except (OSError, StopIteration, ValueError):
        try:
            free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            free = 2**40  # unknown: nothing is refused for memory
    try:
        import resource
    except ImportError:  # not on Windows
        return free
    limit = resource.getrlimit(resource.RLIMIT_AS)[0]
    if limit != resource.RLIM_INFINITY:
        try:
            with open("/proc/self/status") as fh:
                used = next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmSize:"))
        except (OSError, StopIteration, ValueError):
            used = 0
        free = min(free, limit - used)
    return max(free, 0)


def check(model: nn.Module, has_audio: bool, count: int, copies: int, seconds: float, margin: int) -> None:
    """Refuse a dream whose transforms' margin is longer than the dream, or whose step would not
    fit in memory (see the module docstring), before any work."""
    frames = 1 + (int(round(seconds * F.SAMPLE_RATE)) - F.N_FFT) // F.HOP
    most = max(frames, 2 * F.N_FRAMES)
    if margin > most:
        raise AuralizeError(f"transforms shift the dream by up to {margin} frames ({margin * F.HOP / F.SAMPLE_RATE:.0f} "
                            f"s), which must be optimised too; at most {most} frames for a {seconds:g}-s dream: use "
                            "fewer or smaller jitter and shift transforms", param="transforms")
    windows = count * copies
    per_window = window_bytes(model) + (FRONT_END_BYTES if has_audio else 2 * F.N_FRAMES * F.N_BINS * 4)
    samples = int(round(seconds * F.SAMPLE_RATE)) + margin * F.HOP
    need = PEAK_FACTOR * (windows * per_window + (samples * AUDIO_BYTES_PER_SAMPLE if has_audio else 0))
    free = free_bytes()
    if need > free:
        raise AuralizeError(f"a {seconds:g}-s dream with {copies} cop{'y' if copies == 1 else 'ies'} scores {windows} "
                            f"windows of 5 s at every step, which needs about {need / 1e9:.1f} GB of memory; "
                            f"{free / 1e9:.1f} GB are free: lower copies or seconds")
