"""The Telegram Bot API on loopback (core.telegram.org/bots/api): ``/bot<token>/sendMessage`` and
``sendPhoto`` (JSON or multipart), answers ``{"ok": true, "result": Message}``; errors
``{"ok": false, "error_code": N, "description": "..."}``, 429 with ``parameters.retry_after``.

``getMe`` answers the bot's User. Replies: ``reply_parameters`` (Bot API 7.0, "Replies 2.0") or the
older ``reply_to_message_id``; a server older than 7.0 (``bot_api``) ignores ``reply_parameters`` as it
ignores any unknown field, so the message goes out as no reply at all.

Updating messages (core.telegram.org/bots/api#updating-messages): ``editMessageText``,
``editMessageCaption`` → the edited Message; 400 ``Bad Request: message to edit not found``, 400
``Bad Request: message can't be edited`` (another's message), 400 ``Bad Request: message is not
modified: …``. ``deleteMessage`` → ``true``; a message older than 48 hours (by ``now``, epoch
seconds) or not the bot's: 400 ``Bad Request: message can't be deleted for everyone``; an unknown
one: 400 ``Bad Request: message to delete not found``."""
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
        self.now = 1795510800 + 3600  # the server's clock (epoch seconds): an hour after the messages' date
        self.deleted: list[int] = []

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
        if method in ("editMessageText", "editMessageCaption", "deleteMessage"):
            return self.update(method, fields)
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

    def message(self, message_id) -> dict | None:
        return next((m for m in self.messages if m["message_id"] == int(message_id or 0)), None)

    def update(self, method: str, fields: dict):
        message = self.message(fields.get("message_id"))
        if method == "deleteMessage":
            if message is None:
                return self.error(400, "Bad Request: message to delete not found")
            if message.get("_from") == "other" or self.now - message["date"] >= 48 * 3600:
                return self.error(400, "Bad Request: message can't be deleted for everyone")
            self.messages.remove(message)
            self.deleted.append(message["message_id"])
            return Answer(200, {"ok": True, "result": True})
        if message is None:
            return self.error(400, "Bad Request: message to edit not found")
        if message.get("_from") == "other":
            return self.error(400, "Bad Request: message can't be edited")
        key = "text" if method == "editMessageText" else "caption"
        if key not in message:
            return self.error(400, "Bad Request: there is no text in the message to edit" if key == "text" else
                              "Bad Request: there is no caption in the message to edit")
        new = fields.get(key) or ""
        if key == "text" and not new:
            return self.error(400, "Bad Request: message text is empty")
        if new == message[key]:
            return self.error(400, "Bad Request: message is not modified: specified new message content and reply "
                                   "markup are exactly the same as a current content and reply markup of the message")
        message[key] = new
        message["edit_date"] = self.now
        message.setdefault("_edits", []).append(new)
        return Answer(200, {"ok": True, "result": {k: v for k, v in message.items() if not k.startswith("_")}})
