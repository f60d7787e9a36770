"""A Mastodon server on loopback, after mastodon/documentation (methods/statuses.md, media.md,
instance.md) and the server's statuses controller:

- ``POST /api/v1/statuses`` (form) → Status; a repeated ``Idempotency-Key`` returns the status first
  made with it (no duplicate); 401 ``{"error": "The access token is invalid"}``; 422 on an empty
  status; 404 when ``in_reply_to_id`` is unknown.
- ``POST /api/v2/media`` (multipart ``file`` + ``description``) → MediaAttachment; with
  ``async_media`` set: 202 and ``url: null``, then ``GET /api/v1/media/:id`` 206 once, 200 after.
- ``GET /api/v1/statuses?id[]=`` (unless ``version`` < 4.3: 404): at most 20 ids (422 above), missing
  ones left out. ``GET /api/v1/statuses/:id``, ``GET /api/v1/statuses/:id/context``.
- ``GET /api/v1/accounts/verify_credentials``, ``GET /api/v2/instance``.
- ``X-RateLimit-Limit/-Remaining/-Reset`` on every answer (reset: ISO time), 429 when spent.
- ``PUT /api/v1/statuses/:id`` (form, as create) → the Status with ``edited_at`` and one more entry in
  its history (none when nothing changed: the server swallows ``NoChangesSubmittedError``); media
  not named again in ``media_ids[]`` are detached. 404 ``Record not found`` when the status "does not
  exist, is private, or is not owned by you"; 422 ``Validation failed: Text can't be blank``.
  ``GET /api/v1/statuses/:id/source`` → ``{id, text, spoiler_text}``; ``GET …/history``.
- ``DELETE /api/v1/statuses/:id`` → the deleted Status with its source ``text``; 404 when not yours or gone.
  (mastodon/documentation ``content/en/methods/statuses.md``: #edit, #source, #history, #delete)
"""
from __future__ import annotations

import itertools
from datetime import datetime, timezone

from .base import Answer, Seen, Server, multipart

ME = {"id": "109383664973470793", "username": "newsroom", "acct": "newsroom", "display_name": "Newsroom",
      "url": "https://mastodon.test/@newsroom"}


class MastodonServer(Server):
    routes = [
        ("POST", r"/api/v1/statuses", "create"),
        ("GET", r"/api/v1/statuses", "index"),
        ("GET", r"/api/v1/statuses/(?P<sid>\d+)", "show"),
        ("GET", r"/api/v1/statuses/(?P<sid>\d+)/context", "context"),
        ("POST", r"/api/v2/media", "media"),
        ("GET", r"/api/v1/media/(?P<mid>\d+)", "media_show"),
        ("GET", r"/api/v1/accounts/verify_credentials", "verify"),
        ("GET", r"/api/v1/accounts/(?P<aid>\d+)/statuses", "account_statuses"),
        ("GET", r"/api/v2/instance", "instance"),
        ("PUT", r"/api/v1/statuses/(?P<sid>\d+)", "edit"),
        ("DELETE", r"/api/v1/statuses/(?P<sid>\d+)", "delete"),
        ("GET", r"/api/v1/statuses/(?P<sid>\d+)/source", "source"),
        ("GET", r"/api/v1/statuses/(?P<sid>\d+)/history", "history"),
    ]

    def __init__(self, token: str = "secret-token", version: str = "4.3.2", limit: int = 300):
        super().__init__()
        self.token = token
        self.version = version
        self.statuses: dict[str, dict] = {}
        self.sources: dict[str, str] = {}  # status id → its plain text (GET …/source)
        self.histories: dict[str, list[str]] = {}  # status id → every version's text, first one first
        self.deleted: list[str] = []
        self.media_items: dict[str, dict] = {}
        self.idempotency: dict[tuple[str, str], str] = {}
        self.ids = itertools.count(113000000000000001)
        self.async_media = False
        self.limit = limit
        self.remaining = limit
        self.reset_at = datetime(2030, 1, 1, tzinfo=timezone.utc)

    # -- helpers ------------------------------------------------------------------------------
    def rate_headers(self):
        return {"X-RateLimit-Limit": self.limit, "X-RateLimit-Remaining": max(self.remaining, 0),
                "X-RateLimit-Reset": self.reset_at.isoformat().replace("+00:00", "Z")}

    def _auth(self, seen: Seen) -> Answer | None:
        if seen.headers.get("authorization") != f"Bearer {self.token}":
            return Answer(401, {"error": "The access token is invalid"})
        with self.lock:
            self.remaining -= 1
            if self.remaining < 0:
                return Answer(429, {"error": "Too many requests"})
        return None

    def add_status(self, text: str = "hello", *, account=ME, in_reply_to: str | None = None, **counts) -> dict:
        sid = str(next(self.ids))
        status = {"id": sid, "created_at": "2026-11-23T10:00:00.000Z", "in_reply_to_id": in_reply_to,
                  "in_reply_to_account_id": None, "sensitive": False, "spoiler_text": "", "visibility": "public",
                  "language": "en", "uri": f"https://mastodon.test/users/{account['username']}/statuses/{sid}",
                  "url": f"https://mastodon.test/@{account['username']}/{sid}",
                  "replies_count": counts.get("replies", 0), "reblogs_count": counts.get("reblogs", 0),
                  "favourites_count": counts.get("favourites", 0), "content": f"<p>{text}</p>",
                  "account": dict(account), "media_attachments": [], "mentions": [], "tags": [], "emojis": [],
                  "card": None, "poll": None}
        with self.lock:
            self.statuses[sid] = status
            self.sources[sid] = text
            self.histories[sid] = [text]
        return status

    # -- routes -------------------------------------------------------------------------------
    def create(self, seen: Seen):
        if (denied := self._auth(seen)):
            return denied
        key = seen.headers.get("idempotency-key")
        with self.lock:
            if key and (self.token, key) in self.idempotency:
                # PostStatusService: a known key returns the status it made, nothing new is posted.
                return Answer(200, self.statuses[self.idempotency[(self.token, key)]])
        form = seen.form
        fields = dict(form)
        media_ids = [v for k, v in form if k == "media_ids[]"]
        if not fields.get("status") and not media_ids:
            return Answer(422, {"error": "Validation failed: Text can't be blank"})
        reply_to = fields.get("in_reply_to_id")
        if reply_to and reply_to not in self.statuses:
            return Answer(404, {"error": "The post you are trying to reply to does not appear to exist."})
        for mid in media_ids:
            if mid not in self.media_items:
                return Answer(422, {"error": "Validation failed: Media attachments is invalid"})
        status = self.add_status(fields.get("status", ""), in_reply_to=reply_to)
        status["visibility"] = fields.get("visibility", "public")
        status["media_attachments"] = [self.media_items[m] for m in media_ids]
        if key:
            with self.lock:
                self.idempotency[(self.token, key)] = status["id"]
        return Answer(200, status)

    def _own(self, sid: str) -> dict | None:
        status = self.statuses.get(sid)
        return status if status is not None and status["account"]["id"] == ME["id"] else None

    def edit(self, seen: Seen, sid: str):
        if (denied := self._auth(seen)):
            return denied
        status = self._own(sid)
        if status is None:
            return Answer(404, {"error": "Record not found"})
        form = seen.form
        fields = dict(form)
        media_ids = [v for k, v in form if k == "media_ids[]"]
        if not fields.get("status") and not media_ids:
            return Answer(422, {"error": "Validation failed: Text can't be blank"})
        for mid in media_ids:
            if mid not in self.media_items:
                return Answer(422, {"error": "Validation failed: Media attachments is invalid"})
        with self.lock:
            media = [self.media_items[m] for m in media_ids]
            if fields.get("status", "") == self.sources[sid] and media == status["media_attachments"]:
                return Answer(200, status)  # NoChangesSubmittedError is swallowed: no new version
            status["content"] = f"<p>{fields.get('status', '')}</p>"
            status["media_attachments"] = media
            status["edited_at"] = "2026-11-24T10:00:00.000Z"
            self.sources[sid] = fields.get("status", "")
            self.histories[sid].append(self.sources[sid])
        return Answer(200, status)

    def delete(self, seen: Seen, sid: str):
        if (denied := self._auth(seen)):
            return denied
        status = self._own(sid)
        if status is None:
            return Answer(404, {"error": "Record not found"})
        with self.lock:
            del self.statuses[sid]
            self.deleted.append(sid)
        return Answer(200, {**status, "text": self.sources.get(sid, "")})

    def source(self, seen: Seen, sid: str):
        if (denied := self._auth(seen)):
            return denied
        if sid not in self.statuses:
            return Answer(404, {"error": "Record not found"})
        return Answer(200, {"id": sid, "text": self.sources[sid], "spoiler_text": ""})

    def history(self, seen: Seen, sid: str):
        if sid not in self.statuses:
            return Answer(404, {"error": "Record not found"})
        return Answer(200, [{"content": f"<p>{t}</p>", "spoiler_text": "", "sensitive": False}
                            for t in self.histories[sid]])

    def index(self, seen: Seen):
        if self.version < "4.3":
            return Answer(404, {"error": "Record not found"})  # no such route before 4.3.0
        if (denied := self._auth(seen)):
            return denied
        ids = list(dict.fromkeys(seen.query.get("id[]", [])))
        if len(ids) > 20:
            return Answer(422, {"error": "Validation failed"})
        return Answer(200, [self.statuses[i] for i in ids if i in self.statuses])

    def show(self, seen: Seen, sid: str):
        if (denied := self._auth(seen)):
            return denied
        if sid not in self.statuses:
            return Answer(404, {"error": "Record not found"})
        return Answer(200, self.statuses[sid])

    def context(self, seen: Seen, sid: str):
        if (denied := self._auth(seen)):
            return denied
        if sid not in self.statuses:
            return Answer(404, {"error": "Record not found"})
        descendants, frontier = [], [sid]
        while frontier:
            parent = frontier.pop(0)
            children = [s for s in self.statuses.values() if s["in_reply_to_id"] == parent]
            descendants.extend(children)
            frontier.extend(c["id"] for c in children)
        return Answer(200, {"ancestors": [], "descendants": descendants})

    def media(self, seen: Seen):
        if (denied := self._auth(seen)):
            return denied
        fields = multipart(seen)
        if "file" not in fields or not fields["file"][1]:
            return Answer(422, {"error": "Validation failed: File can't be blank"})
        name, data, ctype = fields["file"]
        mid = str(next(self.ids))
        item = {"id": mid, "type": "image", "url": None if self.async_media else f"https://files.test/{mid}.png",
                "preview_url": None, "remote_url": None, "text_url": None, "meta": {},
                "description": (fields.get("description") or (None, b"", ""))[1].decode() or None,
                "blurhash": None, "_bytes": len(data), "_type": ctype, "_polls": 0}
        with self.lock:
            self.media_items[mid] = item
        public = {k: v for k, v in item.items() if not k.startswith("_")}
        return Answer(202 if self.async_media else 200, public)

    def media_show(self, seen: Seen, mid: str):
        if (denied := self._auth(seen)):
            return denied
        item = self.media_items.get(mid)
        if not item:
            return Answer(404, {"error": "Record not found"})
        item["_polls"] += 1
        if item["url"] is None and item["_polls"] < 2:
            return Answer(206, {k: v for k, v in item.items() if not k.startswith("_")})
        item["url"] = f"https://files.test/{mid}.png"
        return Answer(200, {k: v for k, v in item.items() if not k.startswith("_")})

    def verify(self, seen: Seen):
        if (denied := self._auth(seen)):
            return denied
        return Answer(200, dict(ME))

    def account_statuses(self, seen: Seen, aid: str):
        if (denied := self._auth(seen)):
            return denied
        limit = min(int((seen.query.get("limit") or ["20"])[0]), 40)
        mine = [st for st in self.statuses.values() if st["account"]["id"] == aid]
        return Answer(200, mine[::-1][:limit])  # newest first

    def instance(self, seen: Seen):
        return Answer(200, {"domain": "mastodon.test", "version": self.version,
                            "configuration": {"statuses": {"max_characters": 500, "max_media_attachments": 4,
                                                           "characters_reserved_per_url": 23}}})
