"""Evergreen items come back: re-shared on their social channels at the interval, each share an entry
of its own (exactly once, in the calendar and the .ics, recorded with its variant), rotating the
text variants, on the channel's next free slot, never within min_gap of the last share, and not
after ``until``. Real HTTP against the loopback Mastodon server throughout."""
from __future__ import annotations

import json

import pytest

from conftest import write_project
from publishing import BLOG_AND_MASTODON, HEAD, ledger
from publishing import run_mastodon as run
from servers.mastodon import MastodonServer

SETTINGS = HEAD + BLOG_AND_MASTODON + "{rules}"

ITEM = """\
---
title: Launch
status: approved
author: writer
approved_by: editor
publish_at: 2026-11-20T09:00
channels: [blog, mastodon]
evergreen:
  every: {every}
  until: {until}
  channels: [mastodon]
  variants:
    - "Still worth a read: our launch https://news.test/launch/"
    - "In case you missed it: the launch https://news.test/launch/"
---
Launch is on Tuesday.
"""


@pytest.fixture
def server():
    with MastodonServer() as s:
        yield s


def project(tmp_path, server, *, every="30d", until="2027-01-25", rules=""):
    root = tmp_path / "p"
    write_project(root, {"content/launch.md": ITEM.format(every=every, until=until),
                         "templates/mastodon/post.j2": "{{ title }}\n{{ link }}\n"},
                  SETTINGS.format(url=server.url, rules=rules))
    return root


def texts(server):
    return [s["content"] for s in server.statuses.values()]


def shares(root):
    return [(e["entry"], e.get("share"), e.get("variant")) for e in ledger(root)
            if e["event"] == "delivered" and e.get("share")]


def test_shares_come_back_at_the_interval_rotating_variants_until_the_end(tmp_path, server):
    root = project(tmp_path, server)
    assert run(root, "publish").exit_code == 0
    assert len(server.statuses) == 1

    early = run(root, "publish", now="2026-12-19T09:00:00Z")  # 29 days on: not yet
    assert early.exit_code == 0 and len(server.statuses) == 1

    first = run(root, "publish", now="2026-12-20T09:05:00Z")
    assert first.exit_code == 0, first.output
    assert "delivered  content/launch.md → mastodon" in first.output
    assert texts(server)[1] == "<p>Still worth a read: our launch https://news.test/launch/</p>"
    again = run(root, "publish", now="2026-12-20T09:20:00Z")  # the same share never twice
    assert again.exit_code == 0 and len(server.statuses) == 2

    second = run(root, "publish", now="2027-01-19T09:10:00Z")
    assert second.exit_code == 0, second.output
    assert texts(server)[2] == "<p>In case you missed it: the launch https://news.test/launch/</p>"
    assert shares(root) == [("launch/mastodon~1", 1, 0), ("launch/mastodon~2", 2, 1)]

    # the next one would be 2027-02-18, after until: 2027-01-25
    late = run(root, "publish", now="2027-02-18T09:30:00Z")
    assert late.exit_code == 0 and len(server.statuses) == 3


def test_the_next_share_is_in_the_calendar_and_the_ics(tmp_path, server):
    root = project(tmp_path, server)
    run(root, "publish")
    cal = run(root, "calendar", "--format", "json", "--since", "2026-12-01", "--until", "2026-12-31", "--now", "2026-11-20T10:00Z")
    assert cal.exit_code == 0, cal.output
    rows = json.loads(cal.output)
    rows = rows.get("entries", rows) if isinstance(rows, dict) else rows
    share = [r for r in rows if r.get("channel") == "mastodon" and "2026-12-20" in str(r.get("at"))]
    assert share, rows
    ics = run(root, "calendar", "--format", "ics", "--since", "2026-12-01", "--until", "2026-12-31", "--now", "2026-11-20T10:00Z")
    assert ics.exit_code == 0, ics.output
    assert "20261220T090000Z" in ics.output


def test_a_share_takes_the_next_free_slot_and_keeps_min_gap_from_the_last(tmp_path, server):
    rules = """\
calendar:
  min_gap: 3d
  slots:
    - days: daily
      times: ["15:00"]
"""
    root = project(tmp_path, server, every="1d", rules=rules)
    assert run(root, "publish").exit_code == 0
    for now in ("2026-11-21T15:05:00Z", "2026-11-23T09:10:00Z"):  # every 1d, but min_gap 3d; then the slot
        out = run(root, "publish", now=now)
        assert out.exit_code == 0 and len(server.statuses) == 1, (now, out.output)
    due = run(root, "publish", now="2026-11-23T15:05:00Z")
    assert due.exit_code == 0, due.output
    assert len(server.statuses) == 2
    assert [e["at"] for e in ledger(root) if e["event"] == "delivered" and e.get("share")] == ["2026-11-23T15:05:00+00:00"]


def test_check_names_an_evergreen_channel_the_item_does_not_go_to_or_that_is_not_social(tmp_path, server):
    root = project(tmp_path, server)
    text = (root / "content" / "launch.md").read_text().replace("channels: [mastodon]", "channels: [bluesky, blog]")
    (root / "content" / "launch.md").write_text(text)
    out = run(root, "check")
    assert out.exit_code == 1
    assert ("content/launch.md:11: evergreen.channels: 'bluesky' is not one of the item's channels; add it to "
            "channels: or take it out of evergreen.channels") in out.output
    assert ("content/launch.md:11: evergreen.channels: 'blog' is a blog channel; evergreen re-shares on social "
            "channels only") in out.output
    (root / "content" / "launch.md").write_text(text.replace("  every: 30d\n", ""))
    missing = run(root, "check")
    assert "content/launch.md:8: evergreen: every is required" in missing.output


def test_each_share_is_a_post_of_its_own_in_the_report_by_variant(tmp_path, server):
    from newsroom.state import open_store
    from reports.pull import delivered_entries

    root = project(tmp_path, server)
    for now in ("2026-11-20T09:00:00Z", "2026-12-20T09:05:00Z", "2027-01-19T09:10:00Z"):
        assert run(root, "publish", now=now).exit_code == 0
    store = open_store(root, {})
    by_key = {d.key: d for d in delivered_entries(store)}
    assert by_key["launch/mastodon~2"].channel == "mastodon" and by_key["launch/mastodon~2"].item_id == "launch"
    store.add_snapshots([
        {"at": "2027-01-20T09:00:00Z", "entry": "launch/mastodon", "item": "launch", "channel": "mastodon",
         "metrics": {"likes": 3}, "slot": "2027-01-20T09:00:00Z"},
        {"at": "2027-01-20T09:00:00Z", "entry": "launch/mastodon~1", "item": "launch", "channel": "mastodon",
         "metrics": {"likes": 5, "shares": 1}, "slot": "2027-01-20T09:00:00Z"},
        {"at": "2027-01-20T09:00:00Z", "entry": "launch/mastodon~2", "item": "launch", "channel": "mastodon",
         "metrics": {"likes": 9}, "slot": "2027-01-20T09:00:00Z"}])
    out = run(root, "report", "--by", "variant", "--format", "json", "--since", "2027-01-01", "--until", "2027-01-31")
    assert out.exit_code == 0, out.output
    groups = {g["label"]: g["interactions"] for g in json.loads(out.output)["groups"]}
    assert groups == {"Launch: variant 2": 9, "Launch: variant 1": 6, "Launch: original": 3}


def test_status_names_the_next_share_and_check_refuses_sharing_more_than_daily(tmp_path, server):
    root = project(tmp_path, server)
    run(root, "publish")
    status = run(root, "status", "--now", "2026-11-21T10:00:00Z").output
    assert "  next     content/launch.md at 2026-12-20 09:00 UTC (evergreen share 1)" in status
    (root / "content" / "launch.md").write_text(ITEM.format(every="12h", until="2027-01-25"))
    out = run(root, "check")
    assert out.exit_code == 1
    assert ("content/launch.md:9: evergreen.every: re-sharing more often than once a day floods the feed; write 1d "
            "or more") in out.output
