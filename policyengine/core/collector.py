"""The cyclic garbage collector, paused while the engine builds many objects at once.

Snapshots, stores, outcomes and reports are trees: millions of objects and no cycles.
While they are built, every collection walks the growing heap again for nothing, which
makes loading and evaluating super-linear in the size of the account (measured: a third
to a half of the store's time at 100,000 instances). Reference counting still frees
everything that is dropped; only cycles wait for the collector to run again.

A block that built many objects leaves them frozen (`gc.freeze`): re-enabled with a
young generation of millions, the collector's next run would walk all of them, and the
run after that the whole heap (measured: 1.5 s over the three blocks of a 100,000-instance
evaluation). Frozen objects are still freed when dropped; they are only never walked.
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
            if gc.get_count()[0] > MANY:
                gc.freeze()  # what the block built is no longer young: never walked
            gc.enable()


# Objects made in a block past which they are frozen: a store of a few thousand resources
# and more; a small block (a test's snapshot) is left to the collector as usual.
MANY = 100_000


@contextmanager
def lasting() -> Iterator[None]:
    """The collector off while the block makes objects that live as long as the process
    (the modules, classes and functions of an import), and those frozen after it: each
    collection while they were made would walk all made so far, and each later one all
    of them again, for nothing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
