"""What a run killed before its end leaves in the state, and when that may go (``publish state gc``,
and the end of every publish run).

A run in flight holds a lock and keeps a record of it: the files backend a lock file
(``state/.runs/<run>.lock``), the postgres backend a row in ``runs``. A run that ends removes its
record; a run killed with SIGKILL (by its CI, the OOM killer, a lost machine) cannot, and the record
stays behind. Its claims stay too, and must: the ledger is the history, and a claim without a receipt
is reconciled by the next run through the platform's own idempotency (``scheduler/run/flow.py``), or
shown to a person as uncertain. It is never released as "not sent".

So cleaning up means one thing: the record of a run that no longer holds its lock is removed once
none of its claims is open (each has an outcome in the ledger: delivered, failed, uncertain, missed,
…). While a claim of it is open, the record is kept and said why. A record is removed only while its
run holds no lock, atomically against that run taking it (files: under the lock file's own lock;
postgres: one ``DELETE`` that checks the lock). Nothing in the ledger is removed or added here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from . import StateStore
    from .fold import EntryState


@dataclass
class Collected:
    """What ``collect`` did: the runs whose records went, and those kept with their open claims."""

    removed: list[str] = field(default_factory=list)
    kept: dict[str, list[str]] = field(default_factory=dict)  # run → entries it claimed with no outcome yet


def open_claims(entries: dict[str, EntryState]) -> dict[str, list[str]]:
    """Per run, the entries it claimed (to send, correct or withdraw) that have no outcome yet."""
    out: dict[str, list[str]] = {}
    for key, st in entries.items():
        runs = {st.claimed_by if st.state == "claimed" else None, st.correcting_by if st.correcting else None,
                st.withdrawing_by if st.withdrawing else None}
        for run in runs - {None}:
            out.setdefault(run, []).append(key)
    return {run: sorted(keys) for run, keys in out.items()}


def collect(store: StateStore) -> Collected:
    """Remove the records of runs that ended without removing them and left no open claim."""
    done = Collected()
    ended = store.ended_runs()
    if not ended:
        return done
    claims = open_claims(store.entries())
    for run in ended:
        if claims.get(run):
            done.kept[run] = claims[run]
        elif store.forget_run(run):
            done.removed.append(run)
    return done
