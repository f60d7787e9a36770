"""A month of the channels we own, reported: figures computed here by hand from the UTM rows and the
campaigns' counts, compared with the report; and the sample month shipped in ``sample/``."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from conftest import ROOT, item
from servers.listmonk import ListmonkServer
from servers.plausible import PlausibleServer

SETTINGS = """\
site:
  title: Month
  url: https://news.test
timezone: UTC
segments:
  smb: Small
  enterprise: Large
channels:
  blog:
    type: blog
  mastodon:
    type: mastodon
    instance: https://mastodon.test
    token: env:MASTODON_TOKEN
  news:
    type: listmonk
    url: {lists}
    username: newsroom
    token: env:LISTMONK_TOKEN
    lists: {{all: 1, smb: 2, enterprise: 3}}
pull:
  replies: false
analytics:
  web:
    type: plausible
    url: {web}
    site_id: news.test
    token: env:PLAUSIBLE_KEY
"""
D = lambda day, hour=9: datetime(2026, 11, day, hour, tzinfo=timezone.utc)


def test_one_month_by_hand(project, cli):
    from newsroom.state import FileStore, store_of
    from reports.pull import pull
    from scheduler.project import load_project

    with ListmonkServer() as lists, PlausibleServer() as web:
        files = {f"content/{s}.md": item(s.title(), status="approved", slug=s) for s in ("alpha", "beta", "gamma")}
        root = project(files, SETTINGS.format(lists=lists.url, web=web.url))
        ledger = []

        def delivered(key, rid, url, at, parts=()):
            ledger.append({"event": "delivered", "entry": key, "at": at.isoformat(), "revision": "r",
                           "receipt": {"remote_id": rid, "url": url, "at": at.isoformat(), "parts": list(parts),
                                       "data": {}}})

        for slug, day in (("alpha", 2), ("beta", 9), ("gamma", 16)):
            delivered(f"{slug}/blog", slug, f"https://news.test/{slug}/", D(day))
            delivered(f"{slug}/mastodon", f"m-{slug}", f"https://mastodon.test/@us/{slug}", D(day, 10))
        # alpha went to both segments (a campaign each), gamma to the whole list
        c = {}
        for name, lid in (("a-smb", 2), ("a-ent", 3), ("g-all", 1)):
            cid = len(lists.campaigns) + 1
            lists.campaigns[cid] = {"id": cid, "tags": ["newsroom"], "lists": [{"id": lid}], "status": "running",
                                    "views": 0, "clicks": 0, "bounces": 0, "sent": 0}
            c[name] = str(cid)
        delivered("alpha/news", c["a-smb"], None, D(2, 11), [{"id": c["a-smb"], "segment": "smb"},
                                                             {"id": c["a-ent"], "segment": "enterprise"}])
        delivered("gamma/news", c["g-all"], None, D(16, 11), [{"id": c["g-all"], "segment": "all"}])
        FileStore(root / "state").append(ledger)

        # the UTM rows: (day, landing page, utm_source, visits)
        rows = [(3, "/alpha", "mastodon", 7), (4, "/alpha", "news", 12), (10, "/beta", "mastodon", 3),
                (11, "/alpha", "mastodon", 2), (17, "/gamma", "mastodon", 5), (17, "/gamma", "news", 9),
                (20, "/beta", "news", 4),  # beta never went out by newsletter: claimed by nobody
                (21, "/pricing", "mastodon", 6)]  # no item's page: claimed by nobody
        n = 0
        for day, page, source, visits in rows:
            for _ in range(visits):
                n += 1
                web.visit(D(day, 12), [page], visitor=f"v{n}", visit=f"s{n}", utm_source=source)
        lists.finish(1, sent=300, views=120, clicks=30, bounces=3)   # alpha, smb
        lists.finish(2, sent=100, views=55, clicks=15, bounces=1)    # alpha, enterprise
        lists.finish(3, sent=1000, views=310, clicks=62, bounces=8)  # gamma, all

        env = {"LISTMONK_TOKEN": lists.token, "PLAUSIBLE_KEY": web.key}
        for day in range(2, 31):  # an evening pull every day of the month, as the CI cron would
            at = D(day, 21)
            project_ = load_project(root)
            got = pull(project_, store_of(project_), env=env, now=at, clock=lambda at=at: at, feeds=False,
                       only=("news", "web"), sleep=lambda s: None)
            assert got.failures == [], got.failures

    r = json.loads(cli(root, "report", "--since", "2026-11-01", "--until", "2026-11-30", "--format", "json").stdout)
    o = r["owned"]
    # visits driven per channel, by hand from the rows above
    mastodon = 7 + 3 + 2 + 5          # alpha, beta, alpha again, gamma; not /pricing
    news = 12 + 9                      # alpha's and gamma's newsletters; not beta (no such entry)
    assert o["by_channel"] == [{"channel": "news", "visits": news}, {"channel": "mastodon", "visits": mastodon}]
    assert {t["entry"]: t["visits"] for t in o["traffic"]} == {"alpha/mastodon": 9, "alpha/news": 12,
                                                               "beta/mastodon": 3, "gamma/mastodon": 5,
                                                               "gamma/news": 9}
    # blog views per item: every page view of its page in the month
    assert {b["item"]: b["views"] for b in o["blog"]} == {"alpha": 7 + 12 + 2, "beta": 3 + 4, "gamma": 5 + 9}
    # open rate per segment, by hand from the campaigns' counts
    segments = {s["segment"]: (s["open_rate"], s["click_rate"]) for s in o["segments"]}
    assert segments == {"smb": (round(120 / 300, 6), round(30 / 300, 6)),
                        "enterprise": (round(55 / 100, 6), round(15 / 100, 6)),
                        "(all)": (round(310 / 1000, 6), round(62 / 1000, 6))}
    issues = {(i["item"], i["segment"]): (i["sent"], i["opens"], i["clicks"], i["bounces"]) for i in o["newsletters"]}
    assert issues == {("alpha", "smb"): (300, 120, 30, 3), ("alpha", "enterprise"): (100, 55, 15, 1),
                      ("gamma", "(all)"): (1000, 310, 62, 8)}
    # the newsletter's clicks are listmonk's own count; the visits its links drove stand beside them
    assert r["totals"]["clicks"] == 30 + 15 + 62 + mastodon


def test_the_sample_month_reports_every_section_and_is_made_again_the_same(tmp_path, cli):
    import sample_month

    import shutil

    args = ("report", "--since", "2026-11-01", "--until", "2026-11-30", "--format", "json")
    copy = tmp_path / "shipped"  # a copy: the command's item cache is not written into the repository
    shutil.copytree(ROOT / "sample", copy, ignore=shutil.ignore_patterns(".cache"))
    shipped = json.loads(cli(copy, *args).stdout)
    o = shipped["owned"]
    assert o["empty"] == {} and o["blog"] and o["traffic"] and o["newsletters"] and o["segments"]
    assert shipped["totals"]["posts"] == 16 and shipped["trend"]["series"]["views"][-1] == shipped["totals"]["views"]
    page = cli(copy, *args[:-1], "html").stdout
    assert "no data yet" not in page.lower() and page.count("<svg") >= 8

    again = tmp_path / "sample"
    shutil.copytree(ROOT / "sample", again, ignore=shutil.ignore_patterns("state", ".cache"))
    sample_month.record(again / "state", sample=again)
    remade = json.loads(cli(again, *args).stdout)
    assert remade == shipped  # the picture in the README can be made again from what is shipped
