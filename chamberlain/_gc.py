"""Pausing CPython's cyclic garbage collector around bulk work.

Bulk inserts and large query pages make hundreds of thousands of small
container objects (row tuples, record lists, result objects), none in
reference cycles. Left running, the cyclic collector starts a generation-0
pass every 700 new objects and, every few of those, a full pass over every
object in the process: measured at 20-40 % of a 100,000-record insert or a
240,000-row query. Paused, the new objects are examined once, at the first
collection after the bulk step. Reference counting frees memory as usual
throughout; only cycle detection waits.

The switch is process-wide: while a bulk step runs, other threads' cycles
wait for collection too, and a thread that disabled the collector itself
during that time finds it enabled again when the step ends.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["collector_paused"]


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Disable the cyclic garbage collector for the block; restore its previous state after.

    Nesting is free (an inner block finds the collector already paused and
    leaves it so); the state is restored even if the block raises.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
