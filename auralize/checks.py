"""Range checks for numbers that reach the library from scripts and the CLI alike.

Each raises :class:`~auralize.errors.AuralizeError` naming the argument (``param``), so a Python
caller is told about ``steps`` and a CLI user about ``--steps``. NaN and infinity never pass.
"""
from __future__ import annotations

import math
import numbers

from .errors import AuralizeError

#: The longest audio auralize synthesises (dreams, inversions), in seconds: every limit on length reads it.
MAX_SECONDS = 600.0


def number(name: str, value: float, *, lo: float | None = None, hi: float | None = None,
           lo_open: bool = False, hi_open: bool = False, integer: bool = False) -> float:
    """``value`` if it is a finite number within the bounds, else a one-line error about ``name``."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise AuralizeError(f"{name} must be a number, got {value!r}", param=name) from None
    if not math.isfinite(v):
        raise AuralizeError(f"{name} must be a finite number, got {value!r}", param=name)
    if integer and v != int(v):
        raise AuralizeError(f"{name} must be a whole number, got {value!r}", param=name)
    below = lo is not None and (v <= lo if lo_open else v < lo)
    above = hi is not None and (v >= hi if hi_open else v > hi)
    if below or above:
        shown = lambda b: str(int(b)) if integer and float(b).is_integer() else f"{b:g}"  # noqa: E731 (2**32 - 1 in full)
        left = "" if lo is None else (f"> {shown(lo)}" if lo_open else f">= {shown(lo)}")
        right = "" if hi is None else (f"< {shown(hi)}" if hi_open else f"<= {shown(hi)}")
        rule = " and ".join(r for r in (left, right) if r)
        raise AuralizeError(f"{name} must be {rule}, got {value!r}", param=name)
    return v


def positive(name: str, value: float) -> float:
    """A finite number > 0."""
    return number(name, value, lo=0, lo_open=True)


def non_negative(name: str, value: float) -> float:
    """A finite number >= 0."""
    return number(name, value, lo=0)


def count(name: str, value: int, lo: int = 1, hi: int | None = None) -> int:
    """A whole number within ``[lo, hi]``."""
    return int(number(name, value, lo=lo, hi=hi, integer=True))


def seed(value: int, name: str = "seed") -> int:
    """A seed NumPy's and torch's generators both take: a whole number from 0 to 2**32 - 1."""
    return count(name, value, 0, 2**32 - 1)


def index(name: str, value, what: str) -> int:
    """A position (an ``int`` >= 0, not a name or a float): ``what`` says what it is the position of."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        hint = f"; use model.genres.index({value!r})" if isinstance(value, str) and "genre" in what else ""
        raise AuralizeError(f"{name} must be {what} (a whole number >= 0), got {value!r}{hint}", param=name)
    return int(value)
