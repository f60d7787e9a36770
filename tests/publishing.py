"""Helpers for the publish-run tests: a project wired to the loopback channel server, and runs of it."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from click.testing import CliRunner

from conftest import item, write_project
from servers.testchannel import TOKEN, ChannelServer

T = "2026-11-20T09:00:00Z"  # the items' publish time in these tests

HEAD = """\
site:
  title: Test Newsroom
  url: https://news.test
timezone: UTC
dependencies:
  live_check: false  # news.test is not a public site: its pages are not asked whether they answer
"""
#: The blog and a Mastodon account on the loopback Mastodon server at ``{url}`` (MASTODON_ENV's token).
BLOG_AND_MASTODON = """\
channels:
  blog:
    type: blog
  mastodon:
    type: mastodon
    instance: {url}
    token: env:MASTODON_TOKEN
"""
MASTODON_ENV = {"MASTODON_TOKEN": "secret-token"}

SETTINGS = HEAD + """\
channels:
  social:
    type: testchannel
    url: {url}/social
    token: env:TC_TOKEN
    timeout: "0.3"
  chat:
    type: testchannel
    url: {url}/chat
    token: env:TC_TOKEN
    grace: 1h
    timeout: "0.3"
  alerts:
    type: testchannel
    url: {url}/alerts
    token: env:TC_TOKEN
alerts:
  channel: alerts
calendar:
  severity:  # these tests are about sending several items at once; the calendar's rules have their own
    conflict: warning
    max_per_day: warning
"""


def run(root: Path, *args: str, now: str | None = T, env: dict | None = None):
    """``publish.py --root ROOT ARGS`` in this process; a ``publish`` run without ``--now`` runs at ``now``."""
    from publish import cli

    argv = ["--root", str(root), *args]
    if now is not None and args and args[0] == "publish" and "--now" not in args:
        argv += ["--now", now]
    return CliRunner().invoke(cli, argv, env={"GITHUB_STEP_SUMMARY": "", **(env or {})}, catch_exceptions=False)


def ledger(root: Path) -> list[dict]:
    """The files backend's ledger at ``root``, one dict an event."""
    path = root / "state" / "ledger.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def run_mastodon(root: Path, *args: str, now: str | None = T):
    """``run`` with the token of BLOG_AND_MASTODON's account."""
    return run(root, *args, now=now, env=MASTODON_ENV)


def wait_for(predicate, timeout: float = 30.0) -> None:
    """Until ``predicate()`` is true (a condition another process or thread makes true), at most ``timeout`` s."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("timed out")


def approved(title: str, channels=("social",), at: str = "2026-11-20T09:00", **keys) -> str:
    keys = {"approved_by": "editor", "author": "writer", "publish_at": at, "channels": list(channels), **keys}
    return item(title, status="approved", **keys)


@dataclass
class Newsroom:
    root: Path
    server: ChannelServer
    sleeps: list = field(default_factory=list)
    env: dict = field(default_factory=lambda: {"TC_TOKEN": TOKEN, "GITHUB_STEP_SUMMARY": ""})

    def run(self, *args: str, now: str | None = T, env: dict | None = None):
        return run(self.root, *args, now=now, env={**self.env, **(env or {})})

    def ledger(self) -> list[dict]:
        return ledger(self.root)

    def events(self, kind: str, entry: str | None = None) -> list[dict]:
        return [e for e in self.ledger() if e["event"] == kind and (entry is None or e["entry"] == entry)]

    def write(self, rel: str, text: str) -> None:
        write_project(self.root, {rel: text}, settings=None)


def make_newsroom(root: Path, server: ChannelServer, files: dict, settings: str = SETTINGS) -> Newsroom:
    files = {"templates/testchannel/post.j2": "{{ title }}\n\n{{ link }}\n", **files}
    write_project(root, files, settings.format(url=server.url))
    return Newsroom(root, server)
