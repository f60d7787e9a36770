"""Real processes on one PostgreSQL state: several publishers at once deliver each entry exactly once
(the loopback server counts), and serve processes share due entries through kills and a restart of the
database. A publisher killed halfway, and a claim held by a live one, are tested on both stores in
``test_publish_processes``."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT
from publishing import SETTINGS, approved, make_newsroom
from servers.testchannel import TOKEN, ChannelServer, register
from test_publish_processes import start
from test_state_postgres import on_postgres

pytestmark = pytest.mark.slow


@pytest.fixture
def server():
    with ChannelServer() as s:
        yield s


def test_four_publishers_at_once_deliver_each_entry_exactly_once(tmp_path, server, monkeypatch, pg_url):
    register(monkeypatch)
    files = {f"content/i{k}.md": approved(f"Item {k}", channels=["social", "chat"]) for k in range(15)}
    n = make_newsroom(tmp_path / "p", server, files)
    on_postgres(n, pg_url)
    server.script("social", *["slow:0.05"] * 15)
    runs = [start(n.root, url=pg_url) for _ in range(4)]
    outs = [p.communicate(timeout=180) for p in runs]
    assert [p.returncode for p in runs] == [0, 0, 0, 0], outs
    posts = sorted((p["account"], p["item"]) for p in server.posts if p["account"] != "alerts")
    assert posts == sorted((c, f"i{k}") for k in range(15) for c in ("social", "chat"))  # each exactly once
    delivered = [line for out, _ in outs for line in out.splitlines() if line.startswith("delivered")]
    assert len(delivered) == 30
    assert sum(1 for out, _ in outs if any(line.startswith("delivered") for line in out.splitlines())) >= 2
    # the ledger in the database agrees: one receipt per entry
    from newsroom.state import open_store

    store = open_store(n.root, {"backend": "postgres", "url": pg_url, "project": "https://news.test"})
    assert sorted(e["entry"] for e in store.events() if e["event"] == "delivered") == sorted(
        f"i{k}/{c}" for k in range(15) for c in ("social", "chat"))


def test_four_serve_processes_share_2000_due_entries_through_kills_and_a_database_restart(
        tmp_path, server, monkeypatch, pg_cluster, pg_url):
    """The pool: 4 ``serve`` processes on one database, 2,000 entries due; two are killed (SIGKILL) at
    random moments and the database restarts once; every entry is delivered exactly once, and the two
    left stop cleanly on SIGTERM."""
    from datetime import datetime, timedelta, timezone

    register(monkeypatch)
    count = int(os.environ.get("NEWSROOM_POOL_ENTRIES", "2000"))
    at = (datetime.now(timezone.utc) - timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M")
    settings = SETTINGS.replace("timezone: UTC", "timezone: UTC\nstate:\n  backend: postgres\n  url: env:DATABASE_URL")
    n = make_newsroom(tmp_path / "p", server, {f"content/e{k:04d}.md": approved(f"E{k}", channels=["chat"], at=at)
                                               for k in range(count)}, settings=settings)
    env = {**os.environ, "TC_TOKEN": TOKEN, "PYTHONPATH": str(ROOT), "GITHUB_STEP_SUMMARY": "",
           "DATABASE_URL": pg_url}

    logs = [tmp_path / f"serve-{k}.log" for k in range(4)]

    def serve(k):
        # output to files, not pipes: a service logs a line per entry, and a full pipe nobody reads
        # would stop it mid-run
        with open(logs[k], "w") as out:
            return subprocess.Popen([sys.executable, "-m", "tests.servers.testchannel", "--root", str(n.root),
                                     "serve", "--replan", "0.1"], cwd=ROOT, env=env, stdout=out,
                                    stderr=subprocess.STDOUT, text=True)

    def delivered() -> int:
        return len({p["item"] for p in server.posts_for("chat")})

    pool = [serve(k) for k in range(4)]
    try:
        _serve_pool(pool, logs, count, delivered, pg_cluster, server)
    finally:
        for p in pool:
            if p.poll() is None:
                p.kill()
                p.wait(10)


def _serve_pool(pool, logs, count, delivered, pg_cluster, server):
    import random
    from collections import Counter

    rng = random.Random()
    kill_at = sorted(rng.sample(range(count // 10, count * 7 // 10), 2))
    restart_at = rng.randrange(count // 5, count * 3 // 5)
    events = sorted([(kill_at[0], "kill", 0), (kill_at[1], "kill", 1), (restart_at, "restart", None)])
    end = time.monotonic() + 1200  # a few minutes alone; far longer on a machine loaded by other suites
    for threshold, what, which in events:
        while delivered() < threshold:
            assert time.monotonic() < end, f"only {delivered()} of {count} delivered"
            time.sleep(0.05)
        if what == "kill":
            pool[which].send_signal(signal.SIGKILL)
            pool[which].wait(10)
        else:
            pg_cluster.restart()
    while delivered() < count:
        assert time.monotonic() < end, f"only {delivered()} of {count} delivered"
        time.sleep(0.2)
    time.sleep(2)  # a duplicate still in flight would arrive now
    for p in pool[2:]:
        p.send_signal(signal.SIGTERM)
    for p in pool[2:]:
        p.wait(60)
    outs = [log.read_text(errors="replace") for log in logs[2:]]
    assert [p.returncode for p in pool[2:]] == [0, 0], [out[-2000:] for out in outs]
    assert all(out.rstrip().endswith("stopped") for out in outs), [out[-2000:] for out in outs]
    per_item = Counter(p["item"] for p in server.posts_for("chat"))
    assert len(per_item) == count and set(per_item.values()) == {1}, per_item.most_common(3)
