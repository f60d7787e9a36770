"""Telegram: photo with caption, replies in order, no blind repeat, the token kept out of messages."""
from __future__ import annotations

import pytest

from channels.base import CannotReconcile, Failure, Journal, Media
from channels.telegram import Telegram
from tests.servers import PNG, channel, context, image, post
from tests.servers.telegram import TelegramServer

ENV = {"TG_TOKEN": "123456:ABC-secret"}


@pytest.fixture
def server():
    with TelegramServer() as srv:
        yield srv


def adapter(server, env=ENV):
    return channel(Telegram, server, {"token": "env:TG_TOKEN", "chat_id": "@newsroom"}, env)


def test_photo_with_caption_then_parts_replying(server, tmp_path):
    receipt = adapter(server).deliver(post(["Launch 🚀", "More"], type="telegram", media=[image(tmp_path)]), context())
    assert not isinstance(receipt, Failure), receipt
    first, second = server.messages
    assert first["caption"] == "Launch 🚀" and first["_photo"][1] == PNG
    assert second["text"] == "More" and second["_reply_to"] == first["message_id"]
    assert receipt.url == f"https://t.me/newsroom/{first['message_id']}"
    assert server.requests()[0].path == "/bot123456:ABC-secret/sendPhoto"


def test_photo_by_url_and_long_text_goes_separately(server):
    long = "x" * 1500
    adapter(server).deliver(post([long], type="telegram", media=[Media("https://news.test/r.png", "r")]), context())
    photo, text = server.messages
    assert photo["_photo"] == "https://news.test/r.png" and photo["caption"] is None
    assert text["text"] == long


def test_unknown_outcome_is_not_repeated(server):
    journal = Journal()
    server.drop(times=1)
    a = adapter(server)
    first = a.deliver(post(["once"], type="telegram"), context(journal=journal))
    assert first.ambiguous and "123456:ABC-secret" not in first.message
    again = a.deliver(post(["once"], type="telegram"), context(journal=journal))
    assert again == Failure("part 1 may already have gone out and this platform offers no way to check: look at "
                            "the channel and record or clear the entry by hand")
    assert len(server.messages) == 1
    with pytest.raises(CannotReconcile):
        a.reconcile(post(["once"], type="telegram"), context())


def test_rate_limit_answer(server):
    server.fail(429, {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 7",
                      "parameters": {"retry_after": 7}})
    failed = adapter(server).deliver(post(["hi"], type="telegram"), context())
    assert failed.retryable and failed.retry_after == 7
    assert failed.message == "HTTP 429: Too Many Requests: retry after 7"


def test_wrong_chat(server):
    a = channel(Telegram, server, {"token": "env:TG_TOKEN", "chat_id": "@other"}, ENV)
    assert a.deliver(post(["hi"], type="telegram"), context()).message == "HTTP 400: Bad Request: chat not found"


def test_token_never_appears_in_a_message():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed

    class Gone:
        url = f"http://127.0.0.1:{port}"

    failed = channel(Telegram, Gone, {"token": "env:TG_TOKEN", "chat_id": "@newsroom"}, ENV).deliver(
        post(["hi"], type="telegram"), context())
    assert failed.message == f"could not connect: connection refused at 127.0.0.1:{port} (nothing was sent)"
    assert failed.retryable and not failed.ambiguous  # nothing left: retried, never a person's question
    assert "ABC-secret" not in failed.message
