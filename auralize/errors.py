"""The one exception type the CLI turns into a one-line error with exit code 2."""
from __future__ import annotations


class AuralizeError(Exception):
    """Bad input or a condition the user can fix; the message says what to do.

    Library code names its own arguments (``steps must be at least 1``), never CLI flags; when
    the error is about one argument, ``param`` holds its name and the CLI maps it to its option.
    """

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param
