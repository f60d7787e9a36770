"""A report in every format it can be written in: one table of formats (name, media type, writer),
as Hugo's output formats are data. The text writers (terminal table, Markdown for a committed weekly
report or ``$GITHUB_STEP_SUMMARY``, CSV in long form: section, key, metric, value) live here, the HTML
page in ``reports.html``, JSON on the report itself."""
from __future__ import annotations

import csv
import io

from newsroom.formats import OutputFormat, media_type

from . import html, owned
from .report import COLUMNS, WEEKDAYS, Report
from .rows import (EMPTY, best_line, campaign_rows, conversation_rows, group_rows, heat_rows, num,  # noqa: F401
                   period, post_rows, totals_rows)


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
    parts = [(f"> **{r.sample}**\n\n" if r.sample else "") + f"# Engagement report: {r.title}\n\n{period(r)}\n", "## Totals\n", md_table(*totals_rows(r)),
             f"## By {r.by}\n", md_table(*group_rows(r)) if r.groups else EMPTY["groups"] + "\n",
             "## Top posts\n", md_table(*post_rows(r.top, link)) if r.top else EMPTY["posts"] + "\n",
             "## Bottom posts\n", md_table(*post_rows(r.bottom, link)) if r.bottom else EMPTY["posts"] + "\n",
             f"## Best time to post ({r.timezone})\n"]
    for channel, h in r.heatmaps.items():
        parts.append(f"### {channel}\n\n{best_line(channel, h)}\n\n{md_table(*heat_rows(h))}")
    if not r.heatmaps:
        parts.append(EMPTY["heatmaps"] + "\n")
    parts.append("## Campaigns\n")
    for c in r.campaigns:
        parts.append(f"### {c['campaign']} (utm_campaign={c['utm_campaign']})\n\n{md_table(*campaign_rows(c, link))}")
    if not r.campaigns:
        parts.append(EMPTY["campaigns"] + "\n")
    if r.owned:
        for title, table, empty in owned.sections(r.owned, link):
            parts += ([f"## {title}\n"] if title else []) + [md_table(*table) if table else empty + "\n"]
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
    said = lambda table, empty: text_table(*table) if table[1] else empty + "\n"
    parts = [(f"{r.sample}\n\n" if r.sample else "") + f"Engagement report: {r.title}\n{period(r)}\n", "Totals", text_table(*totals_rows(r)),
             f"By {r.by}", said(group_rows(r), EMPTY["groups"]), "Top posts", said(post_rows(r.top, link), EMPTY["posts"]),
             "Bottom posts", said(post_rows(r.bottom, link), EMPTY["posts"]), f"Best time to post ({r.timezone})"]
    parts += [best_line(c, h) for c, h in r.heatmaps.items()] or [EMPTY["heatmaps"]]
    parts += [""]
    for c in r.campaigns:
        parts += [f"Campaign {c['campaign']} (utm_campaign={c['utm_campaign']})", text_table(*campaign_rows(c, link))]
    if not r.campaigns:
        parts += ["Campaigns", EMPTY["campaigns"] + "\n"]
    if r.owned:
        for title, table, empty in owned.sections(r.owned, link):
            parts += ([title] if title else []) + [text_table(*table) if table else empty + "\n"]
    parts += ["Conversations", text_table(*conversation_rows(r))]
    return "\n".join(parts)


# -- CSV ----------------------------------------------------------------------------------------

def csv_rows(r: Report):
    yield ["section", "key", "metric", "value"]
    if r.sample:
        yield ["sample", "", "label", r.sample]
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
    for b in r.owned.get("blog", ()):
        yield ["blog", b["entry"], "views", b["views"]]
        yield ["blog", b["entry"], "visitors", b["visitors"]]
    for t in r.owned.get("traffic", ()):
        yield ["traffic", t["entry"], "visits_driven", t["visits"]]
    for by in ("channel", "campaign"):
        for d in r.owned.get(f"by_{by}", ()):
            yield [f"visits by {by}", d[by], "visits_driven", d["visits"]]
    for n in r.owned.get("newsletters", ()):
        for k in ("sent", "opens", "unique_opens", "clicks", "bounces", "unsubscribes", "open_rate", "click_rate"):
            if n["measured"] or k == "clicks":
                yield ["newsletter", n["entry"], k, "" if n[k] is None else n[k]]
    for s in r.owned.get("segments", ()):
        for k in ("issues", "sent", "open_rate", "click_rate", "unsubscribes"):
            yield ["segment", s["segment"], k, "" if s[k] is None else s[k]]
    for k, v in r.conversations.items():
        yield ["conversations", "", k, "" if v is None else v]


def to_csv(r: Report) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerows(csv_rows(r))
    return buf.getvalue()


#: Every format ``publish.py report --format`` writes, the first the default.
FORMATS = {f.name: f for f in (
    OutputFormat("table", media_type("text"), to_table),
    OutputFormat("md", media_type("md"), to_markdown),
    OutputFormat("html", media_type("html"), html.to_html),
    OutputFormat("csv", media_type("csv"), to_csv),
    OutputFormat("json", media_type("json"), Report.to_json),
)}


def render(r: Report, fmt: str) -> str:
    return FORMATS[fmt].write(r)
