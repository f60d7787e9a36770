"""Matomo, its Reporting API (https://developer.matomo.org/api-reference/reporting-api).

- Every call is ``POST {url}/index.php`` with ``module=API``, ``method``, ``idSite``, ``period=range``,
  ``date=YYYY-MM-DD,YYYY-MM-DD``, ``format=JSON`` and ``token_auth`` in the body (never in the URL,
  where it would land in access logs). ``filter_limit=-1`` returns every row in one answer.
- ``Actions.getPageUrls`` with ``flat=1``: one row per page with ``url``, ``nb_hits`` (page views) and
  unique visitors (``nb_uniq_visitors``, or for a range ``sum_daily_nb_uniq_visitors``).
- ``Actions.getEntryPageUrls`` gives ``entry_nb_visits`` per landing page; with the segment
  ``campaignSource==<utm_source>`` (the Marketing Campaigns Reporting plugin, which reads
  ``utm_source``: matomo-org/plugin-MarketingCampaignsReporting ``Columns/CampaignSource.php``)
  it counts the visits a source's links brought. One such query per ``utm_source``, all sent in one
  ``API.getBulkRequest`` (``urls[0]=…&urls[1]=…``): one request for the period.
- ``campaignSource`` is not Matomo core's: the Marketing Campaigns Reporting plugin
  (https://plugins.matomo.org/MarketingCampaignsReporting; built into Matomo Cloud, a free plugin to
  install on Matomo On-Premise) stores ``utm_source`` and declares the segment. Without it Matomo
  answers ``Segment 'campaignSource' is not a supported segment.`` (``core/Segment/Segment.php``):
  the pull then says to install the plugin (page views need nothing more and are still read).
- Errors come as HTTP 200 with ``{"result": "error", "message": …}`` (a refused token: "You can't
  access this resource as it requires 'view' access …"); Matomo Cloud answers 429 past 2,000
  requests per 10 minutes or 350 per minute per IP
  (https://matomo.org/faq/troubleshooting/matomo-cloud-api-usage-limits/).
"""
from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlencode

from channels.base import Failure

from .base import PageViews, Source, Visit, json_of, path_of


def _day(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).date().isoformat()


NO_PLUGIN = ("Matomo does not know the segment campaignSource: install and activate the Marketing Campaigns "
             "Reporting plugin (Administration → Marketplace, then Plugins; "
             "https://plugins.matomo.org/MarketingCampaignsReporting) so visits can be counted by utm_source; "
             "page views are read without it")


def _no_plugin(message: str) -> bool:
    return "campaignSource" in message and "not a supported segment" in message


class Matomo(Source):
    TYPE = "matomo"
    DEFAULT_URL = None
    PAGE_SIZE = -1  # filter_limit=-1: every row at once
    RATE_LIMIT = "Matomo Cloud: 2,000 requests per 10 minutes, 350 per minute, per IP"
    DOCS = "https://developer.matomo.org/api-reference/reporting-api"

    def _call(self, params: dict) -> object | Failure:
        got = self.send("POST", "/index.php", data={"module": "API", "format": "JSON", **params,
                                                     "token_auth": self.secret() or ""})
        if isinstance(got, Failure):
            return got
        data, bad = json_of(got)
        if bad:
            return bad
        if isinstance(data, dict) and data.get("result") == "error":
            message = str(data.get("message") or "error")
            refused = "access" in message.lower() or "token" in message.lower()
            return Failure(f"Matomo: {message}", retryable=not refused, status=401 if refused else None)
        return data

    def _range(self, since: datetime, until: datetime) -> dict:
        return {"idSite": self.site_id, "period": "range", "date": f"{_day(since)},{_day(until)}"}

    def page_views(self, since: datetime, until: datetime) -> dict[str, PageViews] | Failure:
        rows = self._call({"method": "Actions.getPageUrls", **self._range(since, until), "flat": "1",
                           "filter_limit": str(self.PAGE_SIZE)})
        if isinstance(rows, Failure):
            return rows
        out: dict[str, PageViews] = {}
        for r in rows if isinstance(rows, list) else ():
            try:
                path = path_of(str(r.get("url") or r["label"]))
                views = int(r.get("nb_hits") or 0)
                visitors = int(r.get("nb_uniq_visitors") or r.get("sum_daily_nb_uniq_visitors") or 0)
            except (KeyError, TypeError, ValueError, AttributeError):
                continue
            known = out.get(path)
            out[path] = PageViews(views + (known.views if known else 0), max(visitors, known.visitors if known else 0))
        return out

    def visits(self, since: datetime, until: datetime, sources: set[str]) -> list[Visit] | Failure:
        if not sources:
            return []
        order = sorted(sources)
        bulk = {"method": "API.getBulkRequest"}
        for i, source in enumerate(order):
            bulk[f"urls[{i}]"] = urlencode({"method": "Actions.getEntryPageUrls", **self._range(since, until),
                                            "flat": "1", "filter_limit": str(self.PAGE_SIZE),
                                            "segment": f"campaignSource=={source}"})
        answers = self._call(bulk)
        if isinstance(answers, Failure):
            return Failure(NO_PLUGIN, retryable=False) if _no_plugin(answers.message) else answers
        if not isinstance(answers, list) or len(answers) != len(order):
            return Failure("Matomo: the bulk answer does not have one result per query", retryable=True)
        out = []
        for source, rows in zip(order, answers):
            if isinstance(rows, dict) and rows.get("result") == "error":
                message = str(rows.get("message") or "")
                return Failure(NO_PLUGIN if _no_plugin(message) else f"Matomo: {message}", retryable=False)
            for r in rows if isinstance(rows, list) else ():
                try:
                    out.append(Visit(path_of(str(r.get("url") or r["label"])), source, "", "", "",
                                     int(r.get("entry_nb_visits") or 0)))
                except (KeyError, TypeError, ValueError, AttributeError):
                    continue
        return out
