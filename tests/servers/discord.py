"""Discord's webhook API on loopback (discord.com/developers/docs/resources/webhook):

- ``POST /api/webhooks/{id}/{token}?wait=true`` → 200 Message (``id``, ``channel_id``, ``content``);
  without ``wait``: 204. ``content`` over 2,000 characters: 400 ``{"message": "Invalid Form Body",
  "code": 50035}``.
- ``PATCH /api/webhooks/{id}/{token}/messages/{message.id}`` ("Edit Webhook Message": "edits a
  previously-sent webhook message from the same token") → 200 Message; ``DELETE`` → 204 No Content.
- A message that does not exist (or was deleted), and one the webhook did not send: 404
  ``{"message": "Unknown Message", "code": 10008}`` (Discord "returns this for requests to the
  /webhooks/:id/:token/messages/:message_id route when the message … was not sent by the webhook":
  discohook/discohook#29). A wrong token: 401 ``{"message": "Invalid Webhook Token", "code": 50027}``;
  an unknown webhook: 404 ``{"message": "Unknown Webhook", "code": 10015}``.
- Rate limits (docs/topics/rate-limits): ``X-RateLimit-Limit/-Remaining/-Reset/-Reset-After/-Bucket``
  on every answer; a spent bucket answers 429 with ``Retry-After`` and ``{"message": "You are being
  rate limited.", "retry_after": 1.5, "global": false}``.
"""
from __future__ import annotations

import itertools

from .base import Answer, Seen, Server

WEBHOOK = "1234567890"
TOKEN = "webhook-token-secret"


class DiscordServer(Server):
    routes = [
        ("POST", r"/api/webhooks/(?P<wid>\d+)/(?P<token>[^/]+)", "execute"),
        ("GET", r"/api/webhooks/(?P<wid>\d+)/(?P<token>[^/]+)/messages/(?P<mid>\d+)", "show"),
        ("PATCH", r"/api/webhooks/(?P<wid>\d+)/(?P<token>[^/]+)/messages/(?P<mid>\d+)", "edit"),
        ("DELETE", r"/api/webhooks/(?P<wid>\d+)/(?P<token>[^/]+)/messages/(?P<mid>\d+)", "delete"),
    ]

    def __init__(self, bucket: int = 5):
        super().__init__()
        self.messages: dict[str, dict] = {}
        self.deleted: list[str] = []
        self.ids = itertools.count(1310000000000000001)
        self.bucket = self.remaining = bucket

    @property
    def webhook_url(self) -> str:
        return f"{self.url}/api/webhooks/{WEBHOOK}/{TOKEN}"

    def rate_headers(self) -> dict:
        return {"X-RateLimit-Limit": self.bucket, "X-RateLimit-Remaining": max(self.remaining, 0),
                "X-RateLimit-Reset": "1800000000.5", "X-RateLimit-Reset-After": "1.5", "X-RateLimit-Bucket": "abcd1234"}

    def error(self, status, message, code=0):
        return Answer(status, {"message": message, "code": code})

    def _check(self, wid: str, token: str) -> Answer | None:
        if wid != WEBHOOK:
            return self.error(404, "Unknown Webhook", 10015)
        if token != TOKEN:
            return self.error(401, "Invalid Webhook Token", 50027)
        with self.lock:
            self.remaining -= 1
            if self.remaining < 0:
                return Answer(429, {"message": "You are being rate limited.", "retry_after": 1.5, "global": False},
                              {"Retry-After": "2"})
        return None

    def add_message(self, content: str, *, webhook_id: str = WEBHOOK) -> dict:
        mid = str(next(self.ids))
        message = {"id": mid, "type": 0, "content": content, "channel_id": "1200000000000000002",
                   "guild_id": "1100000000000000003", "webhook_id": webhook_id,
                   "author": {"bot": True, "id": webhook_id}, "edited_timestamp": None, "embeds": []}
        with self.lock:
            self.messages[mid] = message
        return message

    def execute(self, seen: Seen, wid: str, token: str):
        if (denied := self._check(wid, token)):
            return denied
        body = seen.json or {}
        if len(body.get("content") or "") > 2000:
            return self.error(400, "Invalid Form Body", 50035)
        message = self.add_message(body.get("content") or "")
        message["embeds"] = body.get("embeds") or []
        return Answer(200, message) if seen.query.get("wait") == ["true"] else Answer(204)

    def _mine(self, mid: str) -> dict | Answer:
        message = self.messages.get(mid)
        if message is None:
            return self.error(404, "Unknown Message", 10008)
        if message["webhook_id"] != WEBHOOK:
            return self.error(404, "Unknown Message", 10008)  # not sent by this webhook: not found
        return message

    def show(self, seen: Seen, wid: str, token: str, mid: str):
        if (denied := self._check(wid, token)):
            return denied
        found = self._mine(mid)
        return found if isinstance(found, Answer) else Answer(200, found)

    def edit(self, seen: Seen, wid: str, token: str, mid: str):
        if (denied := self._check(wid, token)):
            return denied
        found = self._mine(mid)
        if isinstance(found, Answer):
            return found
        body = seen.json or {}
        if len(body.get("content") or "") > 2000:
            return self.error(400, "Invalid Form Body", 50035)
        with self.lock:
            if "content" in body:
                found["content"] = body["content"]
            if "embeds" in body:
                found["embeds"] = body["embeds"] or []
            found["edited_timestamp"] = "2026-11-24T10:00:00.000000+00:00"
            found.setdefault("_edits", []).append(found["content"])
        return Answer(200, {k: v for k, v in found.items() if not k.startswith("_")})

    def delete(self, seen: Seen, wid: str, token: str, mid: str):
        if (denied := self._check(wid, token)):
            return denied
        found = self._mine(mid)
        if isinstance(found, Answer):
            return found
        with self.lock:
            del self.messages[mid]
            self.deleted.append(mid)
        return Answer(204)
