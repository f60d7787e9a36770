"""publish.py pull against loopback platforms: batches, concurrency, 429, resuming, skipped channels."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest

import loopback
from conftest import ROOT

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def deliver(root, entries: dict[str, tuple[str, datetime]]):
    from newsroom.state import FileStore

    FileStore(root / "state").append(
        {"event": "delivered", "entry": key, "at": at.isoformat(), "revision": "r",
         "receipt": {"remote_id": rid, "url": f"https://social.test/{rid}", "at": at.isoformat(), "parts": [],
                     "data": {}}} for key, (rid, at) in entries.items())


def open_project(root):
    from scheduler.project import load_project as load
    from newsroom.state import open_store

    project = load(root)
    return project, open_store(project.root, project.settings.state)


def run(root, env, now=NOW, sleep=None, **kw):
    from reports.pull import pull

    project, store = open_project(root)
    sleeps = []
    result = pull(project, store, env=env, now=now, sleep=sleep or sleeps.append, feeds=False, **kw)
    return result, store, sleeps


@pytest.fixture
def platforms(monkeypatch):
    loopback.register(monkeypatch)
    with loopback.Platform() as a, loopback.Platform() as b:
        yield a, b


def test_slots_follow_the_default_windows():
    from reports.pull import slot_of
    from reports.settings import DEFAULT_WINDOWS

    out = datetime(2026, 11, 1, 9, 20, tzinfo=timezone.utc)
    at = lambda **d: slot_of(out, out + timedelta(**d), DEFAULT_WINDOWS)
    assert at(minutes=30) == out  # first hour
    assert at(hours=5, minutes=59) == out + timedelta(hours=5)  # hourly in the first day
    assert at(days=1, hours=3) == out + timedelta(days=1)  # then daily
    assert at(days=29, hours=23) == out + timedelta(days=29)
    assert at(days=40) == out + timedelta(days=37)  # weekly from day 30: 30, 37, 44 …
    assert at(days=90) is None  # past the last window: never again
    assert at(minutes=-5) is None


def test_pull_stores_snapshots_in_batches_and_replies(project, platforms):
    a, b = platforms
    root = project({}, loopback.settings({"alpha": a.url, "beta": b.url}))
    deliver(root, {f"i{n}/alpha": (f"a{n}", NOW - timedelta(hours=2)) for n in range(5)}
            | {"i0/beta": ("b0", NOW - timedelta(days=3))})
    for n in range(5):
        a.metrics[f"a{n}"] = {"favourites": n, "reblogs": 1, "replies": 0}
    b.metrics["b0"] = {"favourites": 7, "reblogs": 2, "replies": 1, "impressions": 300}
    b.replies = [{"id": "c1", "in_reply_to": "b0", "author": "@kim", "text": "Nice!", "at": "2026-11-21T10:00:00+00:00"},
                 {"id": "c2", "in_reply_to": "c1", "author": "@us", "text": "Thanks", "at": "2026-11-21T11:00:00+00:00"}]
    progress = []
    result, store, _ = run(root, {"ALPHA_TOKEN": "sekret", "BETA_TOKEN": "sekret"},
                           progress=lambda done, total: progress.append((done, total)))
    assert (result.due, result.snapshots, result.replies, result.failures) == (6, 6, 2, [])
    assert a.calls("/api/metrics") == ["a0,a1,a2", "a3,a4"]  # METRICS_BATCH = 3
    assert progress[-1] == (6, 6)
    rows = {r["entry"]: r for r in store.snapshots()}
    assert rows["i3/alpha"]["metrics"] == {"likes": 3, "shares": 1, "replies": 0}
    assert rows["i0/beta"]["metrics"] == {"likes": 7, "shares": 2, "replies": 1, "impressions": 300}
    assert rows["i3/alpha"]["at"] == "2026-11-23T12:00:00Z"
    assert rows["i3/alpha"]["slot"] == "2026-11-23T12:00:00Z"  # delivered 10:00, hourly: the 12:00 slot
    assert rows["i0/beta"]["slot"] == "2026-11-23T12:00:00Z"  # delivered 3 days ago at 12:00: daily slot
    replies = {r["remote_id"]: r for r in store.replies()}
    assert replies["c1"]["entry"] == "i0/beta" and not replies["c1"]["ours"]
    assert replies["c2"]["ours"]

    again, _, _ = run(root, {"ALPHA_TOKEN": "sekret", "BETA_TOKEN": "sekret"})  # the same slot: nothing due
    assert (again.due, again.snapshots) == (0, 0)
    later, store, _ = run(root, {"ALPHA_TOKEN": "sekret", "BETA_TOKEN": "sekret"}, now=NOW + timedelta(hours=1))
    assert (later.due, later.snapshots, later.replies) == (5, 5, 0)  # alpha's next hour; beta waits a day
    assert len(list(store.snapshots())) == 11 and len(store.replies()) == 2


def test_channels_are_pulled_at_the_same_time(project, platforms):
    a, b = platforms
    a.delay = b.delay = 0.3
    root = project({}, loopback.settings({"alpha": a.url, "beta": b.url}, "pull:\n  replies: false\n"))
    deliver(root, {"i/alpha": ("a", NOW - timedelta(hours=1)), "i/beta": ("b", NOW - timedelta(hours=1))})
    a.metrics["a"] = b.metrics["b"] = {"favourites": 1}
    result, _, _ = run(root, {"ALPHA_TOKEN": "sekret", "BETA_TOKEN": "sekret"})
    assert result.snapshots == 2
    (_, _, ta), (_, _, tb) = a.requests[0], b.requests[0]
    assert abs(ta - tb) < 0.25  # both requests were open at once


def test_429_waits_as_told_then_goes_on(project, platforms):
    a, _ = platforms
    a.fail_next = [429]
    root = project({}, loopback.settings({"alpha": a.url}, "pull:\n  replies: false\n"))
    deliver(root, {"i/alpha": ("a", NOW - timedelta(hours=1))})
    a.metrics["a"] = {"favourites": 4}
    result, store, sleeps = run(root, {"ALPHA_TOKEN": "sekret"})
    assert sleeps == [1.0]  # Retry-After: 1
    assert result.snapshots == 1 and result.failures == []
    assert a.calls("/api/metrics") == ["a", "a"]


def test_a_failed_batch_is_fetched_by_the_next_pull_and_nothing_twice(project, platforms):
    a, _ = platforms
    root = project({}, loopback.settings({"alpha": a.url}, "pull:\n  replies: false\n"))
    deliver(root, {f"i{n}/alpha": (f"a{n}", NOW - timedelta(hours=1)) for n in range(4)})
    for n in range(4):
        a.metrics[f"a{n}"] = {"favourites": 10 + n}
    a.fail_next = [500, 500, 500]  # the first batch fails three times: given up
    result, store, sleeps = run(root, {"ALPHA_TOKEN": "sekret"})
    assert result.failures == ["alpha: metrics failed: HTTP 500: Internal server error"]
    assert len(sleeps) == 2 and result.snapshots == 1  # the second batch (a3) went through
    again, store, _ = run(root, {"ALPHA_TOKEN": "sekret"})
    assert again.due == 3 and again.snapshots == 3
    assert a.calls("/api/metrics")[-1] == "a0,a1,a2"
    entries = [r["entry"] for r in store.snapshots()]
    assert sorted(entries) == ["i0/alpha", "i1/alpha", "i2/alpha", "i3/alpha"]


def test_channel_without_its_secret_is_skipped_with_a_note(project, platforms, cli):
    a, b = platforms
    root = project({}, loopback.settings({"alpha": a.url, "beta": b.url}, "pull:\n  replies: false\n"))
    deliver(root, {"i/alpha": ("a", NOW - timedelta(hours=1)), "i/beta": ("b", NOW - timedelta(hours=1))})
    a.metrics["a"] = {"favourites": 1}
    result, _, _ = run(root, {"ALPHA_TOKEN": "sekret"})
    assert result.notes == ["beta: skipped, BETA_TOKEN not set"]
    assert result.snapshots == 1 and b.requests == []


def test_cli_pull_output_and_exit_code(project, platforms, cli):
    a, _ = platforms
    root = project({}, loopback.settings({"alpha": a.url}, "pull:\n  replies: false\n"))
    now = datetime.now(timezone.utc)
    deliver(root, {"i/alpha": ("a", now - timedelta(minutes=30)), "j/alpha": ("gone", now - timedelta(minutes=30))})
    a.metrics["a"] = {"favourites": 1}
    result = cli(root, "pull", env={"ALPHA_TOKEN": "sekret"})
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "note: alpha: 1 post not returned by the platform (deleted or hidden?)",
        "pulled 2 entries: 1 snapshots, 0 new replies, 0 new mentions"]
    assert "\r" not in result.output  # no progress line when not on a terminal
    a.fail_next = [401]
    result = cli(root, "pull", "--format", "json", env={"ALPHA_TOKEN": "wrong"})
    assert result.exit_code == 1  # 'gone' is still due and the token is refused
    assert json.loads(result.output)["failures"] == ["alpha: metrics failed: HTTP 401: The access token is invalid"]


def test_pull_settings_are_checked(project, cli):
    root = project({}, loopback.settings({}, "pull:\n  windows:\n    - until: 1d\n      every: soon\n  wokers: 2\n"))
    result = cli(root, "check")
    assert "publish.yml:9: pull.windows[0].every: 'soon' is not a duration (write it like 30m, 6h or 2d)" in result.output
    assert "publish.yml:10: pull.wokers: unknown key (did you mean 'workers'?)" in result.output


def test_a_killed_pull_continues_without_counting_twice(project, monkeypatch, tmp_path):
    """SIGKILL in the middle of a pull; the next one fetches only what is missing."""
    with loopback.Platform() as a:
        a.hold_after = 1  # the first batch is answered; the next waits until the pull has been killed
        root = project({}, loopback.settings({"alpha": a.url}, "pull:\n  replies: false\n"))
        now = datetime.now(timezone.utc)
        deliver(root, {f"i{n}/alpha": (f"a{n}", now - timedelta(minutes=30)) for n in range(9)})
        for n in range(9):
            a.metrics[f"a{n}"] = {"favourites": n}
        runner = ("import sys; sys.path[:0] = [{root!r}, {tests!r}]; import loopback; "
                  "loopback.register(); "
                  "import publish; publish.main()").format(root=str(ROOT), tests=str(ROOT / "tests"))
        env = {**os.environ, "ALPHA_TOKEN": "sekret"}
        cmd = [sys.executable, "-c", runner, "--root", str(root), "pull", "--no-feeds"]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        shard = root / "state" / "snapshots"

        def stored() -> int:
            return sum(len(p.read_text().splitlines()) for p in shard.glob("*.jsonl"))

        deadline = time.monotonic() + 60  # however slow the machine, the first batch is stored in the end
        while time.monotonic() < deadline and stored() < 3 and proc.poll() is None:
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        a.hold_after = None
        a.release.set()
        lines = stored()
        assert 3 <= lines < 9  # killed after the first batch was stored, before the last
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr
        assert f"pulled {9 - lines} entries" in done.stdout
        from newsroom.state import open_store

        rows = list(open_store(root, {"backend": "files", "path": "state"}).snapshots())
        assert sorted(r["entry"] for r in rows) == sorted(f"i{n}/alpha" for n in range(9))


def test_progress_shows_only_on_a_terminal(monkeypatch):
    import io

    from scheduler.command import progress_printer

    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert progress_printer("pulling") is None
    tty = Tty()
    monkeypatch.setattr(sys, "stderr", tty)
    show = progress_printer("pulling")  # as the pull calls it: done and total
    show(3, 6)
    show(6, 6)
    assert tty.getvalue() == "\r\033[K[3/6] pulling\r\033[K[6/6] pulling\r\033[K"


def test_the_service_pulls_through_the_same_function_and_says_what_it_stored(project, platforms):
    """The service's pull job runs reports.pull itself (not the command line) and echoes its lines."""
    from scheduler.serve import Service

    a, _ = platforms
    root = project({}, loopback.settings({"alpha": a.url}, "pull:\n  replies: false\n"))
    deliver(root, {"i0/alpha": ("a0", NOW - timedelta(hours=2))})
    a.metrics["a0"] = {"favourites": 4}
    import logging

    said = []
    handler = logging.Handler()
    handler.emit = lambda record: said.append((record.levelname, record.getMessage()))
    logger = logging.getLogger("newsroom.serve")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)  # (setLevel, not .level =: the logger caches what it lets through)
    try:
        service = Service(root, scheduler=None, env={"ALPHA_TOKEN": "sekret"}, pull_cron="0 6 * * *", now=lambda: NOW)
        service.pull()
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert said == [("INFO", "pull: pulled 1 entry: 1 snapshots, 0 new replies, 0 new mentions")]
    assert service.last_success == {"at": NOW.isoformat(timespec="seconds"), "what": "pull"}
    _, store = open_project(root)
    assert [(r["entry"], r["metrics"]) for r in store.snapshots()] == [("i0/alpha", {"likes": 4, "shares": 0, "replies": 0})]
    assert [p["event"] for p in store.pulls()] == ["started", "finished"]
