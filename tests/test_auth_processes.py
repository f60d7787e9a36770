"""Two publish runs racing for a lapsing X token, as real processes: one refreshes, the other uses what
it got; the refresh token X rotated is the one the next run spends. Nothing is lost, nothing sent twice."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timezone

import pytest

from conftest import ROOT, item, write_project
from newsroom.credentials import Credential, new_key
from newsroom.state import FileStore
from servers.oauth import CLIENT_ID, XAuthServer

pytestmark = pytest.mark.slow

SETTINGS = f"""\
site:
  title: Test Newsroom
  url: https://news.test
timezone: UTC
channels:
  x:
    type: x
    client_id: {CLIENT_ID}
calendar:
  severity:  # many items at one time: the calendar's rules are tested elsewhere
    conflict: warning
    max_per_day: warning
"""
T = "2026-11-20T09:00:00Z"


def approved(title: str) -> str:
    return item(title, status="approved", approved_by="editor", author="writer", publish_at="2026-11-20T09:00",
                channels=["x"])


def run(root, env, *args):
    return subprocess.Popen([sys.executable, "-m", "tests.servers.oauth", "--root", str(root), "publish", "--now", T,
                             *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_runs_racing_for_a_refresh_keep_the_rotated_token(tmp_path):
    root = write_project(tmp_path / "p", {"content/a.md": approved("Alpha"), "content/b.md": approved("Beta"),
                                          "content/c.md": approved("Gamma")}, SETTINGS)
    key = new_key()
    with XAuthServer() as server:
        # What `publish auth x` left: a refresh token, and an access token that has just lapsed.
        grant = server._issue(["tweet.read", "tweet.write", "users.read", "offline.access"])
        server.expire_access()
        vault = FileStore(root / "state").credentials({"NEWSROOM_KEY": key})
        vault.put("x", Credential(access_token=grant["access_token"], refresh_token=grant["refresh_token"],
                                  expires_at=None, scopes=("tweet.write", "offline.access")))
        vault.update("x", lambda c: Credential(**{**c.__dict__, "expires_at": datetime(2020, 1, 1, tzinfo=timezone.utc)}))
        server.token_delay = 2.0  # the first refresh is still in flight when the second run wants one
        env = {**os.environ, "PYTHONPATH": str(ROOT), "NEWSROOM_KEY": key, "X_API_BASE": server.url,
               "GITHUB_STEP_SUMMARY": "", "NEWSROOM_NO_CACHE": "1"}
        runs = [run(root, env, "--only", "content/a.md"), run(root, env, "--only", "content/b.md")]
        outs = [p.communicate(timeout=60) for p in runs]
        for p, (out, err) in zip(runs, outs):
            assert p.returncode == 0, out + err
        refreshes = [dict(r.form) for r in server.requests("/2/oauth2/token", "POST")]
        assert [r["refresh_token"] for r in refreshes] == [grant["refresh_token"]]  # one refresh for both runs
        kept = vault.get("x")
        assert kept.refresh_token != grant["refresh_token"] and kept.refresh_token in server.refreshes
        assert sorted(t["text"].split("\n")[0] for t in server.tweets.values()) == ["Alpha", "Beta"]
        used = {r.headers["authorization"] for r in server.requests("^/2/tweets$", "POST")}
        assert used == {f"Bearer {kept.access_token}"}  # the second run took the token the first one got

        # Two hours later the access token from the race has lapsed: the next run must renew it, and only
        # the refresh token X rotated in the race can do that.
        vault.update("x", lambda c: Credential(**{**c.__dict__, "expires_at": datetime(2020, 1, 1, tzinfo=timezone.utc)}))
        server.token_delay = 0
        out, err = run(root, env).communicate(timeout=60)
        assert "delivered  content/c.md → x" in out, out + err
        refreshes = [dict(r.form) for r in server.requests("/2/oauth2/token", "POST")]
    assert [r["refresh_token"] for r in refreshes] == [grant["refresh_token"], kept.refresh_token]
    assert grant["refresh_token"] in server.spent and kept.refresh_token in server.spent
    assert len(server.tweets) == 3
