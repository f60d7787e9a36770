"""WordPress: application passwords, tags and a category by name, the featured image with its alt
text, scheduling with date_gmt, comments paged by X-WP-TotalPages, and `publish auth`."""
from __future__ import annotations

import base64

import pytest

from channels.auth import AuthError, Person, connect
from channels.base import Journal, Receipt
from channels.wordpress import WordPress
from tests.servers import PNG, channel, context, image, post
from tests.servers.wordpress import APP_PASSWORD, USER, WordPressServer

ENV = {"WP_APP_PASSWORD": APP_PASSWORD}


@pytest.fixture
def server():
    with WordPressServer() as srv:
        yield srv


def adapter(server, env=ENV, **options):
    return channel(WordPress, server, {"url": "https://blog.test", "user": USER, "app_password": "env:WP_APP_PASSWORD",
                                       **options}, env)


def article(**data):
    fields = {"title": "Fish & chips", "body": "<p>Hello <b>WordPress</b></p>", "tags": ["Release", "python"],
              "custom_excerpt": "What changed.", "published_at": "2026-11-24T10:00:00+01:00", **data}
    return post([], type="wordpress", title=fields["title"], data=fields)


def test_a_post_with_tags_and_category_by_name(server):
    server.terms["tags"].append({"id": 50, "name": "Python"})
    receipt = adapter(server, category="News").deliver(article(), context())
    sent = server.requests("/posts$", "POST")[0]
    assert sent.headers["authorization"] == "Basic " + base64.b64encode(f"{USER}:{APP_PASSWORD}".encode()).decode()
    release = next(t["id"] for t in server.terms["tags"] if t["name"] == "Release")
    news = next(t["id"] for t in server.terms["categories"] if t["name"] == "News")
    assert sent.json == {"title": "Fish & chips", "content": "<p>Hello <b>WordPress</b></p>", "excerpt": "What changed.",
                         "status": "publish", "tags": [release, 50], "categories": [news]}
    assert receipt.url == "https://blog.test/fish-&-chips/" and receipt.data["status"] == "publish"


def test_a_term_made_meanwhile_is_used_not_made_twice(server):
    a = adapter(server)
    server.fail(200, [], path="/tags$", times=1)  # the search finds nothing; someone makes it before we do
    server.terms["tags"].append({"id": 77, "name": "Release"})
    a.deliver(article(tags=["Release"]), context())
    assert server.requests("/posts$", "POST")[0].json["tags"] == [77]
    assert [t["name"] for t in server.terms["tags"]] == ["Release"]


def test_the_featured_image_is_uploaded_once_with_its_alt_text(server, tmp_path):
    journal = Journal()
    p = article()
    p.media = [image(tmp_path)]
    server.fail(503, {"code": "unavailable", "message": "Service Unavailable", "data": {"status": 503}},
                path="/posts$")
    assert adapter(server).deliver(p, context(journal=journal)).retryable
    receipt = adapter(server).deliver(p, context(journal=journal))
    assert isinstance(receipt, Receipt) and len(server.media) == 1
    (media,) = server.media.values()
    assert media["data"] == PNG and media["alt_text"] == "A rocket on the launch pad"
    assert server.posts[0]["featured_media"] == media["id"]


def test_future_status_schedules_with_date_gmt_and_publishes_when_its_time_has_come(server):
    adapter(server, status="future").deliver(article(), context())
    adapter(server, status="future").deliver(article(title="Late", published_at="2026-11-20T10:00:00+01:00"), context())
    first, second = [r.json for r in server.requests("/posts$", "POST")]
    assert first["status"] == "future" and first["date_gmt"] == "2026-11-24T09:00:00"
    assert second["status"] == "publish" and "date_gmt" not in second


def test_comments_are_paged_for_many_posts(server):
    receipts = [adapter(server).deliver(article(title=f"Post {i}", tags=[]), context()) for i in range(3)]
    for i in range(250):
        server.comment_list.append({"id": 1000 + i, "post": int(receipts[i % 3].remote_id), "parent": 0, "author": 0,
                                    "author_name": "r", "date_gmt": "2026-11-23T10:00:00", "content": {"rendered": "x"},
                                    "link": None})
    got = adapter(server).fetch_metrics(receipts)
    assert [got[r.remote_id]["replies"] for r in receipts] == [84, 83, 83]
    pages = server.requests("/comments$")
    assert [p.query["page"] for p in pages] == [["1"], ["2"], ["3"]] and pages[0].query["per_page"] == ["100"]


def person():
    return Person(say=lambda line: None, open_browser=lambda url: False, ask_secret=lambda q: "", show=False)


def test_publish_auth_checks_the_application_password(server):
    result = connect(adapter(server), person())
    assert result.lines == ["wordpress: the secret in WP_APP_PASSWORD works (Ana Editor (editor)).",
                            "Application passwords do not lapse; revoke them in the user's profile."]
    with pytest.raises(AuthError) as exc:
        connect(adapter(server, env={"WP_APP_PASSWORD": "wrong"}), person())
    assert str(exc.value).startswith("wordpress: the secret in WP_APP_PASSWORD does not work: HTTP 401: The provided "
                                     "password is an invalid application password.")


def test_a_cross_post_ends_with_a_link_to_the_original(server):
    adapter(server).deliver(article(canonical_url="https://news.test/fish/", tags=[]), context())
    assert server.requests("/posts$", "POST")[0].json["content"] == (
        '<p>Hello <b>WordPress</b></p>\n<p><em>Originally published at <a href="https://news.test/fish/" '
        'rel="canonical">https://news.test/fish/</a>.</em></p>')
