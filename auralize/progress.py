"""Progress bars that suit where they run: text in a terminal, a widget in Jupyter when ipywidgets
is installed, and never tqdm's "IProgress not found" warning in a notebook without it."""
from __future__ import annotations

import warnings


def tqdm_class() -> type:
    """tqdm's bar class for this process (imported quietly once; captum imports it too, so the
    explain path calls this before captum)."""
    with warnings.catch_warnings():
        # tqdm.autonotebook warns in a notebook without ipywidgets (and falls back to text bars, which
        # work); in one with them it warns that it is experimental. Neither tells a user anything.
        warnings.simplefilter("ignore")
        from tqdm.autonotebook import tqdm
    return tqdm


def bar(*args, **kwargs):
    """A progress bar: ``tqdm(*args, **kwargs)`` of :func:`tqdm_class`."""
    return tqdm_class()(*args, **kwargs)
