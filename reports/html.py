"""The report as one self-contained HTML page: inline CSS and SVG charts, no script, no CDN.

Charts: the daily trend lines (views and interactions), bars of interactions per group, and the
best-time-to-post heatmap per channel (weekday × hour, calendar timezone). Every figure in the
charts is also in a table, and every text is escaped.
"""
from __future__ import annotations

from html import escape

from . import formats
from .report import COLUMNS, WEEKDAYS, Report

CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2433;background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:26px;margin:0 0 4px}h2{font-size:19px;margin:28px 0 10px}h3{font-size:16px;margin:18px 0 6px}
.period{color:#5b6475;margin:0 0 18px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(130px,1fr));gap:10px}
.card{background:#fff;border:1px solid #e2e5ea;border-radius:8px;padding:10px 12px}
.card b{display:block;font-size:22px}.card span{color:#5b6475;font-size:13px}
.up{color:#1a7f37}.down{color:#c62828}
table{border-collapse:collapse;background:#fff;width:100%;margin:6px 0 12px;font-size:14px}
th,td{border-bottom:1px solid #e2e5ea;padding:5px 8px;text-align:right}
th:first-child,td:first-child,td.t,th.t{text-align:left}
svg{background:#fff;border:1px solid #e2e5ea;border-radius:8px;max-width:100%}
svg text{font:11px system-ui,sans-serif;fill:#5b6475}
a{color:#1f5fbf}
"""

PALETTE = ("#1f5fbf", "#e07b00", "#1a7f37", "#8e44ad")


def _e(s) -> str:
    return escape(str(s), quote=True)


def _link(url: str | None) -> str:
    if not url or not url.startswith(("http://", "https://")):
        return "–"
    return f'<a href="{_e(url)}">post</a>'


def _table(head, rows, text_cols=(1,)) -> str:
    left = ' class="t"'
    th = "".join(f"<th{left if i in text_cols else ''}>{_e(h)}</th>" for i, h in enumerate(head))
    body = []
    for row in rows:
        cells = []
        for i, c in enumerate(row):
            raw = isinstance(c, _Raw)
            cls = ' class="t"' if i in text_cols else ""
            cells.append(f"<td{cls}>{c if raw else _e(c)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{th}</tr></thead><tbody>{''.join(body)}</tbody></table>"


class _Raw(str):
    """Markup made here (a link), not to be escaped again."""


def trend_charts(r: Report) -> str:
    """One line chart per metric that has figures (their scales differ too much to share one)."""
    shown = [k for k in ("interactions", "impressions", "views", "opens", "clicks") if any(r.trend["series"][k])]
    return "".join(f"<h3>{_e(k)}</h3>" + trend_svg(r, (k,), color=PALETTE[n % len(PALETTE)])
                   for n, k in enumerate(shown or ["interactions"]))


def trend_svg(r: Report, metrics=("interactions",), w=1000, h=200, color=None) -> str:
    days = r.trend["days"]
    series = {k: r.trend["series"][k] for k in metrics}
    top = max([1] + [max(v) for v in series.values() if v])
    left, right, upper, lower = 60, 20, 16, 28
    pw, ph = w - left - right, h - upper - lower
    x = lambda i: left + (pw * i / max(1, len(days) - 1))
    y = lambda v: upper + ph - ph * v / top
    out = [f'<svg role="img" aria-label="trend" viewBox="0 0 {w} {h}" width="{w}" height="{h}">']
    for frac in (0, 0.5, 1):
        yy = y(top * frac)
        out.append(f'<line x1="{left}" x2="{w - right}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#e2e5ea"/>'
                   f'<text x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end">{int(top * frac):,}</text>')
    step = max(1, len(days) // 8)
    for i in range(0, len(days), step):
        out.append(f'<text x="{x(i):.1f}" y="{h - 8}" text-anchor="middle">{_e(days[i][5:])}</text>')
    for n, (k, values) in enumerate(series.items()):
        pts = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        color = color or PALETTE[n % len(PALETTE)]
        out.append(f'<polyline class="trend-{_e(k)}" fill="none" stroke="{color}" stroke-width="2.5" points="{pts}"/>')
    out.append("</svg>")
    return "".join(out)


def bars_svg(r: Report, metric="interactions", w=1000) -> str:
    groups = r.groups[:15]
    row_h, left = 26, 220
    h = max(40, row_h * len(groups) + 20)
    top = max([1] + [g[metric] for g in groups])
    out = [f'<svg role="img" aria-label="{_e(metric)} by {_e(r.by)}" viewBox="0 0 {w} {h}" width="{w}" height="{h}">']
    for i, g in enumerate(groups):
        yy = 10 + i * row_h
        bw = (w - left - 80) * g[metric] / top
        label = g["label"] if len(g["label"]) <= 32 else g["label"][:31] + "…"
        out.append(f'<text x="{left - 8}" y="{yy + 15}" text-anchor="end">{_e(label)}</text>'
                   f'<rect class="bar" x="{left}" y="{yy}" width="{bw:.1f}" height="{row_h - 8}" fill="{PALETTE[0]}"/>'
                   f'<text x="{left + bw + 6:.1f}" y="{yy + 15}">{g[metric]:,}</text>')
    out.append("</svg>")
    return "".join(out)


def heatmap_svg(channel: str, h: dict) -> str:
    cell, left, upper = 30, 44, 22
    w, hh = left + 24 * cell + 10, upper + 7 * cell + 10
    top = max([0.0] + [c["interactions"] / c["posts"] for row in h["cells"] for c in row if c["posts"]]) or 1.0
    out = [f'<svg role="img" aria-label="best time to post on {_e(channel)}" viewBox="0 0 {w} {hh}" '
           f'width="{w}" height="{hh}">']
    for hour in range(0, 24, 3):
        out.append(f'<text x="{left + hour * cell + cell / 2}" y="14" text-anchor="middle">{hour:02d}</text>')
    for wd, row in enumerate(h["cells"]):
        yy = upper + wd * cell
        out.append(f'<text x="{left - 6}" y="{yy + cell / 2 + 4}" text-anchor="end">{WEEKDAYS[wd]}</text>')
        for hour, c in enumerate(row):
            if c["posts"]:
                avg = c["interactions"] / c["posts"]
                alpha = 0.15 + 0.85 * avg / top
                fill = f'fill="{PALETTE[0]}" fill-opacity="{alpha:.2f}"'
                tip = f"{WEEKDAYS[wd]} {hour:02d}:00: {c['posts']} posts, {avg:.1f} interactions per post"
            else:
                fill, tip = 'fill="#eef0f3"', ""
            title = f"<title>{_e(tip)}</title>" if tip else ""
            out.append(f'<rect data-cell="{wd}-{hour}" x="{left + hour * cell + 1}" y="{yy + 1}" width="{cell - 2}" '
                       f'height="{cell - 2}" rx="3" {fill}>{title}</rect>')
    out.append("</svg>")
    return "".join(out)


def _cards(r: Report) -> str:
    out = []
    for k in (*COLUMNS, "interactions"):
        ch = r.change[k]
        cls = "" if ch is None else (" up" if ch > 0 else " down" if ch < 0 else "")
        out.append(f'<div class="card"><span>{_e(k)}</span><b>{r.totals[k]:,}</b>'
                   f'<span class="{cls.strip()}">{_e(formats.change(ch, r.totals[k]))}</span></div>')
    out.append(f'<div class="card"><span>engagement rate</span><b>{_e(formats.pct(r.totals["engagement_rate"]))}</b>'
               f'<span>{r.totals["posts"]:,} posts</span></div>')
    return '<div class="cards">' + "".join(out) + "</div>"


def to_html(r: Report) -> str:
    link = lambda url: _Raw(_link(url))
    parts = [f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
             f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
             f"<title>Engagement report: {_e(r.title)}</title><style>{CSS}</style></head><body><main>",
             f"<h1>Engagement report: {_e(r.title)}</h1><p class=\"period\">{_e(formats.period(r))}</p>",
             _cards(r), "<h2>Trend</h2>", trend_charts(r),
             f"<h2>By {_e(r.by)}</h2>", bars_svg(r) if r.groups else "",
             _table(*formats.group_rows(r), text_cols=(0,)),
             f"<h2>Best time to post ({_e(r.timezone)})</h2>"]
    for channel, h in r.heatmaps.items():
        parts += [f"<h3>{_e(channel)}</h3><p>{_e(formats.best_line(channel, h))}</p>", heatmap_svg(channel, h)]
    parts += ["<h2>Top posts</h2>", _table(*formats.post_rows(r.top, link), text_cols=(1, 2)),
              "<h2>Bottom posts</h2>", _table(*formats.post_rows(r.bottom, link), text_cols=(1, 2)),
              "<h2>Totals</h2>", _table(*formats.totals_rows(r), text_cols=(0,))]
    parts.append("<h2>Campaigns</h2>")
    for c in r.campaigns:
        parts += [f"<h3>{_e(c['campaign'])} <small>utm_campaign={_e(c['utm_campaign'])}</small></h3>",
                  _table(*formats.campaign_rows(c, link), text_cols=(0, 1, 2, 3, 4))]
    if not r.campaigns:
        parts.append("<p>No campaigns.</p>")
    parts += ["<h2>Conversations</h2>", _table(*formats.conversation_rows(r), text_cols=(0,)),
              "</main></body></html>\n"]
    return "".join(parts)
