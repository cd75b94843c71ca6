"""Signals during a save: the file is written whole, then the interrupt is raised (not lost in torch's writer)."""
import os
import signal

import pytest
import torch

from auralize.io import atomic_torch_save
from auralize.signals import Terminated, terminate_as_interrupt


class SignalsWhilePickled:
    """Sends SIGTERM to this process while torch.save pickles it: mid-write, as a process manager might."""

    def __reduce__(self):
        os.kill(os.getpid(), signal.SIGTERM)
        return (dict, ())


def test_sigterm_during_a_torch_save_is_an_interrupt_after_the_file_is_whole(tmp_path):
    path = tmp_path / "state.pt"
    with terminate_as_interrupt(), pytest.raises(Terminated):
        atomic_torch_save(path, {"weights": torch.arange(100_000.0), "poke": SignalsWhilePickled()})
    saved = torch.load(path, weights_only=False)
    assert torch.equal(saved["weights"], torch.arange(100_000.0))
    assert [p.name for p in tmp_path.iterdir()] == ["state.pt"]  # no temporary file left beside it
