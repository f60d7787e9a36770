"""Corrections and withdrawals on Mastodon, against the loopback server that follows
mastodon/documentation methods/statuses.md (#edit, #source, #delete): edits in place keep the image,
"not found" and "not yours" are the documented 404, a rate limit is retried later, a repeat after a
crash writes no second version, and a delete of what is gone counts as gone."""
from __future__ import annotations

from channels.base import Failure, Removal
from tests.servers import channel, context, image, post
from tests.servers.mastodon import MastodonServer

import pytest

from channels.mastodon import Mastodon

ENV = {"MASTODON_TOKEN": "secret-token"}
OPTIONS = {"instance": "https://mastodon.test", "token": "env:MASTODON_TOKEN"}


@pytest.fixture
def server():
    with MastodonServer() as srv:
        yield srv


def adapter(server):
    return channel(Mastodon, server, OPTIONS, ENV)


def sent(server, parts, tmp_path=None):
    media = [image(tmp_path)] if tmp_path is not None else []
    receipt = adapter(server).deliver(post(parts, media=media), context())
    assert not isinstance(receipt, Failure), receipt
    return receipt


def test_a_correction_edits_each_part_in_place_and_keeps_the_image(server, tmp_path):
    receipt = sent(server, ["Launch on Tuesday", "Details: https://news.test/launch/"], tmp_path)
    first, second = (p["id"] for p in receipt.parts)
    media_id = server.statuses[first]["media_attachments"][0]["id"]

    got = adapter(server).edit(post(["Launch on Wednesday", "Details: https://news.test/launch/"]), receipt, context())

    assert got == receipt  # same statuses, same URLs
    edits = server.requests(r"/api/v1/statuses/\d+$", "PUT")
    assert [e.path for e in edits] == [f"/api/v1/statuses/{first}", f"/api/v1/statuses/{second}"]
    assert dict(edits[0].form)["status"] == "Launch on Wednesday"
    assert [v for k, v in edits[0].form if k == "media_ids[]"] == [media_id]
    assert edits[0].headers["authorization"] == "Bearer secret-token"
    assert server.histories[first] == ["Launch on Tuesday", "Launch on Wednesday"]
    assert server.statuses[first]["media_attachments"][0]["id"] == media_id
    assert server.histories[second] == ["Details: https://news.test/launch/"]  # same text: no new version


def test_asked_again_after_a_crash_a_part_already_edited_gets_no_second_version(server):
    receipt = sent(server, ["Old text"])
    sid = receipt.remote_id
    assert not isinstance(adapter(server).edit(post(["New text"]), receipt, context()), Failure)
    again = adapter(server).edit(post(["New text"]), receipt, context(again=True))
    assert again == receipt
    assert len(server.requests(r"/api/v1/statuses/\d+$", "PUT")) == 1  # the source said it already
    assert server.requests(rf"/api/v1/statuses/{sid}/source", "GET")
    assert server.histories[sid] == ["Old text", "New text"]


def test_a_status_that_is_gone_or_not_ours_is_the_documented_404_and_not_retried(server):
    receipt = sent(server, ["Mine"])
    server.statuses.pop(receipt.remote_id)
    gone = adapter(server).edit(post(["Fixed"]), receipt, context())
    assert isinstance(gone, Failure) and not gone.retryable and gone.status == 404
    assert gone.message == "HTTP 404: Record not found (the status is gone, private, or not this account's)"

    other = server.add_status("someone else", account={"id": "1", "username": "other", "acct": "other"})
    theirs = adapter(server).edit(post(["Fixed"]), type(receipt)(remote_id=other["id"], url=None, at=receipt.at),
                                  context())
    assert isinstance(theirs, Failure) and theirs.status == 404
    assert server.histories[other["id"]] == ["someone else"]


def test_an_empty_correction_and_a_rate_limit_come_back_as_the_platform_said(server):
    receipt = sent(server, ["Text"])
    empty = adapter(server).edit(post([""]), receipt, context())
    assert isinstance(empty, Failure) and not empty.retryable
    assert empty.message == "HTTP 422: Validation failed: Text can't be blank"

    server.fail(429, {"error": "Too many requests"}, headers={"Retry-After": "30"}, path=r"/api/v1/statuses/\d+$")
    limited = adapter(server).edit(post(["Better text"]), receipt, context())
    assert isinstance(limited, Failure) and limited.retryable and limited.retry_after == 30


def test_a_thread_that_gained_a_part_cannot_be_edited_in_place(server):
    receipt = sent(server, ["One"])
    got = adapter(server).edit(post(["One", "Two"]), receipt, context())
    assert isinstance(got, Failure) and not got.retryable
    assert got.message == ("the post is now 2 part(s) where 1 went out; Mastodon edits each status in place and "
                           "cannot add or remove parts of a thread")
    assert not server.requests(method="PUT")


def test_a_withdrawal_deletes_every_part_last_first_and_a_repeat_finds_them_gone(server):
    receipt = sent(server, ["One", "Two", "Three"])
    ids = [p["id"] for p in receipt.parts]
    removal = adapter(server).delete(receipt, context())
    assert isinstance(removal, Removal) and not removal.already
    assert server.deleted == ids[::-1]
    assert not server.statuses

    again = adapter(server).delete(receipt, context(again=True))
    assert isinstance(again, Removal) and again.already


def test_a_withdrawal_during_an_outage_is_retryable(server):
    receipt = sent(server, ["One"])
    server.fail(503, {"error": "Service Unavailable"}, path=r"/api/v1/statuses/\d+$")
    down = adapter(server).delete(receipt, context())
    assert isinstance(down, Failure) and down.retryable and down.message == "HTTP 503: Service Unavailable"
    assert receipt.remote_id in server.statuses
