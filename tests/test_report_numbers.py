"""A known history (deliveries, snapshots at known times, replies) and every figure of the report,
in every format, against values computed by hand in the comments below.

Period: 2026-03-23T00:00Z – 2026-03-30T00:00Z; previous: 2026-03-16T00:00Z – 2026-03-23T00:00Z.
Calendar timezone Europe/Berlin: clocks go from +01:00 to +02:00 at 2026-03-29T01:00Z.
"""
from __future__ import annotations

import csv
import io
import json
import re

import pytest

from conftest import item

SETTINGS = """\
site:
  title: Known History
  url: https://news.test
timezone: Europe/Berlin
segments:
  smb: small
  enterprise: large
channels:
  mastodon:
    type: mastodon
    instance: https://mastodon.test
    token: env:MASTODON_TOKEN
  x:
    type: x
    token: env:X_TOKEN
"""

FILES = {
    "content/a.md": item("Alpha launch", status="approved", id="a", campaign="spring-launch", tags=["launch", "product"],
                         author="Ann", channels={"mastodon": {}, "x": {"segment": "enterprise"}}),
    "content/b.md": item("Beta guide", status="approved", id="b", tags=["guide"], author="Bob", segments=["smb"],
                         channels={"mastodon": {}, "x": {}}),
    "content/c.md": item("Gamma story", status="approved", id="c", campaign="spring-launch", author="Ann",
                         channels={"x": {}}),
}

DELIVERED = {  # entry → (remote id, delivered at)
    "a/mastodon": ("m-a", "2026-03-28T01:30:00Z"),  # Sat 02:30 CET
    "a/x": ("x-a", "2026-03-29T01:30:00Z"),  # Sun 03:30 CEST: the hour after the DST change
    "b/mastodon": ("m-b", "2026-03-16T09:00:00Z"),  # Mon 10:00 CET
    "b/x": ("x-b", "2026-03-22T10:00:00Z"),  # Sun 11:00 CET
    "c/x": ("x-c", "2026-03-24T12:00:00Z"),  # Tue 13:00 CET
}

SNAPSHOTS = [  # (at, entry, metrics)
    ("2026-03-17T09:00:00Z", "b/mastodon", {"likes": 4, "shares": 0, "replies": 1}),
    ("2026-03-20T09:00:00Z", "b/mastodon", {"likes": 6, "shares": 1, "replies": 1}),  # previous: 8 interactions
    ("2026-03-22T11:00:00Z", "b/x", {"impressions": 400, "likes": 2, "clicks": 2, "views": 50}),  # previous: 4
    ("2026-03-23T00:00:00Z", "b/mastodon", {"likes": 6, "shares": 1, "replies": 1}),  # at since: inside
    ("2026-03-24T13:00:00Z", "c/x", {"impressions": 200, "likes": 1, "clicks": 1}),
    ("2026-03-25T09:00:00Z", "b/mastodon", {"likes": 7, "shares": 1, "replies": 2}),  # 10
    ("2026-03-26T11:00:00Z", "b/x", {"impressions": 600, "likes": 3, "shares": 1, "replies": 0, "clicks": 4,
                                     "views": 90}),  # 8
    ("2026-03-26T13:00:00Z", "c/x", {"impressions": 300, "likes": 4, "shares": 2, "replies": 1, "clicks": 3,
                                     "views": 150}),  # 10
    ("2026-03-27T11:00:00Z", "b/x", {"impressions": 800}),  # only impressions: the other metrics stay
    ("2026-03-28T02:30:00Z", "a/mastodon", {"likes": 5, "shares": 1, "replies": 0}),
    ("2026-03-29T02:30:00Z", "a/mastodon", {"likes": 9, "shares": 2, "replies": 1}),  # 12
    ("2026-03-29T02:00:00Z", "a/x", {"impressions": 1000, "likes": 10, "shares": 3, "replies": 2, "clicks": 5}),  # 20
    ("2026-03-30T00:00:00Z", "a/x", {"impressions": 5000, "likes": 999}),  # at until: outside
]

REPLIES = [  # received in the period: r1, r2, r3, r4; answered inside it: r1 (2h), r2 (30m)
    ("mastodon", "r1", "m-a", "@carol", "2026-03-28T10:00:00Z", False),
    ("mastodon", "o1", "r1", "@northwind", "2026-03-28T12:00:00Z", True),
    ("x", "r2", "x-a", "@dave", "2026-03-29T08:00:00Z", False),
    ("x", "o2", "r2", "@northwind", "2026-03-29T08:30:00Z", True),
    ("mastodon", "r3", "m-b", "@erin", "2026-03-25T09:00:00Z", False),
    ("x", "o3", "r3", "@northwind", "2026-03-25T10:00:00Z", True),  # on another channel: does not answer r3
    ("x", "r4", "x-b", "@frank", "2026-03-26T00:00:00Z", False),
    ("x", "o4", "r4", "@northwind", "2026-03-30T06:00:00Z", True),  # after the period
    ("mastodon", "r5", "m-b", "@gina", "2026-03-20T09:00:00Z", False),  # previous period
]

ARGS = ("--since", "2026-03-23T00:00Z", "--until", "2026-03-30T00:00Z")


def build_history(root):
    from newsroom.state import FileStore

    store = FileStore(root / "state")
    store.append({"event": "delivered", "entry": key, "at": at, "revision": "r1",
                  "receipt": {"remote_id": rid, "url": f"https://social.test/{rid}", "at": at, "parts": [], "data": {}}}
                 for key, (rid, at) in DELIVERED.items())
    store.add_snapshots({"at": at, "entry": key, "item": key.split("/")[0], "channel": key.split("/")[1],
                         "metrics": m, "pull": "p1", "slot": at} for at, key, m in SNAPSHOTS)
    store.add_replies({"channel": ch, "remote_id": rid, "in_reply_to": to, "author": who, "text": f"text {rid}",
                       "url": f"https://social.test/{rid}", "at": at, "ours": ours, "entry": None,
                       "fetched": at} for ch, rid, to, who, at, ours in REPLIES)
    return store


@pytest.fixture
def history(project):
    root = project(FILES, SETTINGS)
    build_history(root)
    return root


TOTALS = {"views": 240, "impressions": 2100, "likes": 33, "shares": 9, "replies": 6, "clicks": 12, "opens": 0,
          "interactions": 60, "posts": 5}
PREVIOUS = {"views": 50, "impressions": 400, "likes": 8, "shares": 1, "replies": 1, "clicks": 2, "opens": 0,
            "interactions": 12, "posts": 2}
CHANGE = {"views": 3.8, "impressions": 4.25, "likes": 3.125, "shares": 8.0, "replies": 5.0, "clicks": 5.0,
          "opens": None, "interactions": 4.0}
RATE, PREV_RATE = 38 / 2100, 4 / 400
GROUPS = {
    "channel": {"mastodon": 22, "x": 38},
    "campaign": {"spring-launch": 42, "(none)": 18},
    "tag": {"launch": 32, "product": 32, "guide": 18, "(none)": 10},
    "author": {"Ann": 42, "Bob": 18},
    "segment": {"enterprise": 20, "(none)": 22, "smb": 18},
    "item": {"a": 32, "b": 18, "c": 10},
}


def run_json(cli, root, *extra):
    result = cli(root, "report", *ARGS, "--format", "json", *extra)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_json_totals_previous_and_change(cli, history):
    r = run_json(cli, history)
    for k, v in TOTALS.items():
        assert r["totals"][k] == v, k
    for k, v in PREVIOUS.items():
        assert r["previous"][k] == v, k
    for k, v in CHANGE.items():
        assert r["change"][k] == (pytest.approx(v) if v is not None else None), k
    assert r["totals"]["engagement_rate"] == pytest.approx(RATE, abs=1e-6)
    assert r["previous"]["engagement_rate"] == pytest.approx(PREV_RATE)
    assert r["period"] == {"since": "2026-03-23T00:00:00Z", "until": "2026-03-30T00:00:00Z",
                           "previous_since": "2026-03-16T00:00:00Z", "timezone": "Europe/Berlin"}


@pytest.mark.parametrize("by", sorted(GROUPS))
def test_json_groups(cli, history, by):
    r = run_json(cli, history, "--by", by)
    assert {g["group"]: g["interactions"] for g in r["groups"]} == GROUPS[by]


def test_json_channel_groups_in_detail(cli, history):
    groups = {g["group"]: g for g in run_json(cli, history)["groups"]}
    x, m = groups["x"], groups["mastodon"]
    assert (x["posts"], x["views"], x["impressions"], x["likes"], x["shares"], x["replies"], x["clicks"]) == \
        (3, 240, 2100, 17, 6, 3, 12)
    assert x["engagement_rate"] == pytest.approx(38 / 2100, abs=1e-6)
    assert x["change"]["interactions"] == pytest.approx((38 - 4) / 4)  # previous: b/x 4
    assert (m["posts"], m["likes"], m["shares"], m["replies"], m["engagement_rate"]) == (2, 16, 3, 3, None)
    assert m["change"]["interactions"] == pytest.approx((22 - 8) / 8)


def test_json_top_bottom_heatmap_campaign_conversations_trend(cli, history):
    r = run_json(cli, history)
    # a/x 20, a/mastodon 12, then c/x and b/mastodon tie at 10: c/x has more views; b/x 8.
    assert [p["entry"] for p in r["top"]] == ["a/x", "a/mastodon", "c/x"]
    assert [p["entry"] for p in r["bottom"]] == ["b/x", "b/mastodon"]
    assert r["top"][0]["url"] == "https://social.test/x-a"

    def cells(channel):
        return {(wd, h): c for wd, row in enumerate(r["heatmaps"][channel]["cells"]) for h, c in enumerate(row)
                if c["posts"]}

    assert cells("mastodon") == {(5, 2): {"posts": 1, "interactions": 12}, (0, 10): {"posts": 1, "interactions": 10}}
    assert cells("x") == {(6, 3): {"posts": 1, "interactions": 20}, (6, 11): {"posts": 1, "interactions": 8},
                          (1, 13): {"posts": 1, "interactions": 10}}
    assert r["heatmaps"]["x"]["best"] == {"weekday": "Sun", "hour": 3, "per_post": 20.0, "posts": 1}
    assert r["heatmaps"]["mastodon"]["best"] == {"weekday": "Sat", "hour": 2, "per_post": 12.0, "posts": 1}

    (camp,) = r["campaigns"]
    assert camp["utm_campaign"] == "spring-launch"
    assert [(e["entry"], e["utm_source"], e["utm_medium"], e["utm_campaign"]) for e in camp["entries"]] == [
        ("a/mastodon", "mastodon", "social", "spring-launch"), ("a/x", "x", "social", "spring-launch"),
        ("c/x", "x", "social", "spring-launch")]
    assert camp["totals"]["interactions"] == 42

    assert r["conversations"] == {"received": 4, "answered": 2, "unanswered": 2,
                                  "median_seconds_to_answer": 4500.0, "mentions": 0}
    assert r["trend"]["days"] == ["2026-03-23", "2026-03-24", "2026-03-25", "2026-03-26", "2026-03-27",
                                  "2026-03-28", "2026-03-29", "2026-03-30"]
    assert r["trend"]["series"]["interactions"] == [8, 10, 12, 28, 28, 34, 60, 60]
    assert r["trend"]["series"]["views"] == [0, 0, 0, 240, 240, 240, 240, 240]
    assert r["trend"]["series"]["impressions"] == [0, 200, 200, 900, 1100, 1100, 2100, 2100]


def test_markdown(cli, history):
    out = cli(history, "report", *ARGS, "--format", "md").output
    for line in ["| views | 240 | 50 | +380.0% |", "| impressions | 2,100 | 400 | +425.0% |",
                 "| likes | 33 | 8 | +312.5% |", "| shares | 9 | 1 | +800.0% |", "| replies | 6 | 1 | +500.0% |",
                 "| clicks | 12 | 2 | +500.0% |", "| opens | 0 | 0 | – |", "| interactions | 60 | 12 | +400.0% |",
                 "| engagement rate | 1.8% | 1.0% |  |", "| posts | 5 | 2 |  |",
                 "| x | 3 | 240 | 2,100 | 17 | 6 | 3 | 12 | 0 | 38 | 1.8% | +850.0% |",
                 "| mastodon | 2 | 0 | 0 | 16 | 3 | 3 | 0 | 0 | 22 | – | +175.0% |",
                 "| 1 | Alpha launch | x | 20 | 0 | 1,000 | [link](https://social.test/x-a) |",
                 "| 1 | Beta guide | x | 8 | 90 | 800 | [link](https://social.test/x-b) |",
                 "x: best Sun 03:00 (20.0 interactions per post, 1 post)",
                 "| Sun | 03:00 | 1 | 20 | 20.0 |", "| Sat | 02:00 | 1 | 12 | 12.0 |",
                 "### spring-launch (utm_campaign=spring-launch)",
                 "| Gamma story | x | x | social | spring-launch | 150 | 4 | 2 | 1 | 3 | 0 | [link](https://social.test/x-c) |",
                 "| replies received | 4 |", "| answered | 2 |", "| unanswered | 2 |",
                 "| median time to answer | 1h 15m |",
                 "2026-03-23 01:00 – 2026-03-30 02:00 (Europe/Berlin), compared with 2026-03-16 01:00 – 2026-03-23 01:00"]:
        assert line in out.splitlines(), line


def test_table(cli, history):
    out = cli(history, "report", *ARGS).output
    rows = {tuple(re.split(r"\s{2,}", line.strip())) for line in out.splitlines()}
    for row in [("likes", "33", "8", "+312.5%"), ("engagement rate", "1.8%", "1.0%"),
                ("x", "3", "240", "2,100", "17", "6", "3", "12", "0", "38", "1.8%", "+850.0%"),
                ("replies received", "4"), ("median time to answer", "1h 15m")]:
        assert row in rows, row
    assert "x: best Sun 03:00 (20.0 interactions per post, 1 post)" in out


def test_csv(cli, history):
    out = cli(history, "report", *ARGS, "--format", "csv", "--by", "tag").output
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["section", "key", "metric", "value"]
    got = {(s, k, m): v for s, k, m, v in rows[1:]}
    for k, v in TOTALS.items():
        assert got[("totals", "", k)] == str(v)
    assert float(got[("totals", "", "engagement_rate")]) == pytest.approx(RATE, abs=1e-6)
    assert float(got[("change", "", "likes")]) == pytest.approx(3.125)
    assert got[("change", "", "opens")] == ""
    assert got[("by tag", "launch", "interactions")] == "32"
    assert got[("by tag", "(none)", "interactions")] == "10"
    assert got[("heatmap", "x Sun 03", "interactions")] == "20"
    assert ("heatmap", "x Sun 02", "posts") not in got  # a fixed +01:00 would put a/x here
    assert got[("heatmap", "mastodon Sat 02", "interactions")] == "12"
    assert got[("campaign", "spring-launch a/x", "utm_campaign")] == "spring-launch"
    assert got[("top", "a/x", "url")] == "https://social.test/x-a"
    assert got[("conversations", "", "median_seconds_to_answer")] == "4500.0"
    assert got[("conversations", "", "unanswered")] == "2"


def test_html(cli, history):
    import html5lib

    out = cli(history, "report", *ARGS, "--format", "html").output
    doc = html5lib.parse(out, namespaceHTMLElements=False)
    assert "<script" not in out and "http://" not in out.replace("http://www.w3.org", "")
    cells = [[td.text or "".join(td.itertext()) for td in tr.findall("td")] for tr in doc.iter("tr")]
    assert ["likes", "33", "8", "+312.5%"] in cells
    assert ["x", "3", "240", "2,100", "17", "6", "3", "12", "0", "38", "1.8%", "+850.0%"] in cells
    assert ["median time to answer", "1h 15m"] in cells
    links = [a.get("href") for a in doc.iter("a")]
    assert "https://social.test/x-a" in links
    svg = lambda tag: [e for e in doc.iter() if isinstance(e.tag, str) and e.tag.endswith("}" + tag)]
    rects = [r for r in svg("rect") if r.get("data-cell")]
    assert len(rects) == 7 * 24 * 2  # two channels
    x_map = [s for s in svg("svg") if s.get("aria-label") == "best time to post on x"][0]
    filled = {r.get("data-cell") for r in x_map.iter() if r.get("fill-opacity")}
    assert filled == {"6-3", "6-11", "1-13"}
    polyline = [p for p in svg("polyline") if p.get("class") == "trend-interactions"][0]
    assert len(polyline.get("points").split()) == 8


def test_bad_period_is_a_clear_error(cli, history):
    result = cli(history, "report", "--since", "last tuesday")
    assert result.exit_code == 2
    assert result.output.strip() == ("error: --since: 'last tuesday' is not a date, date-time or duration "
                                     "(use 2026-11-01, 2026-11-01T09:00 or 7d)")
    result = cli(history, "report", "--since", "2026-03-30", "--until", "2026-03-01")
    assert result.exit_code == 2
    assert "must be before --until" in result.output


def test_until_date_means_through_that_day(cli, history):
    r = json.loads(cli(history, "report", "--since", "2026-03-23", "--until", "2026-03-29", "--format", "json").output)
    assert r["period"]["since"] == "2026-03-22T23:00:00Z"  # local midnight, CET
    assert r["period"]["until"] == "2026-03-29T22:00:00Z"  # end of the 29th, CEST


def test_by_item_shows_titles(cli, history):
    out = cli(history, "report", *ARGS, "--by", "item", "--format", "md").output
    assert "| Alpha launch | 2 | 0 | 1,000 | 19 | 5 | 3 | 5 | 0 | 32 | 2.0% | new |" in out.splitlines()
    assert "## By item" in out


def test_an_empty_store_reports_zeros(cli, project):
    root = project(FILES, SETTINGS)
    result = cli(root, "report", *ARGS, "--format", "json")
    assert result.exit_code == 0
    r = json.loads(result.output)
    assert r["totals"]["posts"] == 0 and r["groups"] == [] and r["top"] == [] and r["heatmaps"] == {}
    assert r["conversations"] == {"received": 0, "answered": 0, "unanswered": 0, "median_seconds_to_answer": None,
                                  "mentions": 0}
    assert "No figures in this period." in cli(root, "report", *ARGS, "--format", "md").output
    assert cli(root, "inbox").output == "No conversations.\n"
    assert "<h1>Engagement report: Known History</h1>" in cli(root, "report", *ARGS, "--format", "html").output


def test_html_escapes_what_people_wrote(cli, project):
    files = dict(FILES)
    files["content/a.md"] = item('<script>alert(1)</script> & "friends"', status="approved", id="a",
                                 campaign="<b>spring</b>", channels={"mastodon": {}, "x": {}})
    root = project(files, SETTINGS)
    build_history(root)
    out = cli(root, "report", *ARGS, "--format", "html", "--by", "item").output
    assert "<script>" not in out and "<b>spring" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;friends&#34;" in out
    assert "utm_campaign=&lt;b&gt;spring&lt;/b&gt;" in out
