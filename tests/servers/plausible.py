"""Plausible's Stats API v2 on loopback: ``POST /api/v2/query`` over recorded pageviews.

Follows https://plausible.io/docs/stats-api (plausible/docs ``docs/stats-api.md``) and the API's
own plug (plausible/analytics ``lib/plausible_web/plugs/authorize_public_api.ex``):

- ``Authorization: Bearer <key>``; none: 401 "Missing API key. Please use a valid Plausible API key
  as a Bearer Token."; a wrong key or a site the key cannot see: 401 "Invalid API key or site ID. …";
  no ``site_id``: 400 "Missing site ID. …";
- ``hourly_limit`` requests per key, then 429 "Too many API requests. Your API key is limited to N
  requests per hour. Please contact us to request more capacity." (no rate-limit headers);
- ``metrics`` pageviews, visitors, visits; ``dimensions`` ``event:page`` and the ``visit:*`` ones
  (a visit's values are its entry page's); ``filters`` ``is``; ``date_range`` two ISO dates or
  date-times; ``pagination`` ``{"limit", "offset"}`` (default 10,000); an unknown metric or dimension
  is 400 ``{"error": "#/metrics/0: Invalid metric \\"x\\""}``-style;
- results ordered by the first metric, descending, as the docs say; ``include.total_rows`` gives
  ``meta.total_rows``; a ``visit:utm_*`` value a visit did not carry reads "(not set)"; the answer's
  ``query`` repeats the query as Plausible completed it (``date_range`` as two date-times,
  ``filters``, ``order_by``, ``include``, and ``pagination`` when one was asked), as the documented
  examples show (``tests/fixtures/analytics/plausible-*.json``); ``date_range`` also takes ``"day"``
  and ``"7d"``-style periods, counted back from ``today``.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

from .analytics import Traffic
from .base import Answer, Seen

VISIT_FIELDS = {"visit:entry_page": "entry_page", "visit:utm_source": "utm_source",
                "visit:utm_medium": "utm_medium", "visit:utm_campaign": "utm_campaign",
                "visit:utm_content": "utm_content", "visit:utm_term": "utm_term"}
METRICS = ("pageviews", "visitors", "visits", "events")  # every recorded pageview is an event


def _moment(text: str, end: bool) -> datetime:
    if "T" in text:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)
    d = datetime.fromisoformat(text).replace(tzinfo=timezone.utc)
    return d.replace(hour=23, minute=59, second=59) if end else d


class PlausibleServer(Traffic):
    routes = [("POST", r"/api/v2/query", "query")]

    def __init__(self, key="plausible-key", site="news.test", hourly_limit=600, today: date | None = None):
        super().__init__()
        self.key, self.site, self.hourly_limit = key, site, hourly_limit
        self.today = today or datetime.now(timezone.utc).date()
        self.used = 0

    def _range(self, rng) -> tuple[datetime, datetime]:
        if isinstance(rng, str):
            days = 1 if rng == "day" else int(m.group(1)) if (m := re.fullmatch(r"(\d+)d", rng)) else 0
            if not days:
                raise ValueError(rng)
            first = self.today - timedelta(days=days - 1)
            return (datetime(first.year, first.month, first.day, tzinfo=timezone.utc),
                    datetime(self.today.year, self.today.month, self.today.day, 23, 59, 59, tzinfo=timezone.utc))
        if not (isinstance(rng, list) and len(rng) == 2):
            raise ValueError(rng)
        return _moment(rng[0], False), _moment(rng[1], True)

    def error(self, status, message):
        return Answer(status, {"error": message})

    def query(self, seen: Seen):
        auth = seen.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or not auth[7:]:
            return self.error(401, "Missing API key. Please use a valid Plausible API key as a Bearer Token.")
        body = seen.json or {}
        if not body.get("site_id"):
            return self.error(400, "Missing site ID. Please provide the required site_id parameter with your request.")
        if auth[7:] != self.key or body["site_id"] != self.site:
            return self.error(401, "Invalid API key or site ID. Please make sure you're using a valid API key "
                                   "with access to the site you've requested.")
        with self.lock:
            self.used += 1
            over = self.used > self.hourly_limit
        if over:
            return self.error(429, f"Too many API requests. Your API key is limited to {self.hourly_limit} "
                                   "requests per hour. Please contact us to request more capacity.")
        metrics, dims = body.get("metrics") or [], body.get("dimensions") or []
        for i, m in enumerate(metrics):
            if m not in METRICS:
                return self.error(400, f"#/metrics/{i}: Invalid metric \"{m}\"")
        for i, d in enumerate(dims):
            if d != "event:page" and d not in VISIT_FIELDS:
                return self.error(400, f"#/dimensions/{i}: Invalid dimension \"{d}\"")
        rng = body.get("date_range")
        try:
            since, until = self._range(rng)
        except (ValueError, TypeError):
            return self.error(400, f"#/date_range: Invalid date range {rng}")
        page = body.get("pagination") or {}
        limit, offset = int(page.get("limit", 10_000)), int(page.get("offset", 0))
        rows = [p for p in self.pageviews if since <= p["at"] <= until and self._match(p, body.get("filters") or [])]
        groups: dict[tuple, list] = {}
        for p in rows:
            key = tuple(p["page"] if d == "event:page" else p[VISIT_FIELDS[d]] or "(not set)" for d in dims)
            groups.setdefault(key, []).append(p)
        out = []
        for key, ps in groups.items():
            values = {"pageviews": len(ps), "visitors": len({p["visitor"] for p in ps}),
                      "visits": len({p["visit"] for p in ps}), "events": len(ps)}
            out.append({"dimensions": list(key), "metrics": [values[m] for m in metrics]})
        out.sort(key=lambda r: (-r["metrics"][0], r["dimensions"]))
        meta = {"total_rows": len(out)} if (body.get("include") or {}).get("total_rows") else {}
        query = {"site_id": body["site_id"], "metrics": metrics, "date_range": [since.isoformat(), until.isoformat()],
                 "filters": body.get("filters") or [], "dimensions": dims,
                 "order_by": body.get("order_by") or [[metrics[0], "desc"]], "include": body.get("include") or {}}
        if "pagination" in body:
            query["pagination"] = {"offset": offset, "limit": limit}
        return Answer(200, {"results": out[offset:offset + limit], "meta": meta, "query": query})

    @staticmethod
    def _match(p: dict, filters: list) -> bool:
        for f in filters:
            op, dim, clauses = f[0], f[1], f[2]
            value = p["page"] if dim == "event:page" else p.get(VISIT_FIELDS.get(dim, ""), "")
            if op == "is" and value not in clauses:
                return False
            if op == "is_not" and value in clauses:
                return False
        return True
