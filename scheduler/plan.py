"""Planning: every item expanded into calendar entries, one per (item, channel), with a time and a state.

An entry's time is, in order: the channel override ``at`` (absolute, or an offset from publish_at),
the item's ``publish_at``, or — for ``at: next`` or no time on a channel with slots — a queue slot
(assigned here, by ``Queue``). Times are UTC; views convert to the calendar's timezone.
"""
from __future__ import annotations

from dataclasses import dataclass, field
import bisect
from datetime import datetime, timedelta

from newsroom import times
from newsroom.gcpause import collector_paused
from newsroom.model import Item, Project, Rules
from newsroom.state import EntryState, entry_key
from newsroom.times import UTC

from . import after as order
from . import evergreen
from .rules import Local, Occupancy, counts, violations

#: Ledger states that replace the item's status in the calendar.
LEDGER_STATES = ("delivered", "failed", "missed", "claimed", "skipped", "held", "withdrawn")


class _kept:
    """A property worked out at its first read and kept in the instance's ``__dict__``, where later
    reads find it: ``functools.cached_property`` without the lock it takes at each first read on
    Python 3.11 (30,000 first reads in a plan of 10,000 items on three channels)."""

    def __init__(self, fn):
        self.fn, self.name = fn, fn.__name__

    def __get__(self, obj, cls=None):
        if obj is None:
            return self
        value = obj.__dict__[self.name] = self.fn(obj)
        return value


@dataclass
class Entry:
    """An item on a channel at a time: the calendar's unit and the publish run's."""

    item: Item
    channel: str  # channel name from publish.yml
    type: str  # channel type
    at: datetime | None  # UTC; None: no time yet
    source: str  # where the time came from: at, offset, publish_at, slot, none
    state: str  # the item's status, or the ledger's state once it knows the entry
    enabled: bool = True
    segment: str | None = None
    flags: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    violations: list = field(default_factory=list, repr=False)  # rules.Violation, for check
    after: tuple = ()  # after.Dependency: what it waits for (its after:, and the blog its post links to)
    waiting: str | None = None  # why its dependencies hold it now (the calendar's "why it waits")
    share: int = 0  # an evergreen re-share: its number (scheduler/evergreen.py); 0: the item's own entry
    earliest: datetime | None = None  # no slot before this (an evergreen share: every after the last)

    @_kept
    def key(self) -> str:
        return entry_key(self.item.id, self.channel) + (f"~{self.share}" if self.share else "")

    @property
    def wants_slot(self) -> bool:
        return self.source in ("none", "slot") or self.item.channels[self.channel].at == "next"

    @property
    def after_names(self) -> list[str]:
        return [d.label() for d in self.after]


def entry_time(item: Item, channel: str) -> tuple[datetime | None, str]:
    """The entry's own time (no slots): from the override, the offset, or publish_at."""
    override = item.channels.get(channel)
    at = override.at if override else None
    if isinstance(at, datetime):
        return at, "at"
    if isinstance(at, timedelta):
        return (item.publish_at + at, "offset") if item.publish_at else (None, "none")
    if at == "next":
        return None, "none"
    if item.publish_at is not None:
        return item.publish_at, "publish_at"
    return None, "none"


def expand(project: Project, ledger: dict[str, EntryState] | None = None) -> list[Entry]:
    """One entry per (item, declared channel), in item path then channel order; no slots assigned."""
    entries: list[Entry] = []
    channels = project.settings.channels
    ledger = ledger or {}
    for item in project.items:
        for name, override in item.channels.items():
            config = channels.get(name)
            if config is None:
                continue  # an unknown channel is a check problem already
            at, source = entry_time(item, name)
            state = item.state  # the team's name for it (legal-review); rules read item.status
            known = ledger.get(entry_key(item.id, name))
            if known is not None and known.state in LEDGER_STATES:
                state = known.state
            entries.append(Entry(item=item, channel=name, type=config.type, at=at, source=source, state=state,
                                 enabled=override.enabled and config.enabled,
                                 segment=override.segment))
            if known is not None:
                entries[-1].notes.extend(_after_publishing(known, item))
    return entries


def _after_publishing(st: EntryState, item: Item) -> list[str]:
    """The calendar's notes on an entry that went out: its corrections, and what waits for it."""
    notes = []
    if st.corrections:
        notes.append(f"corrected {len(st.corrections)}×")
    if st.state == "withdrawn":
        notes.append(f"withdrawn: {st.withdrawn_reason}" if st.withdrawn_reason else "withdrawn")
    elif st.state == "delivered" and item.revision not in (st.delivered_revision, st.corrected_revision,
                                                           st.changed_revision):
        notes.append("withdrawal due" if item.status == "withdrawn" else
                     "correction due" if item.status == "approved" else "correction waits for approval")
    return notes


def slot_times(rules: Rules, tz, start: datetime, days: int) -> list[datetime]:
    """The channel's slot instants (UTC, in order) from ``start`` for ``days`` local days.

    Slots are local wall times in the calendar's timezone. On a DST change a slot time that does not
    exist that day (02:30 when clocks jump from 02:00 to 03:00) is left out, and one that happens
    twice (02:30 when clocks go back) is taken once, at its first occurrence.
    """
    by_day: dict[int, list] = {}
    for slot in rules.slots:
        for d in slot.weekdays:
            by_day.setdefault(d, []).append(slot.at)
    for d in by_day:
        by_day[d] = sorted(set(by_day[d]))
    out: list[datetime] = []
    day = start.astimezone(tz).date()
    for n in range(days):
        current = day + timedelta(days=n)
        for t in by_day.get(current.weekday(), ()):
            naive = datetime.combine(current, t)
            at = naive.replace(tzinfo=tz, fold=0)
            if at.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
                continue  # skipped by the spring-forward change
            at = at.astimezone(UTC)
            if at >= start:
                out.append(at)
    return out


class Queue:
    """A channel's free slots, handed out in order; a slot that cannot take an entry is skipped for good.

    Every reason a slot is refused (taken, day full, too close, quiet hours, blackout) only grows as
    entries are added, so a refused slot never becomes free again: ``_next`` links jump over them
    (path-halving, as in union-find) and handing out n entries stays close to linear.
    """

    HORIZON_DAYS = 366

    def __init__(self, channel: str, rules: Rules, tz, start: datetime, occupancy: Occupancy):
        self.channel, self.occupancy = channel, occupancy
        self.slots = slot_times(rules, tz, start, self.HORIZON_DAYS)
        self._next = list(range(len(self.slots) + 1))

    def _find(self, i: int) -> int:
        nxt = self._next
        while nxt[i] != i:
            nxt[i] = nxt[nxt[i]]
            i = nxt[i]
        return i

    def take(self, earliest: datetime, before: datetime | None) -> datetime | None:
        i = self._find(bisect.bisect_left(self.slots, earliest))
        while i < len(self.slots):
            at = self.slots[i]
            if before is not None and at >= before:
                return None
            self._next[i] = i + 1  # used now, or refused for good
            if self.occupancy.fits(self.channel, at) is None:
                self.occupancy.add(self.channel, at)
                return at
            i = self._find(i + 1)
        return None


def _queue_order(entry: Entry):
    item = entry.item
    approved = item.approved_at.timestamp() if item.approved_at else float("inf")
    return (-item.priority, approved, item.path, entry.channel)


def _ledger_time(known: EntryState | None) -> datetime | None:
    if known is None:
        return None
    text = (known.receipt or {}).get("at") or known.claimed_at or known.last_at
    try:
        return times.parse_instant(text) if text else None
    except ValueError:
        return None


def plan(project: Project, *, ledger: dict[str, EntryState] | None = None, now: datetime | None = None) -> list[Entry]:
    """The calendar: every entry with its time (queue slots assigned), state and flags.

    Queue order is stable: priority (higher first), then approval time, then path, so the same
    repository always gives the same plan for the same ``now``. An entry the ledger already knows
    keeps the time it went out (or was tried) instead of taking a new slot.
    """
    # thousands of entries, flags and notes: the cyclic collector would walk every loaded item again
    # and again while they are made (up to 40% of planning 10,000 items)
    with collector_paused():
        return _plan(project, ledger, now)


def _plan(project: Project, ledger: dict[str, EntryState] | None, now: datetime | None) -> list[Entry]:
    settings = project.settings
    now = (now or datetime.now(UTC)).astimezone(UTC)
    ledger = ledger or {}
    tz = settings.calendar.timezone
    local = Local(tz)
    entries = expand(project, ledger)
    order.attach(entries, settings, ledger)
    occupancy = Occupancy(settings, local)
    waiting: list[Entry] = []
    known, upcoming = evergreen.shares(project, ledger, now, Entry,
                                       lambda name: occupancy.rules[name].min_gap if name in occupancy.rules else None)
    entries.extend(known)
    for e, earliest in upcoming:
        i, _ = evergreen.variant(e.item, e.share)
        e.notes.append(f"evergreen share {e.share}" + (f", variant {i + 1}" if i is not None else ""))
        e.earliest = earliest
        if occupancy.rules[e.channel].slots:
            waiting.append(e)
        else:
            e.at = earliest
            occupancy.add(e.channel, e.at, sort=False)
        entries.append(e)
    for e in entries:
        if e.wants_slot and e.at is None:
            if e.state in LEDGER_STATES:
                at = _ledger_time(ledger.get(e.key))
                if at is not None:
                    e.at, e.source = at, "ledger"
            elif e.enabled and e.item.status == "approved" and occupancy.rules[e.channel].slots:
                waiting.append(e)
                continue
            elif not occupancy.rules[e.channel].slots:
                e.notes.append(f"no time: '{e.channel}' has no slots")
            else:
                e.notes.append("takes a slot once approved")
        if counts(e):
            occupancy.add(e.channel, e.at, sort=False)
    occupancy.sort()
    queues: dict[str, Queue] = {}
    for e in sorted(waiting, key=_queue_order):
        queue = queues.get(e.channel)
        if queue is None:
            queue = queues[e.channel] = Queue(e.channel, occupancy.rules[e.channel], tz, now, occupancy)
        earliest = max(now, e.item.publish_at) if e.item.publish_at else now
        if e.earliest is not None:
            earliest = max(now, e.earliest)
        at = queue.take(earliest, e.item.expires_at)
        if at is None:
            e.flags.append("no_slot")
            e.notes.append(f"no free slot on '{e.channel}' within {Queue.HORIZON_DAYS} days")
        else:
            e.at, e.source = at, "slot"
    for v in violations(entries, settings, now, local) + order.violations(entries, local):
        for e in v.entries:
            if v.rule not in e.flags:
                e.flags.append(v.rule)
            e.violations.append(v)
            e.notes.append(f"{v.rule}: {v.message}")
    deps = order.Order(entries, settings)
    for e in entries:
        if e.after:
            e.waiting = deps.waiting_note(e, ledger, now)
    # By time; entries at the same time keep their path order (and their order in the front matter).
    far = datetime.max.replace(tzinfo=UTC)
    entries.sort(key=lambda e: e.at or far)
    return entries
