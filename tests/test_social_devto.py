"""dev.to: article fields with canonical_url, read-back by canonical URL, paged metrics, comments."""
from __future__ import annotations

import pytest

from channels.base import Journal, Media, Receipt
from channels.devto import DevTo
from channels.social import MetricsError
from tests.servers import NOW, channel, context, post
from tests.servers.devto import DevtoServer

ENV = {"DEVTO_KEY": "devto-key"}


@pytest.fixture
def server():
    with DevtoServer() as srv:
        yield srv


def adapter(server, **options):
    return channel(DevTo, server, {"api_key": "env:DEVTO_KEY", **options}, ENV)


def article_post(**data):
    return post(["summary"], type="devto", text="# Launch\n\nBody.", tags=["python", "Open Source", "ci", "web", "extra"],
                data=data, media=[Media("https://news.test/img/rocket.png", "rocket")])


def test_article_from_post_data_with_canonical_url(server):
    receipt = adapter(server, organization_id=7).deliver(
        article_post(title="Our launch", body_markdown="Hello **dev**", description="Short", tags=["a", "b"]), context())
    sent = server.requests("^/api/articles$", "POST")[0]
    assert sent.headers["api-key"] == "devto-key" and sent.headers["accept"] == "application/vnd.forem.api-v1+json"
    assert sent.json == {"article": {"title": "Our launch", "body_markdown": "Hello **dev**", "published": True,
                                     "canonical_url": "https://news.test/launch/", "tags": ["a", "b"],
                                     "description": "Short", "main_image": "https://news.test/img/rocket.png",
                                     "organization_id": 7}}
    assert receipt.url == server.articles[0]["url"] and receipt.remote_id == str(server.articles[0]["id"])


def test_falls_back_to_post_fields_and_keeps_four_tags(server):
    adapter(server, published=False).deliver(article_post(), context())
    article = server.requests("^/api/articles$", "POST")[0].json["article"]
    assert article["title"] == "Launch day" and article["body_markdown"] == "# Launch\n\nBody."
    assert article["tags"] == ["python", "opensource", "ci", "web"] and article["published"] is False


def test_unknown_outcome_is_read_back_by_canonical_url(server):
    journal = Journal()
    server.drop("^/api/articles$", times=1)
    a = adapter(server)
    assert a.deliver(article_post(), context(journal=journal)).ambiguous
    again = a.deliver(article_post(), context(journal=journal))
    assert len(server.articles) == 1 and again.remote_id == str(server.articles[0]["id"])
    assert server.requests("/api/articles/me/all")[0].query["per_page"] == ["100"]


def test_validation_error_message(server):
    server.fail(422, {"error": "Canonical url has already been taken", "status": 422})
    failed = adapter(server).deliver(article_post(), context())
    assert failed.message == "HTTP 422: Canonical url has already been taken" and not failed.retryable
    assert adapter(server).deliver(article_post(), context()).remote_id  # surely not out: sent again


def test_metrics_paged_for_2000_articles(server):
    made = [server.add_article(f"a{i}", views=i, reactions=2, comments=1) for i in range(2000)]
    a = adapter(server)
    got = a.fetch_metrics([Receipt(str(m["id"]), None, NOW) for m in made])
    pages = server.requests("/api/articles/me/published")
    assert [p.query["page"] for p in pages] == [["1"], ["2"]] and pages[0].query["per_page"] == ["1000"]
    assert got[str(made[10]["id"])] == {"views": 10, "likes": 2, "replies": 1} and len(got) == 2000


def test_metrics_stop_when_pages_run_out(server):
    made = [server.add_article("only")]
    got = adapter(server).fetch_metrics([Receipt(str(made[0]["id"]), None, NOW), Receipt("404", None, NOW)])
    assert list(got) == [str(made[0]["id"])] and len(server.requests("/published")) == 1


def test_metrics_429_waited_then_error(server):
    made = server.add_article("x")
    a = adapter(server)
    waits = []
    a.gate.sleep = waits.append
    server.fail(429, {"error": "Rate limit reached, try again in 2 seconds", "status": 429},
                headers={"Retry-After": "2"}, path="/published")
    assert len(a.fetch_metrics([Receipt(str(made["id"]), None, NOW)])) == 1 and waits == [2.0]
    with pytest.raises(MetricsError, match="^devto: HTTP 401: unauthorized$"):
        channel(DevTo, server, {"api_key": "env:K"}, {"K": "bad"}).fetch_metrics([Receipt("1", None, NOW)])


def test_comments_as_replies(server):
    made = server.add_article("x")
    server.comment_trees[str(made["id"])] = [
        {"type_of": "comment", "id_code": "2b1c", "created_at": "2026-11-23T11:00:00Z",
         "body_html": "<p>Très utile&nbsp;! 👍</p>", "user": {"username": "ana", "name": "Ana"},
         "children": [{"type_of": "comment", "id_code": "2b1d", "created_at": "2026-11-23T12:00:00Z",
                       "body_html": "<p>Thanks!</p>", "user": {"username": "newsroom"}, "children": []}]}]
    replies = adapter(server).fetch_replies([Receipt(str(made["id"]), None, NOW)])
    assert [(r.remote_id, r.in_reply_to, r.author, r.text, r.ours) for r in replies] == [
        ("2b1c", str(made["id"]), "ana", "Très utile\xa0! 👍", False), ("2b1d", "2b1c", "newsroom", "Thanks!", True)]
