"""A report as text: a terminal table, Markdown (a committed weekly report, ``$GITHUB_STEP_SUMMARY``),
CSV (long form: section, key, metric, value) and JSON. The HTML page lives in ``reports.html``."""
from __future__ import annotations

import csv
import io
from datetime import timedelta
from zoneinfo import ZoneInfo

from .inbox import age
from .report import COLUMNS, WEEKDAYS, Report

METRIC_LABELS = {"views": "views", "impressions": "impressions", "likes": "likes", "shares": "shares",
                 "replies": "replies", "clicks": "clicks", "opens": "opens", "interactions": "interactions"}


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


# -- the parts, as header + rows, shared by table and Markdown ------------------------------------

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


# -- Markdown -----------------------------------------------------------------------------------

def _md_cell(s: str) -> str:
    s = str(s)
    return s.replace("|", "\\|").replace("\n", " ") if "|" in s or "\n" in s else s


def md_table(head, rows) -> str:
    out = ["| " + " | ".join(map(_md_cell, head)) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(map(_md_cell, row)) + " |" for row in rows]
    return "\n".join(out) + "\n"


def to_markdown(r: Report) -> str:
    link = lambda url: f"[link]({url})"
    parts = [f"# Engagement report: {r.title}\n\n{period(r)}\n", "## Totals\n", md_table(*totals_rows(r)),
             f"## By {r.by}\n", md_table(*group_rows(r)) if r.groups else "No figures in this period.\n",
             "## Top posts\n", md_table(*post_rows(r.top, link)) if r.top else "None.\n",
             "## Bottom posts\n", md_table(*post_rows(r.bottom, link)) if r.bottom else "None.\n",
             f"## Best time to post ({r.timezone})\n"]
    for channel, h in r.heatmaps.items():
        parts.append(f"### {channel}\n\n{best_line(channel, h)}\n\n{md_table(*heat_rows(h))}")
    if not r.heatmaps:
        parts.append("No posts in this period.\n")
    parts.append("## Campaigns\n")
    for c in r.campaigns:
        parts.append(f"### {c['campaign']} (utm_campaign={c['utm_campaign']})\n\n{md_table(*campaign_rows(c, link))}")
    if not r.campaigns:
        parts.append("No campaigns.\n")
    parts += ["## Conversations\n", md_table(*conversation_rows(r))]
    return "\n".join(parts)


# -- terminal table -----------------------------------------------------------------------------

def text_table(head, rows) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)] if rows else [len(h) for h in head]
    line = lambda cells: "  ".join(str(c).ljust(w) if i == 0 or not _numeric(c) else str(c).rjust(w)
                                   for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
    return "\n".join([line(head), line(["-" * w for w in widths]), *map(line, rows)]) + "\n"


def _numeric(s) -> bool:
    s = str(s)
    return bool(s) and (s[0].isdigit() or s[0] in "+-–") and not s.startswith("--")


def to_table(r: Report) -> str:
    link = lambda url: url
    parts = [f"Engagement report: {r.title}\n{period(r)}\n", "Totals", text_table(*totals_rows(r)),
             f"By {r.by}", text_table(*group_rows(r)), "Top posts", text_table(*post_rows(r.top, link)),
             "Bottom posts", text_table(*post_rows(r.bottom, link)), f"Best time to post ({r.timezone})"]
    parts += [best_line(c, h) for c, h in r.heatmaps.items()] + [""]
    for c in r.campaigns:
        parts += [f"Campaign {c['campaign']} (utm_campaign={c['utm_campaign']})", text_table(*campaign_rows(c, link))]
    parts += ["Conversations", text_table(*conversation_rows(r))]
    return "\n".join(parts)


# -- CSV ----------------------------------------------------------------------------------------

def csv_rows(r: Report):
    yield ["section", "key", "metric", "value"]
    for name, data in (("totals", r.totals), ("previous", r.previous)):
        for k, v in data.items():
            yield [name, "", k, "" if v is None else v]
    for k, v in r.change.items():
        yield ["change", "", k, "" if v is None else v]
    for g in r.groups:
        for k in ("posts", *COLUMNS, "interactions", "engagement_rate"):
            yield [f"by {r.by}", g["group"], k, "" if g[k] is None else g[k]]
        yield [f"by {r.by}", g["group"], "change_interactions",
               "" if g["change"]["interactions"] is None else g["change"]["interactions"]]
    for section, posts in (("top", r.top), ("bottom", r.bottom)):
        for p in posts:
            for k in ("interactions", *COLUMNS):
                yield [section, p["entry"], k, p[k]]
            yield [section, p["entry"], "url", p["url"] or ""]
    for channel, h in r.heatmaps.items():
        for wd, row in enumerate(h["cells"]):
            for hour, c in enumerate(row):
                if c["posts"]:
                    key = f"{channel} {WEEKDAYS[wd]} {hour:02d}"
                    yield ["heatmap", key, "posts", c["posts"]]
                    yield ["heatmap", key, "interactions", c["interactions"]]
    for c in r.campaigns:
        for e in c["entries"]:
            for k in ("utm_campaign", "utm_source", "utm_medium", *COLUMNS, "url"):
                yield ["campaign", f"{c['campaign']} {e['entry']}", k, e[k] if e[k] is not None else ""]
    for k, v in r.conversations.items():
        yield ["conversations", "", k, "" if v is None else v]


def to_csv(r: Report) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerows(csv_rows(r))
    return buf.getvalue()


def render(r: Report, fmt: str) -> str:
    if fmt == "json":
        return r.to_json()
    if fmt == "csv":
        return to_csv(r)
    if fmt == "md":
        return to_markdown(r)
    if fmt == "html":
        from .html import to_html

        return to_html(r)
    return to_table(r)
