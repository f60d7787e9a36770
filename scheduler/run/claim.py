"""Claiming an entry before acting on it: under the store's lock, and only if the entry, read fresh,
still needs the same action, so of two runs racing for an entry exactly one acts on it."""
from __future__ import annotations

from newsroom.state import EntryState

from .. import due
from ..plan import Entry
from .core import Run


def claim(run: Run, entry: Entry, decision: due.Decision, **fields) -> bool:
    """Claim ``entry`` for sending if, read fresh, it still needs ``decision``'s action.

    The claim is on disk (fsynced) before anything is sent, except where the delivery sends nothing
    (``Channel.DELIVERS_IN_FINISH``, the blog: its page goes out when the site is built and deployed,
    after every claim of the run): there a claim lost to a crash of the machine costs nothing, since
    the next run finds the entry unclaimed and delivers it again, which only names its page, and the
    site build and deploy are safe to repeat. Its claims are made durable by the run's next fsync."""
    if run.opts.dry_run:
        return True
    before = run.store.entries().get(entry.key)
    claimed_by = before.claimed_by if before else None

    def may_claim(fresh: EntryState) -> bool:
        again = run.decide(entry, {entry.key: fresh})
        return again.action == decision.action and fresh.claimed_by == claimed_by

    channel = run.channels.adapters.get(entry.channel)
    durable = not getattr(channel, "DELIVERS_IN_FINISH", False)
    return run.store.claim(entry.key, run.event("claimed", entry, **fields), may_claim, durable=durable)


def claim_miss(run: Run, entry: Entry, decision: due.Decision) -> bool:
    """Record ``entry`` as missed if, read fresh, it is still past its window."""
    if run.opts.dry_run:
        return True
    event = run.event("missed", entry, reason=decision.reason)
    return run.store.claim(entry.key, event, lambda fresh: run.decide(entry, {entry.key: fresh}).action == due.MISS)
