"""The calendar as editors read it: rows with every field, filters, and the terminal views.

A view never plans: it is handed the planned entries and a timezone, and returns text. JSON and
CSV carry every field of ``row()``; the agenda, week and month views pick what fits on a screen.
"""
from __future__ import annotations

import calendar as _cal
import csv
import io
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import click

from newsroom.times import iso_utc

#: Terminal colour per state; plain text when the output is not a terminal (click strips it).
STATE_COLOURS = {"idea": "bright_black", "draft": "yellow", "review": "cyan", "approved": "green",
                 "published": "blue", "delivered": "blue", "claimed": "magenta", "failed": "red",
                 "missed": "red", "held": "red", "skipped": "bright_black", "archived": "bright_black"}
#: Flags that are problems (red mark) rather than notes.
ALARMS = ("conflict", "max_per_day", "blackout", "expires", "no_slot", "lead_time", "quiet_hours", "min_gap", "slots",
          "dependency_cycle", "before_dependency")

FIELDS = ("key", "item_id", "slug", "path", "title", "channel", "type", "at", "local", "date", "time", "source",
          "state", "status", "enabled", "segment", "campaign", "author", "priority", "tags", "approved_at",
          "expires_at", "flags", "notes", "after", "waiting")


def row(entry, tz, _cache: dict | None = None) -> dict:
    """Every field of an entry, plain JSON values; ``local`` is the time in ``tz`` with its offset.

    ``_cache`` (from ``rows()``) shares the time conversions among entries at the same instant:
    an item's channels mostly go out together, and 50,000 rows share a few thousand times.
    """
    item = entry.item
    at = entry.at
    if at is None:
        when = (None, None, None, None)
    else:
        when = _cache.get(at) if _cache is not None else None
        if when is None:
            local = at.astimezone(tz)
            iso = local.isoformat(timespec="minutes")  # 2026-11-27T09:00+01:00
            when = (iso_utc(at), iso, iso[:10], iso[11:16])
            if _cache is not None:
                _cache[at] = when
    return {
        "key": entry.key, "item_id": item.id, "slug": item.slug, "path": item.path, "title": entry_title(item),
        "channel": entry.channel, "type": entry.type,
        "at": when[0], "local": when[1], "date": when[2], "time": when[3],
        "source": entry.source, "state": entry.state, "status": item.status, "enabled": entry.enabled,
        "segment": entry.segment, "campaign": item.campaign, "author": item.author or None,
        "priority": item.priority, "tags": list(item.tags),
        "approved_at": iso_utc(item.approved_at) if item.approved_at else None,
        "expires_at": iso_utc(item.expires_at) if item.expires_at else None,
        "flags": list(entry.flags), "notes": list(entry.notes),
        # what it waits for (after:, and the blog its post links to), and why that holds it now
        "after": entry.after_names, "waiting": entry.waiting,
    }


def entry_title(item) -> str:
    """A translation is shown with its original: ``The launch · de: Der Start``."""
    original = getattr(item, "original_title", None)
    return f"{original} · {item.language}: {item.title}" if original else item.title


def rows(entries, tz) -> list[dict]:
    cache: dict = {}
    return [row(e, tz, cache) for e in entries]


@dataclass
class Filters:
    channels: tuple[str, ...] = ()
    campaigns: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    since: datetime | None = None  # UTC, inclusive
    until: datetime | None = None  # UTC, exclusive

    def keep_untimed(self, entry) -> bool:
        """The filters apart from the time range (for entries with no time yet)."""
        return Filters(self.channels, self.campaigns, self.statuses, self.authors).keep(entry)

    def keep(self, entry) -> bool:
        item = entry.item
        if self.channels and entry.channel not in self.channels:
            return False
        if self.campaigns and (item.campaign or "") not in self.campaigns:
            return False
        if self.statuses and entry.state not in self.statuses and item.status not in self.statuses:
            return False
        if self.authors and (item.author or "").casefold() not in {a.casefold() for a in self.authors}:
            return False
        if self.since is not None or self.until is not None:
            if entry.at is None:
                return False
            if self.since is not None and entry.at < self.since:
                return False
            if self.until is not None and entry.at >= self.until:
                return False
        return True


def day_start(day: date, tz) -> datetime:
    """Local midnight of ``day`` in ``tz`` (a midnight a DST change skips becomes the first hour that exists)."""
    from newsroom.times import UTC

    naive = datetime.combine(day, time())
    dt = naive.replace(tzinfo=tz)
    if dt.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
        dt = (naive + timedelta(hours=1)).replace(tzinfo=tz)
    return dt.astimezone(UTC)


def window(filters: Filters, today: date, tz, *, span: str | None, days: int, agenda: bool) -> tuple[date, date]:
    """The days a calendar view covers, first and last (inclusive): ``days`` after today, this week
    (``span="week"``, Monday to Sunday) or this month. The agenda (and --week/--month) shows those
    days unless ``--since``/``--until`` say otherwise; the exports show everything unless a range is
    asked. Sets ``filters``' time range to match."""
    first, last = today, today + timedelta(days=days)
    if span == "week":
        first = today - timedelta(days=today.weekday())
        last = first + timedelta(days=6)
    elif span == "month":
        first = today.replace(day=1)
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    if (agenda or span) and filters.since is None and filters.until is None:
        filters.since, filters.until = day_start(first, tz), day_start(last + timedelta(days=1), tz)
    elif agenda:
        first = (filters.since or day_start(first, tz)).astimezone(tz).date()
        last = (filters.until - timedelta(seconds=1)).astimezone(tz).date() if filters.until else last
    return first, last


def to_json(rows: list[dict]) -> str:
    """One row a line: readable, diffable, and written by json's C encoder (``indent`` would not use it)."""
    if not rows:
        return "[]"
    dumps = json.JSONEncoder(ensure_ascii=False).encode
    return "[\n" + ",\n".join(dumps(r) for r in rows) + "\n]"


def to_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: _cell(v) for k, v in r.items()})
    return out.getvalue()


def _cell(value) -> str:
    if isinstance(value, list):
        return "; ".join(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _style_state(state: str, status: str | None = None, width: int = 9) -> str:
    """A state in its colour, padded to ``width``; a team's own state (legal-review) in the colour of the
    status it stands for."""
    return click.style(f"{state:<{width}}", fg=STATE_COLOURS.get(state) or STATE_COLOURS.get(status))


def _marks(r: dict) -> str:
    off = "" if r["enabled"] else " " + click.style("(disabled)", dim=True)
    alarms = [f for f in r["flags"] if f in ALARMS]
    if alarms:
        off += " " + click.style("! " + ", ".join(alarms), fg="red", bold=True)
    if r.get("after"):  # the order of the item's channels, and why it holds this one now
        off += " " + click.style(f"· after {', '.join(r['after'])}", dim=True)
    if r.get("waiting"):
        off += " " + click.style(f"({r['waiting']})", fg="yellow")
    return off


def _day_title(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def agenda(rows: list[dict], first: date, last: date, *, tzname: str, show_empty: bool = False,
           unscheduled: list[dict] | None = None) -> str:
    """Days from ``first`` to ``last`` (inclusive), each with its entries: time, channel, state, title, marks."""
    by_day: dict[str, list[dict]] = {}
    for r in rows:
        if r["date"]:
            by_day.setdefault(r["date"], []).append(r)
    lines = [click.style(f"Calendar {first} – {last} ({tzname})", bold=True)]
    width = max((len(r["channel"]) for r in rows), default=8)
    # the built-in states fit in 9; a team's own (legal-review) widens the column for every row alike
    state_width = max((len(r["state"]) for r in [*rows, *(unscheduled or ())]), default=9)
    state_width = max(state_width, 9)
    day = first
    shown = 0
    while day <= last:
        todays = by_day.get(day.isoformat(), [])
        if todays or show_empty:
            lines.append("")
            lines.append(click.style(_day_title(day), bold=True, underline=True))
            if not todays:
                lines.append("  –")
            for r in todays:
                shown += 1
                lines.append(f"  {r['time']}  {r['channel']:<{width}}  {_style_state(r['state'], r.get('status'), state_width)} "
                             f"{r['title']}{_marks(r)}")
        day += timedelta(days=1)
    if unscheduled:
        lines += ["", click.style("No time yet", bold=True, underline=True)]
        for r in unscheduled:
            why = r["notes"][0] if r["notes"] else "no time"
            lines.append(f"  --:--  {r['channel']:<{width}}  {_style_state(r['state'], r.get('status'), state_width)} "
                         f"{r['title']} ({why})")
    if not shown and not show_empty:
        lines += ["", "  nothing planned in these days"]
    return "\n".join(lines) + "\n"


def month(rows: list[dict], year: int, month_no: int, *, tzname: str, today: date | None = None) -> str:
    """A month grid, Monday first: each day with its number of entries, ! where a rule is broken."""
    weeks = _cal.Calendar(firstweekday=0).monthdatescalendar(year, month_no)
    count: dict[str, int] = {}
    alarm: set[str] = set()
    for r in rows:
        if r["date"]:
            count[r["date"]] = count.get(r["date"], 0) + 1
            if any(f in ALARMS for f in r["flags"]):
                alarm.add(r["date"])
    title = f"{_cal.month_name[month_no]} {year} ({tzname})"
    lines = [click.style(title, bold=True), " ".join(f"{d:<12}" for d in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"))]
    for week in weeks:
        cells = []
        for d in week:
            if d.month != month_no:
                cells.append(" " * 12)
                continue
            n = count.get(d.isoformat(), 0)
            text = f"{d.day:>2} " + (f"{n} post{'s' * (n != 1)}" if n else "")
            text = f"{text:<11}" + ("!" if d.isoformat() in alarm else " ")
            style = {"bold": True} if d == today else {}
            if d.isoformat() in alarm:
                style["fg"] = "red"
            elif n:
                style["fg"] = "green"
            cells.append(click.style(text, **style) if style else text)
        lines.append(" ".join(cells))
    lines.append("")
    lines.append("! a rule is broken that day (see `publish.py calendar` or `check`)")
    return "\n".join(lines) + "\n"
