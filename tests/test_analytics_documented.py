"""The analytics services' documented answers (tests/fixtures/analytics/, sources in SOURCES.md):
the stand-ins answer the documented queries in the documented shape, and the sources read the
documented answers as they stand. Also: Matomo without its campaign plugin, said in words a person
can act on."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

from conftest import FIXTURES, item
from servers.ga4 import GA4Server
from servers.matomo import MatomoServer
from servers.plausible import PlausibleServer
from servers.umami import UmamiServer
from test_analytics import NOW, delivered_all, files, latest, run, traffic, with_source

DOCS = FIXTURES / "analytics"


def documented(name: str):
    return json.loads((DOCS / name).read_text(encoding="utf-8"))


def shape(value):
    """The structure of a JSON value: keys and the types at the leaves (a list by its first item)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return "number" if isinstance(value, (int, float)) and not isinstance(value, bool) else type(value).__name__


def plausible_source(server):
    from reports.analytics.plausible import Plausible
    from newsroom import schema as s

    return Plausible("site", {"site_id": "dummy.site", "token": s.SecretRef("PLAUSIBLE_KEY"), "url": server.url},
                     {"PLAUSIBLE_KEY": "plausible-key"})


def test_plausible_answers_the_documented_utm_query_in_the_documented_shape():
    """The "UTM parameters" example of the Stats API v2 reference, asked of the stand-in."""
    import requests

    query, answer = documented("plausible-utm-query.json"), documented("plausible-utm-response.json")
    with PlausibleServer(site="dummy.site", today=date(2024, 9, 10)) as server:
        at = datetime(2024, 9, 8, 12, tzinfo=timezone.utc)
        server.visit(at, ["/", "/pricing"], visitor="v1", visit="s1", utm_source="twitter", utm_medium="social")
        server.visit(at, ["/"], visitor="v2", visit="s2", utm_source="duckduckgo")
        server.visit(at - timedelta(days=9), ["/"], visitor="v3", visit="s3", utm_source="old")  # before the 7 days
        got = requests.post(server.url + "/api/v2/query", json=query,
                            headers={"Authorization": "Bearer plausible-key"}, timeout=10).json()
    assert shape(got) == shape(answer)
    assert got["query"] == answer["query"]  # "7d" on 2024-09-10 is the documented week, to the second
    assert sorted(got["results"], key=lambda r: r["dimensions"]) == [
        {"metrics": [1, 1, 1], "dimensions": ["(not set)", "duckduckgo"]},  # no utm_medium: "(not set)"
        {"metrics": [1, 2, 2], "dimensions": ["social", "twitter"]}]  # visitors, events, pageviews


def test_plausible_reads_the_documented_answers(monkeypatch):
    """The documented UTM answer comes back row for row; the documented pagination answer (3 of 6
    rows, ``meta.total_rows``) makes the source ask for the next page, at offset 3."""
    from reports.analytics.plausible import Plausible

    with PlausibleServer(site="dummy.site") as server:
        server.fail(200, documented("plausible-utm-response.json"))
        rows = plausible_source(server)._query(documented("plausible-utm-query.json"))
        assert rows == documented("plausible-utm-response.json")["results"]

        monkeypatch.setattr(Plausible, "PAGE_SIZE", 3)
        server.fail(200, documented("plausible-pagination-response.json"))
        rows = plausible_source(server)._query({**documented("plausible-pagination-query.json"), "date_range": "7d"})
        asked = [s.json["pagination"] for s in server.requests("/api/v2/query$")[1:]]
    assert asked == [{"limit": 3, "offset": 0}, {"limit": 3, "offset": 3}]
    assert rows[:3] == documented("plausible-pagination-response.json")["results"]


def test_umami_reads_the_documented_expanded_metrics_and_answers_in_their_shape(project):
    from newsroom import schema as s
    from reports.analytics.base import PageViews
    from reports.analytics.umami import Umami

    answer = documented("umami-metrics-expanded-response.json")
    with UmamiServer() as server:
        server.fail(200, answer)
        source = Umami("site", {"site_id": server.website, "token": s.SecretRef("K"), "url": server.url},
                       {"K": "umami-key"})
        views = source.page_views(NOW - timedelta(days=7), NOW)
        traffic(server)
        root = project(files(), with_source("umami"))
        delivered_all(root)
        run(root, {"UMAMI_KEY": "umami-key"}, server)
        own = server.requests(r"/metrics/expanded$")[-1]
        rows = server.dispatch(own).body
    assert views == {r["name"]: PageViews(r["pageviews"], r["visitors"]) for r in answer}
    assert len(views) == 5 and views["Mac OS"] == PageViews(74020, 16982)
    assert rows and all(shape(r) == shape(answer[0]) for r in rows)  # name, pageviews, visitors, visits, …


def test_ga4_rows_take_the_documented_row_shape(project):
    row = documented("ga4-row.json")
    with GA4Server() as server:
        root = project(files(), with_source("ga4"))
        delivered_all(root)
        traffic(server)
        result, store = run(root, {"GA4_SERVICE_ACCOUNT": json.dumps(server.key)}, server)
        report = server.requests(r":runReport$")[-1]
        answer = server.dispatch(report).body
    assert result.failures == [] and latest(store)["post-0/mastodon"] == {"visits": 2, "clicks": 2}
    assert answer["rows"] and all(shape(r) == {"dimensionValues": [{"value": "str"}],
                                                "metricValues": [{"value": "str"}]} for r in answer["rows"])
    assert shape(row) == shape(answer["rows"][0])  # values as strings, numbers too ("15")


def test_matomo_without_the_campaign_plugin_says_to_install_it(project):
    with MatomoServer(campaigns_plugin=False) as server:
        root = project(files(), with_source("matomo"))
        delivered_all(root)
        traffic(server)
        sleeps = []
        result, store = run(root, {"MATOMO_TOKEN": "matomo-token"}, server, sleeps=sleeps)
    assert result.failures == [
        "site: visits by UTM tags failed: Matomo does not know the segment campaignSource: install and activate the "
        "Marketing Campaigns Reporting plugin (Administration → Marketplace, then Plugins; "
        "https://plugins.matomo.org/MarketingCampaignsReporting) so visits can be counted by utm_source; page views "
        "are read without it"]
    assert sleeps == []  # not retried: only a person can install it
    assert set(latest(store)) == {"post-0/blog", "post-1/blog"}  # the page views are in


def test_umami_asks_once_for_pages_and_once_per_utm_source_whatever_the_items(project):
    """The documented reason (reports/analytics/umami.py): one column per query, a comma list is one
    IN filter; so pages once, then one query per channel's utm_source, never one per item."""
    more = {**files(6)}
    with UmamiServer() as server:
        root = project(more, with_source("umami"))
        from test_analytics import deliver

        at = NOW - timedelta(days=3)
        deliver(root, {f"post-{i}/{ch}": (f"{ch}{i}", f"https://news.test/post-{i}/" if ch == "blog" else None, at)
                       for i in range(6) for ch in ("blog", "mastodon", "partner")})
        run(root, {"UMAMI_KEY": "umami-key"}, server)
        asked = [(s.query["type"][0], s.query.get("utmSource", [""])[0]) for s in server.requests(r"/metrics/expanded$")]
    assert asked == [("path", ""), ("entry", "eq.mastodon"), ("entry", "eq.partner-feed")]
