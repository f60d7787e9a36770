"""Deterministic crash points for the fault-injection tests: the process kills itself at a named step.

A delivery passes named step boundaries (``email.accepted``: the server answered 250 after DATA and
the journal does not know it yet; ``run.claimed``: the claim is in the ledger and nothing was sent
…). ``reach(name)`` does nothing unless the test-only environment variable ``NEWSROOM_CRASH_AT`` is
set; then, when the boundary named there is reached (``name`` the first time, ``name#3`` the third
time), the process sends itself ``SIGKILL``: no ``finally``, no flush, no atexit, exactly as a
runner killed by its CI or the kernel's OOM killer.

``NEWSROOM_CRASH_TRACE=path`` appends every boundary reached (one name a line) to ``path``, so a
test can first learn the boundaries of a run and then kill a fresh run at each of them.

These variables are for tests only (docs/faults.md); nothing reads them otherwise.
"""
from __future__ import annotations

import os
import signal

CRASH_AT = "NEWSROOM_CRASH_AT"
CRASH_TRACE = "NEWSROOM_CRASH_TRACE"

_seen: dict[str, int] = {}


def reach(name: str) -> None:
    """Mark the step boundary ``name``; kill the process here when a test asked for it."""
    target = os.environ.get(CRASH_AT)
    trace = os.environ.get(CRASH_TRACE)
    if not target and not trace:
        return
    count = _seen[name] = _seen.get(name, 0) + 1
    if trace:
        with open(trace, "a", encoding="utf-8") as f:
            f.write(f"{name}#{count}\n")
    if target and target in (name, f"{name}#{count}") and (target != name or count == 1):
        os.kill(os.getpid(), signal.SIGKILL)
