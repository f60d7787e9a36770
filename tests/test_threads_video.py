"""Threads videos on loopback (documentation/threads/posts and troubleshooting): a VIDEO container
with ``video_url``, asked about until Meta has processed it (FINISHED) before it is published; a
video that ends in ERROR is a failure in words; carousels mixing images and videos; a video still
processing when the run stops is published by a later run, never made twice."""
from __future__ import annotations

import pytest

from channels.base import Failure, Journal, Media, Receipt
from channels.threads import Threads
from tests.servers import PNG, channel, context, post
from tests.servers.site import Site
from tests.servers.threads import ThreadsServer


@pytest.fixture
def site(tmp_path):
    (tmp_path / "site" / "media").mkdir(parents=True)
    (tmp_path / "site" / "media" / "launch.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42")
    (tmp_path / "site" / "media" / "rocket.png").write_bytes(PNG)
    with Site(tmp_path / "site") as srv:
        yield srv


@pytest.fixture
def server():
    with ThreadsServer() as srv:
        yield srv


def adapter(server):
    return channel(Threads, server, {"token": "env:T"}, {"T": "threads-token"})


def sent(server):
    return [(s.method, s.path, dict(s.form) if s.method == "POST" else None) for s in server.requests()
            if s.path != "/me/threads_publishing_limit"]


def test_a_video_is_published_once_meta_has_processed_it(server, site):
    video = f"{site.url}/media/launch.mp4"
    waits = []
    receipt = adapter(server).deliver(post(["Watch the launch"], type="threads", media=[Media(video, "The launch")]),
                                      context(sleep=waits.append))
    assert isinstance(receipt, Receipt), receipt
    cid = next(iter(server.containers))
    assert sent(server)[0] == ("POST", "/me/threads", {"media_type": "VIDEO", "text": "Watch the launch",
                                                       "video_url": video, "alt_text": "The launch"})
    # asked, IN_PROGRESS; the documented 30 seconds; asked again, FINISHED; then published
    assert [(m, p) for m, p, _ in sent(server)[1:4]] == [("GET", f"/{cid}"), ("GET", f"/{cid}"),
                                                         ("POST", "/me/threads_publish")]
    assert waits == [30.0] and server.media[0]["media_type"] == "VIDEO"


def test_a_video_meta_cannot_use_is_a_failure_in_words(server, site):
    server.video_error = "INVALID_DURATION"
    failed = adapter(server).deliver(post(["Too long"], type="threads",
                                          media=[Media(f"{site.url}/media/launch.mp4", "")]), context())
    cid = next(iter(server.containers))
    assert failed == Failure(f"the container {cid} is ERROR (INVALID_DURATION: the video's length is not accepted)")
    assert not server.requests("/threads_publish$")


def test_a_video_still_processing_is_published_by_a_later_run_not_made_again(server, site):
    server.video_busy = 8  # longer than the polls of one run (about five minutes)
    journal = Journal()
    p = post(["Big file"], type="threads", media=[Media(f"{site.url}/media/launch.mp4", "")])
    waits = []
    first = adapter(server).deliver(p, context(journal=journal, sleep=waits.append))
    cid = journal.get("container:0")
    assert first == Failure(f"the container {cid} was still being processed after 300 seconds; a later run publishes "
                            "it once it is ready", retryable=True)
    assert sum(waits) == 300.0 and not server.media
    again = adapter(server).deliver(p, context(journal=journal))
    assert isinstance(again, Receipt) and len(server.containers) == 1 and len(server.media) == 1


def test_a_carousel_of_an_image_and_a_video(server, site):
    image, video = f"{site.url}/media/rocket.png", f"{site.url}/media/launch.mp4"
    receipt = adapter(server).deliver(post(["Both"], type="threads", media=[Media(image, "Rocket"), Media(video, "")]),
                                      context())
    assert isinstance(receipt, Receipt), receipt
    made = [form for method, path, form in sent(server) if method == "POST" and path == "/me/threads"]
    first, second = list(server.containers)[:2]
    assert made == [{"media_type": "IMAGE", "image_url": image, "alt_text": "Rocket", "is_carousel_item": "true"},
                    {"media_type": "VIDEO", "video_url": video, "alt_text": "", "is_carousel_item": "true"},
                    {"media_type": "CAROUSEL", "text": "Both", "children": f"{first},{second}"}]
    assert server.media[0]["media_type"] == "CAROUSEL"


def test_a_carousel_video_that_fails_stops_before_the_carousel(server, site):
    server.video_error = "FAILED_PROCESSING_VIDEO"
    failed = adapter(server).deliver(post(["Both"], type="threads", media=[Media(f"{site.url}/media/rocket.png", ""),
                                                                          Media(f"{site.url}/media/launch.mp4", "")]),
                                     context())
    video_item = list(server.containers)[1]
    assert failed == Failure(f"carousel item 2: the container {video_item} is ERROR (FAILED_PROCESSING_VIDEO: Meta "
                             "could not process the video)")
    assert len(server.containers) == 2 and not server.media


def test_a_dry_run_makes_no_carousel_items(server, site):
    got = adapter(server).deliver(post(["Both"], type="threads", media=[Media(f"{site.url}/media/rocket.png", ""),
                                                                       Media(f"{site.url}/media/launch.mp4", "")]),
                                  context(dry_run=True))
    assert isinstance(got, Receipt) and not server.containers and not server.requests(method="POST")
