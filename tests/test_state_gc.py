"""Rows and files a killed run leaves behind, on both backends, with real ``publish`` processes killed
with SIGKILL at each step boundary of a delivery (``newsroom/crashpoint.py``): the record of the
killed run (postgres: its ``runs`` row; files: ``state/.runs/<run>.lock``) stays while one of its
claims has no outcome, ``publish state gc`` says so and changes nothing in the ledger, and once the
next run has reconciled the claim, the record is gone (``newsroom/state/gc.py``). Nothing is ever
sent twice, and no claim is ever released as not sent."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from conftest import ROOT
from newsroom.state import open_store
from publishing import SETTINGS, T, approved, make_newsroom
from servers.testchannel import TOKEN, ChannelServer

pytestmark = pytest.mark.slow

LATER = "2026-11-20T09:10:00Z"


def settings_of(backend: str, url: str | None, key: str) -> dict:
    if backend == "files":
        return {"backend": "files", "path": "state"}
    return {"backend": "postgres", "url": url, "project": key}


def cli(root, *args, url=None, crash_at=None, trace=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSROOM_CRASH")}
    env.update({"TC_TOKEN": TOKEN, "PYTHONPATH": str(ROOT), "GITHUB_STEP_SUMMARY": ""})
    if url:
        env["DATABASE_URL"] = url
    if crash_at:
        env["NEWSROOM_CRASH_AT"] = crash_at
    if trace:
        env["NEWSROOM_CRASH_TRACE"] = str(trace)
    return subprocess.run([sys.executable, "-m", "tests.servers.testchannel", "--root", str(root), *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)


def newsroom(tmp_path, server, backend, url, name):
    n = make_newsroom(tmp_path / name, server, {f"content/{name}.md": approved(f"Item {name}")})
    if backend == "postgres":
        (n.root / "publish.yml").write_text((n.root / "publish.yml").read_text() + (
            f"state:\n  backend: postgres\n  url: env:DATABASE_URL\n  project: {name}\n"))
    return n.root


@pytest.mark.parametrize("backend", ["files", "postgres"])
def test_a_killed_runs_record_goes_only_once_its_claims_are_reconciled(tmp_path, request, backend):
    url = request.getfixturevalue("pg_url") if backend == "postgres" else None
    with ChannelServer() as server:
        learn = newsroom(tmp_path, server, backend, url, "learn")
        trace = tmp_path / "trace"
        assert cli(learn, "publish", "--now", T, url=url, trace=trace).returncode == 0
        boundaries = [b for b in trace.read_text().split() if b.startswith("run.")]
        assert boundaries == ["run.claimed#1", "run.answered#1", "run.recorded#1"]
        for k, boundary in enumerate(boundaries):
            name = f"b{k}"
            root = newsroom(tmp_path, server, backend, url, name)
            store = open_store(root, settings_of(backend, url, name))
            killed = cli(root, "publish", "--now", T, url=url, crash_at=boundary)
            assert killed.returncode == -signal.SIGKILL, killed.stderr
            (run,) = store.ended_runs()  # its record stayed behind
            ledger = list(store.events())
            claims = [e["entry"] for e in ledger if e["event"] == "claimed" and e["run"] == run]
            open_ = boundary != "run.recorded#1"  # killed before its receipt was in the ledger

            gc = cli(root, "state", "gc", "--format", "json", url=url)
            assert gc.returncode == 0, gc.stderr
            if open_:
                assert json.loads(gc.stdout) == {"removed": [], "kept": [{"run": run, "claims": claims}]}
                assert store.ended_runs() == [run]
                text = cli(root, "state", "gc", url=url).stdout
                assert text == (f"kept the record of run {run}: its claim on {claims[0]} has no outcome yet; the "
                                "next publish reconciles it\n")
            else:
                assert json.loads(gc.stdout) == {"removed": [run], "kept": []}
                assert store.ended_runs() == []
            assert list(store.events()) == ledger  # nothing released, nothing appended

            again = cli(root, "publish", "--now", LATER, url=url)
            assert again.returncode == 0, again.stdout + again.stderr
            assert store.ended_runs() == []  # reconciled, then cleaned up at the end of the run
            posts = [p for p in server.posts if p["item"] == name]
            assert len(posts) == 1  # sent exactly once, whichever boundary the kill hit
            states = {st.key: st.state for st in store.entries().values()}
            assert states == {f"{name}/social": "delivered"}
