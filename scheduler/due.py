"""Due selection: what the publish run must do with one calendar entry, given the ledger and the time.

One function, ``decide``, answers for every entry; the run, ``status`` and the no-op cache all ask it,
so they never disagree about what is due. The order of the checks is the order of the rules:
delivered stays delivered (an edit after publishing is reported, never re-posted); only approved
items go out; a claim left by a run that died is reconciled before anything else; nothing goes out
before its time (unless a person forces it) or past its grace window / expiry (missed instead).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from newsroom.state import EntryState

#: Actions. ``wait`` and ``done`` need nothing now; ``held``: another live run has it. After an entry
#: went out: ``correct`` (the item changed: edit the post in place where the channel can, else say
#: so once: ``changed``) and ``withdraw`` (withdrawn or expired: take the post down).
WAIT, DONE, SEND, RECONCILE, MISS, CHANGED, HELD, BLOCKED, BLACKOUT, CORRECT, WITHDRAW = (
    "wait", "done", "send", "reconcile", "miss", "changed", "held", "blocked", "blackout", "correct", "withdraw")


@dataclass(frozen=True)
class Decision:
    action: str
    reason: str = ""
    until: datetime | None = None  # for ``wait``: when the entry becomes due


def human(delta: timedelta) -> str:
    """'3h 10m', '2d 4h', '45s' — how late or how long, for people."""
    seconds = int(abs(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{minutes}m" if minutes else ""]
    text = " ".join(p for p in parts if p)
    return text or f"{secs}s"


def decide(entry, st: EntryState | None, now: datetime, *, grace: timedelta | None, force: bool = False,
           alive: Callable[[str | None], bool] = lambda run: False) -> Decision:
    """What to do with ``entry`` (a ``scheduler.plan.Entry``) now."""
    item = entry.item
    st = st or EntryState(entry.key)
    if st.state == "withdrawn":
        return Decision(DONE, "withdrawn")
    if st.state == "delivered":
        return after_delivery(entry, st, now, alive)
    if not entry.enabled:
        return Decision(DONE, "disabled")
    if item.status != "approved":
        return Decision(DONE, f"status is {item.status}")
    if entry.at is None:
        return Decision(DONE, "no time yet")
    if st.state == "claimed":
        if alive(st.claimed_by):
            return Decision(HELD, f"claimed by run {st.claimed_by}, still running")
        return Decision(RECONCILE, f"claimed by run {st.claimed_by}, which ended without a receipt")
    forced = force or st.forced_revision == item.revision
    same = st.revision == item.revision
    if st.state == "failed" and st.unresolved and not forced:
        return Decision(BLOCKED, st.error or "a person must check whether it went out")
    if st.state in ("missed", "skipped", "held") and same and not forced:
        return Decision(DONE, st.state)
    if st.state == "failed" and not st.retryable and same and not forced:
        return Decision(DONE, "failed")
    if "blackout" in entry.flags and not force:
        # Blackout dates are the team's "nothing goes out" (holidays, embargoes): hold, never guess.
        why = next((v.message for v in entry.violations if v.rule == "blackout"), "a blackout date")
        return Decision(BLACKOUT, f"not sent: {why}")
    cleared = st.forced_revision == item.revision or (force and st.unresolved)
    if st.state == "failed" and st.ambiguous and not cleared:
        # A person who released (resolve --not-sent) or forced the entry has checked that it is not out.
        return Decision(RECONCILE, "the last attempt may have gone out")
    if now < entry.at and not force:
        return Decision(WAIT, "not yet", until=entry.at)
    if not force:
        if item.expires_at is not None and now >= item.expires_at:
            return Decision(MISS, f"expired at {item.expires_at:%Y-%m-%d %H:%M} UTC before it went out")
        if grace is not None and now > entry.at + grace:
            return Decision(MISS, f"{human(now - entry.at)} late, past the {human(grace)} grace window")
    return Decision(SEND, "forced" if force and now < entry.at else "due")


def withdrawal_reason(item, now: datetime) -> str | None:
    """Why what went out of ``item`` is to be taken down now (withdrawn, or past its expiry), or None."""
    if item.status == "withdrawn":
        return f"withdrawn: {item.reason}" if item.reason else "withdrawn"
    if item.expires_at is not None and now >= item.expires_at:
        return f"expired at {item.expires_at:%Y-%m-%d %H:%M} UTC"
    return None


def after_delivery(entry, st: EntryState, now: datetime, alive: Callable[[str | None], bool]) -> Decision:
    """A delivered entry: withdrawn or expired → take it down; edited → a correction (once per revision,
    and only for an approved item: a correction needs the approval the item needed); else done.
    An open claim of either is settled by asking again: both are safe to repeat (``Channel.edit``)."""
    item = entry.item
    why = withdrawal_reason(item, now)
    if why is not None:
        if st.withdrawing is not None and alive(st.withdrawing_by):
            return Decision(HELD, f"being withdrawn by run {st.withdrawing_by}, still running")
        if st.withdraw_failed == item.revision:
            return Decision(DONE, f"could not be taken down: {st.withdraw_error}")
        return Decision(WITHDRAW, why)
    if item.revision in (st.delivered_revision, st.changed_revision, st.corrected_revision):
        return Decision(DONE, "delivered")
    if st.correcting is not None and alive(st.correcting_by):
        return Decision(HELD, f"being corrected by run {st.correcting_by}, still running")
    if st.correction_failed == item.revision:
        return Decision(DONE, f"the correction failed: {st.correction_error}")
    if item.status != "approved":
        return Decision(DONE, f"edited after it went out; a correction waits for approval (status is {item.status})")
    return Decision(CORRECT, "edited after it went out")


#: How far back the publish run plans queue slots. The calendar hands out the first free slot at or
#: after the time it plans for, so a run at 09:45 would give an entry waiting for the 09:30 slot the
#: next one instead; planning from a little earlier lets the run see the slot that passed since the
#: last run (a 15-minute cron, started late by CI) and send its entry, late but inside its window.
SLOT_LOOKBACK = timedelta(hours=1)


def planning_time(project, now: datetime, graces) -> datetime:
    """``now`` minus the slot look-back, never further back than the shortest grace of a channel with slots
    (a slot the run could not honour any more must not be handed out)."""
    lookback = SLOT_LOOKBACK
    for name, config in project.settings.channels.items():
        if config.rules.slots or project.settings.calendar.rules.slots:
            grace = graces(name)
            if grace is not None:
                lookback = min(lookback, grace)
    return now - lookback
