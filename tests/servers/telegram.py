"""The Telegram Bot API on loopback (core.telegram.org/bots/api): ``/bot<token>/sendMessage`` and
``sendPhoto`` (JSON or multipart), answers ``{"ok": true, "result": Message}``; errors
``{"ok": false, "error_code": N, "description": "..."}``, 429 with ``parameters.retry_after``.

``getMe`` answers the bot's User. Replies: ``reply_parameters`` (Bot API 7.0, "Replies 2.0") or the
older ``reply_to_message_id``; a server older than 7.0 (``bot_api``) ignores ``reply_parameters`` as it
ignores any unknown field, so the message goes out as no reply at all."""
from __future__ import annotations

import itertools
import json

from .base import Answer, Seen, Server, multipart


class TelegramServer(Server):
    routes = [("POST", r"/bot(?P<token>[^/]+)/(?P<method>\w+)", "call")]

    def __init__(self, token="123456:ABC-secret", chat="@newsroom", bot_api=(9, 0)):
        super().__init__()
        self.token, self.chat, self.bot_api = token, chat, bot_api
        self.messages: list[dict] = []
        self.ids = itertools.count(101)

    def error(self, status, message):
        return Answer(status, {"ok": False, "error_code": status, "description": message})

    def call(self, seen: Seen, token: str, method: str):
        if token != self.token:
            return self.error(401, "Unauthorized")
        if "json" in seen.headers.get("content-type", ""):
            fields = seen.json
        elif "multipart" in seen.headers.get("content-type", ""):
            fields = {k: (v[1].decode() if v[0] is None else v) for k, v in multipart(seen).items()}
        else:
            fields = dict(seen.form)
        if method == "getMe":
            return Answer(200, {"ok": True, "result": {"id": 123456, "is_bot": True, "first_name": "Newsroom",
                                                       "username": "newsroom_bot"}})
        if fields.get("chat_id") != self.chat:
            return self.error(400, "Bad Request: chat not found")
        if method == "sendMessage":
            if not fields.get("text"):
                return self.error(400, "Bad Request: message text is empty")
            if len(fields["text"]) > 4096:
                return self.error(400, "Bad Request: message is too long")
        elif method == "sendPhoto":
            if len(fields.get("caption") or "") > 1024:
                return self.error(400, "Bad Request: message caption is too long")
            if not fields.get("photo"):
                return self.error(400, "Bad Request: there is no photo in the request")
        else:
            return self.error(404, "Not Found")
        reply = (fields.get("reply_parameters") or {}) if self.bot_api >= (7, 0) else {}
        if isinstance(reply, str):
            reply = json.loads(reply)
        if fields.get("reply_to_message_id"):
            reply = {"message_id": int(fields["reply_to_message_id"])}
        message = {"message_id": next(self.ids), "date": 1795510800,
                   "chat": {"id": -1001234567890, "title": "Newsroom", "username": self.chat[1:], "type": "channel"},
                   "text" if method == "sendMessage" else "caption": fields.get("text") or fields.get("caption"),
                   "_photo": fields.get("photo") if method == "sendPhoto" else None,
                   "_reply_to": reply.get("message_id")}
        self.messages.append(message)
        return Answer(200, {"ok": True, "result": {k: v for k, v in message.items() if not k.startswith("_")}})
