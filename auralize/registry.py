"""One way to register: the named entries of an extension point, one lookup and one error wording.

Every extension point of auralize (model kinds, parameterisations, transforms, attribution
methods, judges, prior statistics, objective kinds, timestep rules) is a :class:`Registry`. A new
entry is one :meth:`Registry.register` call (usually through the point's ``register_*``
function), and the CLI offers it at once: its choices are read from the registry when shown.

This module imports nothing heavy, so a registry can be declared anywhere.
"""
from __future__ import annotations

import re
from typing import Callable, Generic, Iterator, Mapping, TypeVar

from .errors import AuralizeError

T = TypeVar("T")

NAME = re.compile(r"[a-z][a-z0-9_.-]*")


class UnknownName(AuralizeError, KeyError):
    """A name no entry answers to (a :class:`KeyError` too, so ``Mapping.get`` and ``in`` work)."""

    __str__ = Exception.__str__  # not KeyError's, which would quote the message


class Registry(Mapping[str, T], Generic[T]):
    """Entries of one extension point by name, in the order they were registered.

    Parameters
    ----------
    what : what an entry is, for messages (``"model kind"``)
    param : the library argument that names an entry (``"kind"``); errors carry it, so the CLI
        can name its flag
    normalise : maps a name before any lookup (e.g. ``str.lower``); names and aliases are stored
        normalised

    Examples
    --------
    >>> from auralize import Registry
    >>> SHAPES = Registry("shape", "shape")
    >>> @SHAPES.register
    ... class Square:
    ...     name = "square"
    >>> SHAPES["square"].__name__
    'Square'
    >>> SHAPES["circle"]
    Traceback (most recent call last):
    ...
    auralize.registry.UnknownName: shape names no shape called 'circle'; choose one of: square
    """

    def __init__(self, what: str, param: str, normalise: Callable[[str], str] | None = None) -> None:
        self.what, self.param = what, param
        self._normalise = normalise or (lambda name: name)
        self._entries: dict[str, T] = {}
        self._aliases: dict[str, str] = {}

    def register(self, entry: T, name: str | None = None, aliases: tuple[str, ...] = ()) -> T:
        """Add ``entry`` (or replace the entry of the same name); returns it, so it serves as a decorator.

        ``name`` defaults to the entry's ``name`` attribute. A name is lower-case letters, digits,
        ``-``, ``_`` or ``.``; a name or alias taken by another entry is refused.
        """
        name = self._normalise(name if name is not None else getattr(entry, "name", ""))
        names = (name, *(self._normalise(a) for a in aliases))
        for n in names:
            if not isinstance(n, str) or not NAME.fullmatch(n):
                raise AuralizeError(f"a {self.what}'s name is lower-case letters, digits, -, _ or .; got {n!r}")
            owner = self._aliases.get(n, n if n in self._entries else None)
            if owner is not None and owner != name:
                raise AuralizeError(f"{self.what} name {n!r} is taken by {owner!r}")
        self.unregister(name)
        self._entries[name] = entry
        self._aliases.update({a: name for a in names[1:]})
        return entry

    def unregister(self, name: str) -> T | None:
        """Remove an entry and its aliases; returns it (``None`` if there was none)."""
        name = self._normalise(name)
        self._aliases = {a: n for a, n in self._aliases.items() if n != name}
        return self._entries.pop(name, None)

    def canonical(self, name: str) -> str:
        """The registered name ``name`` stands for (itself or the entry it is an alias of)."""
        try:
            key = self._normalise(name)
        except (AttributeError, TypeError):
            key = None
        if key in self._entries:
            return key
        if key in self._aliases:
            return self._aliases[key]
        raise UnknownName(f"{self.param} names no {self.what} called {name!r}; choose one of: "
                          f"{', '.join(self._entries) or '(none registered)'}", param=self.param)

    def __getitem__(self, name: str) -> T:
        return self._entries[self.canonical(name)]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def choices(self) -> list[str]:
        """Every name an entry answers to (names, then aliases): what the CLI accepts."""
        return [*self._entries, *self._aliases]

    def __repr__(self) -> str:
        return f"Registry({self.what}: {', '.join(self._entries)})"
