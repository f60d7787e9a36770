"""Umami, its REST API (https://umami.is/docs/api; umami-software/umami
``src/app/api/websites/[websiteId]/metrics/expanded/route.ts``).

- ``GET /api/websites/{id}/metrics/expanded?type=path&startAt=<ms>&endAt=<ms>&limit&offset`` →
  ``[{"name", "pageviews", "visitors", "visits", "bounces", "totaltime"}]``, ordered by pageviews;
  ``limit`` is 500 unless asked (``src/queries/sql/pageviews/getPageviewExpandedMetrics.ts``).
- ``type=entry`` groups visits by their landing page, and a filter ``utmSource=<value>`` keeps the
  visits whose landing URL carried it (``src/lib/schema.ts`` ``filterParams``).
- Why one query per ``utm_source`` (per channel, never per item) and not one per period: the
  endpoint groups by the one column ``type`` names (``metrics/expanded/route.ts``; ``utmSource`` is
  one of those columns, ``EVENT_COLUMNS`` in ``src/lib/constants.ts``), and a filter's comma list is
  one IN condition (``parseFilterValue`` in ``src/lib/params.ts``: ``eq.a,b`` → ``[a, b]``), so
  ``type=entry&utmSource=eq.a,b`` merges the two sources' visits on a page, and ``type=utmSource``
  loses the page. No endpoint crosses two columns (the UTM report, ``POST /api/reports/utm``, runs one
  query per UTM column itself, each without the page). Landing page × source therefore takes one
  query per source; a pull asks ``1 + number of channels`` queries per period whatever the number
  of items, within the 50-calls-per-15-seconds budget for up to 49 channels.
- Auth: Umami Cloud (``https://api.umami.is/v1``) reads the key from ``x-umami-api-key`` and allows
  50 calls every 15 seconds per key (https://umami.is/docs/cloud/api-key); a self-hosted Umami reads
  ``Authorization: Bearer <token>`` (``src/lib/auth.ts``). The same token goes in both, to the same host.
- Errors: ``{"error": {"message", "code", "status"}}``, 401 ``unauthorized`` (``src/lib/response.ts``).
"""
from __future__ import annotations

from datetime import datetime

from channels.base import Failure

from .base import PageViews, Source, Visit, json_of, path_of


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class Umami(Source):
    TYPE = "umami"
    DEFAULT_URL = "https://api.umami.is/v1"
    PAGE_SIZE = 10_000  # the endpoint takes any limit; one page this size keeps a site in one request
    RATE_LIMIT = "Umami Cloud: 50 calls every 15 seconds per API key"
    DOCS = "https://umami.is/docs/api"

    def _rows(self, params: dict) -> list | Failure:
        token = self.secret() or ""
        rows: list = []
        offset = 0
        while True:
            got = self.send("GET", f"/api/websites/{self.site_id}/metrics/expanded",
                            params={**params, "limit": self.PAGE_SIZE, "offset": offset},
                            headers={"x-umami-api-key": token, "Authorization": f"Bearer {token}"})
            if isinstance(got, Failure):
                return got
            data, bad = json_of(got)
            if bad:
                return bad
            if not isinstance(data, list):
                return Failure(f"HTTP {got.status_code}: the answer is not a list of rows", retryable=False)
            rows.extend(data)
            if len(data) < self.PAGE_SIZE:
                return rows
            offset += self.PAGE_SIZE

    def page_views(self, since: datetime, until: datetime) -> dict[str, PageViews] | Failure:
        rows = self._rows({"type": "path", "startAt": _ms(since), "endAt": _ms(until)})
        if isinstance(rows, Failure):
            return rows
        out: dict[str, PageViews] = {}
        for r in rows:
            try:
                path, views, visitors = path_of(str(r["name"])), int(r["pageviews"]), int(r["visitors"])
            except (KeyError, TypeError, ValueError):
                continue
            known = out.get(path)
            out[path] = PageViews(views + (known.views if known else 0), max(visitors, known.visitors if known else 0))
        return out

    def visits(self, since: datetime, until: datetime, sources: set[str]) -> list[Visit] | Failure:
        out = []
        for source in sorted(sources):
            rows = self._rows({"type": "entry", "startAt": _ms(since), "endAt": _ms(until),
                               "utmSource": f"eq.{source}"})  # eq.: a value is never read as an operator
            if isinstance(rows, Failure):
                return rows
            for r in rows:
                try:
                    out.append(Visit(path_of(str(r["name"])), source, "", "", "", int(r["visits"])))
                except (KeyError, TypeError, ValueError):
                    continue
        return out
