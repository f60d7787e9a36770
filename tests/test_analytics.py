"""Web analytics in the pull (Plausible, …) against loopback servers that follow each documented API:
page views per blog item, visits attributed to the posts whose tagged links brought them, batching,
and the faults (timeouts, 5xx, 429, a refused key)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from conftest import item
from servers.ga4 import GA4Server
from servers.matomo import MatomoServer
from servers.plausible import PlausibleServer
from servers.umami import UmamiServer

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
OUT = NOW - timedelta(days=3, hours=2)

SETTINGS = """\
site:
  title: Test Newsroom
  url: https://news.test
timezone: Europe/Berlin
channels:
  blog:
    type: blog
  mastodon:
    type: mastodon
    instance: https://mastodon.test
    token: env:MASTODON_TOKEN
  newsletter:
    type: email
    from: news@news.test
    lists:
      all: audience/all.csv
  partner:
    type: webhook
    url: env:PARTNER_URL
    utm_source: partner-feed
pull:
  replies: false
analytics:
  site:
    type: plausible
    site_id: news.test
    token: env:PLAUSIBLE_KEY
"""


def files(n=2):
    out = {"audience/all.csv": "email\na@example.com\n"}
    for i in range(n):
        out[f"content/2026/post-{i}.md"] = item(f"Post {i}", status="approved", slug=f"post-{i}",
                                                campaign="winter" if i == 0 else None)
    return out


def deliver(root, entries):
    from newsroom.state import FileStore

    FileStore(root / "state").append(
        {"event": "delivered", "entry": key, "at": at.isoformat(), "revision": "r",
         "receipt": {"remote_id": rid, "url": url, "at": at.isoformat(), "parts": [], "data": {}}}
        for key, (rid, url, at) in entries.items())


SOURCES = {
    "plausible": (PlausibleServer, "    type: plausible\n    site_id: news.test\n    token: env:PLAUSIBLE_KEY\n",
                  lambda s: {"PLAUSIBLE_KEY": "plausible-key"}, 2),
    "umami": (UmamiServer, "    type: umami\n    site_id: 3f2c8d2e-0b7a-4c1e-9d55-2a4f0e9b7c11\n    token: env:UMAMI_KEY\n",
              lambda s: {"UMAMI_KEY": "umami-key"}, 4),  # pages, then one query per utm_source (3)
    "matomo": (MatomoServer, "    type: matomo\n    site_id: '3'\n    token: env:MATOMO_TOKEN\n    url: http://matomo.test\n",
               lambda s: {"MATOMO_TOKEN": "matomo-token"}, 2),  # pages, then one bulk request
    "ga4": (GA4Server, "    type: ga4\n    site_id: '412345678'\n    token: env:GA4_SERVICE_ACCOUNT\n",
            lambda s: {"GA4_SERVICE_ACCOUNT": __import__("json").dumps(s.key)}, 3),  # token, pages, visits
}


def with_source(kind: str) -> str:
    return SETTINGS.split("  site:\n")[0] + "  site:\n" + SOURCES[kind][1]


def run(root, env, server, now=NOW, sleeps=None):
    from scheduler.project import load_project as load
    from newsroom.state import open_store
    from reports.pull import pull

    project = load(root)
    store = open_store(project.root, project.settings.state)
    result = pull(project, store, env=env, now=now, sleep=(sleeps if sleeps is not None else []).append,
                  feeds=False, base_urls={"site": server.url}, only=("site",))
    return result, store


def delivered_all(root, at=OUT):
    deliver(root, {
        "post-0/blog": ("p0", "https://news.test/post-0/", at),
        "post-1/blog": ("p1", "https://news.test/post-1/", at),
        "post-0/mastodon": ("m0", "https://mastodon.test/@us/1", at),
        "post-1/mastodon": ("m1", "https://mastodon.test/@us/2", at),
        "post-0/newsletter": ("n0", None, at),
        "post-0/partner": ("w0", None, at),
    })


@pytest.fixture
def plausible():
    with PlausibleServer() as server:
        yield server


def traffic(server):
    t = OUT + timedelta(hours=1)
    server.visit(t, ["/post-0", "/post-1"], visitor="v1", visit="s1", utm_source="mastodon", utm_medium="social",
                 utm_campaign="winter")
    server.visit(t, ["/post-0"], visitor="v2", visit="s2", utm_source="mastodon", utm_medium="social",
                 utm_campaign="winter")
    server.visit(t, ["/post-0"], visitor="v2", visit="s3", utm_source="newsletter", utm_medium="email",
                 utm_campaign="winter")
    server.visit(t, ["/post-0"], visitor="v3", visit="s4", utm_source="partner-feed", utm_medium="webhook")
    server.visit(t, ["/post-1"], visitor="v4", visit="s5", utm_source="mastodon", utm_medium="social")
    server.visit(t, ["/post-1"], visitor="v5", visit="s6")  # no tags: a view, driven by nobody of ours
    server.visit(t, ["/about"], visitor="v6", visit="s7", utm_source="mastodon")  # lands on no item


def latest(store):
    out = {}
    for r in sorted(store.snapshots(), key=lambda r: r["at"]):
        out.setdefault(r["entry"], {}).update(r["metrics"])
    return out


@pytest.mark.parametrize("kind", sorted(SOURCES))
def test_each_source_gives_views_per_item_and_visits_per_post(project, kind):
    make, _, env, requests = SOURCES[kind]
    with make() as server:
        root = project(files(), with_source(kind))
        delivered_all(root)
        traffic(server)
        result, store = run(root, env(server), server)
        assert result.failures == []
        got = latest(store)
        assert got["post-0/blog"] == {"views": 4, "visitors": 3}
        assert got["post-1/blog"] == {"views": 3, "visitors": 3}
        assert got["post-0/mastodon"] == {"visits": 2, "clicks": 2}
        assert got["post-1/mastodon"] == {"visits": 1, "clicks": 1}
        assert got["post-0/newsletter"] == {"visits": 1, "clicks": 1}
        assert got["post-0/partner"] == {"visits": 1, "clicks": 1}
        assert result.notes == ["analytics site: 1 visit with our utm_source landed on no delivered item's page"]
        assert len(server.seen) == requests  # batched: never one request per item
        again, _ = run(root, env(server), server)
        assert again.snapshots == 0 and len(server.seen) == requests


def test_plausible_views_per_item_and_visits_per_post(project, plausible):
    root = project(files(), SETTINGS)
    delivered_all(root)
    traffic(plausible)
    result, store = run(root, {"PLAUSIBLE_KEY": "plausible-key"}, plausible)
    assert result.failures == []
    got = latest(store)
    assert got["post-0/blog"] == {"views": 4, "visitors": 3}
    assert got["post-1/blog"] == {"views": 3, "visitors": 3}
    assert got["post-0/mastodon"] == {"visits": 2, "clicks": 2}
    assert got["post-1/mastodon"] == {"visits": 1, "clicks": 1}
    assert got["post-0/newsletter"] == {"visits": 1, "clicks": 1}
    assert got["post-0/partner"] == {"visits": 1, "clicks": 1}  # its utm_source setting, not its name
    assert result.notes == ["analytics site: 1 visit with our utm_source landed on no delivered item's page"]
    # one query for the pages, one for the tagged visits: not one per item
    sent = plausible.requests("/api/v2/query")
    assert len(sent) == 2
    views, visits = sent[0].json, sent[1].json
    assert sent[0].headers["authorization"] == "Bearer plausible-key"
    assert views["dimensions"] == ["event:page"] and views["metrics"] == ["pageviews", "visitors"]
    assert views["date_range"] == ["2026-11-20T10:00:00+00:00", "2026-11-23T12:00:00+00:00"]
    assert views["pagination"] == {"limit": 10000, "offset": 0}
    assert visits["dimensions"] == ["visit:entry_page", "visit:utm_source", "visit:utm_medium", "visit:utm_campaign",
                                    "visit:utm_content"]
    assert visits["filters"] == [["is", "visit:utm_source", ["mastodon", "newsletter", "partner-feed"]]]
    slots = {r["slot"] for r in store.snapshots()}
    assert slots == {"site@2026-11-23T10:00:00Z"}  # the daily slot, named after the source

    again, _ = run(root, {"PLAUSIBLE_KEY": "plausible-key"}, plausible)  # the same slot: nothing asked
    assert again.snapshots == 0 and len(plausible.requests("/api/v2/query")) == 2


def test_plausible_pages_past_one_page_of_rows(project, plausible, monkeypatch):
    from reports.analytics.plausible import Plausible

    monkeypatch.setattr(Plausible, "PAGE_SIZE", 2)
    root = project(files(), SETTINGS)
    delivered_all(root)
    traffic(plausible)
    result, store = run(root, {"PLAUSIBLE_KEY": "plausible-key"}, plausible)
    assert result.failures == []
    offsets = [s.json["pagination"]["offset"] for s in plausible.requests("/api/v2/query")]
    assert offsets == [0, 2, 0, 2, 4]  # 3 page rows, 5 visit rows, 2 a page: none asked past the last row
    assert latest(store)["post-0/blog"] == {"views": 4, "visitors": 3}
    assert latest(store)["post-0/mastodon"] == {"visits": 2, "clicks": 2}


def test_a_refused_key_is_reported_and_nothing_is_stored(project, plausible):
    root = project(files(), SETTINGS)
    delivered_all(root)
    sleeps = []
    result, store = run(root, {"PLAUSIBLE_KEY": "wrong"}, plausible, sleeps=sleeps)
    assert result.failures == [
        "site: page views failed: HTTP 401: Invalid API key or site ID. Please make sure you're using a valid API "
        "key with access to the site you've requested.",
        "site: visits by UTM tags failed: HTTP 401: Invalid API key or site ID. Please make sure you're using a "
        "valid API key with access to the site you've requested."]
    assert sleeps == [] and list(store.snapshots()) == []
    assert "wrong" not in " ".join(result.failures + result.notes)


def test_a_missing_key_skips_the_source(project, plausible):
    root = project(files(), SETTINGS)
    delivered_all(root)
    result, _ = run(root, {}, plausible)
    assert result.notes == ["analytics site: skipped, PLAUSIBLE_KEY not set"]
    assert plausible.requests() == []


def test_429_past_the_hourly_budget_stops_until_the_next_pull(project):
    with PlausibleServer(hourly_limit=1) as plausible:
        root = project(files(), SETTINGS)
        delivered_all(root)
        traffic(plausible)
        sleeps = []
        result, store = run(root, {"PLAUSIBLE_KEY": "plausible-key"}, plausible, sleeps=sleeps)
    assert result.failures == [
        "site: visits by UTM tags failed: HTTP 429: Too many API requests. Your API key is limited to 1 requests per "
        "hour. Please contact us to request more capacity. (600 requests per hour per API key; the next pull goes on)"]
    assert len(sleeps) == 2  # tried three times, with backoff, then left for the next pull
    assert set(latest(store)) == {"post-0/blog", "post-1/blog"}  # the views did arrive


def test_5xx_and_timeouts_are_retried(project, plausible):
    root = project(files(), SETTINGS + "    timeout: 1s\n")
    delivered_all(root)
    traffic(plausible)
    plausible.fail(503, {"error": "Service Unavailable"}, headers={"Retry-After": "2"})
    plausible.stall(1.5, times=1, path="/api/v2/query")
    sleeps = []
    result, store = run(root, {"PLAUSIBLE_KEY": "plausible-key"}, plausible, sleeps=sleeps)
    assert result.failures == []
    assert len(sleeps) == 2 and sleeps[1] == 2.0  # a backoff after the timeout, then Retry-After as told
    assert latest(store)["post-0/mastodon"] == {"visits": 2, "clicks": 2}


def test_analytics_slots_do_not_fill_the_platforms_own(project, plausible):
    """A social entry pulled from its platform and from the analytics in the same slot keeps both."""
    from reports.analytics import targets

    root = project(files(), SETTINGS)
    delivered_all(root)
    from scheduler.project import load_project as load

    from reports.pull import delivered_entries, slot_stamps
    from reports.settings import DEFAULT_WINDOWS
    from newsroom.state import open_store

    p = load(root)
    entries = delivered_entries(open_store(p.root, p.settings.state))
    filled = {("post-0/mastodon", "2026-11-23T10:00:00Z")}  # the platform's row for this slot
    due = [t for t in targets(p, entries, slot_stamps(entries, NOW, DEFAULT_WINDOWS), filled, "site") if t.slot]
    assert len(due) == 6


def test_the_report_shows_views_visits_driven_and_what_drove_traffic(project, plausible, cli):
    import json

    root = project(files(), SETTINGS)
    delivered_all(root)
    traffic(plausible)
    run(root, {"PLAUSIBLE_KEY": "plausible-key"}, plausible)
    args = ("report", "--since", "2026-11-01", "--until", "2026-11-30")
    o = json.loads(cli(root, *args, "--format", "json").stdout)["owned"]
    assert [(b["item"], b["views"], b["visitors"]) for b in o["blog"]] == [("post-0", 4, 3), ("post-1", 3, 3)]
    assert [(t["entry"], t["visits"]) for t in o["traffic"]] == [
        ("post-0/mastodon", 2), ("post-0/newsletter", 1), ("post-0/partner", 1),
        ("post-1/mastodon", 1)]
    assert o["by_channel"] == [{"channel": "mastodon", "visits": 3}, {"channel": "newsletter", "visits": 1},
                               {"channel": "partner", "visits": 1}]
    assert o["by_campaign"] == [{"campaign": "winter", "visits": 4}, {"campaign": "(none)", "visits": 1}]
    md = cli(root, *args, "--format", "md").output
    assert "| 1 | Post 0 | mastodon | winter | 2 | [link](https://mastodon.test/@us/1) |" in md
    assert ("opens are not measured for an SMTP newsletter (newsletter): send through listmonk or mailchimp to "
            "measure open and click rates (see docs/reports.md)") in md
    page = cli(root, *args, "--format", "html").output
    assert 'aria-label="blog views per item"' in page and 'aria-label="visits driven per channel"' in page


def test_sections_without_data_say_so_and_draw_no_chart(project, cli):
    root = project(files(), SETTINGS.split("analytics:")[0])
    args = ("report", "--since", "2026-11-01", "--until", "2026-11-30")
    page = cli(root, *args, "--format", "html").output
    assert "<svg" not in page  # nothing to draw: no empty chart
    for line in ("No data yet: the trend is drawn once `publish.py pull` has stored figures in this period.",
                 "No figures in this period. `publish.py pull` stores the numbers of delivered posts (see "
                 "docs/reports.md).",
                 "no analytics source configured: add one under analytics: in publish.yml (see docs/reports.md)"):
        assert line in page
    table = cli(root, *args).output
    assert "no analytics source configured" in table and "No posts with figures in this period." in table


REFUSED = {
    "umami": ("UMAMI_KEY", "HTTP 401: Unauthorized"),
    "matomo": ("MATOMO_TOKEN", "Matomo: You can't access this resource as it requires 'view' access for the website "
                               "id = 3."),
    "ga4": ("GA4_SERVICE_ACCOUNT", "the service account key in GA4_SERVICE_ACCOUNT is not a usable JSON key "
                                   "(JSONDecodeError)"),
}


@pytest.mark.parametrize("kind", sorted(REFUSED))
def test_a_refused_token_is_said_once_per_question_and_not_retried(project, kind):
    make = SOURCES[kind][0]
    variable, message = REFUSED[kind]
    with make() as server:
        root = project(files(), with_source(kind))
        delivered_all(root)
        sleeps = []
        result, store = run(root, {variable: "not-the-key"}, server, sleeps=sleeps)
    assert result.failures == [f"site: page views failed: {message}", f"site: visits by UTM tags failed: {message}"]
    assert sleeps == [] and list(store.snapshots()) == []
    assert "not-the-key" not in "".join(result.failures)


def test_ga4_refuses_a_key_signed_by_someone_else(project):
    from servers.ga4 import service_account

    with GA4Server() as server:
        root = project(files(), with_source("ga4"))
        delivered_all(root)
        stranger, _ = service_account(server.url + "/token", email=server.key["client_email"])
        result, _ = run(root, {"GA4_SERVICE_ACCOUNT": __import__("json").dumps(stranger)}, server)
    assert result.failures[0] == "site: page views failed: HTTP 400: Invalid JWT Signature."


def test_ga4_asks_for_a_token_once_and_pages_by_row_count(project, monkeypatch):
    from reports.analytics.ga4 import GA4

    monkeypatch.setattr(GA4, "PAGE_SIZE", 2)
    with GA4Server() as server:
        root = project(files(), with_source("ga4"))
        delivered_all(root)
        traffic(server)
        result, store = run(root, SOURCES["ga4"][2](server), server)
        paths = [s.path for s in server.seen]
    assert result.failures == []
    assert paths.count("/token") == 1
    assert [s.json["offset"] for s in server.seen if s.path.endswith(":runReport")] == [0, 2, 0, 2, 4]
    assert latest(store)["post-0/mastodon"] == {"visits": 2, "clicks": 2}


def test_umami_429_waits_as_told(project):
    with UmamiServer(window_limit=2) as server:
        root = project(files(), with_source("umami"))
        delivered_all(root)
        traffic(server)
        sleeps = []
        result, _ = run(root, {"UMAMI_KEY": "umami-key"}, server, sleeps=sleeps)
    assert sleeps == [15.0, 15.0]  # Retry-After: 15, twice, then left for the next pull
    assert result.failures == ["site: visits by UTM tags failed: HTTP 429: Too many requests (Umami Cloud: 50 calls "
                               "every 15 seconds per API key; the next pull goes on)"]


def test_matomo_sends_the_token_in_the_body_and_one_bulk_request(project):
    with MatomoServer() as server:
        root = project(files(), with_source("matomo"))
        delivered_all(root)
        traffic(server)
        run(root, {"MATOMO_TOKEN": "matomo-token"}, server)
        pages, bulk = server.seen
    assert "token_auth" not in pages.query and dict(pages.form)["token_auth"] == "matomo-token"
    form = dict(bulk.form)
    assert form["method"] == "API.getBulkRequest"
    assert [k for k in form if k.startswith("urls[")] == ["urls[0]", "urls[1]", "urls[2]"]
    assert "segment=campaignSource%3D%3Dmastodon" in form["urls[0]"]


def test_matomo_needs_its_url(project, cli):
    root = project(files(), SETTINGS.split("  site:\n")[0] + "  site:\n    type: matomo\n    site_id: '3'\n"
                   "    token: env:MATOMO_TOKEN\n")
    out = cli(root, "check").output
    assert ("publish.yml:24: analytics.site: a Matomo source needs url: (where your Matomo answers, e.g. "
            "https://analytics.example.com)") in out


def test_ga4_spent_quota_is_said_with_its_budget(project):
    with GA4Server(hourly_tokens=10) as server:  # one report's worth of tokens
        root = project(files(), with_source("ga4"))
        delivered_all(root)
        sleeps = []
        result, store = run(root, SOURCES["ga4"][2](server), server, sleeps=sleeps)
    assert len(sleeps) == 2  # RESOURCE_EXHAUSTED names no wait: two backoffs, then the next pull
    assert result.failures == ["site: visits by UTM tags failed: HTTP 429: Exhausted property tokens per hour for "
                               "this project per property. Refresh in preferably an hour. (GA4 standard property: "
                               "40,000 tokens an hour, 200,000 a day; the next pull goes on)"]
    assert set(latest(store)) == {"post-0/blog", "post-1/blog"}


def test_matomo_cloud_429_waits_as_told(project):
    with MatomoServer(per_minute=1) as server:
        root = project(files(), with_source("matomo"))
        delivered_all(root)
        sleeps = []
        result, _ = run(root, {"MATOMO_TOKEN": "matomo-token"}, server, sleeps=sleeps)
    assert sleeps == [60.0, 60.0]
    assert result.failures == ["site: visits by UTM tags failed: HTTP 429: Too Many Requests (Matomo Cloud: 2,000 "
                               "requests per 10 minutes, 350 per minute, per IP; the next pull goes on)"]
