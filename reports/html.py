"""The report as one self-contained HTML page (``templates/report/report.html.j2``): inline CSS and
SVG charts, no script, no CDN.

Charts: the daily trend lines (views and interactions), bars of interactions per group, and the
best-time-to-post heatmap per channel (weekday × hour, calendar timezone). Every figure in the
charts is also in a table, and every text is escaped.
"""
from __future__ import annotations

from functools import lru_cache
from markupsafe import Markup, escape

from newsroom.resources import shipped

from . import rows
from .report import COLUMNS, WEEKDAYS, Report

CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2433;background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:26px;margin:0 0 4px}h2{font-size:19px;margin:28px 0 10px}h3{font-size:16px;margin:18px 0 6px}
.period{color:#5b6475;margin:0 0 18px}
.sample{background:#fff4d6;border:1px solid #e0b84a;border-radius:6px;padding:8px 12px;margin:0 0 14px;font-weight:600}
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
.empty{color:#5b6475;font-style:italic}
"""

PALETTE = ("#1f5fbf", "#e07b00", "#1a7f37", "#8e44ad")


def _e(s) -> str:
    return str(escape(str(s)))  # markupsafe's, as the template escapes


def trend_charts(r: Report) -> str:
    """One line chart per metric that has figures (their scales differ too much to share one); none
    drawn without figures, a line saying so instead."""
    shown = [k for k in ("interactions", "impressions", "views", "opens", "clicks") if any(r.trend["series"][k])]
    if not shown:
        return f'<p class="empty">{_e(rows.EMPTY["trend"])}</p>'
    return "".join(f"<h3>{_e(k)}</h3>" + trend_svg(r, (k,), color=PALETTE[n % len(PALETTE)])
                   for n, k in enumerate(shown))


def hbars_svg(label: str, bars: list[tuple[str, float, str]], w=1000, color=PALETTE[0]) -> str:
    """Horizontal bars: (name, value, the value as written) each; the longest is the largest value."""
    row_h, left = 26, 260
    h = row_h * len(bars) + 20
    top = max([0] + [v for _, v, _ in bars]) or 1
    out = [f'<svg role="img" aria-label="{_e(label)}" viewBox="0 0 {w} {h}" width="{w}" height="{h}">']
    for i, (name, value, text) in enumerate(bars):
        yy = 10 + i * row_h
        bw = (w - left - 90) * value / top
        name = name if len(name) <= 36 else name[:35] + "…"
        out.append(f'<text x="{left - 8}" y="{yy + 15}" text-anchor="end">{_e(name)}</text>'
                   f'<rect class="bar" x="{left}" y="{yy}" width="{bw:.1f}" height="{row_h - 8}" fill="{color}"/>'
                   f'<text x="{left + bw + 6:.1f}" y="{yy + 15}">{_e(text)}</text>')
    out.append("</svg>")
    return "".join(out)


def owned_charts(o: dict) -> dict[str, str]:
    """Section title → its chart, only for sections with figures to draw."""
    charts = {}
    if o.get("blog"):
        charts["Blog views per item"] = hbars_svg("blog views per item", [(b["title"], b["views"], f"{b['views']:,}")
                                                                         for b in o["blog"][:15]])
    if o.get("by_channel"):
        charts["Visits driven per channel"] = hbars_svg("visits driven per channel", [
            (d["channel"], d["visits"], f"{d['visits']:,}") for d in o["by_channel"]], color=PALETTE[1])
    if o.get("by_campaign"):
        charts["Visits driven per campaign"] = hbars_svg("visits driven per campaign", [
            (d["campaign"], d["visits"], f"{d['visits']:,}") for d in o["by_campaign"]], color=PALETTE[1])
    measured = [n for n in o.get("newsletters", ()) if n["measured"] and n["open_rate"] is not None]
    if measured:
        charts["Newsletters"] = hbars_svg("newsletter open rate per issue", [
            (f"{n['segment']}: {n['title']}", n["open_rate"], rows.pct(n["open_rate"])) for n in measured[:15]],
            color=PALETTE[2])
    if o.get("segments"):
        charts["Newsletter rates per segment"] = hbars_svg("newsletter click rate per segment", [
            (s["segment"], s["click_rate"] or 0, rows.pct(s["click_rate"])) for s in o["segments"]], color=PALETTE[3])
    return charts


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


def _link(url: str | None):
    if not url or not url.startswith(("http://", "https://")):
        return "–"
    return Markup('<a href="{}">post</a>').format(url)


def _cards(r: Report) -> list[dict]:
    out = []
    for k in (*COLUMNS, "interactions"):
        ch = r.change[k]
        cls = "" if ch is None else ("up" if ch > 0 else "down" if ch < 0 else "")
        out.append({"label": k, "value": f"{r.totals[k]:,}", "change": rows.change(ch, r.totals[k]), "change_class": cls})
    out.append({"label": "engagement rate", "value": rows.pct(r.totals["engagement_rate"]),
                "change": f"{r.totals['posts']:,} posts", "change_class": None})
    return out


@lru_cache(maxsize=1)
def _template():
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(shipped("templates"))), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    return env.get_template("report/report.html.j2")


def _owned_sections(r: Report) -> list[dict]:
    from .owned import sections

    if not r.owned:
        return []
    charts = owned_charts(r.owned)
    return [{"title": title, "table": table, "empty": empty if not table else None,
             "chart": Markup(charts[title]) if title in charts else ""} for title, table, empty in
            sections(r.owned, _link)]


def to_html(r: Report) -> str:
    """The page, from ``templates/report/report.html.j2``; the charts are drawn here as SVG."""
    return _template().render(
        owned=_owned_sections(r), empty=rows.EMPTY,
        r=r, css=Markup(CSS), period=rows.period(r), cards=_cards(r), trend=Markup(trend_charts(r)),
        bars=Markup(bars_svg(r)) if r.groups else "", groups=rows.group_rows(r),
        heatmaps=[{"channel": c, "best": rows.best_line(c, h), "svg": Markup(heatmap_svg(c, h))}
                  for c, h in r.heatmaps.items()],
        top=rows.post_rows(r.top, _link), bottom=rows.post_rows(r.bottom, _link), totals=rows.totals_rows(r),
        campaigns=[{"name": c["campaign"], "utm": c["utm_campaign"], "rows": rows.campaign_rows(c, _link)}
                   for c in r.campaigns],
        conversations=rows.conversation_rows(r)) + "\n"
