"""Corrections and withdrawals killed at every step boundary (``NEWSROOM_CRASH_AT``, as in
tests/test_faults.py): real ``publish`` processes against the loopback Mastodon server, SMTP, a
webhook receiver and the blog deployed with git, killed with SIGKILL between the claim, the
platform's answer and the record, then run again. Whatever the boundary, each platform changes
exactly once per revision and the ledger records each correction and withdrawal exactly once."""
from __future__ import annotations

import os
import signal
from collections import Counter

import pytest

from faults import ITEM, make_project, servers  # noqa: F401 -- servers: the module's fixture

pytestmark = pytest.mark.slow

T1 = "2026-11-21T09:00:00Z"
T2 = "2026-11-21T10:00:00Z"
# The correction run, in order: the blog (claimed and answered; recorded once its site is deployed),
# the hook (cannot edit: said once), Mastodon (claimed, answered, recorded), the newsletter (said
# once), then the site rebuilt and deployed with the correction.
CORRECTION = ["after.claimed#1", "after.answered#1", "after.claimed#2", "after.answered#2", "after.recorded#1",
              "blog.built#1", "blog.deployed#1", "blog.recorded#1"]


@pytest.fixture
def newsroom(tmp_path, servers):
    servers.clear()
    n = make_project(tmp_path / "p", servers, recipients=3)
    first = n.publish()
    assert first.returncode == 0, first.stdout + first.stderr
    return n


def rewrite(n, title="Alpha", **keys):
    text = ITEM.format(title=title, channels="blog, newsletter, mastodon, hook")
    extra = "".join(f"{k}: {v}\n" for k, v in keys.items())
    (n.root / "content" / "alpha.md").write_text(text.replace("---\nBody", extra + "---\nBody", 1)
                                                 if extra else text, encoding="utf-8")


def events(n, kind):
    return Counter(e["entry"] for e in n.ledger() if e["event"] == kind)


def test_the_trace_of_a_correction_names_every_boundary_in_order(newsroom, tmp_path):
    rewrite(newsroom, "Alpha, corrected")
    trace = tmp_path / "trace"
    done = newsroom.publish(trace=trace, now=T1)
    assert done.returncode == 0, done.stdout + done.stderr
    assert trace.read_text().split() == CORRECTION
    assert "corrected  content/alpha.md → mastodon" in done.stdout


# Every boundary with NEWSROOM_FAULTS_ALL=1; by default one of each kind (the suite runs on small machines).
ALL = bool(os.environ.get("NEWSROOM_FAULTS_ALL"))


@pytest.mark.parametrize("boundary", CORRECTION if ALL else ["after.answered#1", "after.recorded#1",
                                                              "blog.deployed#1"])
def test_a_correction_killed_at_a_boundary_is_applied_once(newsroom, boundary):
    (sid,) = newsroom.servers.mastodon.statuses
    rewrite(newsroom, "Alpha, corrected")
    killed = newsroom.publish(crash_at=boundary, now=T1)
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    again = newsroom.publish(now=T2)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Traceback" not in again.stderr

    history = newsroom.servers.mastodon.histories[sid]
    assert len(history) == 2 and "Alpha, corrected" in history[1]  # one edit, never two
    assert events(newsroom, "corrected") == Counter({"alpha/blog": 1, "alpha/mastodon": 1})
    assert events(newsroom, "changed") == Counter({"alpha/hook": 1, "alpha/newsletter": 1})  # said once
    assert len(newsroom.mails()) == 3 and len(newsroom.hooks()) == 1  # nothing sent again
    assert "alpha/index.html" in newsroom.deployed()
    page = (newsroom.root / "public" / "alpha" / "index.html").read_text()
    assert "Alpha, corrected" in page
    assert newsroom.publish(now="2026-11-21T11:00:00Z").stdout.startswith("Nothing due")


@pytest.mark.parametrize("boundary", CORRECTION if ALL else ["after.claimed#2", "after.answered#2", "blog.built#1",
                                                              "blog.recorded#1"])
def test_a_withdrawal_killed_at_a_boundary_deletes_once_and_is_recorded_once(newsroom, boundary):
    (sid,) = newsroom.servers.mastodon.statuses
    rewrite(newsroom, reason="Published by mistake.")
    (newsroom.root / "content" / "alpha.md").write_text(
        (newsroom.root / "content" / "alpha.md").read_text().replace("status: approved\n", "status: withdrawn\n"))
    killed = newsroom.publish(crash_at=boundary, now=T1)
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    again = newsroom.publish(now=T2)
    assert "Traceback" not in again.stderr, again.stderr
    assert again.returncode in (0, 1), again.stdout + again.stderr

    assert sid not in newsroom.servers.mastodon.statuses
    assert newsroom.servers.mastodon.deleted == [sid]  # asked again after the kill: the 404 counts as gone
    assert events(newsroom, "withdrawn") == Counter({"alpha/blog": 1, "alpha/mastodon": 1})
    assert events(newsroom, "withdraw-failed") == Counter({"alpha/hook": 1, "alpha/newsletter": 1})
    index = (newsroom.root / "public" / "index.html").read_text()
    assert "news.test/alpha/" not in index
    assert "Published by mistake." in (newsroom.root / "public" / "alpha" / "index.html").read_text()
    assert newsroom.publish(now="2026-11-21T11:00:00Z").stdout.startswith("Nothing due")
