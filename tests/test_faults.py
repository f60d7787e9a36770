"""Fault injection: real ``publish`` processes against the loopback servers (SMTP, Mastodon, a
webhook receiver, the blog deployed with ``git`` to a bare repository), killed with SIGKILL at every
step boundary of a delivery (``NEWSROOM_CRASH_AT``, see newsroom/crashpoint.py), then run again.

Whatever the boundary: every recipient and every post reaches people exactly once, or is listed as
uncertain for a person (at most one message per kill); nothing is ever recorded delivered that did
not happen. After the person settles what was listed (looking at the servers, as a person would
look at the platform), one more run completes everything, still exactly once.
"""
from __future__ import annotations

import os
import signal
from collections import Counter

import pytest

from faults import RECIPIENTS, make_project, servers  # noqa: F401 -- servers: the module's fixture

pytestmark = pytest.mark.slow

# Every step boundary one run passes for one item on the four channels, in order: the blog first
# (the others link to its page, so they wait for it), recorded once its site is deployed; then the
# newsletter (three recipients, two a batch), Mastodon and the webhook; then the blog's site again,
# with the new "also on" links. A boundary added to the code shows up in the trace test below and
# must be added here.
EMAIL = ["email.batch-started#1", "email.in-flight#1", "email.accepted#1", "email.journaled#1",
         "email.in-flight#2", "email.accepted#2", "email.journaled#2", "email.batch-done#1",
         "email.batch-started#2", "email.in-flight#3", "email.accepted#3", "email.journaled#3",
         "email.batch-done#2"]
BOUNDARIES = (["run.claimed#1", "run.answered#1", "blog.built#1", "blog.deployed#1", "blog.recorded#1"]  # blog
              + ["run.claimed#2"] + EMAIL + ["run.answered#2", "run.recorded#1"]  # newsletter
              + ["run.claimed#3", "run.answered#3", "run.recorded#2"]  # mastodon
              + ["run.claimed#4", "run.answered#4", "run.recorded#3"]  # webhook
              + ["blog.built#2", "blog.deployed#2"])  # the site again, with the "also on" links


# Where the suite kills: every kind of boundary, at each position that differs (first and second
# batch, mid-batch, each channel after its answer, both site builds): 19 of the 30. The others repeat
# one of these for another message or channel; NEWSROOM_FAULTS_ALL=1 kills at all 30.
KILLS = BOUNDARIES if os.environ.get("NEWSROOM_FAULTS_ALL") else [
    "run.claimed#1", "run.answered#1", "blog.built#1", "blog.deployed#1", "blog.recorded#1", "run.claimed#2",
    "email.batch-started#1", "email.in-flight#1", "email.accepted#1", "email.journaled#1", "email.in-flight#2",
    "email.batch-done#1", "email.batch-started#2", "email.accepted#3", "run.answered#2", "run.recorded#1",
    "run.answered#3", "run.answered#4", "blog.built#2"]


@pytest.fixture
def newsroom(tmp_path, servers):
    servers.clear()
    return make_project(tmp_path / "p", servers, recipients=3)


def test_the_trace_names_every_boundary_in_order(newsroom, tmp_path):
    trace = tmp_path / "trace"
    done = newsroom.publish(trace=trace)
    assert done.returncode == 0, done.stdout + done.stderr
    assert trace.read_text().split() == BOUNDARIES
    assert_exactly_once(newsroom)


def waiting_for_a_person(newsroom) -> dict[str, str]:
    """channel → the error shown to a person, from ``status --format json``."""
    import json

    status = newsroom.cli("status", "--format", "json")
    assert status.returncode in (0, 1), status.stderr
    return {name: row["needs_person"][0]["error"] for name, row in json.loads(status.stdout)["channels"].items()
            if row["needs_person"]}


def settle(newsroom, listed: dict[str, str]) -> None:
    """What a person does with the entries listed for them: look at the server, then resolve."""
    for channel in listed:
        got_it = {"newsletter": lambda: len(newsroom.mails()) == 3, "hook": lambda: len(newsroom.hooks()) == 1,
                  "mastodon": lambda: len(newsroom.toots()) == 1}[channel]()
        r = newsroom.cli("resolve", f"content/alpha.md:{channel}", "--sent" if got_it else "--not-sent")
        assert r.returncode == 0, r.stdout + r.stderr


def assert_nothing_false_recorded(newsroom) -> None:
    delivered = newsroom.delivered()
    if "alpha/newsletter" in delivered:
        assert sorted(set(newsroom.mails())) == RECIPIENTS[:3]
    if "alpha/mastodon" in delivered:
        assert len(newsroom.toots()) == 1
    if "alpha/hook" in delivered:
        assert len(newsroom.hooks()) == 1
    if "alpha/blog" in delivered:
        assert (newsroom.root / "public" / "alpha" / "index.html").is_file()
        assert "alpha/index.html" in newsroom.deployed()


def assert_exactly_once(newsroom) -> None:
    assert Counter(newsroom.mails()) == Counter(RECIPIENTS[:3])
    assert len(newsroom.toots()) == 1
    assert len(newsroom.hooks()) == 1
    assert "alpha/index.html" in newsroom.deployed() and ".newsroom-blog.json" not in newsroom.deployed()
    assert newsroom.delivered() == {"alpha/blog", "alpha/newsletter", "alpha/mastodon", "alpha/hook"}


@pytest.mark.parametrize("boundary", KILLS)
def test_killed_at_a_boundary_then_run_again(newsroom, boundary):
    killed = newsroom.publish(crash_at=boundary)
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    assert_nothing_false_recorded(newsroom)
    assert max(Counter(newsroom.mails()).values(), default=0) <= 1

    again = newsroom.publish(now="2026-11-20T09:10:00Z")
    assert "Traceback" not in again.stderr, again.stderr
    assert_nothing_false_recorded(newsroom)
    assert max(Counter(newsroom.mails()).values(), default=0) <= 1 and len(newsroom.toots()) <= 1
    assert len(newsroom.hooks()) <= 1
    listed = waiting_for_a_person(newsroom)
    assert len(listed) <= 1, listed  # a kill leaves at most one thing for a person
    if len(set(newsroom.mails())) < 3:  # a recipient not mailed is listed for a person, never counted as sent
        assert listed["newsletter"].startswith("1 recipient uncertain: resolve (publish.py resolve "
                                               "content/alpha.md:newsletter --sent if they got it, --not-sent to "
                                               "send to them)"), listed
    if not listed:
        assert again.returncode == 0, again.stdout + again.stderr
        assert_exactly_once(newsroom)
        return
    assert again.returncode == 1
    settle(newsroom, listed)
    final = newsroom.publish(now="2026-11-20T09:20:00Z")
    assert final.returncode == 0, final.stdout + final.stderr
    assert_exactly_once(newsroom)


# The boundaries of a run that withdraws the page of an item whose file was deleted: the site
# without it is built, deployed, then the withdrawal recorded.
WITHDRAWING = ["blog.built#1", "blog.deployed#1", "blog.recorded#1"]


def served(newsroom, path: str) -> str:
    """A file as the deployed site serves it (the served branch of the bare repository)."""
    import subprocess

    out = subprocess.run(["git", "--git-dir", str(newsroom.remote), "show", f"gh-pages:{path}"],
                         capture_output=True, text=True)
    return out.stdout if out.returncode == 0 else ""


def test_the_trace_of_a_deleted_items_withdrawal(newsroom, tmp_path):
    assert newsroom.publish().returncode == 0
    (newsroom.root / "content" / "alpha.md").unlink()
    trace = tmp_path / "trace"
    done = newsroom.publish(trace=trace, now="2026-11-20T09:10:00Z")
    assert done.returncode == 0, done.stdout + done.stderr
    assert trace.read_text().split() == WITHDRAWING


@pytest.mark.parametrize("boundary", WITHDRAWING)
def test_a_deleted_items_withdrawal_killed_at_a_boundary_then_run_again(newsroom, boundary):
    """Recorded withdrawn only once the site without the page is deployed, and recorded exactly once;
    the posts on the other channels stay."""
    assert newsroom.publish().returncode == 0
    (newsroom.root / "content" / "alpha.md").unlink()
    killed = newsroom.publish(crash_at=boundary, now="2026-11-20T09:10:00Z")
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr

    def withdrawals() -> list[str]:
        return [e["entry"] for e in newsroom.ledger() if e["event"] == "withdrawn"]

    if withdrawals():  # never before the site people see says so
        assert "This page was withdrawn" in served(newsroom, "alpha/index.html")
    again = newsroom.publish(now="2026-11-20T09:20:00Z")
    assert again.returncode == 0 and "Traceback" not in again.stderr, again.stdout + again.stderr
    assert withdrawals() == ["alpha/blog"]
    assert "This page was withdrawn" in served(newsroom, "alpha/index.html")
    assert newsroom.publish(now="2026-11-20T09:30:00Z").returncode == 0
    assert withdrawals() == ["alpha/blog"]  # once
    assert len(newsroom.toots()) == 1 and len(newsroom.hooks()) == 1
    assert newsroom.delivered() >= {"alpha/newsletter", "alpha/mastodon", "alpha/hook"}
