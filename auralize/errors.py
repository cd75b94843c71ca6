"""The one exception type the CLI turns into a one-line error with exit code 2."""


class AuralizeError(Exception):
    """Bad input or a condition the user can fix; the message says what to do."""
