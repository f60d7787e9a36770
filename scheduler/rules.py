"""Calendar rules: what a channel (or a group of channels) allows, and every entry that breaks it.

Rules come from publish.yml, globally (``calendar:``) and per channel; a channel's own value wins
over the global one, and blackout dates add up. Days, quiet hours, blackout dates and slots are read
in the calendar's timezone (``calendar.timezone``), so "max 3 a day" means the editors' day.

Each broken rule becomes a ``Violation`` on the entries involved (``plan()`` attaches them) and a
``Problem`` per file for ``check``, as an error or a warning as ``calendar.severity`` says.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache

from newsroom import times
from newsroom.model import Group, Project, Rules, Settings
from newsroom.problems import Problem

#: Item statuses and ledger states that never go out: they take no room on the calendar.
IDLE = frozenset(("idea", "archived", "skipped", "missed", "held"))
#: States already out: rules are not held against them, but they count for the others.
DONE = frozenset(("delivered", "published"))
UNAPPROVED = frozenset(("idea", "draft", "review"))


@dataclass
class Violation:
    """One broken rule: its name, a message for people, and the entries involved."""

    rule: str
    message: str
    entries: list = field(default_factory=list)


def effective(settings: Settings, channel: str) -> Rules:
    """The rules in force on ``channel``: its own, else the calendar's; blackout dates from both."""
    own = settings.channels[channel].rules
    base = settings.calendar.rules
    return Rules(slots=own.slots or base.slots,
                 max_per_day=own.max_per_day if own.max_per_day is not None else base.max_per_day,
                 min_gap=own.min_gap if own.min_gap is not None else base.min_gap,
                 quiet_hours=own.quiet_hours or base.quiet_hours,
                 blackout=base.blackout + own.blackout)


def counts(entry) -> bool:
    """Does the entry take room on its channel (enabled, timed, going out or gone out)?"""
    return entry.enabled and entry.at is not None and entry.state not in IDLE


class Local:
    """UTC instants seen in the calendar's timezone, cached (50,000 entries share a few thousand times)."""

    def __init__(self, tz):
        self.tz = tz
        self._cache: dict[datetime, datetime] = {}

    def __call__(self, at: datetime) -> datetime:
        local = self._cache.get(at)
        if local is None:
            local = self._cache[at] = at.astimezone(self.tz)
        return local


def blackout_for(rules: Rules, day: date):
    for b in rules.blackout:
        if b.start <= day <= b.end:
            return b
    return None


class Occupancy:
    """Who is where: per channel (and group) the sorted times and the count per local day.

    ``fits`` answers whether one more entry at ``at`` keeps every rule; slot assignment asks it
    for each candidate slot, so it is kept to a bisect and two dictionary reads.
    """

    def __init__(self, settings: Settings, local: Local):
        self.local = local
        self.rules = {name: effective(settings, name) for name in settings.channels}
        self.groups: dict[str, list[Group]] = {}
        for group in settings.calendar.groups.values():
            for name in group.channels:
                self.groups.setdefault(name, []).append(group)
        self.times: dict[str, list[datetime]] = {}
        self.per_day: dict[tuple[str, date], int] = {}

    def add(self, channel: str, at: datetime, *, sort: bool = True) -> None:
        """Count one more entry; ``sort=False`` appends (call ``sort()`` once after adding many)."""
        day = self.local(at).date()
        groups = self.groups.get(channel)
        for name in (channel, *(f"group:{g.name}" for g in groups)) if groups else (channel,):
            taken = self.times.get(name)
            if taken is None:
                taken = self.times[name] = []
            if sort:
                bisect.insort(taken, at)
            else:
                taken.append(at)
            key = (name, day)
            self.per_day[key] = self.per_day.get(key, 0) + 1

    def sort(self) -> None:
        for taken in self.times.values():
            taken.sort()

    def _gap_ok(self, name: str, at: datetime, gap: timedelta | None) -> bool:
        taken = self.times.get(name)
        if not taken:
            return True
        i = bisect.bisect_left(taken, at)
        gap = gap or timedelta(0)
        if i < len(taken) and (taken[i] - at <= gap if gap else taken[i] == at):
            return False
        return not (i > 0 and gap and at - taken[i - 1] < gap)

    def fits(self, channel: str, at: datetime) -> str | None:
        """None when an entry at ``at`` breaks no rule on ``channel``; else the rule it breaks."""
        rules = self.rules[channel]
        local = self.local(at)
        day = local.date()
        if rules.quiet_hours and rules.quiet_hours.contains(local.time()):
            return "quiet_hours"
        if rules.blackout and blackout_for(rules, day):
            return "blackout"
        if rules.max_per_day and self.per_day.get((channel, day), 0) >= rules.max_per_day:
            return "max_per_day"
        if not self._gap_ok(channel, at, rules.min_gap):
            return "min_gap"
        for g in self.groups.get(channel, ()):
            name = f"group:{g.name}"
            if g.max_per_day and self.per_day.get((name, day), 0) >= g.max_per_day:
                return "max_per_day"
            if g.min_gap and not self._gap_ok(name, at, g.min_gap):
                return "min_gap"
        return None


def _when(local: datetime) -> str:
    return _wall(local.replace(tzinfo=None))


@lru_cache(maxsize=8192)
def _wall(naive: datetime) -> str:
    # cached by the wall time (what is printed): 10,000 entries share a few thousand times, and
    # check names one in each of its thousands of messages
    return naive.strftime("%Y-%m-%d %H:%M")


def violations(entries: list, settings: Settings, now: datetime, local: Local) -> list[Violation]:
    """Every rule broken by the planned entries (entries already out are not blamed, but counted)."""
    out: list[Violation] = []
    tzname = getattr(settings.calendar.timezone, "key", str(settings.calendar.timezone))
    lead = settings.calendar.lead_time or timedelta(0)
    by_channel: dict[str, list] = {}
    for e in entries:
        if counts(e):
            by_channel.setdefault(e.channel, []).append(e)
    for name, group in by_channel.items():
        group.sort(key=lambda e: (e.at, e.item.path))
        rules = effective(settings, name)
        out += _crowding(name, group, rules.max_per_day, rules.min_gap, local, f"channel '{name}'")
        out += _platform_limit(settings, name, group, local)
        slot_times = {(s.at, d) for s in rules.slots for d in s.weekdays}
        for e in group:
            if e.state in DONE:
                continue
            lt = local(e.at)
            if rules.quiet_hours and rules.quiet_hours.contains(lt.time()):
                q = rules.quiet_hours
                out.append(Violation("quiet_hours", f"{_when(lt)} is in the quiet hours of '{name}' "
                                     f"({q.start:%H:%M}-{q.end:%H:%M} {tzname})", [e]))
            b = blackout_for(rules, lt.date()) if rules.blackout else None
            if b:
                span = str(b.start) if b.start == b.end else f"{b.start}..{b.end}"
                out.append(Violation("blackout", f"{lt.date()} is a blackout date ({span}"
                                     f"{': ' + b.reason if b.reason else ''}); move it or take it off '{name}'", [e]))
            if slot_times and e.source in ("at", "offset", "publish_at") \
                    and (lt.time().replace(tzinfo=None), lt.weekday()) not in slot_times:
                # Shown in the calendar, not a problem: a fixed time is the editor's choice.
                out.append(Violation("off_slot", f"{_when(lt)} is not one of the slots of '{name}' "
                                     "(at: next takes the next free slot)", [e]))
    for g in settings.calendar.groups.values():
        members = sorted((e for n in g.channels for e in by_channel.get(n, ())), key=lambda e: (e.at, e.item.path))
        out += _crowding(g.name, members, g.max_per_day, g.min_gap, local, f"group '{g.name}'")
    for e in entries:
        if not e.enabled or e.state in DONE or e.state in IDLE and e.state != "idea":
            continue
        if e.at is None:
            if e.wants_slot and e.item.status == "approved" and "no_slot" in e.flags:
                out.append(Violation("slots", f"no free slot on '{e.channel}' keeps every rule; add slots or "
                                     "give a time", [e]))
            continue
        if e.item.status in UNAPPROVED and e.at - now <= lead:
            lt = local(e.at)
            due = "was due" if e.at <= now else "is due"
            out.append(Violation("lead_time", f"still {e.item.state} but {due} on '{e.channel}' at {_when(lt)} "
                                 f"(lead time {times.format_duration(lead)}): approve it or move it", [e]))
        if e.item.expires_at is not None and e.at >= e.item.expires_at:
            out.append(Violation("expires", f"goes out on '{e.channel}' at {_when(local(e.at))}, after the item "
                                 f"expires ({_when(local(e.item.expires_at))}); it would never be sent", [e]))
    return out


def _platform_limit(settings: Settings, name: str, group: list, local: Local) -> list[Violation]:
    """A day planning more posts on a channel than its platform's API publishes in 24 hours
    (``POSTS_PER_DAY`` of the channel type: Threads 250, Instagram 100): the ones over the limit would
    wait for a later run."""
    from channels.registry import TYPES

    limit = getattr(TYPES.get(settings.channels[name].type), "POSTS_PER_DAY", None)
    if not limit or len(group) <= limit:
        return []
    days: dict[date, list] = {}
    for e in group:
        days.setdefault(local(e.at).date(), []).append(e)
    return [Violation("platform_limit", f"{len(same)} posts on channel '{name}' on {day}; its platform publishes "
                      f"at most {limit} in 24 hours through its API, so the rest would wait for a later run", same)
            for day, same in days.items() if len(same) > limit and any(e.state not in DONE for e in same)]


def _piece(entry) -> str:
    """An item and its translations are one piece: the blog shows them side by side, not crowded."""
    return getattr(entry.item, "translation_of", None) or entry.item.id


def _crowding(name: str, group: list, max_per_day, min_gap, local: Local, what: str) -> list[Violation]:
    """Conflicts (same time), too many a day and too close together, within one sorted list of entries."""
    out: list[Violation] = []
    i = 0
    while i < len(group):  # same instant, same channel: a conflict
        j = i
        while j + 1 < len(group) and group[j + 1].at == group[i].at:
            j += 1
        if j > i and not what.startswith("group") and any(e.state not in DONE for e in group[i:j + 1]) \
                and len({_piece(e) for e in group[i:j + 1]}) > 1:
            out.append(Violation("conflict", f"{j - i + 1} entries on {what} at {_when(local(group[i].at))}",
                                 group[i:j + 1]))
        i = j + 1
    if max_per_day:
        days: dict[date, list] = {}
        for e in group:
            days.setdefault(local(e.at).date(), []).append(e)
        for day, same in days.items():
            if len({_piece(e) for e in same}) > max_per_day and any(e.state not in DONE for e in same):
                out.append(Violation("max_per_day", f"{len(same)} entries on {what} on {day}, at most "
                                     f"{max_per_day} a day", same))
    if min_gap:
        for a, b in zip(group, group[1:]):
            if a.at != b.at and b.at - a.at < min_gap and (a.state not in DONE or b.state not in DONE):
                out.append(Violation("min_gap", f"{times.format_duration(b.at - a.at)} apart on {what} "
                                     f"({_when(local(a.at))} and {_when(local(b.at))}), at least "
                                     f"{times.format_duration(min_gap)} wanted", [a, b]))
    return out


def _where(entry, rule: str = "") -> tuple[int | None, str]:
    """The line and key a problem about ``entry`` points at: its own time, else the item's (its
    ``after:`` first for the order of its channels)."""
    item = entry.item
    lines = item.doc.lines if item.doc else {}
    first = (f"channels.{entry.channel}.after",) if rule in ("dependency_cycle", "before_dependency") else ()
    for key in (*first, f"channels.{entry.channel}.at", "publish_at", f"channels.{entry.channel}", "channels"):
        if key in lines:
            return lines[key], key
    return item.line("title"), "channels"


def problems(project: Project, entries: list) -> list[Problem]:
    """One problem per file involved in each broken rule, naming the other files in it."""
    severity = project.settings.calendar.severity
    out: list[Problem] = []
    seen = set()
    for e in entries:
        for v in e.violations:
            if id(v) in seen or v.rule not in severity:
                continue
            seen.add(id(v))
            paths = sorted({x.item.path for x in v.entries})
            for x in v.entries:
                if x.state in DONE:
                    continue  # out already: nothing to fix in that file
                line, key = _where(x, v.rule)
                others = [p for p in paths if p != x.item.path]
                with_ = f" (with {', '.join(others)})" if others else ""
                out.append(Problem(x.item.path, line, key, f"{v.rule}: {v.message}{with_}",
                                   severity.get(v.rule, "error")))
    return out


__all__ = ["Violation", "effective", "Occupancy", "violations", "problems", "Local", "counts"]
