"""Engagement reports: what the pulled numbers say, for a period, grouped the way the team asks.

Figures, all from the snapshot rows and the ledger:

- totals per metric: for each (entry, metric) the latest snapshot inside the period, summed;
  the previous period (as long, just before) is computed the same way, and ``change`` is
  (now - before) / before;
- engagement rate: interactions (likes, shares, replies, quotes, bookmarks, clicks) divided by
  impressions, over the entries whose platform reports impressions;
- per group (item, channel, campaign, tag, author, segment), top and bottom posts with their links;
- best time to post: per channel, a weekday × hour grid in the calendar's timezone of when each
  post went out, with its interactions per post;
- campaigns with their ``utm_campaign`` names; the conversation summary; a daily trend (the sum of
  each entry's latest value as of the end of each day).

``build`` returns plain data; ``reports.formats`` and ``reports.html`` turn it into text.
"""
from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from channels import registry
from newsroom.problems import UsageError
from newsroom.state import StateStore
from newsroom.times import stamp

from .inbox import conversations
from .owned import owned
from .pull import delivered_entries

#: The columns every report shows, in order.
COLUMNS = ("views", "impressions", "likes", "shares", "replies", "clicks", "opens")
INTERACTIONS = ("likes", "shares", "replies", "quotes", "bookmarks", "clicks")
GROUPINGS = ("item", "channel", "campaign", "tag", "author", "segment", "variant")
NONE = "(none)"
TOP = 5
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: The order of an entry's figures (see ``figures``).
FIGURES = (*COLUMNS, "interactions")
NOTHING = (0,) * len(FIGURES)
VIEWS, IMPRESSIONS, INTERACTIONS_AT = FIGURES.index("views"), FIGURES.index("impressions"), len(COLUMNS)
_NO_COLUMNS, _NO_INTERACTIONS = (0,) * len(COLUMNS), (0,) * len(INTERACTIONS)


@dataclass
class EntryInfo:
    key: str
    item_id: str
    channel: str
    title: str
    url: str | None
    delivered_at: datetime | None
    campaign: str | None = None
    tags: tuple[str, ...] = ()
    author: str = ""
    segments: tuple[str, ...] = ()
    variant: str = "original"  # an evergreen share: "variant 2", or "template" (scheduler/evergreen.py)


@dataclass
class Report:
    since: datetime
    until: datetime
    previous_since: datetime
    timezone: str
    by: str
    totals: dict
    previous: dict
    change: dict
    groups: list[dict]
    top: list[dict]
    bottom: list[dict]
    heatmaps: dict  # channel → {"cells": [[{posts, interactions}]*24]*7, "best": {...}}
    campaigns: list[dict]
    conversations: dict
    trend: dict  # {"days": [...], "series": {metric: [...]}}
    title: str = ""
    notes: list[str] = field(default_factory=list)
    owned: dict = field(default_factory=dict)  # the channels we own (``reports/owned.py``)
    sample: str = ""  # set when this is the recorded sample month (``reports/sample.py``): says so

    def as_dict(self) -> dict:
        shown = {"sample": self.sample} if self.sample else {}
        return {**shown, "title": self.title, "period": {"since": stamp(self.since), "until": stamp(self.until),
                                                "previous_since": stamp(self.previous_since),
                                                "timezone": self.timezone},
                "by": self.by, "totals": self.totals, "previous": self.previous, "change": self.change,
                "groups": self.groups, "top": self.top, "bottom": self.bottom, "heatmaps": self.heatmaps,
                "campaigns": self.campaigns, "conversations": self.conversations, "trend": self.trend,
                "notes": self.notes, "owned": self.owned}

    def to_json(self) -> str:
        # json's C encoder, then msgspec re-indents the text as ``indent=2`` would have (same bytes:
        # numbers and strings are copied as they are); ``indent`` itself runs json's Python encoder,
        # half a second for the campaign rows of 10,000 entries.
        import msgspec

        return msgspec.json.format(json.dumps(self.as_dict(), ensure_ascii=False), indent=2) + "\n"


# -- reading the snapshots ----------------------------------------------------------------------

def read_period(store: StateStore, since: str, until: str, prev_since: str,
                bounds: list[str]) -> tuple[dict, dict]:
    """(daily, previous): each entry's latest value of each metric per local day of the period and
    over the period before it, as the store computes it (``StateStore.period_metrics``: the files
    backend folds its rows in Python, the postgres backend asks the database).

    daily: entry → [[day index, {metric: latest value that day}], …] in day order, inside the
    period; ``bounds`` are the stamps where each local day after the first starts.
    previous: entry → {metric: latest value} in the previous period.
    """
    return store.period_metrics(since, until, prev_since, bounds)


def figures(m: dict[str, int]) -> tuple[int, ...]:
    """An entry's metrics as one tuple in ``FIGURES`` order, a missing metric 0: every total, group
    and ranking is then a sum or sort over tuples, column by column, not a lookup per metric."""
    get = m.get
    return (*map(get, COLUMNS, _NO_COLUMNS), sum(map(get, INTERACTIONS, _NO_INTERACTIONS)))


def _sum(vectors: list[tuple[int, ...]]) -> dict:
    out = dict(zip(FIGURES, [sum(column) for column in zip(*vectors)] if vectors else NOTHING))
    rated = [v for v in vectors if v[IMPRESSIONS]]  # rates only where the platform counts impressions
    impressions = sum(v[IMPRESSIONS] for v in rated)
    out["engagement_rate"] = round(sum(v[INTERACTIONS_AT] for v in rated) / impressions, 6) if impressions else None
    out["posts"] = len(vectors)
    return out


def _change(cur: dict, prev: dict) -> dict:
    out = {}
    for k in (*COLUMNS, "interactions"):
        before = prev.get(k) or 0
        out[k] = round((cur.get(k, 0) - before) / before, 6) if before else None
    return out


# -- the report -------------------------------------------------------------------------------

def entry_infos(project, store: StateStore) -> dict[str, EntryInfo]:
    items = {i.id: i for i in project.items}
    ledger = store.entries()
    out = {}
    for d in delivered_entries(store):
        item = items.get(d.item_id)
        override = item.channels.get(d.channel) if item else None
        segments = ((override.segment,) if override and override.segment else tuple(item.segments)) if item else ()
        out[d.key] = EntryInfo(d.key, d.item_id, d.channel, item.title if item else d.item_id, d.receipt.url, d.at,
                               item.campaign if item else None, tuple(item.tags) if item else (),
                               item.author if item else "", segments)
        st = ledger.get(d.key)
        if st is not None and st.share:
            out[d.key].variant = f"variant {st.variant + 1}" if st.variant is not None else "template"
    return out


def _info(infos: dict, key: str) -> EntryInfo:
    info = infos.get(key)
    if info is None:
        item_id, _, channel = key.rpartition("/")
        info = infos[key] = EntryInfo(key, item_id, channel, item_id, None, None)
    return info


def group_keys(info: EntryInfo, by: str) -> tuple[str, ...]:
    if by == "item":
        return (info.item_id,)
    if by == "channel":
        return (info.channel,)
    if by == "campaign":
        return (info.campaign or NONE,)
    if by == "author":
        return (info.author or NONE,)
    if by == "tag":
        return info.tags or (NONE,)
    if by == "segment":
        return info.segments or (NONE,)
    if by == "variant":  # per item: its first post, and each evergreen variant it was re-shared with
        return (f"{info.item_id}: {info.variant}",)
    raise ValueError(by)


def _entry_row(info: EntryInfo, vector: tuple[int, ...]) -> dict:
    return {"entry": info.key, "item": info.item_id, "title": info.title, "channel": info.channel, "url": info.url,
            **dict(zip(FIGURES, vector))}


def heatmaps(infos: dict, values: dict[str, tuple], tz) -> dict:
    out: dict[str, dict] = {}
    for key, vector in values.items():
        info = _info(infos, key)
        if info.delivered_at is None:
            continue
        local = info.delivered_at.astimezone(tz)
        h = out.get(info.channel)
        if h is None:
            h = out[info.channel] = {"cells": [[{"posts": 0, "interactions": 0} for _ in range(24)] for _ in range(7)]}
        grid = h["cells"]
        cell = grid[local.weekday()][local.hour]
        cell["posts"] += 1
        cell["interactions"] += vector[INTERACTIONS_AT]
    for channel, h in out.items():
        best = None
        for wd, row in enumerate(h["cells"]):
            for hour, cell in enumerate(row):
                if cell["posts"]:
                    avg = cell["interactions"] / cell["posts"]
                    if best is None or avg > best["per_post"]:
                        best = {"weekday": WEEKDAYS[wd], "hour": hour, "per_post": round(avg, 6),
                                "posts": cell["posts"]}
        h["best"] = best
    return dict(sorted(out.items()))


def campaigns(project, infos: dict, values: dict[str, tuple]) -> list[dict]:
    by_campaign: dict[str, list] = {}
    for info in infos.values():
        if info.campaign:
            by_campaign.setdefault(info.campaign, []).append(info)
    out = []
    for name in sorted(by_campaign):
        rows = []
        for info in sorted(by_campaign[name], key=lambda i: (i.item_id, i.channel)):
            config = project.settings.channels.get(info.channel)
            cls = registry.TYPES.get(config.type) if config else None
            rows.append({**_entry_row(info, values.get(info.key, NOTHING)),
                         "utm_source": (config.utm_source if config and config.utm_source else info.channel),
                         "utm_medium": (config.utm_medium if config and config.utm_medium else
                                        (cls.MEDIUM if cls else "")),
                         "utm_campaign": name})
        out.append({"campaign": name, "utm_campaign": name, "entries": rows,
                    "totals": _sum([values.get(i.key, NOTHING) for i in by_campaign[name]])})
    return out


def conversation_summary(replies: list[dict], mentions: list[dict], since: datetime, until: datetime) -> dict:
    convs = [c for c in conversations(replies, mentions) if since <= c.at < until]
    received = [c for c in convs if c.kind == "reply"]
    answered = [c for c in received if c.answered_at is not None and c.answered_at < until]
    waits = sorted((c.answered_at - c.at).total_seconds() for c in answered)
    return {"received": len(received), "answered": len(answered), "unanswered": len(received) - len(answered),
            "median_seconds_to_answer": statistics.median(waits) if waits else None,
            "mentions": sum(c.kind == "mention" for c in convs)}


def trend(daily: dict, days: list[str]) -> tuple[dict, dict]:
    """(latest, trend): each entry's latest value per metric in the period, and per day the sum over
    entries of each one's latest value so far."""
    deltas = {k: [0] * len(days) for k in (*COLUMNS, "interactions")}
    interaction = set(INTERACTIONS)
    latest = {}
    for entry, per_day in daily.items():
        state: dict[str, int] = {}  # the entry's latest value of each metric so far
        for i, m in per_day:
            for k, v in m.items():
                old = state.get(k, 0)
                if v != old:
                    series = deltas.get(k)
                    if series is not None:
                        series[i] += v - old
                    if k in interaction:
                        deltas["interactions"][i] += v - old
                    state[k] = v
        latest[entry] = state
    series = {}
    for k, d in deltas.items():
        total, acc = 0, []
        for x in d:
            total += x
            acc.append(total)
        series[k] = acc
    return latest, {"days": days, "series": series}


def build(project, store: StateStore, *, since: datetime, until: datetime, by: str = "channel") -> Report:
    if by not in GROUPINGS:
        raise ValueError(f"--by must be one of {', '.join(GROUPINGS)}")
    tz = project.settings.calendar.timezone
    length = until - since
    prev_since = since - length
    s_since, s_until, s_prev = stamp(since), stamp(until), stamp(prev_since)

    first_day = since.astimezone(tz).date()
    last_day = (until - timedelta(microseconds=1)).astimezone(tz).date()
    dates = [first_day + timedelta(days=i) for i in range((last_day - first_day).days + 1)]
    # Where each local day after the first starts, as a stored stamp: a row's day is a bisection.
    # (A midnight a DST change skips takes the offset from before the change, as zoneinfo does.)
    bounds = [stamp(datetime(d.year, d.month, d.day, tzinfo=tz)) for d in dates[1:]]
    daily, prev = read_period(store, s_since, s_until, s_prev, bounds)
    latest, trend_data = trend(daily, [d.isoformat() for d in dates])
    cur = {key: figures(m) for key, m in latest.items()}
    prev = {key: figures(m) for key, m in prev.items()}
    infos = entry_infos(project, store)

    totals, previous = _sum(list(cur.values())), _sum(list(prev.values()))
    groups: dict[str, list] = {}
    prev_groups: dict[str, list] = {}
    for source, target in ((cur, groups), (prev, prev_groups)):
        for key, vector in source.items():
            for g in group_keys(_info(infos, key), by):
                target.setdefault(g, []).append(vector)
    titles = {i.item_id: i.title for i in infos.values()}
    group_rows = []
    for g in sorted(groups):
        row = _sum(groups[g])
        before = _sum(prev_groups.get(g, []))
        label = g
        if by == "item":
            label = titles.get(g, g)
        elif by == "variant":
            item_id, _, which = g.rpartition(": ")
            label = f"{titles.get(item_id, item_id)}: {which}"
        group_rows.append({"group": g, "label": label, **row, "change": _change(row, before)})
    group_rows.sort(key=lambda r: (-r["interactions"], -r["views"], r["group"]))

    ranked = sorted(cur, key=lambda k: (-cur[k][INTERACTIONS_AT], -cur[k][VIEWS], k))
    # The better half (at most TOP) on top, the rest from the end at the bottom: no post in both.
    top = [_entry_row(_info(infos, k), cur[k]) for k in ranked[:min(TOP, (len(ranked) + 1) // 2)]]
    bottom = [_entry_row(_info(infos, k), cur[k]) for k in ranked[len(top):][::-1][:TOP]]

    return Report(since=since, until=until, previous_since=prev_since, timezone=str(tz), by=by,
                  totals=totals, previous=previous, change=_change(totals, previous), groups=group_rows,
                  top=top, bottom=bottom, heatmaps=heatmaps(infos, cur, tz),
                  campaigns=campaigns(project, infos, cur),
                  conversations=conversation_summary(store.replies(), store.mentions(), since, until),
                  trend=trend_data, title=project.settings.site.title, owned=owned(project, infos, latest))


class PeriodError(UsageError, ValueError):
    """A --since/--until the report cannot read; the message says what to write."""


def _bound(text: str, option: str, tz, now: datetime, end: bool) -> datetime:
    from newsroom import times

    s = text.strip()
    try:
        return now - times.parse_duration(s)
    except times.TimeError:
        pass
    try:
        d = times.parse_date(s)
    except times.TimeError:
        d = None
    if d is not None:
        day = d + timedelta(days=1) if end else d
        # Local midnight; where a DST change skips it, zoneinfo's reading (the offset before) applies.
        return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(timezone.utc)
    try:
        return times.parse_datetime(s, tz)
    except times.TimeError as exc:
        raise PeriodError(f"{option}: '{text}' is not a date, date-time or duration "
                          f"(use 2026-11-01, 2026-11-01T09:00 or 7d)") from exc


def period_bounds(since: str | None, until: str | None, *, now: datetime, tz,
                  default: timedelta = timedelta(days=30)) -> tuple[datetime, datetime]:
    """The period asked for: ``--until`` a date means through the end of that day (calendar
    timezone); a duration counts back from now; by default the last 30 days."""
    end = _bound(until, "--until", tz, now, True) if until else now
    start = _bound(since, "--since", tz, now, False) if since else end - default
    if start >= end:
        raise PeriodError(f"--since ({stamp(start)}) must be before --until ({stamp(end)})")
    return start, end


def for_period(project, store: StateStore, *, since: str | None, until: str | None, by: str,
               now: datetime) -> Report:
    """``publish report``: the report of the period ``--since``/``--until`` as typed, read in the
    calendar's timezone; ``PeriodError`` when they cannot be read."""
    start, end = period_bounds(since, until, now=now, tz=project.settings.calendar.timezone)
    return build(project, store, since=start, until=end, by=by)
