"""The report's parts as header + rows of text (totals, groups, posts, heatmaps, campaigns,
conversations), and how figures are written: one source for every format (``formats.py``, ``html.py``)."""
from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from .inbox import age
from .report import COLUMNS, WEEKDAYS, Report

METRIC_LABELS = {"views": "views", "impressions": "impressions", "likes": "likes", "shares": "shares",
                 "replies": "replies", "clicks": "clicks", "opens": "opens", "interactions": "interactions"}


#: What a section says when it has nothing to show, and what would fill it.
EMPTY = {
    "groups": "No figures in this period. `publish.py pull` stores the numbers of delivered posts (see docs/reports.md).",
    "posts": "No posts with figures in this period.",
    "heatmaps": "No posts in this period.",
    "campaigns": "No campaigns: an item's `campaign:` in its front matter groups its posts here.",
    "trend": "No data yet: the trend is drawn once `publish.py pull` has stored figures in this period.",
}


def num(n) -> str:
    return f"{n:,}" if isinstance(n, int) else ("–" if n is None else str(n))


def pct(rate) -> str:
    return "–" if rate is None else f"{rate * 100:.1f}%"


def change(value, cur=None) -> str:
    if value is None:
        return "new" if cur else "–"
    return f"{value * 100:+.1f}%"


def duration(seconds) -> str:
    return "–" if seconds is None else age(timedelta(seconds=seconds))


def period(r: Report) -> str:
    z = ZoneInfo(r.timezone)
    fmt = "%Y-%m-%d %H:%M"
    return (f"{r.since.astimezone(z).strftime(fmt)} – {r.until.astimezone(z).strftime(fmt)} ({r.timezone}), "
            f"compared with {r.previous_since.astimezone(z).strftime(fmt)} – {r.since.astimezone(z).strftime(fmt)}")


def totals_rows(r: Report) -> tuple[list[str], list[list[str]]]:
    rows = [[METRIC_LABELS[k], num(r.totals[k]), num(r.previous[k]), change(r.change[k], r.totals[k])]
            for k in (*COLUMNS, "interactions")]
    rows.append(["engagement rate", pct(r.totals["engagement_rate"]), pct(r.previous["engagement_rate"]), ""])
    rows.append(["posts", num(r.totals["posts"]), num(r.previous["posts"]), ""])
    return ["metric", "this period", "previous", "change"], rows


def group_rows(r: Report) -> tuple[list[str], list[list[str]]]:
    head = [r.by, "posts", *COLUMNS, "interactions", "rate", "change"]
    rows = [[g["label"], num(g["posts"]), *[num(g[k]) for k in COLUMNS], num(g["interactions"]),
             pct(g["engagement_rate"]), change(g["change"]["interactions"], g["interactions"])] for g in r.groups]
    return head, rows


def post_rows(posts: list[dict], link) -> tuple[list[str], list[list[str]]]:
    head = ["#", "item", "channel", "interactions", "views", "impressions", "post"]
    rows = [[str(i), p["title"], p["channel"], num(p["interactions"]), num(p["views"]), num(p["impressions"]),
             link(p["url"]) if p["url"] else "–"] for i, p in enumerate(posts, 1)]
    return head, rows


def heat_rows(h: dict) -> tuple[list[str], list[list[str]]]:
    cells = []
    for wd, row in enumerate(h["cells"]):
        for hour, c in enumerate(row):
            if c["posts"]:
                cells.append((c["interactions"] / c["posts"], wd, hour, c))
    cells.sort(key=lambda x: (-x[0], x[1], x[2]))
    return (["weekday", "hour", "posts", "interactions", "per post"],
            [[WEEKDAYS[wd], f"{hour:02d}:00", num(c["posts"]), num(c["interactions"]), f"{avg:.1f}"]
             for avg, wd, hour, c in cells])


def campaign_rows(c: dict, link) -> tuple[list[str], list[list[str]]]:
    head = ["item", "channel", "utm_source", "utm_medium", "utm_campaign", "views", "likes", "shares", "replies",
            "clicks", "opens", "post"]
    rows = [[e["title"], e["channel"], e["utm_source"], e["utm_medium"], e["utm_campaign"], num(e["views"]),
             num(e["likes"]), num(e["shares"]), num(e["replies"]), num(e["clicks"]), num(e["opens"]),
             link(e["url"]) if e["url"] else "–"] for e in c["entries"]]
    return head, rows


def conversation_rows(r: Report) -> tuple[list[str], list[list[str]]]:
    c = r.conversations
    return ["conversations", ""], [["replies received", num(c["received"])], ["answered", num(c["answered"])],
                                   ["unanswered", num(c["unanswered"])],
                                   ["median time to answer", duration(c["median_seconds_to_answer"])],
                                   ["mentions in feeds", num(c["mentions"])]]


def best_line(channel: str, h: dict) -> str:
    b = h.get("best")
    if not b:
        return f"{channel}: no posts"
    return (f"{channel}: best {b['weekday']} {b['hour']:02d}:00 ({b['per_post']:.1f} interactions per post, "
            f"{b['posts']} post{'s' * (b['posts'] != 1)})")
