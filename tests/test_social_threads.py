"""Threads: the 500-character count (emoji by bytes), threads as replies, images fetched by Meta from
the deployed blog, carousels, container status polling, a crash between container and publish,
and `publish auth` renewing the long-lived token."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from channels.auth import AuthError, Person, connect
from channels.base import Failure, Journal, Media, Receipt
from channels.threads import Threads, threads_length
from tests.servers import PNG, channel, context, post
from tests.servers.site import Site
from tests.servers.threads import ThreadsServer

ENV = {"THREADS_TOKEN": "threads-token"}


@pytest.fixture
def server():
    with ThreadsServer() as srv:
        yield srv


@pytest.fixture
def site(tmp_path):
    (tmp_path / "site" / "images").mkdir(parents=True)
    with Site(tmp_path / "site") as srv:
        yield srv


def adapter(server, env=ENV, **options):
    return channel(Threads, server, {"token": "env:THREADS_TOKEN", **options}, env)


def deploy(site, tmp_path, name="rocket.png"):
    (tmp_path / "site" / "images" / name).write_bytes(PNG)
    return f"{site.url}/images/{name}"


def test_emoji_count_their_utf8_bytes():
    assert threads_length("Launch day") == 10
    assert threads_length("café 🚀") == 5 + 4  # é is one character, the rocket four bytes
    assert threads_length("🇫🇷") == 8 and threads_length("👩🏽‍💻") == len("👩🏽‍💻".encode())
    assert Threads.length_rule().limit == 500


def test_a_thread_is_written_as_replies_each_to_the_part_before(server):
    receipt = adapter(server).deliver(post(["one", "two", "three"], type="threads"), context())
    assert isinstance(receipt, Receipt), receipt
    created = [dict(r.form) for r in server.requests(r"/threads$", "POST")]
    ids = [p["id"] for p in receipt.parts]
    assert [c.get("reply_to_id") for c in created] == [None, ids[0], ids[1]]
    assert [c["media_type"] for c in created] == ["TEXT"] * 3
    assert server.requests(r"/threads$")[0].headers["authorization"] == "Bearer threads-token"
    assert [m["text"] for m in server.media] == ["one", "two", "three"]


def test_the_image_is_fetched_by_meta_from_the_deployed_blog(server, site, tmp_path):
    url = deploy(site, tmp_path)
    receipt = adapter(server).deliver(post(["with a picture"], type="threads", media=[Media(url, "A rocket")]),
                                      context())
    assert isinstance(receipt, Receipt), receipt
    form = dict(server.requests(r"/threads$", "POST")[0].form)
    assert form == {"media_type": "IMAGE", "text": "with a picture", "image_url": url, "alt_text": "A rocket"}


def test_an_image_the_blog_does_not_serve_yet_is_said_plainly(server, site):
    url = f"{site.url}/images/missing.png"
    failed = adapter(server).deliver(post(["x"], type="threads", media=[Media(url, "A rocket")]), context())
    assert failed == Failure(f"the image {url} answers 404: Threads fetches images from their public URL on the "
                             "deployed blog, so the blog must be deployed first (make the entry wait for it with "
                             "`after: blog`)", retryable=True)
    assert server.requests(r"/threads$") == []
    local = adapter(server).deliver(post(["x"], type="threads", media=[Media("images/rocket.png", "r")]), context())
    assert local.message.startswith("the image images/rocket.png has no public URL") and not local.retryable


def test_carousel_of_images(server, site, tmp_path):
    urls = [deploy(site, tmp_path, f"{n}.png") for n in "abc"]
    receipt = adapter(server).deliver(post(["three pictures"], type="threads",
                                           media=[Media(u, f"picture {i}") for i, u in enumerate(urls)]), context())
    assert isinstance(receipt, Receipt), receipt
    made = [dict(r.form) for r in server.requests(r"/threads$", "POST")]
    assert [m["is_carousel_item"] for m in made[:3]] == ["true"] * 3
    assert made[3]["media_type"] == "CAROUSEL" and made[3]["children"].split(",") == [
        c for c in server.containers if server.containers[c]["form"].get("is_carousel_item")]


def test_a_container_still_processing_is_asked_about_until_finished(tmp_path):
    with ThreadsServer(processing=2) as server:
        waits = []
        receipt = adapter(server).deliver(post(["slow"], type="threads"), context(sleep=waits.append))
        assert isinstance(receipt, Receipt) and waits == [1.0, 2.0]
        assert len([r for r in server.requests() if r.query.get("fields") == ["status,error_message"]]) == 3


def test_a_crash_after_the_container_publishes_that_container_and_makes_no_other(server):
    journal = Journal()
    server.fail(500, {"error": {"message": "An unknown error occurred", "type": "OAuthException", "code": 1}},
                path=r"/threads_publish$")
    first = adapter(server).deliver(post(["once"], type="threads"), context(journal=journal))
    assert first.retryable and journal.get("container:0") and server.media == []
    assert adapter(server).reconcile(post(["once"], type="threads"), context(journal=journal)) is None
    again = adapter(server).deliver(post(["once"], type="threads"), context(journal=journal))
    assert isinstance(again, Receipt) and len(server.containers) == 1 and len(server.media) == 1
    assert server.requests(r"/threads_publish$")[-1].form == [("creation_id", journal.get("container:0"))]


def test_an_expired_container_is_replaced(server):
    journal = Journal()
    journal.put("container:0", "123")
    server.containers["123"] = {"id": "123", "status": "EXPIRED", "error_message": "", "form": {}, "asked": 0}
    receipt = adapter(server).deliver(post(["late"], type="threads"), context(journal=journal))
    assert isinstance(receipt, Receipt) and journal.get("container:0") != "123" and len(server.media) == 1


def test_metrics_waits_out_the_business_use_case_throttle(server):
    receipt = adapter(server).deliver(post(["counted"], type="threads"), context())
    a = adapter(server)
    waits = []
    a.gate.sleep, a.gate.clock = waits.append, lambda: 1000.0
    server.throttle(code=80001, minutes=2)
    server.insight_counts[receipt.remote_id] = {"views": 40, "likes": 3}
    assert a.fetch_metrics([receipt])[receipt.remote_id]["views"] == 40 and waits == [120.0]


class Clock:
    def __call__(self):
        return datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


def person(show):
    said = []
    return Person(say=said.append, open_browser=lambda url: False, ask_secret=lambda q: "", show=show)


def test_publish_auth_checks_then_renews_the_token_only_when_asked(server):
    checked = connect(adapter(server), person(show=False), now=Clock())
    assert checked.secret is None and checked.lines[0] == "threads: the secret in THREADS_TOKEN works (@northwind)."
    assert checked.lines[1].endswith("To replace it with a renewed one: `publish auth threads | gh secret set "
                                     "THREADS_TOKEN` (or add --show)")
    renewed = connect(adapter(server), person(show=True), now=Clock())
    assert renewed.secret == "threads-token-renewed"
    assert renewed.lines[-1] == ("threads: a renewed token (it lapses 2027-01-22); keep it as the secret "
                                 "THREADS_TOKEN: gh secret set THREADS_TOKEN")
    assert server.requests("/refresh_access_token")[0].query["grant_type"] == ["th_refresh_token"]
    server.expire()
    with pytest.raises(AuthError) as exc:
        connect(adapter(server), person(show=False), now=Clock())
    assert str(exc.value).startswith("threads: the secret in THREADS_TOKEN does not work: HTTP 400: Error validating "
                                     "access token: Session has expired")
    assert str(exc.value).endswith("then set it")
