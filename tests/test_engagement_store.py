"""The engagement store: monthly shards, torn lines, lines shuffled by a union merge, dedup."""
from __future__ import annotations

import pytest


@pytest.fixture
def store(tmp_path):
    from newsroom.state import FileStore

    return FileStore(tmp_path / "state")


def row(at, entry="i/mastodon", **metrics):
    return {"at": at, "entry": entry, "item": entry.split("/")[0], "channel": entry.split("/")[1],
            "metrics": metrics, "pull": "p", "slot": at}


def test_rows_are_sharded_by_month_and_read_by_range(store):
    store.add_snapshots([row("2026-10-31T23:00:00Z", likes=1), row("2026-11-01T00:00:00Z", likes=2),
                         row("2026-12-02T00:00:00Z", likes=3)])
    assert sorted(p.name for p in store.snapshot_dir.iterdir()) == ["2026-10.jsonl", "2026-11.jsonl",
                                                                    "2026-12.jsonl"]
    assert [p.name for p in store.snapshot_files("2026-11-01T00:00:00Z", "2026-11-30T00:00:00Z")] == ["2026-11.jsonl"]
    assert [r["metrics"]["likes"] for r in store.snapshots("2026-11-01T00:00:00Z", "2026-12-02T00:00:00Z")] == [2]
    assert (store.folder / ".gitattributes").read_text() == "*.jsonl merge=union\n"


def test_torn_lines_are_skipped_and_shuffled_lines_still_give_the_latest(store):
    from reports import report
    store.add_snapshots([row("2026-11-03T00:00:00Z", likes=5, shares=1), row("2026-11-01T00:00:00Z", likes=2),
                         row("2026-11-02T00:00:00Z", likes=3, shares=9)])
    shard = store.snapshot_dir / "2026-11.jsonl"
    with open(shard, "ab") as f:
        f.write(b'{"at":"2026-11-04T00:00:00Z","entry":"i/mastodon","metr')  # a writer killed mid-line
    (batch,) = list(store.snapshot_batches())
    assert len(batch) == 3
    bounds = ["2026-11-02T00:00:00Z", "2026-11-03T00:00:00Z"]
    daily, prev = report.read_period(store, "2026-11-01T00:00:00Z", "2026-11-10T00:00:00Z", "2026-10-01T00:00:00Z",
                                     bounds)
    latest, _ = report.trend(daily, ["2026-11-01", "2026-11-02", "2026-11-03"])
    assert latest == {"i/mastodon": {"likes": 5, "shares": 1}} and prev == {}
    store.add_snapshots([row("2026-11-05T00:00:00Z", likes=6)])  # the next write starts on a fresh line
    assert [r["metrics"] for r in store.snapshots()][-1] == {"likes": 6}


def test_replies_and_mentions_are_stored_once(store):
    reply = {"channel": "mastodon", "remote_id": "1", "in_reply_to": "0", "author": "@a", "text": "hi", "url": None,
             "at": "2026-11-01T00:00:00Z", "ours": False, "entry": None, "fetched": "2026-11-01T01:00:00Z"}
    assert store.add_replies([reply, reply]) == 1
    assert store.add_replies([reply, {**reply, "channel": "x"}]) == 1
    assert len(store.replies()) == 2
    m = {"feed": "news", "id": "g1", "link": "https://n.test/1", "title": "T", "views": None, "comments": 1,
         "fetched": "2026-11-01T00:00:00Z"}
    assert store.add_mentions([m]) == (1, 0)
    assert store.add_mentions([{**m, "id": "g1-renamed"}]) == (0, 0)  # same link, new guid: the same post
    assert store.add_mentions([{**m, "comments": 4, "fetched": "2026-11-02T00:00:00Z"}]) == (0, 1)
    (folded,) = store.mentions()
    assert (folded["comments"], folded["fetched"]) == (4, "2026-11-01T00:00:00Z")


def test_listen_settings_are_checked(project, cli):
    settings = """\
site:
  title: T
  url: https://news.test
listen:
  keywords: Northwind
  feeds:
    - name: news
      url: not a url
    - url: https://ok.test/feed
"""
    result = cli(project({}, settings), "check")
    assert result.exit_code == 2  # publish.yml has errors: publish would not run
    assert "publish.yml:8: listen.feeds[0].url: 'not a url' is not a URL (use https://…)" in result.output
    assert "publish.yml:9: listen.feeds[1]: name is required (short name shown in the inbox and reports)" in result.output


def test_feed_names_and_pauses_are_checked_together(project, cli):
    settings = """\
site:
  title: T
  url: https://news.test
channels:
  mastodon:
    type: mastodon
    instance: https://m.test
    token: env:MASTODON_TOKEN
pull:
  pause:
    mastodn: 1s
listen:
  feeds:
    - {name: news, url: https://a.test/feed}
    - {name: news, url: https://b.test/feed}
"""
    result = cli(project({}, settings), "check")
    assert result.exit_code == 2
    assert "publish.yml:11: pull.pause.mastodn: no channel named 'mastodn' (did you mean 'mastodon'?)" in result.output
    assert ("publish.yml:15: listen.feeds[1].name: another feed is already called 'news'; give each feed its "
            "own name") in result.output


def test_a_later_row_with_fewer_metrics_keeps_the_others_latest_values(store):
    from reports import report

    store.add_snapshots([row("2026-10-10T08:00:00Z", likes=1, shares=2), row("2026-10-10T09:00:00Z", likes=4),
                         row("2026-11-01T08:00:00Z", likes=5, shares=6), row("2026-11-01T09:00:00Z", likes=7)])
    daily, prev = report.read_period(store, "2026-11-01T00:00:00Z", "2026-11-10T00:00:00Z", "2026-10-01T00:00:00Z",
                                     ["2026-11-02T00:00:00Z"])
    assert prev == {"i/mastodon": {"likes": 4, "shares": 2}}
    assert daily == {"i/mastodon": [[0, {"likes": 7, "shares": 6}]]}
