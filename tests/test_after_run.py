"""Posts wait for the blog: a loopback public site stands in for the host the blog is deployed to,
answering 404 until the deploy has happened and for a while after (a CDN), then 200; the entries
that link to the page go out after it answers, exactly once, and are held and reported when it never
does. Real HTTP on loopback throughout: the site, and the channel the posts go to."""
from __future__ import annotations

import json
import shutil

import pytest

from conftest import item
from publishing import Newsroom
from servers.site import Site
from servers.testchannel import ChannelServer, register

T = "2026-11-20T09:00:00Z"

SETTINGS = """\
site:
  title: Test Newsroom
  url: {site}
timezone: UTC
dependencies:
  live_wait: {wait}
channels:
  blog:
    type: blog
  social:
    type: testchannel
    url: {url}/social
    token: env:TC_TOKEN
    timeout: "0.5"
  chat:
    type: testchannel
    url: {url}/chat
    token: env:TC_TOKEN
    timeout: "0.5"
  alerts:
    type: testchannel
    url: {url}/alerts
    token: env:TC_TOKEN
alerts:
  channel: alerts
"""


def approved(title, channels, at="2026-11-20T09:00"):
    return item(title, status="approved", approved_by="editor", author="writer", publish_at=at, channels=channels)


@pytest.fixture
def server():
    with ChannelServer() as s:
        yield s


@pytest.fixture
def newsroom(tmp_path, server, monkeypatch):
    """``newsroom(files, site=…)`` → a project whose public site is the loopback ``site``."""
    register(monkeypatch)

    def make(files, *, site: Site, wait: str = "5s", settings: str = SETTINGS, template: str | None = None):
        from conftest import write_project

        root = tmp_path / "p"
        files = {"templates/testchannel/post.j2": template or "{{ title }}\n\n{{ link }}\n", **files}
        write_project(root, files, settings.format(site=site.url, url=server.url, wait=wait))
        return Newsroom(root, server)

    return make


def social_posts(server):
    return [p["item"] for p in server.posts_for("social")]


def test_a_post_goes_out_once_the_deployed_page_answers_after_the_cdn_lag(newsroom, server, tmp_path):
    with Site(tmp_path / "p" / "public", lag=0.5) as site:
        n = newsroom({"content/a.md": approved("A", ["blog", "social"])}, site=site)
        result = n.run("publish", now=T)
        assert result.exit_code == 0, result.output
        assert result.output.splitlines()[:2] == [f"delivered  content/a.md → blog  {site.url}/a/",
                                                  f"delivered  content/a.md → social  {server.url}/social/posts/1"]
        statuses = site.statuses("/a/")
        assert statuses[0] == 404 and statuses[-1] == 200 and 200 not in statuses[:-1]
        # in the ledger: the blog, then its page seen answering, then (only then) the post claimed
        kinds = [(e["event"], e["entry"]) for e in n.ledger() if e["event"] in ("delivered", "live", "claimed")]
        assert kinds == [("claimed", "a/blog"), ("delivered", "a/blog"), ("live", "a/blog"),
                         ("claimed", "a/social"), ("delivered", "a/social")]
        assert n.events("live")[0]["url"] == f"{site.url}/a/"
        again = n.run("publish", now="2026-11-20T09:05:00Z")
        assert again.exit_code == 0 and again.output.startswith("Nothing due")
        assert social_posts(server) == ["a"]
        assert site.statuses("/a/")[-1] == 200 and len(site.statuses("/a/")) == len(statuses)  # not asked again


def test_a_deploy_between_runs_releases_the_post_on_the_next_run_exactly_once(newsroom, server, tmp_path):
    deployed = tmp_path / "deployed"
    deployed.mkdir()
    with Site(deployed) as site:
        n = newsroom({"content/a.md": approved("A", ["blog", "social"])}, site=site, wait="1s")
        first = n.run("publish", now=T)
        assert first.exit_code == 0, first.output
        assert first.output.splitlines()[1] == (
            f"waiting    content/a.md → social  waits for the page of blog to answer ({site.url}/a/); "
            "a later run sends it once it is")
        assert f"note: blog: {site.url}/a/ answers 404" in first.output
        assert social_posts(server) == []
        shutil.copytree(n.root / "public", deployed, dirs_exist_ok=True)  # the deploy, after the run
        second = n.run("publish", now="2026-11-20T09:15:00Z")
        assert second.output.splitlines()[0] == f"delivered  content/a.md → social  {server.url}/social/posts/1"
        third = n.run("publish", now="2026-11-20T09:30:00Z")
        assert third.output.startswith("Nothing due")
        assert social_posts(server) == ["a"]


def test_a_deploy_that_never_comes_holds_the_post_and_reports_it(newsroom, server, tmp_path, cli):
    (tmp_path / "empty").mkdir()
    with Site(tmp_path / "empty") as site:
        n = newsroom({"content/a.md": approved("A", ["blog", "social", "chat"])}, site=site, wait="1s")
        first = n.run("publish", now=T)
        assert first.exit_code == 0
        assert "waiting    content/a.md → social  waits for the page of blog" in first.output
        assert "waiting    content/a.md → chat  waits for the page of blog" in first.output
        # inside the 30-minute window, each run asks again
        asked = len(site.statuses("/a/"))
        assert n.run("publish", now="2026-11-20T09:20:00Z").exit_code == 0
        assert len(site.statuses("/a/")) > asked
        late = n.run("publish", now="2026-11-20T09:31:00Z")
        assert late.exit_code == 1
        assert late.output.splitlines()[:2] == [
            f"HELD       content/a.md → social  held by blog: its page {site.url}/a/ did not answer within 30m of "
            "its delivery; not sent (send it anyway with publish.py publish --only content/a.md:social --force)",
            f"HELD       content/a.md → chat  held by blog: its page {site.url}/a/ did not answer within 30m of its "
            "delivery; not sent (send it anyway with publish.py publish --only content/a.md:chat --force)"]
        assert late.output.splitlines()[-1] == "2 held by a dependency."
        held = n.events("held")
        assert sorted(e["entry"] for e in held) == ["a/chat", "a/social"] and held[0]["dependency"] == "blog"
        # announced on the alert channel, once each
        alerts = [p["text"] for p in server.posts_for("alerts")]
        assert len(alerts) == 2 and alerts[0].startswith('Publishing problem: "A" held by a dependency on chat\n'
                                                         f"Error: held by blog: its page {site.url}/a/ did not answer")
        # reported once; the next runs leave it, and nothing was sent
        assert n.run("publish", now="2026-11-20T10:00:00Z").output.startswith("Nothing due")
        assert len(n.events("held")) == 2 and social_posts(server) == [] and server.posts_for("chat") == []
        assert len(server.posts_for("alerts")) == 2
        status = json.loads(n.run("status", "--format", "json").output)
        assert [r["path"] for r in status["channels"]["social"]["held"]] == ["content/a.md"]
        assert status["channels"]["social"]["held"][0]["reason"].startswith("held by blog: its page")
        text = n.run("status").output
        assert f"  held     content/a.md: held by blog: its page {site.url}/a/ did not answer within 30m" in text
        rows = json.loads(n.run("calendar", "--format", "json", "--since", "2026-11-20", "--until",
                                "2026-11-21").output)
        social = next(r for r in rows if r["key"] == "a/social")
        assert social["state"] == "held" and social["after"] == ["blog (links to its page)"]


def test_a_post_that_does_not_link_to_the_page_does_not_wait(newsroom, server, tmp_path):
    (tmp_path / "empty").mkdir()
    with Site(tmp_path / "empty") as site:
        n = newsroom({"content/a.md": approved("A", ["blog", "social"])}, site=site, wait="0s",
                     template="{{ title }} is out\n")
        result = n.run("publish", now=T)
        assert result.output.splitlines()[1] == f"delivered  content/a.md → social  {server.url}/social/posts/1"
        assert site.requests == []  # nobody waits for the page: it is not asked


def test_an_offset_after_the_blog_counts_from_its_delivery(newsroom, server, tmp_path):
    with Site(tmp_path / "p" / "public") as site:
        n = newsroom({"content/a.md": approved("A", {"blog": {}, "social": {"after": "blog", "at": "+30m"}})},
                     site=site)
        # the run that delivers the blog is two hours late: the post goes 30 minutes after that, not at 09:30
        assert n.run("publish", now="2026-11-20T11:00:00Z").output.splitlines()[0].startswith(
            "delivered  content/a.md → blog")
        assert social_posts(server) == []
        quiet = n.run("publish", now="2026-11-20T11:20:00Z")
        assert quiet.output == ("Nothing due at 2026-11-20 11:20 UTC; next: content/a.md on social at "
                                "2026-11-20 11:30 UTC.\n")
        assert n.run("publish", now="2026-11-20T11:31:00Z").output.splitlines()[0] == (
            f"delivered  content/a.md → social  {server.url}/social/posts/1")
        assert social_posts(server) == ["a"]


def test_a_dependency_that_fails_for_good_holds_its_dependents(newsroom, server, tmp_path):
    settings = SETTINGS.replace("dependencies:\n", "dependencies:\n  live_check: false\n")
    with Site(tmp_path / "p" / "public") as site:
        n = newsroom({"content/a.md": approved("A", {"chat": {}, "social": {"after": "chat"}})}, site=site,
                     settings=settings)
        server.script("chat", "fail:422:channel archived")
        result = n.run("publish", now=T)
        assert result.exit_code == 1
        lines = result.output.splitlines()
        assert lines[0] == "FAILED     content/a.md → chat  HTTP 422: channel archived"
        assert lines[1] == ("HELD       content/a.md → social  held by chat: it failed for good (HTTP 422: channel "
                            "archived); not sent (send it anyway with publish.py publish --only content/a.md:social "
                            "--force)")
        assert social_posts(server) == []
        forced = n.run("publish", "--only", "content/a.md:social", "--force", now="2026-11-20T09:10:00Z")
        assert forced.output.splitlines()[0].startswith(f"delivered  content/a.md → social  {server.url}/social/posts/")
        assert social_posts(server) == ["a"]


def test_a_retryable_failure_of_the_dependency_keeps_the_dependent_waiting(newsroom, server, tmp_path, monkeypatch):
    import scheduler.run.core

    monkeypatch.setattr(scheduler.run.core, "pause", lambda seconds: None)  # the retries' backoff
    settings = SETTINGS.replace("dependencies:\n", "dependencies:\n  live_check: false\n")
    with Site(tmp_path / "p" / "public") as site:
        n = newsroom({"content/a.md": approved("A", {"chat": {}, "social": {"after": "chat"}})}, site=site,
                     settings=settings)
        server.script("chat", "fail:503", "fail:503", "fail:503", "fail:503")
        first = n.run("publish", "--budget", "0", now=T)
        assert "waiting    content/a.md → social  waits for chat (not delivered yet)" in first.output
        assert social_posts(server) == []
        second = n.run("publish", now="2026-11-20T09:15:00Z")
        assert second.output.splitlines()[:2] == [f"delivered  content/a.md → chat  {server.url}/chat/posts/1",
                                                  f"delivered  content/a.md → social  {server.url}/social/posts/2"]


def test_the_live_check_falls_back_to_get_and_follows_redirects_to_the_same_page_only(tmp_path):
    from channels import live

    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "index.html").write_text("<h1>A</h1>")
    with Site(tmp_path, head=False, redirects={"/a": "/a/", "/b/": "/", "/c/": "/c/"}) as site:
        answer = live.check(f"{site.url}/a")
        assert answer == live.Answer(True, "answers 200", 200, f"{site.url}/a/")
        # HEAD refused with 405, then GET; the redirect to /a/ is the same page
        assert site.requests == [("HEAD", "/a", 405), ("GET", "/a", 301), ("HEAD", "/a/", 405), ("GET", "/a/", 200)]
        assert live.check(f"{site.url}/b/") == live.Answer(False, f"redirects to {site.url}/, not to the page", 301,
                                                           f"{site.url}/b/")
        assert live.check(f"{site.url}/c/").detail == "redirects more than 5 times"
        assert live.check(f"{site.url}/missing/") == live.Answer(False, "answers 404", 404, f"{site.url}/missing/")
    closed = live.check(site.url + "/a/", timeout=0.5)  # the server is gone
    assert closed.live is False and closed.detail == "does not answer (connection refused or no such host)"


def test_waiting_for_the_page_is_bounded_by_the_wait_not_by_how_long_a_sleep_takes(tmp_path):
    from channels import live

    slept = []
    with Site(tmp_path) as site:
        answer, asked = live.wait_until_live(f"{site.url}/a/", within=10, sleep=slept.append,
                                             clock=lambda: 0.0)
    assert answer.detail == "answers 404" and slept == [1.0, 2.0, 4.0, 3.0] and asked == 5


def test_a_page_that_answers_between_runs_is_seen_before_its_dependents_are_due(newsroom, server, tmp_path):
    """The window counts from the blog's delivery: a run with nothing due still asks the page (the
    no-op shortcut must not skip it), so a post an hour later is not held."""
    deployed = tmp_path / "deployed"
    deployed.mkdir()
    with Site(deployed) as site:
        n = newsroom({"content/a.md": approved("A", {"blog": {}, "social": {"at": "+1h"}})}, site=site, wait="0s")
        assert n.run("publish", now=T).output.splitlines()[0].startswith("delivered  content/a.md → blog")
        assert n.events("live") == []
        shutil.copytree(n.root / "public", deployed, dirs_exist_ok=True)
        quiet = n.run("publish", now="2026-11-20T09:15:00Z")
        assert quiet.exit_code == 0 and [e["entry"] for e in n.events("live")] == ["a/blog"]
        assert n.run("publish", now="2026-11-20T10:00:00Z").output.splitlines()[0] == (
            f"delivered  content/a.md → social  {server.url}/social/posts/1")


def test_entries_in_a_cycle_are_held_not_left_waiting_for_ever(newsroom, server, tmp_path):
    with Site(tmp_path / "p" / "public") as site:
        n = newsroom({"content/a.md": approved("A", {"social": {"after": "chat"}, "chat": {"after": "social"}})},
                     site=site)
        result = n.run("publish", now=T)
        # the cycle is an error in check, so the run holds the item (the verdict both share), exit 2
        assert result.exit_code == 2
        held = "held on every channel: the item has errors (listed below); fix them and it goes out on the next run"
        cycle = ("dependency_cycle: social, which waits for chat, which waits for social: none of them can ever go "
                 "out; take one of them out of the after: of the other (held on chat, social)")
        assert result.output.splitlines()[:4] == [
            f"blocked    content/a.md → social  {held}", f"blocked    content/a.md → chat  {held}",
            f"note: content/a.md:7: channels.chat.after: {cycle}", f"note: content/a.md:7: channels.social.after: {cycle}"]
        assert server.posts_for("social") == [] and server.posts_for("chat") == []
