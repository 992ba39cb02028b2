"""The cyclic garbage collector, paused while the engine builds many objects at once.

Snapshots, stores, outcomes and reports are trees: millions of objects and no cycles.
While they are built, every collection walks the growing heap again for nothing, which
makes loading and evaluating super-linear in the size of the account (measured: a third
to a half of the store's time at 100,000 instances). Reference counting still frees
everything that is dropped; only cycles wait for the collector to run again.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """The collector off for the block, and as it was after it (nested blocks included)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
