"""X: threads with an image and alt text, read-back before a repeated write, metrics by 100."""
from __future__ import annotations

import pytest

from channels.base import Failure, Journal, Receipt
from channels.social import MetricsError
from channels.x import X
from tests.servers import NOW, PNG, channel, context, image, post
from tests.servers.x import XServer

ENV = {"X_TOKEN": "x-user-token"}
PARTS = ["1/3 Launch day 🚀 https://news.test/launch/", "2/3 Café crème", "3/3 Fin."]


@pytest.fixture
def server():
    with XServer() as srv:
        yield srv


def adapter(server, env=ENV):
    return channel(X, server, {"token": "env:X_TOKEN"}, env)


def test_thread_with_image_and_alt_text(server, tmp_path):
    receipt = adapter(server).deliver(post(PARTS, type="x", media=[image(tmp_path)]), context())
    assert not isinstance(receipt, Failure), receipt
    creates = server.requests("^/2/tweets$", "POST")
    bodies = [c.json for c in creates]
    assert [b["text"] for b in bodies] == PARTS
    ids = [p["id"] for p in receipt.parts]
    assert [b.get("reply") for b in bodies] == [None, {"in_reply_to_tweet_id": ids[0]},
                                                {"in_reply_to_tweet_id": ids[1]}]
    media_id = bodies[0]["media"]["media_ids"][0]
    assert server.media[media_id] == {"bytes": PNG, "type": "image/png", "category": "tweet_image",
                                      "alt": "A rocket on the launch pad"}
    assert all("media" not in b for b in bodies[1:])
    assert all(c.headers["authorization"] == "Bearer x-user-token" for c in creates)
    assert receipt.url == f"https://x.com/i/web/status/{ids[0]}"


def test_unknown_outcome_is_read_back_not_repeated(server):
    journal = Journal()
    server.drop("^/2/tweets$", times=1)
    a = adapter(server)
    first = a.deliver(post(PARTS, type="x"), context(journal=journal))
    assert first.ambiguous and len(server.tweets) == 1
    again = a.deliver(post(PARTS, type="x"), context(journal=journal))
    assert not isinstance(again, Failure), again
    assert len(server.tweets) == 3  # part 1 found by the read-back, not posted twice
    assert len(server.requests("^/2/tweets$", "POST")) == 3
    assert len(server.requests("/2/users/1500000000000000001/tweets")) == 1


def test_surely_failed_write_is_retried_without_read_back(server):
    journal = Journal()
    server.fail(503, {"title": "Service Unavailable", "detail": "Service Unavailable", "status": 503},
                path="^/2/tweets$")
    a = adapter(server)
    failed = a.deliver(post(["one"], type="x"), context(journal=journal))
    assert failed.retryable and failed.message == "HTTP 503: Service Unavailable"
    assert not isinstance(a.deliver(post(["one"], type="x"), context(journal=journal)), Failure)
    assert server.requests("/2/users/") == []


def test_platform_words_in_errors(server):
    server.add_tweet("dup")
    failed = adapter(server).deliver(post(["dup"], type="x"), context())
    assert failed == Failure("HTTP 403: You are not allowed to create a Tweet with duplicate content.", status=403)
    bad = adapter(server, {"X_TOKEN": "nope"}).deliver(post(["x"], type="x"), context())
    assert bad.message == "HTTP 401: Unauthorized"


def test_reconcile_reads_back(server):
    a = adapter(server)
    tid = server.add_tweet("Launch day 🚀 https://t.co/abc123")  # X rewrote the link
    receipt = a.reconcile(post(["Launch day 🚀 https://news.test/launch/"], type="x"), context())
    assert receipt.remote_id == tid
    assert a.reconcile(post(["never sent"], type="x"), context()) is None


def test_metrics_for_2000_posts_in_batches_of_100(server):
    ids = [server.add_tweet(f"p{i}", likes=i, impressions=10 * i, retweets=1, replies=2, quotes=3, bookmarks=4)
           for i in range(2000)]
    a = adapter(server)
    got = a.fetch_metrics([Receipt(i, None, NOW) for i in ids] + [Receipt("999", None, NOW)])
    calls = server.requests("^/2/tweets$", "GET")
    assert len(calls) == 21 and a.requests_made == 21  # 2,001 ids
    assert calls[0].query["tweet.fields"] == ["public_metrics"]
    assert got[ids[5]] == {"impressions": 50, "likes": 5, "shares": 1, "replies": 2, "quotes": 3, "bookmarks": 4}
    assert "999" not in got and len(got) == 2000


def test_metrics_pause_until_the_epoch_reset(server):
    ids = [server.add_tweet(f"p{i}") for i in range(300)]
    server.remaining = 1
    a = adapter(server)
    a.CONCURRENCY = 1
    slept = []

    def sleep(s):
        slept.append(round(s))
        server.remaining = 900

    a.gate.sleep, a.gate.clock = sleep, (lambda: server.reset - 15 * 60)
    assert len(a.fetch_metrics([Receipt(i, None, NOW) for i in ids])) == 300
    assert slept == [900]


def test_metrics_error(server):
    with pytest.raises(MetricsError, match="^x: HTTP 401: Unauthorized$"):
        adapter(server, {"X_TOKEN": "bad"}).fetch_metrics([Receipt("1", None, NOW)])


def test_real_payload_from_tweepy_cassette(server):
    """A timeline answer recorded from the X API by Tweepy (tweepy/tweepy cassettes/test_client_get_tweets.yaml):
    links come back as t.co, so the read-back must still recognise our own text."""
    import json
    from pathlib import Path

    from requests.structures import CaseInsensitiveDict

    from channels.http import read_rate_limit

    recorded = json.loads((Path(__file__).parent / "fixtures" / "social" / "x_get_tweets.json").read_text())
    limit = read_rate_limit(CaseInsensitiveDict(recorded["headers"]), "x-rate-limit-")
    assert (limit.limit, limit.remaining, limit.reset) == (300, 298, 1665183228.0)
    server.fail(200, recorded["body"], path=r"/2/users/\d+/tweets", headers=recorded["headers"])
    ours = ("It’s finally here! 🥁 Say hello to the new #TwitterAPI.\n\nWe’re rebuilding the Twitter API v2 from the "
            "ground up to better serve our developer community. And today’s launch is only the beginning.\n\n"
            "https://blog.twitter.com/developer/en_us/topics/tools/2020/introducing_new_twitter_api "
            "https://twitter.com/TwitterDev/status/1293593516040269825/photo/1")
    receipt = adapter(server).reconcile(post([ours], type="x"), context())
    assert receipt.remote_id == "1293593516040269825"
