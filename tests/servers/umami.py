"""Umami's REST API on loopback: ``GET /api/websites/{id}/metrics/expanded``.

Follows umami-software/umami: ``src/app/api/websites/[websiteId]/metrics/expanded/route.ts`` (the
``type``, ``startAt``/``endAt`` in ms, ``limit`` (default 500) and ``offset``, filters such as
``utmSource`` with an optional ``eq.`` operator, values split on commas: ``src/lib/params.ts``),
``getPageviewExpandedMetrics`` (``name, pageviews, visitors, visits, bounces, totaltime``, by
pageviews descending; ``type=entry`` groups visits by their first page), ``src/lib/response.ts``
(``{"error": {"message", "code", "status"}}``: 400 bad-request, 401 unauthorized), and Umami
Cloud's key header ``x-umami-api-key`` with 50 calls every 15 seconds (429 past it: the docs,
``content/cloud/api-key.mdx``, name no header; the stand-in sends ``Retry-After: 15``, the window's
length, so the tests show a named wait is honoured).
"""
from __future__ import annotations

from datetime import datetime, timezone

from .analytics import Traffic
from .base import Answer, Seen

FILTERS = {"utmSource": "utm_source", "utmMedium": "utm_medium", "utmCampaign": "utm_campaign",
           "utmContent": "utm_content", "path": "page"}


class UmamiServer(Traffic):
    routes = [("GET", r"/api/websites/(?P<website>[^/]+)/metrics/expanded", "expanded")]

    def __init__(self, key="umami-key", website="3f2c8d2e-0b7a-4c1e-9d55-2a4f0e9b7c11", window_limit=50):
        super().__init__()
        self.key, self.website, self.window_limit = key, website, window_limit
        self.used = 0

    def error(self, status, message, code=None):
        codes = {400: "bad-request", 401: "unauthorized", 404: "not-found", 429: "too-many-requests"}
        return Answer(status, {"error": {"message": message, "code": code or codes.get(status, "server-error"),
                                         "status": status}})

    def expanded(self, seen: Seen, website: str):
        token = seen.headers.get("x-umami-api-key") or seen.headers.get("authorization", "").removeprefix("Bearer ")
        if token != self.key or website != self.website:
            return self.error(401, "Unauthorized")
        with self.lock:
            self.used += 1
            over = self.used > self.window_limit
        if over:
            return Answer(429, {"error": {"message": "Too many requests", "code": "too-many-requests",
                                          "status": 429}}, {"Retry-After": "15"})
        q = {k: v[0] for k, v in seen.query.items()}
        if "type" not in q or not ("startAt" in q and "endAt" in q):
            return self.error(400, "Bad request")
        try:
            since = datetime.fromtimestamp(int(q["startAt"]) / 1000, timezone.utc)
            until = datetime.fromtimestamp(int(q["endAt"]) / 1000, timezone.utc)
            limit, offset = int(q.get("limit", 500)), int(q.get("offset", 0))
        except ValueError:
            return self.error(400, "Bad request")
        rows = self.between(since, until)
        for name, field in FILTERS.items():
            if name in q:
                value = q[name].removeprefix("eq.")
                rows = [p for p in rows if p[field] in value.split(",")]
        if q["type"] == "path":
            groups = self.group(rows, lambda p: p["page"])
        elif q["type"] == "entry":
            groups = self.group(rows, lambda p: p["entry_page"])
        else:
            return self.error(400, "Bad request")
        out = [{"name": name, **self.totals(ps), "bounces": 0, "totaltime": 0} for name, ps in groups.items()]
        out.sort(key=lambda r: (-r["pageviews"], r["name"]))
        return Answer(200, out[offset:offset + limit])
