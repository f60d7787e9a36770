"""Corrections and withdrawals on Telegram, against the loopback Bot API that follows
core.telegram.org/bots/api#updating-messages: a caption is edited as a caption and the rest as text,
"message is not modified" (a repeat after a crash) counts as done, and the 48-hour limit on deleting,
"not found" and "not the bot's" come back in Telegram's own words."""
from __future__ import annotations

import pytest

from channels.base import Failure, Media, Receipt, Removal
from channels.telegram import Telegram
from tests.servers import context, image, post
from tests.servers import channel as make
from tests.servers.telegram import TelegramServer

ENV = {"TG_TOKEN": "123456:ABC-secret"}


@pytest.fixture
def server():
    with TelegramServer() as srv:
        yield srv


def adapter(server):
    return make(Telegram, server, {"token": "env:TG_TOKEN", "chat_id": "@newsroom"}, ENV)


def sent(server, parts, **kw):
    receipt = adapter(server).deliver(post(parts, type="telegram", **kw), context())
    assert not isinstance(receipt, Failure), receipt
    return receipt


def test_a_caption_is_edited_as_a_caption_and_a_reply_as_text(server, tmp_path):
    receipt = sent(server, ["Launch on Tuesday", "More at the link"], media=[image(tmp_path)])
    got = adapter(server).edit(post(["Launch on Wednesday", "More at the new link"], type="telegram"), receipt,
                               context())
    assert got == receipt
    photo, reply = server.messages
    assert photo["caption"] == "Launch on Wednesday" and reply["text"] == "More at the new link"
    calls = [r.path.rsplit("/", 1)[1] for r in server.requests() if "edit" in r.path]
    assert calls == ["editMessageCaption", "editMessageText"]
    assert server.requests()[-1].json == {"chat_id": "@newsroom", "message_id": reply["message_id"],
                                          "text": "More at the new link"}


def test_a_repeat_after_a_crash_is_not_modified_and_counts_as_done(server):
    receipt = sent(server, ["Old"])
    assert adapter(server).edit(post(["New"], type="telegram"), receipt, context()) == receipt
    assert adapter(server).edit(post(["New"], type="telegram"), receipt, context(again=True)) == receipt
    assert server.messages[0]["_edits"] == ["New"]


def test_not_found_and_not_the_bots_are_telegrams_own_words(server):
    receipt = sent(server, ["Mine"])
    gone = Receipt(remote_id="999", url=None, at=receipt.at, parts=({"id": "999"},))
    missing = adapter(server).edit(post(["Fixed"], type="telegram"), gone, context())
    assert isinstance(missing, Failure) and not missing.retryable
    assert missing.message == "HTTP 400: Bad Request: message to edit not found"

    server.messages[0]["_from"] = "other"
    theirs = adapter(server).edit(post(["Fixed"], type="telegram"), receipt, context())
    assert isinstance(theirs, Failure) and theirs.message == "HTTP 400: Bad Request: message can't be edited"


def test_a_withdrawal_deletes_every_message_and_the_photo_sent_on_its_own(server):
    receipt = sent(server, ["x" * 1500, "Second"], media=[Media("https://news.test/r.png", "r")])
    ids = [m["message_id"] for m in server.messages]
    removal = adapter(server).delete(receipt, context())
    assert isinstance(removal, Removal) and not removal.already
    assert server.deleted == ids[::-1] and not server.messages
    again = adapter(server).delete(receipt, context(again=True))
    assert isinstance(again, Removal) and again.already


def test_a_message_older_than_48_hours_cannot_be_deleted_and_a_person_is_told_why(server):
    receipt = sent(server, ["Old news"])
    server.now += 48 * 3600
    old = adapter(server).delete(receipt, context())
    assert isinstance(old, Failure) and not old.retryable
    assert old.message == ("HTTP 400: Bad Request: message can't be deleted for everyone (Telegram deletes a bot's "
                           "messages only within 48 hours of sending, and in a channel only with can_post_messages)")
    assert server.messages


def test_a_rate_limit_on_an_edit_is_retryable_with_telegrams_wait(server):
    receipt = sent(server, ["Text"])
    server.fail(429, {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 7",
                      "parameters": {"retry_after": 7}})
    limited = adapter(server).edit(post(["Better"], type="telegram"), receipt, context())
    assert isinstance(limited, Failure) and limited.retryable and limited.retry_after == 7
