"""Real processes on one state, the files or PostgreSQL: a run killed halfway, a claim held by a live run,
and two runs at once. No duplicate, no loss."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT
from publishing import SETTINGS, T, approved, make_newsroom, wait_for
from servers.testchannel import TOKEN, ChannelServer, register
from test_state_postgres import on_postgres

pytestmark = pytest.mark.slow


@pytest.fixture
def server():
    with ChannelServer() as s:
        yield s


def start(root, *args, now=T, url=None):
    """``publish`` as its own process (``url``: on that PostgreSQL database instead of the files)."""
    env = {**os.environ, "TC_TOKEN": TOKEN, "PYTHONPATH": str(ROOT), "GITHUB_STEP_SUMMARY": ""}
    if url:
        env["DATABASE_URL"] = url
    return subprocess.Popen([sys.executable, "-m", "tests.servers.testchannel", "--root", str(root), "publish",
                             "--now", now, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


@pytest.fixture(params=["files", "postgres"])
def backend(request):
    """The state store the processes share: the files, or a real PostgreSQL database (its URL)."""
    return None if request.param == "files" else request.getfixturevalue("pg_url")


def one_item(tmp_path, server, url):
    """A newsroom with one approved item, a slow-enough timeout, on the given state store."""
    n = make_newsroom(tmp_path / "p", server, {"content/a.md": approved("A")},
                      settings=SETTINGS.replace('timeout: "0.3"', 'timeout: "30"'))
    if url:
        on_postgres(n, url)
    return n


def events(n, url, kind=None) -> list[dict]:
    """The ledger's events as the store holds them."""
    if url:
        from newsroom.state import open_store

        store = open_store(n.root, {"backend": "postgres", "url": url, "project": "https://news.test"})
        rows = list(store.events())
    else:
        rows = n.ledger()
    return [e for e in rows if kind is None or e["event"] == kind]


@pytest.mark.parametrize("mode, stored", [("stall", 0), ("store-stall", 1)],
                         ids=["killed-after-claim-before-delivery", "killed-after-delivery-before-receipt"])
def test_a_run_killed_halfway_is_reconciled_never_duplicated(tmp_path, server, monkeypatch, backend, mode, stored):
    register(monkeypatch)
    n = one_item(tmp_path, server, backend)
    server.script("social", mode)
    child = start(n.root, url=backend)
    wait_for(server.arrived.is_set)
    time.sleep(0.1)
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    assert [e["event"] for e in events(n, backend)] == ["claimed", "progress"]  # a claim, no receipt
    assert len(server.posts) == stored

    result = n.run("publish", now="2026-11-20T09:15:00Z")
    assert result.exit_code == 0, result.output
    line = result.output.splitlines()[0]
    if stored:
        assert line == (f"delivered  content/a.md → social  {server.url}/social/posts/1 "
                        "(found already sent by an interrupted run; not sent again)")
    else:
        assert line == f"delivered  content/a.md → social  {server.url}/social/posts/1"
    assert len(server.posts) == 1
    (delivered,) = events(n, backend, "delivered")
    assert delivered.get("reconciled", False) is bool(stored)
    (claim_after,) = [e for e in events(n, backend, "claimed") if e.get("reconcile")]
    assert claim_after["entry"] == "a/social"


def test_two_runs_at_once_never_both_deliver(tmp_path, server, monkeypatch):
    register(monkeypatch)
    files = {f"content/i{k}.md": approved(f"Item {k}", channels=["social", "chat"]) for k in range(6)}
    n = make_newsroom(tmp_path / "p", server, files)
    server.script("social", *["slow:0.1"] * 6)
    server.script("chat", *["slow:0.1"] * 6)
    a, b = start(n.root), start(n.root)
    outs = [p.communicate(timeout=60) for p in (a, b)]
    assert a.returncode == 0 and b.returncode == 0, outs
    posts = [(p["account"], p["item"]) for p in server.posts if p["account"] != "alerts"]
    assert sorted(posts) == sorted({(c, f"i{k}") for k in range(6) for c in ("social", "chat")})  # each exactly once
    assert len(n.events("delivered")) == 12
    lines = [line for out, _ in outs for line in out.splitlines() if line.startswith(("delivered", "held"))]
    assert sum(line.startswith("delivered") for line in lines) == 12


def test_a_claim_held_by_a_live_run_is_left_alone(tmp_path, server, monkeypatch, backend):
    register(monkeypatch)
    n = one_item(tmp_path, server, backend)
    server.script("social", "slow:6")  # long enough to still be in flight under load
    child = start(n.root, url=backend)
    wait_for(server.arrived.is_set)
    result = n.run("publish", now="2026-11-20T09:01:00Z")
    assert result.output.splitlines()[0].startswith("held       content/a.md → social  claimed by run ")
    assert result.exit_code == 0
    child.communicate(timeout=60)
    assert child.returncode == 0
    assert len(server.posts) == 1
