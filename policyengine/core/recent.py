"""The latest answers of a function of immutable objects, kept by the objects' identity.

`parse` gives the very same tree for a text it parsed lately (trees are immutable), and
the same packs are loaded again and again: an editor checks its folder on every change,
a long-lived process (the language server, an embedding program, a test run) evaluates
many inputs against the same policies. A load whose trees, parameter values and limits
are those of a recent load has the same checks and the same compiled rules; the rules it
compiles are the same objects, so what is found from them (the attributes they read,
their closures) is kept too, a few loads' worth.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class Recent(Generic[V]):
    """The latest answers of a function of immutable objects, by the objects' identity.
    Each answer keeps its objects alive, so an id is never taken by another object."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, tuple[tuple[object, ...], V]] = OrderedDict()

    def get(self, objects: tuple[object, ...], extra: Hashable, make: Callable[[], V]) -> V:
        """The answer for these objects (and `extra`, the hashable rest of the inputs),
        made by `make` when there is none yet."""
        key = (tuple(id(o) for o in objects), extra)
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                return found[1]
        value = make()
        with self._lock:
            self._entries[key] = (objects, value)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return value
