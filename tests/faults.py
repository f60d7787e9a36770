"""The fault-injection harness: a project wired to real loopback servers (SMTP, Mastodon, a webhook
receiver, a bare git repository for the blog's deploy), real ``publish`` processes killed with
SIGKILL at a named step boundary (``newsroom/crashpoint.py``), and the truth about what reached
people, read from the servers themselves.

``bench/chaos.py`` uses the same harness with random kill timing.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
T = "2026-11-20T09:00:00Z"
RECIPIENTS = [f"reader{i}@customers.example" for i in range(5)]
MASTODON_TOKEN = "secret-token"
HOOK_SECRET = "hook-signing-secret"

SETTINGS = """\
site:
  title: Fault Newsroom
  url: https://news.test
timezone: UTC
dependencies:
  live_check: false  # the site is deployed to a bare repository: nothing serves https://news.test
channels:
  blog:
    type: blog
{blog_deploy}  newsletter:
    type: email
    host: 127.0.0.1
    port: {smtp_port}
    security: none
    from: "Fault News <news@news.test>"
    unsubscribe_url: "https://news.test/unsubscribe?token={{token}}"
    batch_size: 2
    lists:
      all: audience/all.csv
  mastodon:
    type: mastodon
    instance: {mastodon_url}
    token: env:MASTODON_TOKEN
  hook:
    type: webhook
    url: env:HOOK_URL
    signing_secret: env:HOOK_SECRET
"""

ITEM = """\
---
title: "{title}"
status: approved
author: writer
approved_by: editor
publish_at: 2026-11-20T09:00
channels: [{channels}]
---
Body of {title}.
"""


@dataclass
class Servers:
    """The loopback servers one project talks to; started by ``start()``, stopped by ``stop()``."""

    mailbox: object = None
    smtp: object = None
    mastodon: object = None
    hook: object = None
    started: list = field(default_factory=list)

    @classmethod
    def start(cls) -> "Servers":
        sys.path.insert(0, str(Path(__file__).parent)) if str(Path(__file__).parent) not in sys.path else None
        import mailserver
        from hookserver import HookServer
        from servers.mastodon import MastodonServer

        s = cls()
        s.mailbox = mailserver.Mailbox()
        s.smtp = mailserver.start(s.mailbox)
        s.mastodon = MastodonServer(token=MASTODON_TOKEN).start()
        s.hook = HookServer().start()
        return s

    def stop(self) -> None:
        self.smtp.stop()
        self.mastodon.stop()
        self.hook.stop()

    def clear(self) -> None:
        """Forget what every server was sent, for the next test of the module (they stay up)."""
        self.mailbox.messages.clear()
        for kept in (self.mastodon.statuses, self.mastodon.histories, self.mastodon.deleted,
                     self.mastodon.idempotency, self.hook.requests):
            kept.clear()


@pytest.fixture(scope="module")
def servers():
    """The loopback servers, started once for a test module (import it there as a fixture)."""
    s = Servers.start()
    yield s
    s.stop()


@dataclass
class Project:
    root: Path
    servers: Servers
    remote: Path | None = None  # the bare repository the blog deploys to

    @property
    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSROOM_CRASH")}
        env.update({"MASTODON_TOKEN": MASTODON_TOKEN, "HOOK_URL": f"{self.servers.hook.url}/hook",
                    "HOOK_SECRET": HOOK_SECRET, "PYTHONPATH": str(ROOT), "GITHUB_STEP_SUMMARY": "",
                    "GIT_AUTHOR_NAME": "newsroom", "GIT_AUTHOR_EMAIL": "newsroom@news.test",
                    "GIT_COMMITTER_NAME": "newsroom", "GIT_COMMITTER_EMAIL": "newsroom@news.test"})
        env.pop("CI", None)
        return env

    def publish(self, *args: str, crash_at: str | None = None, trace: Path | None = None, now: str = T,
                timeout: float = 60) -> subprocess.CompletedProcess:
        env = self.env
        if crash_at:
            env["NEWSROOM_CRASH_AT"] = crash_at
        if trace:
            env["NEWSROOM_CRASH_TRACE"] = str(trace)
        return self.cli("publish", "--now", now, *args, env=env, timeout=timeout)

    def cli(self, *args: str, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(ROOT / "publish.py"), "--root", str(self.root), *args],
                              cwd=self.root, env=env or self.env, capture_output=True, text=True, timeout=timeout)

    def ledger(self) -> list[dict]:
        path = self.root / "state" / "ledger.jsonl"
        if not path.exists():
            return []
        out = []
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
        return out

    def delivered(self) -> set[str]:
        """Entry keys whose last word in the ledger is ``delivered``."""
        state: dict[str, str] = {}
        for e in self.ledger():
            if e.get("event") in ("claimed", "delivered", "failed", "missed", "released"):
                if state.get(e["entry"]) == "delivered" and e["event"] in ("claimed", "failed"):
                    continue
                state[e["entry"]] = e["event"]
        return {k for k, v in state.items() if v == "delivered"}

    # -- what really reached people -------------------------------------------------------
    def mails(self) -> list[str]:
        return self.servers.mailbox.recipients()

    def toots(self) -> list[str]:
        return [s["content"] for s in self.servers.mastodon.statuses.values()]

    def hooks(self) -> list[dict]:
        return [r.json() for r in self.servers.hook.requests if r.method == "POST"]

    def deployed(self) -> set[str]:
        """The files on the served branch of the bare repository the blog deploys to."""
        if self.remote is None:
            return set()
        out = subprocess.run(["git", "--git-dir", str(self.remote), "ls-tree", "-r", "--name-only", "gh-pages"],
                             capture_output=True, text=True)
        return set(out.stdout.split()) if out.returncode == 0 else set()


def make_project(root: Path, servers: Servers, titles=("Alpha",), *, deploy: bool = True,
                 recipients: int = len(RECIPIENTS)) -> Project:
    root.mkdir(parents=True)
    remote = None
    blog_deploy = ""
    if deploy:
        remote = root.parent / f"{root.name}-site.git"
        subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
        blog_deploy = textwrap.indent(f"deploy:\n  git: {remote}\n  branch: gh-pages\n", "    ")
    (root / "publish.yml").write_text(SETTINGS.format(smtp_port=servers.smtp.port, mastodon_url=servers.mastodon.url,
                                                      blog_deploy=blog_deploy), encoding="utf-8")
    (root / "audience").mkdir()
    (root / "audience" / "all.csv").write_text("email,name\n" + "".join(f"{a},Reader\n" for a in RECIPIENTS[:recipients]),
                                               encoding="utf-8")
    (root / "content").mkdir()
    for title in titles:
        (root / "content" / f"{title.lower()}.md").write_text(
            ITEM.format(title=title, channels="blog, newsletter, mastodon, hook"), encoding="utf-8")
    return Project(root, servers, remote)
