"""Meta's limits on loopback: throttling as the rate-limiting guide describes it (the error code says
which budget is spent, the usage header of that budget, the Business Use Case wait in minutes), and the
daily publishing limits of Threads (250 posts, 1,000 replies: a thread's later parts) and Instagram (100
posts), asked before a post is made:
over the limit the entry waits for a later run, and `check` warns about a day planned past it."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from channels import registry
from channels.base import Failure, Media, Receipt
from channels.facebook import Facebook
from channels.instagram import Instagram
from channels.threads import Threads
from conftest import item, write_project
from tests.servers import channel, context, post
from tests.servers.facebook import PAGE_ID, FacebookServer
from tests.servers.instagram import IG_USER, InstagramServer
from tests.servers.site import Site
from tests.servers.threads import ThreadsServer

FIXTURES = Path(__file__).parent / "fixtures" / "social"


def threads(server):
    return channel(Threads, server, {"token": "env:T"}, {"T": "threads-token"})


def facebook(server):
    return channel(Facebook, server, {"page_id": PAGE_ID, "token": "env:T"}, {"T": "page-token"})


def instagram(server):
    return channel(Instagram, server, {"user_id": IG_USER, "token": "env:T"}, {"T": "page-token"})


def recorded(name):
    return json.loads((FIXTURES / f"{name}.json").read_text())["body"]


# -- throttling ---------------------------------------------------------------------------------------------
def test_the_page_limit_is_code_32_with_x_page_usage_and_no_time_to_wait():
    with FacebookServer() as server:
        server.throttle(code=32)
        failed = facebook(server).deliver(post(["Hello"], type="facebook"), context())
        answer = server.requests("/feed$")[0]
    assert failed == Failure("HTTP 400: (#32) Page request limit reached (code 32)", retryable=True, status=400)
    assert answer.method == "POST" and not server.posts


def test_a_read_pauses_a_minute_when_a_usage_header_says_the_budget_is_spent():
    with FacebookServer() as server:
        receipt = facebook(server).deliver(post(["Hello"], type="facebook"), context())
        a = facebook(server)
        waits = []
        a.gate.sleep, a.gate.clock = waits.append, lambda: 1000.0
        server.throttle(code=4)  # the application's limit: X-App-Usage at 100, no time given
        assert a.fetch_metrics([receipt])[receipt.remote_id]["likes"] == 0
    assert waits == [60.0]


def test_instagram_waits_the_business_use_case_minutes():
    with InstagramServer() as server:
        server.throttle(code=80002, minutes=7)
        failed = instagram(server).quota()
        assert isinstance(failed, Failure) and failed.retryable and failed.retry_after == 420.0
        assert failed.message == ("HTTP 400: (#80002) There have been too many calls to this Instagram account. Wait "
                                  "a bit and try again. (code 80002)")


def test_a_custom_limit_and_any_transient_error_are_tried_again():
    with ThreadsServer() as server:
        server.throttle(code=613)
        failed = threads(server).deliver(post(["x"], type="threads"), context())
        assert failed.retryable and failed.retry_after is None and "(code 613)" in failed.message
        # Instagram's "Instagram server error. Try again." (code -1, reference/error-codes) with is_transient
        server.fail(400, {"error": {"message": "Instagram server error. Try again.", "type": "OAuthException",
                                    "code": -1, "error_subcode": 2207001, "is_transient": True, "fbtrace_id": "AbC"}},
                    path="/me/threads$")
        assert threads(server).deliver(post(["y"], type="threads"), context()).retryable
        server.fail(400, {"error": {"message": "(#100) Invalid parameter", "type": "OAuthException", "code": 100,
                                    "is_transient": False, "fbtrace_id": "AbC"}}, path="/me/threads$")
        assert not threads(server).deliver(post(["z"], type="threads"), context()).retryable


# -- the daily publishing limits ------------------------------------------------------------------------------
def test_the_documented_usage_answers_are_read():
    with ThreadsServer() as server:
        server.fail(200, recorded("threads_publishing_limit"), path="/threads_publishing_limit$")
        assert threads(server).quota() == (4, 250)
        assert server.requests("/threads_publishing_limit$")[0].query["fields"] == ["quota_usage,config"]
        server.fail(200, recorded("threads_reply_publishing_limit"), path="/threads_publishing_limit$")
        assert threads(server).reply_quota() == (1, 1000)
        assert server.requests("/threads_publishing_limit$")[1].query["fields"] == ["reply_quota_usage,reply_config"]
    with InstagramServer() as server:
        server.fail(200, recorded("instagram_content_publishing_limit"), path="/content_publishing_limit$")
        assert instagram(server).quota() == (2, 50)


def test_threads_over_its_250_posts_waits_and_sends_nothing():
    with ThreadsServer() as server:
        server.published_before = 250
        waited = threads(server).deliver(post(["one more"], type="threads"), context())
        assert waited == Failure("the account published 250 posts through the API in the last 24 hours and Threads "
                                 "allows 250: the entry waits for a later run (nothing was sent)", retryable=True,
                                 waits=True)
        assert not server.requests(method="POST")
        server.published_before = 249
        assert isinstance(threads(server).deliver(post(["one more"], type="threads"), context()), Receipt)


def test_a_thread_waits_when_its_replies_would_pass_the_1000_a_day_and_is_never_left_half_posted():
    three = post(["First part", "Second part", "Third part"], type="threads")
    with ThreadsServer() as server:
        server.replied_before = 999  # two more replies would make 1,001
        waited = threads(server).deliver(three, context())
        assert waited == Failure("this thread of 3 parts needs 2 replies; the account published 999 replies through "
                                 "the API in the last 24 hours and Threads allows 1000: the entry waits for a later "
                                 "run (nothing was sent)", retryable=True, waits=True)
        assert not server.requests(method="POST")
        server.replied_before = 998
        assert isinstance(threads(server).deliver(three, context()), Receipt)
        assert [m["text"] for m in server.media] == ["First part", "Second part", "Third part"]
        # a post of one part needs no reply: the reply usage is not asked
        server.replied_before = 1000
        before = len(server.requests("/threads_publishing_limit$"))
        assert isinstance(threads(server).deliver(post(["Alone"], type="threads"), context()), Receipt)
        asked = [r.query["fields"] for r in server.requests("/threads_publishing_limit$")[before:]]
        assert asked == [["quota_usage,config"]]


def test_a_token_without_the_replies_permission_still_posts_its_thread():
    """The reply usage needs threads_manage_replies (retrieve-and-manage-replies): a refusal to tell it
    lets the thread go, as a refusal to tell the posts' usage does; the publish endpoint enforces the limit."""
    with ThreadsServer() as server:
        server.replied_before = 1000  # were it told, the thread would wait
        server.fail(200, recorded("threads_publishing_limit"), path="/threads_publishing_limit$")  # posts: 4 of 250
        server.fail(400, {"error": {"message": "(#10) Application does not have permission for this action",
                                    "type": "OAuthException", "code": 10, "fbtrace_id": "AbC"}},
                    path="/threads_publishing_limit$")  # replies: not told
        got = threads(server).deliver(post(["One", "Two"], type="threads"), context())
        assert isinstance(got, Receipt) and len(server.media) == 2
        assert [r.query["fields"] for r in server.requests("/threads_publishing_limit$")] == [
            ["quota_usage,config"], ["reply_quota_usage,reply_config"]]


def test_instagram_over_its_limit_waits_and_a_made_container_is_still_published(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "a.jpg").write_bytes(b"\xff\xd8\xff")
    with InstagramServer() as server, Site(tmp_path) as site:
        p = post(["Launch"], type="instagram", media=[Media(f"{site.url}/images/a.jpg", "")])
        server.published_before = 100
        waited = instagram(server).deliver(p, context())
        assert waited.waits and "Instagram allows 100" in waited.message and not server.containers
        # a container made before the limit was reached is published: the limit is asked before making one
        server.published_before = 0
        ctx = context()
        server.drop(f"/{IG_USER}/media_publish$")
        assert instagram(server).deliver(p, ctx).ambiguous
        server.published_before = 100
        assert isinstance(instagram(server).deliver(p, ctx), Receipt) and len(server.media) == 1


def test_a_refused_token_while_asking_the_usage_is_a_refused_credential():
    with ThreadsServer() as server:
        server.expire()
        failed = threads(server).deliver(post(["x"], type="threads"), context())
    assert failed.credential == "T" and not failed.waits


SETTINGS = """\
site:
  title: Test Newsroom
  url: https://news.test
timezone: UTC
channels:
  threads:
    type: threads
    token: env:THREADS_TOKEN
"""


def aim(monkeypatch, url):
    class Aimed(Threads):
        def __init__(self, config, env, *, base_url=None):
            super().__init__(config, env, base_url=base_url or url)

    monkeypatch.setitem(registry.TYPES, "threads", Aimed)


def due(title, at="2026-11-30T09:00"):
    return item(title, status="approved", approved_by="editor", author="writer", publish_at=at, channels=["threads"])


def test_a_publish_run_over_the_limit_says_waiting_and_a_later_run_sends_it(tmp_path, cli, monkeypatch):
    monkeypatch.setenv("THREADS_TOKEN", "threads-token")
    root = write_project(tmp_path / "p", {"content/a.md": due("Alpha")}, SETTINGS)
    with ThreadsServer() as server:
        aim(monkeypatch, server.url)
        server.published_before = 250
        first = cli(root, "publish", "--now", "2026-11-30T09:05:00Z")
        assert "waiting" in first.output and "Threads allows 250: the entry waits for a later run (nothing was " \
            "sent)" in first.output, first.output
        assert "FAILED" not in first.output and not server.media
        server.published_before = 10
        second = cli(root, "publish", "--now", "2026-11-30T09:10:00Z")
    assert "delivered  content/a.md → threads" in second.output, second.output
    assert len(server.media) == 1


@pytest.mark.slow
def test_check_warns_about_a_day_planned_past_the_limit(tmp_path, cli):
    files = {f"content/p{i:03}.md": due(f"Post {i}", f"2026-12-01T{i // 60:02}:{i % 60:02}") for i in range(251)}
    root = write_project(tmp_path / "p", files, SETTINGS)
    result = cli(root, "check", "--format", "json", "--now", "2026-11-30T09:00:00Z")
    warned = [w for w in json.loads(result.output)["warnings"] if "platform_limit" in w["message"]]
    assert len(warned) == 251
    assert warned[0]["message"].startswith("platform_limit: 251 posts on channel 'threads' on 2026-12-01; its "
                                           "platform publishes at most 250 in 24 hours through its API, so the rest "
                                           "would wait for a later run")
