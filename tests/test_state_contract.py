"""The state store's contract: what every backend in ``newsroom.state.BACKENDS`` must do.

Each test runs once per backend. A new backend (PostgreSQL) adds itself to ``BACKENDS`` and, if it
needs a server, a way to reach one in ``BACKEND_SETTINGS`` (skipped where there is none); nothing
else here changes. Two handles on one store stand for two processes (two runs, a run and a pull).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from newsroom.credentials import Credential, new_key
from conftest import ROOT
from newsroom.state import BACKENDS, EntryState, open_store

#: publish.yml's ``state:`` for each backend under test, given the test's request (its folder, its
#: fixtures: the postgres backend gets a fresh database on the throwaway cluster of ``pgserver.py``).
BACKEND_SETTINGS = {
    "files": lambda request: {"backend": "files", "path": "state"},
    "postgres": lambda request: {"backend": "postgres", "url": request.getfixturevalue("pg_url"),
                                 "project": "https://news.test"},
}


@pytest.fixture(params=sorted(BACKENDS))
def handles(request, tmp_path):
    """A function that opens another handle on the same store (``.root``, ``.settings``: where, for
    another process)."""
    settings = BACKEND_SETTINGS[request.param](request)

    def handle():
        return open_store(tmp_path, settings, cache=True)

    handle.root, handle.settings = tmp_path, settings
    return handle


@pytest.fixture
def store(handles):
    return handles()


def event(kind, key="launch/mastodon", **fields):
    return {"event": kind, "entry": key, "at": "2026-11-30T09:00:00+00:00", "revision": "r1", "run": "run-1",
            **fields}


def test_events_come_back_in_order_and_fold_per_entry(store):
    store.append([event("claimed"), event("delivered", receipt={"remote_id": "1", "url": "https://m.test/1"})])
    store.append([event("claimed", "other/x")])
    assert [(e["event"], e["entry"]) for e in store.events()] == [
        ("claimed", "launch/mastodon"), ("delivered", "launch/mastodon"), ("claimed", "other/x")]
    entries = store.entries()
    assert (entries["launch/mastodon"].state, entries["launch/mastodon"].receipt["remote_id"]) == ("delivered", "1")
    assert entries["other/x"].state == "claimed" and entries["other/x"].claimed_by == "run-1"


def test_another_handle_sees_every_append_and_the_kept_fold_is_current(handles):
    first, second = handles(), handles()
    assert first.entries() == {}
    second.append([event("claimed")])
    assert first.entries()["launch/mastodon"].state == "claimed"
    first.append([event("failed", error="HTTP 503", retryable=True)])
    first.save()
    third = handles()  # the next run, reading what the last one kept
    st = third.entries()["launch/mastodon"]
    assert (st.state, st.error, st.retryable, st.attempts) == ("failed", "HTTP 503", True, 1)


def test_the_ledger_version_changes_with_every_append_and_only_then(store):
    before = store.ledger_version()
    store.append([event("claimed")])
    after = store.ledger_version()
    assert after != before and store.ledger_version() == after
    store.entries()
    assert store.ledger_version() == after
    store.append([event("released")])
    assert store.ledger_version() != after


def test_a_claim_is_appended_only_when_the_fresh_state_allows_it(store):
    assert store.claim("launch/mastodon", event("claimed"), lambda st: st.state == "pending") is True
    assert store.claim("launch/mastodon", event("claimed", run="run-2"), lambda st: st.state == "pending") is False
    assert [e["run"] for e in store.events()] == ["run-1"]


def test_of_runs_racing_for_one_entry_exactly_one_claims_it(handles):
    for round_ in range(5):
        key = f"race-{round_}/mastodon"
        stores = [handles() for _ in range(4)]
        start = threading.Barrier(len(stores))
        won = []

        def race(s, n):
            start.wait()
            if s.claim(key, event("claimed", key, run=f"run-{n}"), lambda st: st.state == "pending"):
                won.append(n)

        threads = [threading.Thread(target=race, args=(s, n)) for n, s in enumerate(stores)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(won) == 1
        assert handles().entries()[key].claimed_by == f"run-{won[0]}"


def test_a_run_is_alive_while_it_holds_its_lock(handles):
    store, other = handles(), handles()
    assert other.run_alive(None) is False and other.run_alive("run-1") is False
    with store.run_lock("run-1"):
        assert other.run_alive("run-1") is True
        assert other.run_alive("run-2") is False
    assert other.run_alive("run-1") is False


KILLED = """
import json, os, signal, sys
from pathlib import Path
from newsroom.state import open_store

store = open_store(Path(sys.argv[1]), json.loads(sys.argv[2]))
held = store.run_lock("run-killed")
held.__enter__()
os.kill(os.getpid(), signal.SIGKILL)  # no finally, no atexit: as a runner killed by its CI
"""


def test_a_killed_runs_record_goes_once_its_claims_have_outcomes_and_never_while_a_run_holds_it(handles):
    from newsroom.state.gc import collect

    store = handles()
    killed = subprocess.run([sys.executable, "-c", KILLED, str(handles.root), json.dumps(handles.settings)],
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    deadline = time.monotonic() + 20  # the server lets go of a dead connection's locks in its own time
    while store.ended_runs() != ["run-killed"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert store.ended_runs() == ["run-killed"]
    store.append([event("claimed", run="run-killed")])
    with store.run_lock("run-live"):
        other = handles()
        assert other.ended_runs() == ["run-killed"] and other.forget_run("run-live") is False
        done = collect(other)
        assert (done.removed, done.kept) == ([], {"run-killed": ["launch/mastodon"]})  # its claim has no outcome
        assert other.ended_runs() == ["run-killed"]
        other.append([event("claimed", run="run-live", reconcile=True),
                      event("delivered", run="run-live", receipt={"remote_id": "1"}, reconciled=True)])
        done = collect(other)
        assert (done.removed, done.kept) == (["run-killed"], {})
        assert other.ended_runs() == [] and other.run_alive("run-live") and other.forget_run("run-killed") is False
    assert store.ended_runs() == []
    assert [(e["event"], e["run"]) for e in store.events()] == [("claimed", "run-killed"), ("claimed", "run-live"),
                                                              ("delivered", "run-live")]  # the ledger as written


def test_a_delivery_journal_is_progress_events_folded_per_revision(store):
    store.append([event("claimed"), event("progress", name="all/0", value={"to": ["h1"]}),
                  event("progress", name="all/0/done", value={"refused": []})])
    st: EntryState = store.entries()["launch/mastodon"]
    assert st.journal_for("r1") == {"all/0": {"to": ["h1"]}, "all/0/done": {"refused": []}}
    assert st.journal_for("r2") == st.journal_for("r1")  # nothing completed yet: the edit continues it
    store.append([event("delivered", receipt={"remote_id": "1"}), event("progress", "launch/mastodon",
                                                                        revision="r2", name="all/0", value={})])
    assert store.entries()["launch/mastodon"].journal_for("r2") == {"all/0": {}}


def snapshot(at, entry="launch/mastodon", slot=None, **metrics):
    return {"at": at, "entry": entry, "item": entry.split("/")[0], "channel": entry.split("/")[1],
            "metrics": metrics, "pull": "p1", "slot": slot or at}


def test_snapshots_are_read_by_half_open_time_range(store):
    assert store.add_snapshots([]) == 0
    assert store.add_snapshots([snapshot("2026-10-31T23:59:59Z", likes=1), snapshot("2026-11-01T00:00:00Z", likes=2),
                                snapshot("2026-12-01T00:00:00Z", likes=3)]) == 3
    assert [r["metrics"]["likes"] for r in store.snapshots()] == [1, 2, 3]
    assert [r["metrics"]["likes"] for r in store.snapshots("2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z")] == [2]
    assert [r["metrics"]["likes"] for r in store.snapshots(since="2026-11-01T00:00:00Z")] == [2, 3]
    batched = sorted((r.at, r.entry, r.metrics["likes"], r.slot) for rows in store.snapshot_batches() for r in rows)
    assert batched == [("2026-10-31T23:59:59Z", "launch/mastodon", 1, "2026-10-31T23:59:59Z"),
                       ("2026-11-01T00:00:00Z", "launch/mastodon", 2, "2026-11-01T00:00:00Z"),
                       ("2026-12-01T00:00:00Z", "launch/mastodon", 3, "2026-12-01T00:00:00Z")]
    in_range = {r.at for rows in store.snapshot_batches("2026-11-01T00:00:00Z", "2026-11-30T00:00:00Z") for r in rows}
    assert "2026-11-01T00:00:00Z" in in_range  # batches may hold more than the range, never less
    assert store.filled_slots() == {("launch/mastodon", "2026-10-31T23:59:59Z"),
                                    ("launch/mastodon", "2026-11-01T00:00:00Z"),
                                    ("launch/mastodon", "2026-12-01T00:00:00Z")}


NOV = "2026-11-01T00:00:00Z"  # the period: 1–4 November (days start at the bounds), the one before: 29–31 October
BOUNDS = ["2026-11-02T00:00:00Z", "2026-11-03T00:00:00Z", "2026-11-04T00:00:00Z"]
END, BEFORE = "2026-11-05T00:00:00Z", "2026-10-29T00:00:00Z"


def test_a_report_reads_each_metric_latest_per_day_and_before(store):
    store.add_snapshots([
        snapshot("2026-10-28T23:59:59Z", "a/m", likes=100),  # before the period before: not read
        snapshot(BEFORE, "a/m", likes=1, shares=1),  # at prev_since: read
        snapshot("2026-10-30T00:00:00Z", "a/m", likes=2),  # fewer metrics: shares stays 1
        snapshot(NOV, "a/m", likes=3),  # at since: day 0, not the period before
        snapshot("2026-11-01T10:00:00Z", "a/m", slot="s2", likes=5, shares=2),  # several pulls of one post, one day
        snapshot("2026-11-01T12:00:00Z", "a/m", slot="s3", replies=1),  # ... the last with fewer metrics
        snapshot("2026-11-02T00:00:00Z", "a/m", likes=6),  # at a bound: the next day
        snapshot("2026-11-03T09:00:00Z", "b/x", views=10, clicks=1),
        snapshot("2026-11-03T09:00:00Z", "b/x", slot="again", views=12),  # a tie: the row stored later wins
        snapshot(END, "a/m", likes=999),  # at until: not read
    ])
    store.add_snapshots([snapshot("2026-11-01T09:00:00Z", "a/m", slot="late", likes=4, shares=9)])  # stored last
    daily, prev = store.period_metrics(NOV, END, BEFORE, BOUNDS)
    assert prev == {"a/m": {"likes": 2, "shares": 1}}
    assert daily == {"a/m": [[0, {"likes": 5, "shares": 2, "replies": 1}], [1, {"likes": 6}]],
                     "b/x": [[2, {"views": 12, "clicks": 1}]]}


def test_a_report_counts_whole_numbers_and_skips_rows_without_metrics(store):
    store.add_snapshots([snapshot(NOV, "a/m", likes=3, rate=0.5, note="x"),
                         {**snapshot("2026-11-01T01:00:00Z", "a/m"), "metrics": ["likes", 9]},  # not a mapping
                         {**snapshot("2026-11-01T02:00:00Z", "c/m"), "metrics": None},
                         snapshot("2026-11-02T01:00:00Z", "a/m", likes=2.5, shares=4)])
    daily, prev = store.period_metrics(NOV, END, BEFORE, BOUNDS)
    assert prev == {}
    assert daily == {"a/m": [[0, {"likes": 3}], [1, {"shares": 4}]], "c/m": [[0, {}]]}


def test_a_period_without_rows_and_a_period_of_one_day(store):
    assert store.period_metrics(NOV, END, BEFORE, BOUNDS) == ({}, {})
    store.add_snapshots([snapshot("2026-10-31T10:00:00Z", "a/m", likes=1), snapshot("2026-11-01T10:00:00Z", "a/m",
                                                                                    likes=2)])
    assert store.period_metrics("2026-11-10T00:00:00Z", "2026-11-20T00:00:00Z", "2026-11-05T00:00:00Z",
                                ["2026-11-11T00:00:00Z"]) == ({}, {})  # an empty window after the rows
    assert store.period_metrics(NOV, "2026-11-02T00:00:00Z", "2026-10-31T00:00:00Z", []) == (
        {"a/m": [[0, {"likes": 2}]]}, {"a/m": {"likes": 1}})


def test_replies_are_stored_once_per_channel_and_remote_id(store):
    reply = {"channel": "mastodon", "remote_id": "1", "in_reply_to": "0", "author": "@a", "text": "hi", "url": None,
             "at": "2026-11-01T00:00:00Z", "ours": False, "entry": None, "fetched": "2026-11-01T01:00:00Z"}
    assert store.add_replies([reply, reply]) == 1
    assert store.add_replies([reply, {**reply, "channel": "x"}, {**reply, "remote_id": "2"}]) == 2
    assert sorted((r["channel"], r["remote_id"]) for r in store.replies()) == [("mastodon", "1"), ("mastodon", "2"),
                                                                            ("x", "1")]


def test_mentions_keep_their_first_sighting_and_their_latest_numbers(store):
    m = {"feed": "news", "id": "g1", "link": "https://n.test/1", "title": "T", "views": None, "comments": 1,
         "fetched": "2026-11-01T00:00:00Z"}
    assert store.add_mentions([m]) == (1, 0)
    assert store.add_mentions([m]) == (0, 0)
    assert store.add_mentions([{**m, "id": "g1-renamed"}]) == (0, 0)
    assert store.add_mentions([{**m, "comments": 4, "fetched": "2026-11-02T00:00:00Z"}]) == (0, 1)
    (folded,) = store.mentions()
    assert (folded["comments"], folded["fetched"]) == (4, "2026-11-01T00:00:00Z")


def test_feed_caches_and_pulls(store):
    assert store.feed_cache() == {} and store.pulls() == []
    store.set_feed_cache([{"feed": "news", "etag": "a", "at": "2026-11-01T00:00:00Z"}])
    store.set_feed_cache([{"feed": "news", "etag": "b", "at": "2026-11-02T00:00:00Z"},
                          {"feed": "blog", "etag": "c", "at": "2026-11-02T00:00:00Z"}])
    assert {k: v["etag"] for k, v in store.feed_cache().items()} == {"news": "b", "blog": "c"}
    store.record_pull({"event": "started", "pull": "p1", "at": "2026-11-02T00:00:00Z"})
    store.record_pull({"event": "finished", "pull": "p1", "at": "2026-11-02T00:01:00Z"})
    assert [p["event"] for p in store.pulls()] == ["started", "finished"]


def test_credentials_survive_another_handle_and_need_the_key(handles):
    env = {"NEWSROOM_KEY": new_key()}
    now = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)
    token = Credential(access_token="access-1", refresh_token="refresh-1", expires_at=now + timedelta(hours=2))
    handles().credentials(env).put("x", token)
    assert handles().credentials(env).get("x") == token
    renewed = handles().credentials(env).update("x", lambda old: Credential(access_token="access-2",
                                                                           refresh_token=old.refresh_token))
    assert renewed.access_token == "access-2"
    assert handles().credentials(env).get("x").refresh_token == "refresh-1"
