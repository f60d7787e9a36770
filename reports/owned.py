"""The channels we own in the report: blog views per item, the visits each post drove, the
newsletters' open and click rates per issue and segment, and what to do where there is no data yet.

Figures come from each entry's latest value in the period (``report.build``'s ``latest``):

- blog views: a blog entry's ``views`` and ``visitors`` (the analytics sources, ``reports/analytics``);
- visits driven: every other entry's ``visits`` (the visits its tagged links brought, from the
  analytics), ranked per post, and summed per channel and per campaign;
- newsletters: per issue (an entry of an ``email``, ``listmonk`` or ``mailchimp`` channel) its
  ``sent``, ``opens``, ``unique_opens``, ``clicks``, ``bounces``, ``unsubscribes``, one row per
  segment where each segment had its own campaign (``sent@smb`` …); open rate = unique opens (else
  opens) / sent, click rate = clicks / sent; per segment the same over its issues.
  An SMTP newsletter (``email``) measures no opens: the report says so instead of showing 0 %.
"""
from __future__ import annotations

NEWSLETTER_TYPES = ("email", "listmonk", "mailchimp")
NEWSLETTER_METRICS = ("sent", "opens", "unique_opens", "clicks", "bounces", "unsubscribes")
TOP_TRAFFIC = 10
DOCS = "docs/reports.md"


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 6) if whole else None


def _rates(m: dict) -> dict:
    opened = m.get("unique_opens") or m.get("opens") or 0
    return {"open_rate": _rate(opened, m.get("sent", 0)), "click_rate": _rate(m.get("clicks", 0), m.get("sent", 0))}


def owned(project, infos: dict, latest: dict[str, dict]) -> dict:
    channels = project.settings.channels
    types = {name: c.type for name, c in channels.items()}
    blog, traffic, issues = [], [], []
    by_channel: dict[str, int] = {}
    by_campaign: dict[str, int] = {}
    for key, m in latest.items():
        info = infos.get(key)
        if info is None:
            continue
        kind = types.get(info.channel)
        row = {"entry": key, "item": info.item_id, "title": info.title, "channel": info.channel, "url": info.url}
        if kind == "blog":
            if "views" in m or "visitors" in m:
                blog.append({**row, "views": m.get("views", 0), "visitors": m.get("visitors", 0)})
            continue
        visits = m.get("visits", 0)
        if visits:
            traffic.append({**row, "campaign": info.campaign or "", "visits": visits})
            by_channel[info.channel] = by_channel.get(info.channel, 0) + visits
            campaign = info.campaign or "(none)"
            by_campaign[campaign] = by_campaign.get(campaign, 0) + visits
        if kind in NEWSLETTER_TYPES:
            # one row per segment's campaign where the service reported them apart (``sent@smb``)
            split = sorted({k.partition("@")[2] for k in m if "@" in k})
            for segment in split or [None]:
                figures = {k: m.get(f"{k}@{segment}" if segment else k, 0) for k in NEWSLETTER_METRICS}
                label = segment if segment else (", ".join(info.segments) or "(all)")
                issues.append({**row, "type": kind, "segment": "(all)" if label == "all" else label,
                               "measured": kind != "email", **figures, **_rates(figures)})
    blog.sort(key=lambda r: (-r["views"], -r["visitors"], r["entry"]))
    traffic.sort(key=lambda r: (-r["visits"], r["entry"]))
    issues.sort(key=lambda r: (r["channel"], r["item"], r["segment"]))
    segments: dict[str, dict] = {}
    for i in issues:
        if not i["measured"]:
            continue
        s = segments.setdefault(i["segment"], {"segment": i["segment"], "issues": 0,
                                               **{k: 0 for k in NEWSLETTER_METRICS}})
        s["issues"] += 1
        for k in NEWSLETTER_METRICS:
            s[k] += i[k]
    for s in segments.values():
        s.update(_rates(s))
    return {"blog": blog, "traffic": traffic[:TOP_TRAFFIC],
            "by_channel": [{"channel": c, "visits": n} for c, n in sorted(by_channel.items(), key=lambda x: (-x[1], x[0]))],
            "by_campaign": [{"campaign": c, "visits": n}
                            for c, n in sorted(by_campaign.items(), key=lambda x: (-x[1], x[0]))],
            "newsletters": issues, "segments": sorted(segments.values(), key=lambda s: s["segment"]),
            "empty": empty_states(project, types, blog, traffic, issues)}


def empty_states(project, types: dict, blog, traffic, issues) -> dict[str, str]:
    """Section → what it would take to fill it, for each owned-channel section without data."""
    analytics = project.settings.raw.get("analytics") or {}
    out = {}
    if not analytics:
        why = f"no analytics source configured: add one under analytics: in publish.yml (see {DOCS})"
        out["blog"] = out["traffic"] = why
    else:
        if not blog:
            out["blog"] = ("no data yet: `publish.py pull` stores the page views of delivered blog items "
                           f"from {', '.join(sorted(analytics))}")
        if not traffic:
            out["traffic"] = ("no data yet: `publish.py pull` attributes visits that arrive through our tagged "
                              "links (utm_source) to the posts that carried them")
    newsletters = sorted(n for n, t in types.items() if t in NEWSLETTER_TYPES)
    smtp = sorted(n for n, t in types.items() if t == "email")
    if not newsletters:
        out["newsletters"] = f"no newsletter channel configured: add a listmonk, mailchimp or email channel (see {DOCS})"
    elif not any(i["measured"] for i in issues):
        if smtp and len(smtp) == len(newsletters):
            out["newsletters"] = (f"opens are not measured for an SMTP newsletter ({', '.join(smtp)}): send through "
                                  f"listmonk or mailchimp to measure open and click rates (see {DOCS})")
        else:
            out["newsletters"] = "no data yet: `publish.py pull` reads each sent campaign's report"
    return out


# -- as rows of text (one source for every format) ------------------------------------------------

def _num(n) -> str:
    return f"{n:,}" if isinstance(n, int) else ("–" if n is None else str(n))


def _pct(rate) -> str:
    return "–" if rate is None else f"{rate * 100:.1f}%"


def blog_rows(o: dict, link) -> tuple[list[str], list[list[str]]]:
    return (["#", "item", "views", "visitors", "page"],
            [[str(i), b["title"], _num(b["views"]), _num(b["visitors"]), link(b["url"]) if b["url"] else "–"]
             for i, b in enumerate(o["blog"], 1)])


def traffic_rows(o: dict, link) -> tuple[list[str], list[list[str]]]:
    return (["#", "item", "channel", "campaign", "visits driven", "post"],
            [[str(i), t["title"], t["channel"], t["campaign"] or "–", _num(t["visits"]),
              link(t["url"]) if t["url"] else "–"] for i, t in enumerate(o["traffic"], 1)])


def driven_rows(o: dict, by: str) -> tuple[list[str], list[list[str]]]:
    return [by, "visits driven"], [[r[by], _num(r["visits"])] for r in o[f"by_{by}"]]


def newsletter_rows(o: dict) -> tuple[list[str], list[list[str]]]:
    rows = []
    for n in o["newsletters"]:
        if n["measured"]:
            rows.append([n["title"], n["channel"], n["segment"], _num(n["sent"]), _num(n["unique_opens"] or n["opens"]),
                         _pct(n["open_rate"]), _num(n["clicks"]), _pct(n["click_rate"]), _num(n["bounces"]),
                         _num(n["unsubscribes"])])
        else:
            rows.append([n["title"], n["channel"], n["segment"], "–", "not measured (SMTP)", "–", _num(n["clicks"]),
                         "–", "–", "–"])
    return ["issue", "channel", "segment", "sent", "opens", "open rate", "clicks", "click rate", "bounces",
            "unsubscribes"], rows


def segment_rows(o: dict) -> tuple[list[str], list[list[str]]]:
    return (["segment", "issues", "sent", "open rate", "click rate", "unsubscribes"],
            [[s["segment"], _num(s["issues"]), _num(s["sent"]), _pct(s["open_rate"]), _pct(s["click_rate"]),
              _num(s["unsubscribes"])] for s in o["segments"]])


def sections(o: dict, link) -> list[tuple[str, tuple | None, str | None]]:
    """(title, (head, rows) or None, the line said instead when there is nothing to show) in order."""
    empty = o.get("empty", {})
    out = [("Blog views per item", blog_rows(o, link) if o["blog"] else None, empty.get("blog", "no data yet")),
           ("What drove traffic", traffic_rows(o, link) if o["traffic"] else None, empty.get("traffic", "no data yet"))]
    if o["by_channel"]:
        out.append(("Visits driven per channel", driven_rows(o, "channel"), None))
    if o["by_campaign"]:
        out.append(("Visits driven per campaign", driven_rows(o, "campaign"), None))
    out.append(("Newsletters", newsletter_rows(o) if o["newsletters"] else None,
                empty.get("newsletters", "no data yet")))
    if o["newsletters"] and empty.get("newsletters"):
        out.append(("", None, empty["newsletters"]))
    if o["segments"]:
        out.append(("Newsletter rates per segment", segment_rows(o), None))
    return out
