"""Workflow notifications end to end: a real git repository in a temporary folder, real ``publish``
processes, the Slack loopback server, a real SMTP server on loopback (aiosmtpd), Discord's and a
signed webhook's loopback servers; exactly once across doubled and killed runs, on the files and on
PostgreSQL."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

import mailserver
from conftest import ROOT
from hookserver import Answer, HookServer

SLACK_PATH = "/services/T0001/B0002/XXXXsecretXXXX"
NOW = "2026-12-01T08:00:00Z"

SETTINGS = """\
site:
  title: Notify Newsroom
  url: https://news.test
timezone: Europe/Berlin
channels:
  blog:
    type: blog
  team:
    type: slack
    webhook: env:SLACK_HOOK
  mail:
    type: email
    host: 127.0.0.1
    port: {port}
    security: none
    from: "Newsroom <news@news.test>"
    unsubscribe_url: https://news.test/u/{{token}}
workflow:
  people:
    Dana: {{slack: U024BE7LH, email: dana@example.org}}
    Lee: {{slack: U0LEE0001, email: lee@example.org}}
    Sam: {{email: sam@example.org}}
  approvers: [Dana]
  editor: Dana
  notify: [team, mail]
  states:
    - draft
    - review
    - {{name: legal-review, approval: true, approvers: [Lee]}}
    - cleared
"""


def item_text(status: str, *, approved_by: str | None = None, at: str = "2026-12-20T09:00", title="Autumn launch",
              author: str | None = "Sam") -> str:
    lines = [f"title: {title}", f"status: {status}"]
    if author:
        lines.append(f"author: {author}")
    if approved_by:
        lines.append(f"approved_by: {approved_by}")
    lines += [f"publish_at: {at}", "channels: [blog]"]
    return "---\n" + "\n".join(lines) + "\n---\nBody.\n"


class Repo:
    """A content repository with its own git history, and the servers its notifications go to."""

    def __init__(self, root: Path, slack: HookServer, box: mailserver.Mailbox, port: int, settings: str = SETTINGS,
                 db: str | None = None):
        self.root, self.slack, self.box, self.db = root, slack, box, db
        root.mkdir(parents=True, exist_ok=True)
        text = settings.format(port=port)
        if db:  # on a PostgreSQL database, as this repository's own project in it
            text += f"state:\n  backend: postgres\n  url: env:DATABASE_URL\n  project: {root.name}\n"
        (root / "publish.yml").write_text(text, encoding="utf-8")
        (root / ".gitignore").write_text("state/\noutbox/\npublic/\n.cache/\n", encoding="utf-8")
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.email", "editor@news.test")
        self.git("config", "user.name", "Editor")

    def git(self, *args: str) -> str:
        return subprocess.run(["git", "-C", str(self.root), *args], check=True, capture_output=True,
                              text=True).stdout

    def commit(self, message: str, **files: str) -> str:
        for rel, text in files.items():
            path = self.root / "content" / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD").strip()

    def env(self, **extra: str) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSROOM_CRASH", "GITHUB_"))}
        env.pop("CI", None)
        return {**env, "SLACK_HOOK": self.slack.base + SLACK_PATH, **({"DATABASE_URL": self.db} if self.db else {}),
                **extra}

    def run(self, *args: str, now: str = NOW, env: dict | None = None, timeout: float = 60):
        return subprocess.run([sys.executable, str(ROOT / "publish.py"), "--root", str(self.root), *args,
                               "--now", now], env=env or self.env(), capture_output=True, text=True, timeout=timeout)

    def notify(self, **kw):
        done = self.run("notify", "--format", "json", **kw)
        assert done.returncode in (0, 1), done.stderr
        return json.loads(done.stdout)

    def slacked(self) -> list[str]:
        return [r.json()["text"] for r in self.slack.requests]

    def mailed(self) -> list[tuple[str, str, str]]:
        return [(m["To"], m["Subject"], m.get_content().replace("\r\n", "\n").strip())
                for m in self.box.parsed()]  # lines end in CRLF on the wire

    def events(self, kind: str) -> list[dict]:
        if self.db:
            from newsroom.state import open_store

            store = open_store(self.root, {"backend": "postgres", "url": self.db, "project": self.root.name})
            return [e for e in store.events() if e.get("event") == kind]
        path = self.root / "state" / "ledger.jsonl"
        if not path.exists():
            return []
        return [e for e in map(json.loads, path.read_text().splitlines()) if e.get("event") == kind]


@pytest.fixture
def db(request):
    """The state store: the files (None), or a real PostgreSQL database (its URL) when the test asks."""
    return request.getfixturevalue("pg_url") if getattr(request, "param", "files") == "postgres" else None


STORES = pytest.mark.parametrize("db", ["files", "postgres"], indirect=True)


@pytest.fixture
def repo(tmp_path, db):
    box = mailserver.Mailbox()
    controller = mailserver.start(box)
    slack = HookServer(respond=lambda seen: Answer(200, "ok")).start()
    try:
        yield Repo(tmp_path / "newsroom", slack, box, controller.port, db=db)
    finally:
        slack.stop()
        controller.stop()


@STORES
def test_approvers_then_the_author_are_told_once_per_transition(repo):
    repo.commit("Start the autumn launch", **{"2026/autumn.md": item_text("draft")})
    first = repo.notify()
    assert first["told"] == [] and first["notes"] == [
        f"notifications: starting from commit {first['head'][:12]}; changes before it are not told"]

    review = repo.commit("Autumn launch ready for review", **{"2026/autumn.md": item_text("review")})
    got = repo.notify()
    assert [(t["result"], t["via"], t["to"]) for t in got["told"]] == [
        ("sent", "team", "Dana"), ("sent", "mail", "dana@example.org")]
    assert repo.slacked() == ['<@U024BE7LH>: "Autumn launch" by Sam is waiting for approval in review '
                              '(content/2026/autumn.md).']
    assert repo.mailed() == [("Dana <dana@example.org>", "Waiting for approval: Autumn launch",
                              'Dana,\n\n"Autumn launch" by Sam is waiting for approval in review '
                              '(content/2026/autumn.md).')]
    raw = repo.box.messages[0][2].decode()  # readable as it travels and as an outbox keeps it
    assert "Content-Transfer-Encoding: quoted-printable" in raw and '"Autumn launch" by Sam is waiting' in raw
    assert got["mark"] == review

    again = repo.notify()  # nothing new: nobody is told twice
    assert again["told"] == [] and len(repo.slacked()) == 1 and len(repo.box.messages) == 1

    # Two commits between runs: each transition is told, in order.
    repo.commit("Dana approves; on to legal", **{"2026/autumn.md": item_text("legal-review")})
    repo.commit("Legal sends it back", **{"2026/autumn.md": item_text("draft")})
    repo.notify()
    assert repo.slacked()[1:] == [
        '<@U0LEE0001>: "Autumn launch" by Sam is waiting for approval in legal-review (content/2026/autumn.md).',
        'Sam: "Autumn launch" was approved in review: it is now legal-review (content/2026/autumn.md).',
        'Sam: "Autumn launch" was sent back from legal-review to draft (content/2026/autumn.md).']
    assert [(to, subject) for to, subject, _ in repo.mailed()[1:]] == [
        ("Lee <lee@example.org>", "Waiting for approval: Autumn launch"),
        ("Sam <sam@example.org>", "Approved: Autumn launch"),
        ("Sam <sam@example.org>", "Sent back: Autumn launch")]

    repo.commit("Back to legal", **{"2026/autumn.md": item_text("legal-review")})
    repo.commit("Cleared", **{"2026/autumn.md": item_text("cleared", approved_by="Lee")})
    repo.notify()
    assert repo.slacked()[-1] == ('Sam: "Autumn launch" was approved in legal-review by Lee: it is now cleared '
                                  '(content/2026/autumn.md).')
    assert repo.notify()["told"] == []
    claims = [e["notification"] for e in repo.events("notified")]
    assert len(claims) == len(set(claims)) == len(repo.slacked()) + len(repo.box.messages)


def test_the_editor_is_told_once_when_a_due_entry_is_not_approved_within_lead_time(repo):
    repo.commit("An item for next week", **{"a.md": item_text("review", at="2026-12-02T09:00")})
    repo.notify(now="2026-11-28T08:00:00Z")  # four days before: not yet
    assert repo.slacked() == []
    repo.notify(now="2026-11-30T10:00:00Z")  # within the 48 hours of lead time
    reminder = ('<@U024BE7LH>: "Autumn launch" is still review but goes out on blog at 2026-12-02 09:00 '
                '(lead time 2d; content/a.md): approve it or move it.')
    assert repo.slacked() == [reminder]
    repo.notify(now="2026-11-30T14:00:00Z")
    assert repo.slacked() == [reminder]
    repo.commit("Moved to Thursday", **{"a.md": item_text("review", at="2026-12-03T09:00")})
    repo.notify(now="2026-12-01T10:00:00Z")  # a new time: a new reminder
    assert len(repo.slacked()) == 2 and "2026-12-03 09:00" in repo.slacked()[1]
    repo.commit("Approved", **{"a.md": item_text("cleared", at="2026-12-03T09:00", approved_by="Lee")})
    repo.notify(now="2026-12-02T10:00:00Z")
    assert not any("still" in text for text in repo.slacked()[2:])


def test_a_refused_message_is_tried_again_by_the_next_run_and_sent_once(repo):
    repo.commit("one", **{"a.md": item_text("draft")})
    start = repo.notify()["head"]
    repo.slack.queue(Answer(500, "rollup_error"), Answer(500, "rollup_error"))
    repo.commit("two", **{"a.md": item_text("review")})
    got = repo.notify()
    assert [(t["via"], t["result"]) for t in got["told"]] == [("team", "failed"), ("mail", "sent")]
    assert got["told"][0]["detail"] == "HTTP 500: rollup_error; the next run tries again"
    assert got["mark"] == start  # the commit is not passed while one of its messages is owed
    later = repo.notify()
    assert [(t["via"], t["result"]) for t in later["told"]] == [("team", "sent")]
    assert len(repo.slacked()) == 3 and len(repo.box.messages) == 1  # two refused tries, one message


def test_an_author_without_an_address_is_named_on_chat_and_said_skipped_on_email(repo):
    repo.commit("one", **{"a.md": item_text("review", author="Kim")})
    repo.notify()
    repo.commit("two", **{"a.md": item_text("draft", author="Kim")})
    got = repo.notify()
    assert [(t["via"], t["result"], t["detail"]) for t in got["told"]] == [
        ("team", "sent", "Sent back: Autumn launch"), ("mail", "skipped", "Kim has no email in workflow.people")]
    assert repo.slacked() == ['Kim: "Autumn launch" was sent back from review to draft (content/a.md).']


@STORES
def test_a_doubled_run_tells_nobody_twice(repo):
    repo.commit("one", **{"a.md": item_text("draft"), "b.md": item_text("draft", title="Winter sale")})
    repo.notify()
    repo.commit("two", **{"a.md": item_text("review"), "b.md": item_text("review", title="Winter sale")})
    repo.slack.respond = lambda seen: Answer(200, "ok", delay=0.4)  # slow: the runs overlap
    runs = [subprocess.Popen([sys.executable, str(ROOT / "publish.py"), "--root", str(repo.root), "notify",
                              "--now", NOW], env=repo.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(2)]
    for p in runs:
        p.communicate(timeout=60)
    assert sorted(repo.slacked()) == sorted([
        '<@U024BE7LH>: "Autumn launch" by Sam is waiting for approval in review (content/a.md).',
        '<@U024BE7LH>: "Winter sale" by Sam is waiting for approval in review (content/b.md).'])
    assert len(repo.box.messages) == 2


def _boundaries(repo: Repo, tmp_path: Path) -> list[str]:
    trace = tmp_path / "trace.txt"
    done = repo.run("notify", env=repo.env(NEWSROOM_CRASH_TRACE=str(trace)))
    assert done.returncode == 0, done.stderr
    return [b for b in trace.read_text().split() if b.startswith("notify.")]


@STORES
def test_a_run_killed_at_each_step_tells_nobody_twice_and_says_what_may_have_arrived(tmp_path, db):
    box = mailserver.Mailbox()
    controller = mailserver.start(box)
    slack = HookServer(respond=lambda seen: Answer(200, "ok")).start()
    try:
        learn = Repo(tmp_path / "learn", slack, box, controller.port, db=db)
        learn.commit("one", **{"a.md": item_text("draft")})
        learn.notify()
        learn.commit("two", **{"a.md": item_text("review")})
        boundaries = _boundaries(learn, tmp_path)
        assert boundaries == ["notify.claimed#1", "notify.sent#1", "notify.recorded#1", "notify.claimed#2",
                              "notify.sent#2", "notify.recorded#2", "notify.marked#1"]
        for n, boundary in enumerate(boundaries):
            slack.requests.clear()
            box.messages.clear()
            repo = Repo(tmp_path / f"crash{n}", slack, box, controller.port, db=db)
            repo.commit("one", **{"a.md": item_text("draft")})
            repo.notify()
            repo.commit("two", **{"a.md": item_text("review")})
            killed = repo.run("notify", env=repo.env(NEWSROOM_CRASH_AT=boundary))
            assert killed.returncode == -9, (boundary, killed.stderr)
            after = repo.notify()
            assert repo.notify()["told"] == []  # and a third run has nothing left to do
            assert len(repo.slacked()) <= 1 and len(box.messages) <= 1, boundary
            results = {t["via"]: t["result"] for t in after["told"]}
            # Killed right after a claim, nothing was sent, but no run can know that: it stays untold.
            chat_sent, mail_sent = boundary != "notify.claimed#1", boundary != "notify.claimed#2"
            assert (len(repo.slacked()), len(box.messages)) == (int(chat_sent), int(mail_sent)), boundary
            # What was claimed and never recorded may have arrived: shown, not sent again.
            if boundary in ("notify.claimed#1", "notify.sent#1"):
                assert results["team"] == "uncertain", boundary
            if boundary in ("notify.claimed#2", "notify.sent#2"):
                assert results["mail"] == "uncertain", boundary
            if boundary in ("notify.recorded#2", "notify.marked#1"):
                assert after["told"] == [], boundary
    finally:
        slack.stop()
        controller.stop()


def test_the_publish_run_notifies_too(repo):
    repo.commit("one", **{"a.md": item_text("draft")})
    assert repo.run("publish").returncode == 0
    repo.commit("two", **{"a.md": item_text("review")})
    done = repo.run("publish")
    assert done.returncode == 0, done.stderr
    assert "notification sent via team: " in done.stdout + done.stderr
    assert len(repo.slacked()) == 1 and len(repo.box.messages) == 1


def test_discord_mentions_and_the_webhooks_facts(tmp_path):
    from servers.discord import DiscordServer

    settings = SETTINGS.replace("""  team:
    type: slack
    webhook: env:SLACK_HOOK
""", """  team:
    type: discord
    webhook: env:DISCORD_HOOK
  hook:
    type: webhook
    url: env:HOOK_URL
    signing_secret: env:HOOK_SECRET
""").replace("notify: [team, mail]", "notify: [team, hook]").replace(
        "Dana: {{slack: U024BE7LH,", "Dana: {{discord: '80351110224678912',")
    with DiscordServer() as discord, HookServer(respond=lambda seen: Answer(200, {"id": "h1"})) as hook:
        box = mailserver.Mailbox()
        repo = Repo(tmp_path / "newsroom", hook, box, 25, settings=settings)
        env = repo.env(DISCORD_HOOK=discord.webhook_url, HOOK_URL=hook.base + "/hooks/in", HOOK_SECRET="s3cret")
        repo.commit("one", **{"a.md": item_text("draft")})
        assert repo.run("notify", env=env).returncode == 0
        repo.commit("two", **{"a.md": item_text("review")})
        done = repo.run("notify", "--format", "json", env=env)
        assert done.returncode == 0, done.stderr + done.stdout
        (sent,) = [s for s in discord.seen if s.method == "POST"]
        body = json.loads(sent.body)
        assert body["content"] == ('<@80351110224678912>: "Autumn launch" by Sam is waiting for approval in review '
                                   '(content/a.md).')
        assert body["allowed_mentions"] == {"parse": [], "users": ["80351110224678912"]}
        (delivery,) = hook.requests
        payload = delivery.json()
        assert {k: payload[k] for k in ("event", "item", "path", "from", "to", "recipients", "author", "channel")} == {
            "event": "workflow.review", "item": "a", "path": "content/a.md", "from": "draft", "to": "review",
            "recipients": [{"name": "Dana", "slack": None, "discord": "80351110224678912", "email": "dana@example.org"}],
            "author": "Sam", "channel": "hook"}
        assert delivery.headers["X-Newsroom-Signature"]  # signed as every webhook delivery is


def test_dry_run_says_who_would_be_told_and_records_nothing(repo):
    repo.commit("one", **{"a.md": item_text("draft")})
    repo.notify()
    repo.commit("two", **{"a.md": item_text("review")})
    done = repo.run("notify", "--dry-run")
    assert done.stdout.splitlines() == [
        f"would-send team         {repo.git('rev-parse', 'HEAD')[:12]}/a/draft->review/review → Dana "
        "(Waiting for approval: Autumn launch)",
        f"would-send mail         {repo.git('rev-parse', 'HEAD')[:12]}/a/draft->review/review → dana@example.org "
        "(Waiting for approval: Autumn launch)"]
    assert repo.slacked() == [] and repo.events("notify_claimed") == []
    assert len(repo.notify()["told"]) == 2


def test_a_moved_file_is_the_same_item_and_tells_nobody_again(repo):
    repo.commit("one", **{"2026/11/a.md": item_text("review")})
    repo.notify()
    (repo.root / "content/2026/11/a.md").rename(repo.root / "content/autumn.md")
    text = (repo.root / "content/autumn.md").read_text().replace("author: Sam", "author: Sam\nslug: a")
    (repo.root / "content/autumn.md").write_text(text)
    repo.commit("Moved, still in review")
    assert repo.notify()["told"] == [] and repo.slacked() == []
    repo.commit("Sent back", **{"autumn.md": item_text("draft").replace("author: Sam", "author: Sam\nslug: a")})
    assert [t["result"] for t in repo.notify()["told"]] == ["sent", "sent"]
    assert repo.slacked() == ['Sam: "Autumn launch" was sent back from review to draft (content/autumn.md).']
