"""Ghost: the Admin API JWT, HTML or Lexical, tags, feature image upload, scheduling, the
newsletter, email stats and `publish auth`."""
from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone

import pytest

from channels.auth import AuthError, Person, connect
from channels.base import Receipt
from channels.ghost import Ghost, admin_token
from tests.servers import NOW, PNG, channel, context, image, post
from tests.servers.ghost import KEY, KEY_ID, GhostServer

ENV = {"GHOST_ADMIN_KEY": KEY}


@pytest.fixture
def server():
    with GhostServer() as srv:
        yield srv


def adapter(server, env=ENV, **options):
    return channel(Ghost, server, {"url": "https://blog.test", "admin_key": "env:GHOST_ADMIN_KEY", **options}, env)


def article(**data):
    fields = {"title": "Our launch", "body": "<p>Hello <b>Ghost</b></p>", "tags": ["Release", "Python"],
              "canonical_url": "https://news.test/launch/", "custom_excerpt": "What changed.",
              "published_at": "2026-11-23T10:00:00+01:00", **data}
    return post([], type="ghost", title=fields["title"], data=fields)


def test_the_token_is_the_documented_jwt():
    token = admin_token(KEY, NOW)
    head, body, _ = token.split(".")
    decode = lambda part: json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))  # noqa: E731
    assert decode(head) == {"alg": "HS256", "typ": "JWT", "kid": KEY_ID}
    assert decode(body) == {"iat": int(NOW.timestamp()), "exp": int(NOW.timestamp()) + 300, "aud": "/admin/"}


def test_an_html_post_with_tags_excerpt_and_canonical_url(server):
    receipt = adapter(server).deliver(article(), context())
    sent = server.requests("/posts/$", "POST")[0]
    assert sent.query["source"] == ["html"] and sent.headers["accept-version"] == "v5.0"
    assert sent.json == {"posts": [{"title": "Our launch", "html": "<p>Hello <b>Ghost</b></p>", "status": "published",
                                    "tags": [{"name": "Release"}, {"name": "Python"}],
                                    "canonical_url": "https://news.test/launch/", "custom_excerpt": "What changed."}]}
    assert receipt.url == "https://blog.test/our-launch/" and receipt.data["status"] == "published"


def test_lexical_keeps_the_html_in_an_html_card(server):
    adapter(server, format="lexical").deliver(article(), context())
    sent = server.requests("/posts/$", "POST")[0]
    assert "source" not in sent.query and "html" not in sent.json["posts"][0]
    assert server.posts[0]["html"] == "<p>Hello <b>Ghost</b></p>"
    assert json.loads(sent.json["posts"][0]["lexical"])["root"]["children"][0]["type"] == "html"


def test_a_local_feature_image_is_uploaded_once(server, tmp_path):
    from channels.base import Journal

    journal = Journal()
    a = adapter(server)
    server.fail(500, {"errors": [{"message": "Internal server error", "type": "InternalServerError"}]},
                path="/posts/$")
    p = article(feature_image_alt="A rocket")
    p.media = [image(tmp_path)]
    first = a.deliver(p, context(journal=journal))
    assert first.retryable and len(server.images) == 1
    receipt = a.deliver(p, context(journal=journal))
    assert isinstance(receipt, Receipt) and len(server.requests("/images/upload/")) == 1
    url = next(iter(server.images))
    assert server.images[url] == PNG and server.posts[0]["feature_image"] == url
    assert server.posts[0]["feature_image_alt"] == "A rocket"


def test_scheduled_in_ghost_for_a_future_time_published_when_it_has_come(server):
    adapter(server, status="scheduled").deliver(article(published_at="2026-11-24T10:00:00+01:00"), context())
    adapter(server, status="scheduled").deliver(article(title="Late", published_at="2026-11-22T10:00:00+01:00"),
                                                context())
    first, second = [r.json["posts"][0] for r in server.requests("/posts/$", "POST")]
    assert first["status"] == "scheduled" and first["published_at"] == "2026-11-24T09:00:00+00:00"
    assert second["status"] == "published" and "published_at" not in second


def test_the_newsletter_goes_with_a_published_post_not_with_a_draft(server):
    adapter(server, newsletter="weekly", email_segment="status:-free").deliver(article(), context())
    assert server.sent_emails == [(server.posts[0]["id"], "weekly", "status:-free")]
    adapter(server, newsletter="weekly", status="draft").deliver(article(title="Draft"), context())
    assert "newsletter" not in server.requests("/posts/$", "POST")[1].query and len(server.sent_emails) == 1


def test_email_stats_for_newsletter_posts_only(server):
    emailed = adapter(server, newsletter="weekly").deliver(article(), context())
    web_only = adapter(server).deliver(article(title="Web only"), context())
    server.stats[emailed.remote_id] = {"sent": 1200, "opened": 540, "clicks": 61}
    got = adapter(server).fetch_metrics([emailed, web_only])
    assert got == {emailed.remote_id: {"opens": 540, "clicks": 61}, web_only.remote_id: {"clicks": 0}}
    asked = server.requests("/posts/$", "GET")[-1]
    assert asked.query["include"] == ["email,count.clicks"]
    assert asked.query["filter"] == [f"id:[{emailed.remote_id},{web_only.remote_id}]"]


def test_an_expired_jwt_is_refused_with_ghosts_words(server):
    a = adapter(server)
    a.clock = lambda: NOW - timedelta(minutes=10)  # a clock ten minutes slow
    failed = a.deliver(article(), context())
    assert failed.message == ("HTTP 401: Invalid token: jwt expired (check the Admin API key: `publish auth ghost`)")
    assert failed.credential == "GHOST_ADMIN_KEY"


def person():
    return Person(say=lambda line: None, open_browser=lambda url: False, ask_secret=lambda q: "", show=False)


def test_publish_auth_checks_the_admin_key(server):
    clock = lambda: datetime.now(timezone.utc)  # noqa: E731
    a = adapter(server)
    a.clock = clock
    result = connect(a, person(), now=clock)
    assert result.lines == ["ghost: the secret in GHOST_ADMIN_KEY works (Northwind Blog).",
                            "Ghost Admin API keys do not lapse; deleting the integration revokes the key."]
    bad = adapter(server, env={"GHOST_ADMIN_KEY": f"{KEY_ID}:{'0' * 64}"})
    with pytest.raises(AuthError) as exc:
        connect(bad, person(), now=clock)
    assert str(exc.value).startswith("ghost: the secret in GHOST_ADMIN_KEY does not work: HTTP 401: Invalid token: "
                                     "invalid signature")
