"""Pausing Python's cyclic garbage collector around work that builds many small objects.

The collector runs every few hundred allocations and, as the heap grows, walks all of it again: a
report decoding 300,000 snapshot rows or a build planning 10,000 pages spends a third of its time
there, for nothing, since the structures built here hold no reference cycles (plain dicts, lists,
tuples and dataclasses). Reference counting still frees everything as usual while it is paused.

Pausing alone only defers the walk: what was made meanwhile is the youngest generation once the
collector is back, and is walked when that generation is next collected, then again as it ages
(two thirds of a second of ``check`` at 10,000 items). A process that runs one command and exits
(``one_shot()``, the command line) keeps what it loads until it exits, so there the end of a pause
also freezes the heap (``gc.freeze``): never walked again, still freed by reference counting. A
long-running process (``serve``, ``studio``) reloads the project again and again; it never freezes,
since garbage in a cycle at the moment of a freeze would never be collected.
"""
from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator

_ONE_SHOT = False


def one_shot(on: bool = True) -> None:
    """Say whether this process runs one command and exits (see the module's notes)."""
    global _ONE_SHOT
    _ONE_SHOT = on


def is_one_shot() -> bool:
    return _ONE_SHOT


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the body with the cyclic collector off; it comes back on (if it was on) afterwards, with
    what the body made frozen in a one-shot process."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if _ONE_SHOT:
            gc.freeze()
        if collecting:
            gc.enable()
