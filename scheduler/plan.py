"""Planning: every item expanded into calendar entries, one per (item, channel), with a time and a state.

An entry's time is, in order: the channel override ``at`` (absolute, or an offset from publish_at),
the item's ``publish_at``, or — for ``at: next`` or no time on a channel with slots — a queue slot
(assigned by ``scheduler.slots``). Times are UTC; views convert to the calendar's timezone.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from newsroom.model import Item, Project
from newsroom.state import EntryState, entry_key

#: Ledger states that replace the item's status in the calendar.
LEDGER_STATES = ("delivered", "failed", "missed", "claimed", "skipped")


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

    @property
    def key(self) -> str:
        return entry_key(self.item.id, self.channel)

    @property
    def wants_slot(self) -> bool:
        return self.source == "none" or self.item.channels[self.channel].at == "next"


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
            state = item.status
            known = ledger.get(entry_key(item.id, name))
            if known is not None and known.state in LEDGER_STATES:
                state = known.state
            entries.append(Entry(item=item, channel=name, type=config.type, at=at, source=source, state=state,
                                 enabled=override.enabled and config.enabled,
                                 segment=override.segment))
    return entries


def plan(project: Project, *, ledger: dict[str, EntryState] | None = None, now: datetime | None = None) -> list[Entry]:
    """The calendar: every entry with its time (queue slots assigned), state and flags."""
    return expand(project, ledger)
