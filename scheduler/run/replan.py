"""The run's plan after its own appends: the plan it made before the deliveries, brought up to date by
recomputing exactly what the ledger's changes change, or made again when a change reaches further.

A run plans once before its deliveries (``select``) and needs the calendar again after them (the
credentials' lapses, the look ahead). Planning 10,000 items costs a quarter of a second; a run that
corrected one item changed one ledger entry. The plan reads the ledger only through what ``view``
keeps of each entry (``scheduler/plan.py``: its state, the time it went out or was tried, the
corrections and revisions its calendar notes name; ``scheduler/after.py``: what a dependency gate
sees; ``scheduler/evergreen.py``: the shares), so:

- an entry whose view did not change changes nothing in the plan;
- an entry whose view changed, but not its state nor, when its calendar time may come from the ledger,
  that time, changes the calendar's notes on it (a correction applied, an edit noticed) and nothing
  else, provided what a dependency gate reads of it and the time it went out are the same too when
  another entry of its item waits for it (``after:``, the blog page a post links to) or its item is
  re-shared (evergreen): a blog correction keeps its receipt, so it is patched in;
- anything else (a new ledger entry, a new state, a share, a changed time that something waits for
  or that places the entry, many changes at once) and the plan is made again in full.

``tests/test_replan.py`` holds this to a full plan on ledgers changed by every kind of event.
"""
from __future__ import annotations

import copy
from datetime import datetime

from newsroom.state import EntryState

from ..plan import Entry, _after_publishing, plan

#: More changed ledger entries than this and the plan is made again: patching is for a few.
MOST = 64


def view(st: EntryState) -> tuple:
    """What the plan reads of one ledger entry (every field of it that any planning step looks at)."""
    receipt = st.receipt or {}
    at = receipt.get("at")
    return (st.state, st.revision, st.error, st.retryable, st.unresolved, st.live_at, receipt.get("url"),
            at or st.last_at,  # when it went out (after.delivered_at, evergreen._when)
            at or st.claimed_at or st.last_at,  # the time it keeps in the calendar (plan._ledger_time)
            st.claimed_at or st.last_at,  # when a share was tried (evergreen._tried)
            st.delivered_revision, st.corrected_revision, st.changed_revision, len(st.corrections),
            st.withdrawn_reason)


STATE, KEPT_AT = 0, 8
GATE = slice(0, 8)  # what a dependency gate reads (after.Order.gate), and when it went out
OWN_TIME = ("at", "offset", "publish_at")  # entry times the item gives (plan.entry_time), not the ledger


def _as_state(key: str, v: tuple) -> EntryState:
    """An entry state that gives the notes ``v`` gave (for the notes before the change)."""
    return EntryState(key, state=v[STATE], delivered_revision=v[10], corrected_revision=v[11],
                      changed_revision=v[12], corrections=[None] * v[13], withdrawn_reason=v[14])


class Plan:
    """A plan and the views of the ledger it was made on."""

    def __init__(self, project, ledger: dict[str, EntryState], now: datetime, entries: list[Entry] | None = None):
        self.project, self.now = project, now
        self.entries = entries if entries is not None else plan(project, ledger=ledger, now=now)
        self.views = {key: view(st) for key, st in ledger.items()}

    def after(self, ledger: dict[str, EntryState]) -> "Plan":
        """The plan on ``ledger`` (the same store's entries, later): this one updated, or a new one."""
        views = {key: view(st) for key, st in ledger.items()}
        entries = updated(self.entries, self.views, views, ledger)
        if entries is None:
            return Plan(self.project, ledger, self.now)
        out = Plan.__new__(Plan)
        out.project, out.now, out.entries, out.views = self.project, self.now, entries, views
        return out


def updated(entries: list[Entry], before: dict[str, tuple], now: dict[str, tuple],
            ledger: dict[str, EntryState]) -> list[Entry] | None:
    """``entries`` (planned on a ledger whose views were ``before``) as planning on the ledger whose
    views are ``now`` gives them; None when that needs a full plan."""
    if len(now) < len(before):
        return None  # entries gone from the ledger (rewritten): plan again
    changed = [key for key, v in now.items() if before.get(key) != v]
    if not changed:
        return entries
    if len(changed) > MOST:
        return None
    position = {e.key: n for n, e in enumerate(entries)}
    if len(position) != len(entries):
        return None  # two entries with one key (items sharing an id): each reads it, plan again
    waits = {x.item.id for x in entries if x.after}  # items with an entry that waits for another of theirs
    out = None
    for key in changed:
        old, new = before.get(key), now[key]
        n = position.get(key)
        if old is None or n is None:
            return None  # a new ledger entry (a first claim, a share), or one the plan has no entry for
        e = entries[n]
        if e.share or old[STATE] != new[STATE]:
            return None  # a share (evergreen.shares places them), or a new state (what the rules count)
        if old[GATE] != new[GATE] and (e.item.id in waits or e.item.evergreen):
            return None  # what a gate of its item sees, or when it went out: gates, offsets and shares read it
        if old[KEPT_AT] != new[KEPT_AT] and e.source not in OWN_TIME:
            return None  # its calendar time may be the ledger's (plan._ledger_time), or a slot
        was = _after_publishing(_as_state(key, old), e.item)
        notes = _after_publishing(ledger[key], e.item)
        if was == notes:
            continue
        if e.notes[:len(was)] != was:
            return None
        e = copy.copy(e)  # the steps may still hold the entry planned before: it stays as it was
        e.notes = notes + e.notes[len(was):]
        if out is None:
            out = list(entries)
        out[n] = e
    return out if out is not None else entries
