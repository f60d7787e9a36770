"""Plausible Analytics, Stats API v2: ``POST /api/v2/query`` (https://plausible.io/docs/stats-api,
plausible/docs ``docs/stats-api.md``).

- Auth: ``Authorization: Bearer <key>``; a bad key or a site the key cannot see is 401
  ``{"error": "Invalid API key or site ID. …"}`` (plausible/analytics
  ``lib/plausible_web/plugs/authorize_public_api.ex``).
- Budget: 600 requests per hour per key by default; past it, 429 ``{"error": "Too many API
  requests. Your API key is limited to 600 requests per hour. …"}`` with no rate-limit headers, so
  a pull that meets it stops and the next pull goes on.
- ``date_range`` takes two ISO 8601 date-times; ``pagination`` is ``{"limit", "offset"}``, 10,000
  rows by default, which is also what one request asks for here; ``include.total_rows`` puts the
  query's row count in ``meta.total_rows``.
- Results: ``[{"dimensions": [...], "metrics": [...]}]`` in the order the query named them.
  ``event:page`` is the page's path; ``visit:*`` dimensions come from a visit's entry page, so
  ``visit:entry_page`` with ``visit:utm_source`` says which tagged link a visit came through.
"""
from __future__ import annotations

from datetime import datetime

from channels.base import Failure

from .base import PageViews, Source, Visit, json_of, path_of, utc_iso

UTM = ("visit:utm_source", "visit:utm_medium", "visit:utm_campaign", "visit:utm_content")


class Plausible(Source):
    TYPE = "plausible"
    DEFAULT_URL = "https://plausible.io"
    PAGE_SIZE = 10_000
    RATE_LIMIT = "600 requests per hour per API key"
    DOCS = "https://plausible.io/docs/stats-api"

    def _query(self, body: dict) -> list | Failure:
        """Every row of one query, a page of ``PAGE_SIZE`` at a time; ``include.total_rows`` says
        when the last page has come, so a result of exactly one full page costs one request."""
        rows: list = []
        offset = 0
        while True:
            got = self.send("POST", "/api/v2/query", json={**body, "include": {"total_rows": True},
                                                           "pagination": {"limit": self.PAGE_SIZE, "offset": offset}},
                            headers={"Authorization": f"Bearer {self.secret() or ''}"})
            if isinstance(got, Failure):
                return got
            data, bad = json_of(got)
            if bad:
                return bad
            page = data.get("results") if isinstance(data, dict) else None
            if not isinstance(page, list):
                return Failure(f"HTTP {got.status_code}: the answer has no results", retryable=False)
            rows.extend(page)
            total = (data.get("meta") or {}).get("total_rows")
            if len(page) < self.PAGE_SIZE or (isinstance(total, int) and offset + len(page) >= total):
                return rows
            offset += self.PAGE_SIZE

    def page_views(self, since: datetime, until: datetime) -> dict[str, PageViews] | Failure:
        rows = self._query({"site_id": self.site_id, "metrics": ["pageviews", "visitors"],
                            "date_range": [utc_iso(since), utc_iso(until)], "dimensions": ["event:page"]})
        if isinstance(rows, Failure):
            return rows
        out: dict[str, PageViews] = {}
        for r in rows:
            try:
                (page,), (views, visitors) = r["dimensions"], r["metrics"]
                path = path_of(page if type(page) is str else str(page))
                views, visitors = int(views), int(visitors)
            except (KeyError, TypeError, ValueError):
                continue
            known = out.get(path)
            if known is None:
                out[path] = PageViews(views, visitors)
            else:  # /a and /a/ are one page to us; their visitors cannot be told apart, so the larger stands
                out[path] = PageViews(views + known.views, max(visitors, known.visitors))
        return out

    def visits(self, since: datetime, until: datetime, sources: set[str]) -> list[Visit] | Failure:
        if not sources:
            return []
        rows = self._query({"site_id": self.site_id, "metrics": ["visits"],
                            "date_range": [utc_iso(since), utc_iso(until)],
                            "dimensions": ["visit:entry_page", *UTM],
                            "filters": [["is", "visit:utm_source", sorted(sources)]]})
        if isinstance(rows, Failure):
            return rows
        out = []
        for r in rows:
            try:
                page, source, medium, campaign, content = (str(v) if v is not None else "" for v in r["dimensions"])
                out.append(Visit(path_of(page), source, medium, campaign, content, int(r["metrics"][0])))
            except (KeyError, TypeError, ValueError, IndexError):
                continue
        return out
