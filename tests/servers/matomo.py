"""Matomo's Reporting API on loopback: ``POST /index.php?module=API`` (token_auth in the body).

Follows https://developer.matomo.org/api-reference/reporting-api: ``Actions.getPageUrls`` and
``Actions.getEntryPageUrls`` with ``flat=1`` (rows with ``label``, ``url``, ``nb_hits``,
``sum_daily_nb_uniq_visitors``, ``entry_nb_visits``), ``period=range&date=A,B``, ``filter_limit``
(-1: all; default 100) and ``filter_offset``, ``segment=campaignSource==x`` (Marketing Campaigns
Reporting; ``campaigns_plugin=False``: not installed, the segment unknown), ``API.getBulkRequest`` with ``urls[i]``; errors as HTTP 200
``{"result": "error", "message": …}``; Matomo Cloud's 429 past its per-IP budget.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl

from .analytics import Traffic
from .base import Answer, Seen

SEGMENTS = {"campaignSource": "utm_source", "campaignMedium": "utm_medium", "campaignName": "utm_campaign"}


class MatomoServer(Traffic):
    routes = [("POST", r"/index.php", "api")]

    def __init__(self, token="matomo-token", site="3", host="https://news.test", per_minute=350,
                 campaigns_plugin=True):
        super().__init__()
        self.token, self.site, self.host, self.per_minute = token, site, host, per_minute
        self.used = 0
        #: Marketing Campaigns Reporting installed: without it core Matomo knows no campaign* segment
        self.segments = SEGMENTS if campaigns_plugin else {}

    @staticmethod
    def failed(message):
        return {"result": "error", "message": message}

    def api(self, seen: Seen):
        params = dict(seen.form)
        params.update({k: v[0] for k, v in seen.query.items() if k not in ("token_auth",)})
        with self.lock:
            self.used += 1
            over = self.used > self.per_minute
        if over:
            return Answer(429, "Too Many Requests", {"Retry-After": "60", "Content-Type": "text/plain"})
        if params.get("module") != "API":
            return Answer(200, self.failed("The parameter 'module' is missing or not API."))
        if params.get("method") == "API.getBulkRequest":  # access is checked per request inside
            out = []
            i = 0
            while f"urls[{i}]" in params:
                sub = dict(parse_qsl(params[f"urls[{i}]"]))
                out.append(self.report(sub, params.get("token_auth")))
                i += 1
            return Answer(200, out)
        return Answer(200, self.report(params, params.get("token_auth")))

    def report(self, p: dict, token: str | None):
        if token != self.token or p.get("idSite") != self.site:
            return self.failed(f"You can't access this resource as it requires 'view' access for the website id = "
                               f"{p.get('idSite', '')}.")
        if p.get("period") != "range" or "," not in p.get("date", ""):
            return self.failed("The date '{}' is not a correct date range".format(p.get("date", "")))
        a, b = p["date"].split(",")
        since = datetime.fromisoformat(a).replace(tzinfo=timezone.utc)
        until = datetime.fromisoformat(b).replace(tzinfo=timezone.utc) + timedelta(days=1) - timedelta(microseconds=1)
        rows = self.between(since, until)
        seg = p.get("segment")
        if seg:
            name, _, value = seg.partition("==")
            if name not in self.segments:  # core/Segment/Segment.php's words
                return self.failed(f"Segment '{name}' is not a supported segment.")
            rows = [r for r in rows if r[self.segments[name]].lower() == value.lower()]  # stored lower-cased
        method = p.get("method")
        if method == "Actions.getPageUrls":
            out = [{"label": page, "url": self.host + page, "nb_visits": self.totals(ps)["visits"],
                    "nb_hits": len(ps), "sum_daily_nb_uniq_visitors": self.totals(ps)["visitors"]}
                   for page, ps in self.group(rows, lambda r: r["page"]).items()]
        elif method == "Actions.getEntryPageUrls":
            firsts = [r for r in rows if r["page"] == r["entry_page"]]
            out = [{"label": page, "url": self.host + page, "entry_nb_visits": self.totals(ps)["visits"]}
                   for page, ps in self.group(firsts, lambda r: r["entry_page"]).items()]
        else:
            return self.failed(f"The method '{method}' does not exist or is not available in the module 'API'.")
        out.sort(key=lambda r: (-(r.get("nb_hits") or r.get("entry_nb_visits")), r["label"]))
        limit, offset = int(p.get("filter_limit", 100)), int(p.get("filter_offset", 0))
        return out[offset:] if limit < 0 else out[offset:offset + limit]
