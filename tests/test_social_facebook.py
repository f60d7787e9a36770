"""Facebook Pages: feed posts with their link, photos uploaded or fetched from the deployed blog,
read-back of an unknown outcome, engagement 50 posts a call, and `publish auth` turning a person's
token into the Page's."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from channels.auth import Person, connect
from channels.base import Journal, Media, Receipt
from channels.facebook import Facebook
from tests.servers import NOW, PNG, channel, context, image, post
from tests.servers.facebook import PAGE_ID, FacebookServer
from tests.servers.site import Site

ENV = {"FB_PAGE_TOKEN": "page-token"}


@pytest.fixture
def server():
    with FacebookServer(user_token="person-token") as srv:
        yield srv


def adapter(server, env=ENV):
    return channel(Facebook, server, {"token": "env:FB_PAGE_TOKEN", "page_id": PAGE_ID}, env)


def test_a_feed_post_previews_the_link_written_in_the_text(server):
    text = "Our launch\n\nhttps://news.test/launch/?utm_source=facebook&utm_medium=social\n\n#Launch"
    receipt = adapter(server).deliver(post([text], type="facebook"), context())
    sent = server.requests(r"/feed$", "POST")[0]
    assert dict(sent.form) == {"message": text, "link": "https://news.test/launch/?utm_source=facebook&utm_medium=social"}
    assert sent.headers["authorization"] == "Bearer page-token"
    assert receipt.remote_id == server.posts[0]["id"] and receipt.remote_id.startswith(f"{PAGE_ID}_")
    assert receipt.url == server.posts[0]["permalink_url"]


def test_a_local_image_is_uploaded_with_the_text(server, tmp_path):
    receipt = adapter(server).deliver(post(["With a picture"], type="facebook", media=[image(tmp_path)]), context())
    assert isinstance(receipt, Receipt) and server.photos[server.posts[0]["photo"]] == PNG
    assert server.posts[0]["message"] == "With a picture" and server.requests(r"/feed$", "POST") == []


def test_an_image_url_must_answer_on_the_deployed_blog(server, tmp_path):
    (tmp_path / "site" / "images").mkdir(parents=True)
    with Site(tmp_path / "site") as site:
        url = f"{site.url}/images/rocket.png"
        waiting = adapter(server).deliver(post(["x"], type="facebook", media=[Media(url, "r")]), context())
        assert waiting.retryable and waiting.message.startswith(f"the image {url} answers 404: Facebook fetches")
        (tmp_path / "site" / "images" / "rocket.png").write_bytes(PNG)
        receipt = adapter(server).deliver(post(["x"], type="facebook", media=[Media(url, "r")]), context())
    assert isinstance(receipt, Receipt) and dict(server.requests(r"/photos$", "POST")[0].form)["url"] == url


def test_a_lost_answer_is_read_back_from_the_page_feed(server):
    journal = Journal()
    server.drop(r"/feed$")
    a = adapter(server)
    assert a.deliver(post(["Hello page"], type="facebook"), context(journal=journal)).ambiguous
    again = a.deliver(post(["Hello page"], type="facebook"), context(journal=journal))
    assert again.remote_id == server.posts[0]["id"] and len(server.posts) == 1
    assert server.requests(r"/feed$", "GET")[0].query["fields"] == ["id,message,permalink_url,created_time"]


def test_engagement_fifty_posts_a_request(server):
    made = [server._new(f"post {i}", None)["id"] for i in range(120)]
    server.counts[made[70]] = {"views": 900, "reactions": 12, "comments": 3, "shares": 2}
    got = adapter(server).fetch_metrics([Receipt(m, None, NOW) for m in made])
    calls = server.requests("^/$")
    assert sorted(len(c.query["ids"][0].split(",")) for c in calls) == [20, 50, 50]  # sent concurrently
    assert got[made[70]] == {"views": 900, "likes": 12, "replies": 3, "shares": 2} and len(got) == 120


class Clock:
    def __call__(self):
        return datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


def person(show):
    return Person(say=lambda line: None, open_browser=lambda url: False, ask_secret=lambda q: "", show=show)


def test_publish_auth_gives_the_pages_token_for_a_persons_token(server):
    mine = adapter(server, env={"FB_PAGE_TOKEN": "person-token"})
    checked = connect(mine, person(show=False), now=Clock())
    assert checked.lines[0] == ("facebook: the secret in FB_PAGE_TOKEN works (Ana Editor, a person: "
                                "`publish auth facebook --show` gives the Page's token).")
    got = connect(mine, person(show=True), now=Clock())
    assert got.secret == "page-token"
    assert got.lines[-1] == ("facebook: a renewed token (it does not lapse); keep it as the secret FB_PAGE_TOKEN: "
                             "gh secret set FB_PAGE_TOKEN")
    page = connect(adapter(server), person(show=False), now=Clock())
    assert page.lines[0] == "facebook: the secret in FB_PAGE_TOKEN works (the Page Northwind News)."


def test_a_deleted_post_does_not_stop_the_others_numbers(server):
    made = [server._new(f"post {i}", None)["id"] for i in range(3)]
    server.counts[made[2]] = {"reactions": 5}
    server.posts.pop(1)  # deleted on Facebook
    got = adapter(server).fetch_metrics([Receipt(m, None, NOW) for m in made])
    assert set(got) == {made[0], made[2]} and got[made[2]]["likes"] == 5
    assert len(server.requests("^/$")) == 2  # asked again without the one that is gone
    assert adapter(server).fetch_replies([Receipt(made[1], None, NOW)]) == []
