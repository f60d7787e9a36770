"""`publish.py status` and `publish.py serve` (APScheduler) on the loopback channel."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest

from conftest import ROOT
from publishing import approved, make_newsroom, wait_for
from servers.testchannel import TOKEN, ChannelServer, register


@pytest.fixture
def server():
    with ChannelServer() as s:
        yield s


def test_status_lists_delivered_failed_claimed_and_next_per_channel(tmp_path, server, monkeypatch):
    register(monkeypatch)
    n = make_newsroom(tmp_path / "p", server, {
        "content/a.md": approved("A", channels=["social", "chat"]),
        "content/b.md": approved("B", channels=["social"], at="2026-11-21T09:00"),
    })
    server.script("chat", "fail:403:Forbidden for this account")
    n.run("publish")
    with open(n.root / "state" / "ledger.jsonl", "a") as f:
        f.write(json.dumps({"event": "claimed", "entry": "z/social", "item": "z", "channel": "social",
                            "path": "content/z.md", "run": "gone-7", "at": "2026-11-20T09:01:00+00:00"}) + "\n")
    result = n.run("status", "--now", "2026-11-20T09:30:00Z")
    assert result.exit_code == 0
    assert result.output.splitlines()[:8] == [
        "Status at 2026-11-20 09:30 UTC",
        "social (testchannel)",
        "  1 delivered, 1 claimed without receipt",
        "  claimed  content/z.md by run gone-7: no receipt, its run has ended, and no item 'z' loads any more: "
        "it may have gone out; restore content/z.md (or its id:) and the next publish reconciles it",
        "  next     content/b.md at 2026-11-21 09:00 UTC",
        "chat (testchannel)",
        "  0 delivered, 1 failed",
        "  failed   content/a.md: HTTP 403: Forbidden for this account",
    ]
    data = json.loads(n.run("status", "--now", "2026-11-20T09:30:00Z", "--format", "json").output)
    assert data["channels"]["social"]["delivered"][0]["url"] == f"{server.url}/social/posts/1"
    assert data["channels"]["chat"]["failed"][0]["retryable"] is False
    assert data["channels"]["social"]["next"] == [{"item": "b", "path": "content/b.md",
                                                   "at": "2026-11-21T09:00:00+00:00"}]


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S+00:00")




def test_serve_publishes_at_the_time_follows_edits_and_deletions_and_records_misfires(tmp_path, server, monkeypatch):
    from apscheduler.schedulers.background import BackgroundScheduler

    from scheduler.serve import Service

    register(monkeypatch)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    n = make_newsroom(tmp_path / "p", server, {
        "content/now.md": approved("Now", at=_iso(now - timedelta(minutes=5))),
        "content/soon.md": approved("Soon", at=_iso(now + timedelta(seconds=2))),
        "content/later.md": approved("Later", at=_iso(now + timedelta(days=1))),
        "content/stale.md": approved("Stale", channels=["chat"], at=_iso(now - timedelta(hours=3))),
    })
    service = Service(n.root, BackgroundScheduler(timezone=timezone.utc), env={"TC_TOKEN": TOKEN},
                      replan_minutes=60)
    service.start()
    try:
        wait_for(lambda: {"now", "soon"} <= {p["item"] for p in server.posts_for("social")})
        wait_for(lambda: n.events("missed", "stale/chat"))  # past its 1h grace: the run records it missed
        wait_for(lambda: service.status()["entries_scheduled"] == 1)  # once the run that sent "soon" is over
        assert list(service.schedule) == ["later/social"]
        # the scheduler holds the re-plan and one job at the next time, however many entries wait
        (armed,) = [j for j in service.scheduler.get_jobs() if j.id != "replan"]
        assert armed.id == "due" and armed.next_run_time == now + timedelta(days=1)
        assert service.status()["next_run"] == _iso(now + timedelta(days=1))
        # A new item appears, the far one is deleted: the next re-plan follows both.
        n.write("content/new.md", approved("New", at=_iso(now - timedelta(minutes=1))))
        (n.root / "content/later.md").unlink()
        service.replan()
        wait_for(lambda: "new" in {p["item"] for p in server.posts_for("social")})
        assert "later/social" not in service.schedule
        assert [j.id for j in service.scheduler.get_jobs() if j.id != "replan"] == []  # nothing left to arm for
    finally:
        service.shutdown()
    assert sorted(p["item"] for p in server.posts_for("social")) == ["new", "now", "soon"]
    assert server.posts_for("chat") == []


def test_stopping_the_service_during_a_replan_returns_within_seconds(tmp_path, server, monkeypatch):
    """APScheduler's shutdown holds its job store's lock while it waits for the jobs in flight: a
    re-plan still reading the content when the service is stopped must not then call the scheduler
    (it waited on that lock for ever, and the service never stopped)."""
    import threading

    from apscheduler.schedulers.background import BackgroundScheduler

    import scheduler.serve as serve

    register(monkeypatch)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    n = make_newsroom(tmp_path / "p", server, {"content/later.md": approved("Later", at=_iso(now + timedelta(days=1)))})
    service = serve.Service(n.root, BackgroundScheduler(timezone=timezone.utc), env={"TC_TOKEN": TOKEN},
                            replan_minutes=60, watch=None)
    planning = threading.Event()
    real = serve.plan

    def plan_until_the_scheduler_stops(*args, **kwargs):  # a re-plan slow enough to be stopped halfway
        planning.set()
        wait_for(lambda: not service.scheduler.running)
        return real(*args, **kwargs)

    monkeypatch.setattr(serve, "plan", plan_until_the_scheduler_stops)
    service.start()  # its first re-plan is a job of the scheduler, at once
    wait_for(planning.is_set)
    stopping = threading.Thread(target=service.shutdown, daemon=True)
    began = time.monotonic()
    stopping.start()
    stopping.join(timeout=20)
    assert not stopping.is_alive(), "the service did not stop: a re-plan is waiting on the scheduler"
    assert time.monotonic() - began < 20 and service.stopped.is_set()
    assert service.schedule == {} and service.last_replan is None  # the re-plan stopped before arming anything
    assert service.status()["alive"] is False


@pytest.mark.slow
def test_sigterm_lets_the_entry_in_flight_finish_then_stops(tmp_path, server, monkeypatch):
    register(monkeypatch)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    n = make_newsroom(tmp_path / "p", server, {"content/a.md": approved("A", at=_iso(now - timedelta(minutes=1)))},
                      settings=__import__("publishing").SETTINGS.replace('timeout: "0.3"', 'timeout: "30"'))
    server.script("social", "slow:1.0")
    env = {**os.environ, "TC_TOKEN": TOKEN, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-m", "tests.servers.testchannel", "--root", str(n.root), "serve"],
                             cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(server.arrived.is_set)
    child.send_signal(signal.SIGTERM)
    out, err = child.communicate(timeout=20)
    assert child.returncode == 0, err
    assert "stopping: the entry in flight finishes first" in err and err.rstrip().endswith("stopped")
    assert len(server.posts) == 1
    assert [e["event"] for e in n.ledger()] == ["claimed", "progress", "delivered"]


def test_status_says_an_inactive_channels_late_entry_waits_for_the_channel(tmp_path, cli):
    import shutil

    from conftest import ROOT

    root = tmp_path / "example"
    for folder in ("content", "audience"):
        shutil.copytree(ROOT / folder, root / folder)
    shutil.copy(ROOT / "publish.yml", root / "publish.yml")
    result = cli(root, "status", "--now", "2026-11-23T12:00:00Z", env={"MASTODON_TOKEN": ""})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    start = lines.index("mastodon (mastodon): inactive, MASTODON_TOKEN is not set in the environment")
    assert lines[start + 2] == ("  due now  content/2026/11/autumn-release.md (2026-11-19 08:30 UTC): past its grace "
                                "window (recorded missed once the channel is active)")
