"""Responses recorded from the platforms (or given as examples in their documentation), served as they
are by the loopback servers and read as the adapters should read them: WordPress's own REST API client
fixtures, Ghost's image upload answer, Instagram's error example, Facebook's Page list. Each file in
``tests/fixtures/social`` names its source."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from channels.base import Failure, Media, Receipt, Reply
from channels.ghost import Ghost
from channels.instagram import Instagram
from channels.wordpress import WordPress
from tests.servers import NOW, channel, context, image, post
from tests.servers.ghost import KEY, GhostServer
from tests.servers.instagram import IG_USER, InstagramServer
from tests.servers.site import Site
from tests.servers.wordpress import APP_PASSWORD, USER, WordPressServer

FIXTURES = Path(__file__).parent / "fixtures" / "social"


def recorded(name: str):
    doc = json.loads((FIXTURES / f"{name}.json").read_text())
    assert doc["source"].startswith("https://")  # every recorded answer says where it comes from
    return doc["body"]


def wordpress(server):
    return channel(WordPress, server, {"url": "https://blog.test", "user": USER, "app_password": "env:WP"},
                   {"WP": APP_PASSWORD})


def wp_article(**data):
    fields = {"title": "REST API Client Fixture: Post", "body": "<p>Updated post content.</p>", "tags": [], **data}
    return post([], type="wordpress", title=fields["title"], data=fields)


@pytest.fixture
def wp():
    with WordPressServer() as srv:
        yield srv


def test_wordpress_a_created_post_is_read_from_the_recorded_answer(wp):
    wp.fail(201, recorded("wordpress_post"), path="/wp/v2/posts$")
    receipt = wordpress(wp).deliver(wp_article(), context())
    assert isinstance(receipt, Receipt), receipt
    assert (receipt.remote_id, receipt.url, receipt.data["status"]) == ("4", "http://example.org/?p=4", "publish")


def test_wordpress_a_post_is_found_by_its_rendered_title_in_the_recorded_listing(wp):
    # the view context gives only title.rendered: the read-back after a lost answer still finds the post
    wp.fail(200, recorded("wordpress_posts"), path="/wp/v2/posts$")
    found = wordpress(wp).find("REST API Client Fixture: Post")
    assert (found.id, found.url, found.extra) == ("4", "http://example.org/?p=4", {"status": "publish"})


def test_wordpress_the_recorded_media_and_tag_answers_feed_the_post(wp, tmp_path):
    wp.fail(201, recorded("wordpress_media"), path="/wp/v2/media$")
    wp.fail(200, recorded("wordpress_tags"), path="/wp/v2/tags$")
    wp.media[10] = {"id": 10}
    wp.terms["tags"].append({"id": 2, "name": "REST API Client Fixture: Tag"})
    p = wp_article(tags=["REST API Client Fixture: Tag"])
    p.media = [image(tmp_path)]
    receipt = wordpress(wp).deliver(p, context())
    assert isinstance(receipt, Receipt), receipt
    sent = wp.requests("/wp/v2/posts$", "POST")[0].json
    assert sent["featured_media"] == 10 and sent["tags"] == [2]
    assert not wp.requests("/wp/v2/tags$", "POST")  # the tag was found, not made again


def test_wordpress_recorded_comments_become_replies(wp):
    wp.fail(200, recorded("wordpress_me"), path="/users/me$")
    wp.fail(200, recorded("wordpress_comments"), path="/wp/v2/comments$", headers={"X-WP-TotalPages": "1"})
    a = wordpress(wp)
    replies = a.fetch_replies([Receipt("4", "http://example.org/?p=4", NOW)])
    assert replies == [Reply(channel="wordpress", remote_id="2", in_reply_to="4",
                             author="Internet of something or other", text="This is a comment",
                             url="http://example.org/?p=4#comment-2",
                             at=datetime(2017, 2, 14, tzinfo=timezone.utc), ours=False)]
    wp.fail(200, recorded("wordpress_comments"), path="/wp/v2/comments$", headers={"X-WP-TotalPages": "1"})
    assert a.fetch_metrics([Receipt("4", None, NOW)]) == {"4": {"replies": 1}}


def test_wordpress_the_recorded_user_without_roles(wp):
    wp.fail(200, recorded("wordpress_me"), path="/users/me$")
    assert wordpress(wp).verify() == {"account": "REST API Client Fixture: User (no role)"}


def test_ghost_the_documented_upload_answer_is_the_feature_image(tmp_path):
    with GhostServer() as server:
        server.fail(201, recorded("ghost_image_upload"), path="/images/upload/$")
        a = channel(Ghost, server, {"url": "https://blog.test", "admin_key": "env:K"}, {"K": KEY})
        p = post([], type="ghost", title="Our launch", data={"title": "Our launch", "body": "<p>Hi</p>"})
        p.media = [image(tmp_path)]
        receipt = a.deliver(p, context())
        assert isinstance(receipt, Receipt), receipt
        assert server.posts[0]["feature_image"] == "https://demo.ghost.io/content/images/2019/02/ghost-logo.png"


def test_instagram_the_documented_error_example_in_metas_words(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "big.jpg").write_bytes(b"\xff\xd8\xff")
    with InstagramServer() as server, Site(tmp_path) as site:
        body = recorded("instagram_error_image_too_large")
        server.fail(400, body, path=f"/{IG_USER}/media$")
        a = channel(Instagram, server, {"user_id": IG_USER, "token": "env:T"}, {"T": "page-token"})
        failed = a.deliver(post(["Launch"], type="instagram", media=[Media(f"{site.url}/images/big.jpg", "")]),
                           context())
    assert failed == Failure("HTTP 400: The image size is too large: The image is too large to download. It should "
                             "be less than 8 MiB. (code 36000/2207004)", status=400)
