"""Instagram: images fetched by Meta from the deployed blog (JPEG only), said plainly when the blog is
not deployed; carousels; container status polling; a crash between container and publish; the
caption's limits (2,200 characters, 30 hashtags, 20 @ tags); `publish auth`."""
from __future__ import annotations

import pytest

from channels.auth import Person, connect
from channels.base import Failure, Journal, Media, Receipt
from channels.instagram import Instagram
from tests.servers import PNG, channel, context, post
from tests.servers.instagram import IG_USER, InstagramServer
from tests.servers.site import Site

ENV = {"IG_TOKEN": "page-token"}


@pytest.fixture
def server():
    with InstagramServer() as srv:
        yield srv


@pytest.fixture
def site(tmp_path):
    (tmp_path / "site" / "images").mkdir(parents=True)
    with Site(tmp_path / "site") as srv:
        yield srv


def adapter(server, env=ENV):
    return channel(Instagram, server, {"user_id": IG_USER, "token": "env:IG_TOKEN"}, env)


def deploy(site, tmp_path, name="launch.jpg"):
    (tmp_path / "site" / "images" / name).write_bytes(PNG)
    return f"{site.url}/images/{name}"


def ig_post(text, media):
    return post([text], type="instagram", media=media)


def test_an_image_post_with_its_caption_and_alt_text(server, site, tmp_path):
    url = deploy(site, tmp_path)
    receipt = adapter(server).deliver(ig_post("Launch day #launch", [Media(url, "A rocket")]), context())
    assert isinstance(receipt, Receipt), receipt
    assert dict(server.requests(r"/media$", "POST")[0].form) == {"image_url": url, "caption": "Launch day #launch",
                                                                 "alt_text": "A rocket"}
    assert receipt.url == server.media[0]["permalink"]


def test_the_blog_not_deployed_yet_is_said_plainly_and_nothing_is_made(server, site):
    url = f"{site.url}/images/launch.jpg"
    failed = adapter(server).deliver(ig_post("x", [Media(url, "r")]), context())
    assert failed == Failure(f"the image {url} answers 404: Instagram fetches images from their public URL on the "
                             "deployed blog, so the blog must be deployed first (make the entry wait for it with "
                             "`after: blog`)", retryable=True)
    assert server.containers == {}


def test_only_jpeg_and_a_post_needs_an_image(server, site, tmp_path):
    png = deploy(site, tmp_path, "launch.png")
    assert adapter(server).deliver(ig_post("x", [Media(png, "r")]), context()) == Failure(
        f"the image {png} is not a JPEG: Instagram publishes JPEG images only")
    assert adapter(server).deliver(ig_post("x", []), context()) == Failure(
        "an Instagram post needs an image: give the item an `image` (a JPEG, or an MP4 for a reel)")


def test_the_caption_limits_are_checked_before_sending(server, site, tmp_path):
    url = deploy(site, tmp_path)
    tags = " ".join(f"#t{i}" for i in range(31))
    mentions = " ".join(f"@u{i}" for i in range(21))
    failed = adapter(server).deliver(ig_post(f"{tags} {mentions}", [Media(url, "r")]), context())
    assert failed == Failure("the caption has 31 hashtags; Instagram allows 30; the caption has 21 @ tags; "
                             "Instagram allows 20")
    assert Instagram.length_rule().limit == 2200 and server.containers == {}


def test_a_carousel_of_up_to_ten_images(server, site, tmp_path):
    urls = [deploy(site, tmp_path, f"{i}.jpg") for i in range(12)]
    receipt = adapter(server).deliver(ig_post("album", [Media(u, f"picture {i}") for i, u in enumerate(urls)]),
                                      context())
    assert isinstance(receipt, Receipt), receipt
    made = [dict(r.form) for r in server.requests(r"/media$", "POST")]
    assert len(made) == 11 and all(m["is_carousel_item"] == "true" for m in made[:10])
    assert made[10]["media_type"] == "CAROUSEL" and len(made[10]["children"].split(",")) == 10


def test_a_video_is_a_reel_published_once_processed(server, site, tmp_path):
    url = deploy(site, tmp_path, "launch.mp4")
    waits = []
    receipt = adapter(server).deliver(ig_post("Watch #launch", [Media(url, "")]), context(sleep=waits.append))
    assert isinstance(receipt, Receipt) and waits == [1.0] and server.media[0]["media_type"] == "VIDEO"
    assert dict(server.requests(r"/media$", "POST")[0].form) == {"media_type": "REELS", "video_url": url,
                                                                 "caption": "Watch #launch"}


def test_a_container_still_processing_is_waited_for(site, tmp_path):
    url = deploy(site, tmp_path)
    with InstagramServer(processing=3) as server:
        waits = []
        receipt = adapter(server).deliver(ig_post("slow", [Media(url, "r")]), context(sleep=waits.append))
    assert isinstance(receipt, Receipt) and waits == [1.0, 2.0, 4.0]


def test_a_crash_between_container_and_publish_makes_no_second_post(server, site, tmp_path):
    url = deploy(site, tmp_path)
    journal = Journal()
    server.fail(500, {"error": {"message": "An unknown error occurred", "type": "OAuthException", "code": 1}},
                path=r"/media_publish$")
    first = adapter(server).deliver(ig_post("once", [Media(url, "r")]), context(journal=journal))
    assert first.retryable and journal.get("container:0") and server.media == []
    assert adapter(server).reconcile(ig_post("once", [Media(url, "r")]), context(journal=journal)) is None
    again = adapter(server).deliver(ig_post("once", [Media(url, "r")]), context(journal=journal))
    assert isinstance(again, Receipt) and len(server.containers) == 1 and len(server.media) == 1


def test_publish_auth_checks_the_token(server):
    result = connect(adapter(server), Person(say=lambda l: None, open_browser=lambda u: False,
                                             ask_secret=lambda q: "", show=False))
    assert result.lines[0] == "instagram: the secret in IG_TOKEN works (@northwind.news)."


def test_a_deleted_post_has_no_numbers_and_the_others_still_come(server, site, tmp_path):
    url = deploy(site, tmp_path)
    receipt = adapter(server).deliver(ig_post("counted", [Media(url, "r")]), context())
    server.insight_counts[receipt.remote_id] = {"views": 40, "saved": 2}
    got = adapter(server).fetch_metrics([receipt, Receipt("17999999999999999", None, receipt.at)])
    assert got == {receipt.remote_id: {"views": 40, "likes": 0, "replies": 0, "shares": 0, "bookmarks": 2}}
