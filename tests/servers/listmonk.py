"""listmonk's HTTP API on loopback (knadh/listmonk ``docs/docs/content/apis/campaigns.md``, ``apis.md``).

- ``Authorization: token <user>:<token>`` (or BasicAuth); a wrong one is 403
  ``{"message": "invalid API credentials"}``; answers are ``{"data": …}``, errors ``{"message": …}``;
- ``POST /api/campaigns``: name, subject, lists, type, content_type, body required (400 "invalid
  …"), an unknown list id 400; the campaign starts as ``draft``;
- ``PUT /api/campaigns/{id}/status``: draft → scheduled (needs ``send_at``) or running; paused →
  running; anything else 400 ("Only 'draft' and 'paused' campaigns can be started." and the like);
- ``GET /api/campaigns`` with ``tags`` (repeated), ``per_page`` (a number or ``all``; default 20),
  ``page``, ``no_body``; ``GET /api/campaigns/{id}``;
- ``GET /api/lists`` (``per_page`` a number or ``all``) → ``{"data": {"results": [...], "total", "per_page",
  "page"}}`` as ``docs/docs/content/apis/lists.md`` shows it;
- ``per_minute``: past this many requests a minute, 429 ``{"message": "Too many requests"}`` — listmonk's
  API docs list 429 "Too many requests to the API (rate limiting)" among its error codes (``apis.md``) and
  name no header: listmonk itself sets no request budget, the proxy in front of it does, so the
  stand-in sends no Retry-After either;
- ``finish(id, sent, views, clicks, bounces)`` stands for listmonk sending and the readers opening.
"""
from __future__ import annotations

import base64
import itertools
import uuid

from .base import Answer, Seen, Server


class ListmonkServer(Server):
    routes = [
        ("POST", r"/api/campaigns", "create"),
        ("GET", r"/api/campaigns", "index"),
        ("GET", r"/api/campaigns/(?P<cid>\d+)", "get"),
        ("PUT", r"/api/campaigns/(?P<cid>\d+)/status", "status"),
        ("GET", r"/api/lists", "list_index"),
    ]

    def __init__(self, user="newsroom", token="listmonk-token", lists=(1, 2, 3), per_minute=None):
        super().__init__()
        self.user, self.token, self.lists = user, token, set(lists)
        self.campaigns: dict[int, dict] = {}
        self.ids = itertools.count(1)
        self.per_minute, self.used = per_minute, 0

    def dispatch(self, seen: Seen):
        with self.lock:
            self.used += 1
            over = self.per_minute is not None and self.used > self.per_minute
        if over:
            return self.error(429, "Too many requests")
        return super().dispatch(seen)

    def list_index(self, seen: Seen):
        if (denied := self._auth(seen)):
            return denied
        per_page = (seen.query.get("per_page") or ["20"])[0]
        rows = [{"id": i, "created_at": "2026-11-01T09:00:00.000000+01:00", "updated_at": "2026-11-01T09:00:00.000000+01:00",
                 "uuid": str(uuid.UUID(int=i)), "name": f"list {i}", "type": "private", "optin": "single",
                 "status": "active", "tags": [], "subscriber_count": 0} for i in sorted(self.lists)]
        shown = rows if per_page == "all" else rows[:int(per_page)]
        return Answer(200, {"data": {"results": shown, "total": len(rows),
                                     "per_page": per_page if per_page == "all" else int(per_page), "page": 1}})

    def error(self, status, message):
        return Answer(status, {"message": message})

    def _auth(self, seen: Seen):
        auth = seen.headers.get("authorization", "")
        if auth.startswith("Basic "):
            auth = "token " + base64.b64decode(auth[6:]).decode()
        if auth != f"token {self.user}:{self.token}":
            return self.error(403, "invalid API credentials")
        return None

    def create(self, seen: Seen):
        if (denied := self._auth(seen)):
            return denied
        b = seen.json or {}
        for key in ("name", "subject", "lists", "type", "content_type"):
            if not b.get(key):
                return self.error(400, f"invalid {key}")
        if any(i not in self.lists for i in b["lists"]):
            return self.error(400, "invalid list IDs")
        cid = next(self.ids)
        c = {"id": cid, "uuid": str(uuid.uuid4()), "name": b["name"], "subject": b["subject"],
             "lists": [{"id": i, "name": f"list {i}"} for i in b["lists"]], "type": b["type"],
             "content_type": b["content_type"], "body": b.get("body", ""), "altbody": b.get("altbody"),
             "from_email": b.get("from_email", "listmonk <noreply@lists.test>"), "tags": b.get("tags") or [],
             "send_at": b.get("send_at"), "status": "draft", "views": 0, "clicks": 0, "bounces": 0, "sent": 0,
             "to_send": 0, "template_id": b.get("template_id", 1), "messenger": b.get("messenger", "email"),
             "started_at": None, "created_at": "2026-11-23T09:00:00.000000Z", "updated_at": "2026-11-23T09:00:00.000000Z"}
        with self.lock:
            self.campaigns[cid] = c
        return Answer(200, {"data": c})

    def _shown(self, c: dict, no_body: bool) -> dict:
        return {k: v for k, v in c.items() if not (no_body and k in ("body", "altbody"))}

    def index(self, seen: Seen):
        if (denied := self._auth(seen)):
            return denied
        tags = seen.query.get("tags") or []
        per_page = (seen.query.get("per_page") or ["20"])[0]
        page = int((seen.query.get("page") or ["1"])[0])
        no_body = (seen.query.get("no_body") or ["false"])[0] == "true"
        found = [c for c in self.campaigns.values() if all(t in c["tags"] for t in tags)]
        found.sort(key=lambda c: -c["id"])
        shown = found if per_page == "all" else found[(page - 1) * int(per_page): page * int(per_page)]
        return Answer(200, {"data": {"results": [self._shown(c, no_body) for c in shown], "query": "",
                                     "total": len(found), "per_page": per_page if per_page == "all" else int(per_page),
                                     "page": page}})

    def get(self, seen: Seen, cid: str):
        if (denied := self._auth(seen)):
            return denied
        c = self.campaigns.get(int(cid))
        if c is None:
            return self.error(404, "Campaign not found.")
        return Answer(200, {"data": self._shown(c, (seen.query.get("no_body") or ["false"])[0] == "true")})

    def status(self, seen: Seen, cid: str):
        if (denied := self._auth(seen)):
            return denied
        c = self.campaigns.get(int(cid))
        if c is None:
            return self.error(404, "Campaign not found.")
        new = (seen.json or {}).get("status")
        old = c["status"]
        if new == "scheduled" and (old != "draft" or not c.get("send_at")):
            return self.error(400, "Only 'draft' campaigns with a send_at date can be scheduled.")
        if new == "running" and old not in ("draft", "paused"):
            return self.error(400, "Only 'draft' and 'paused' campaigns can be started.")
        if new in ("paused", "cancelled") and old != "running":
            return self.error(400, "Only 'running' campaigns can be paused or cancelled.")
        if new not in ("scheduled", "running", "paused", "cancelled"):
            return self.error(400, "invalid status")
        c["status"] = new
        return Answer(200, {"data": c})

    def finish(self, cid: int, *, sent: int, views: int, clicks: int, bounces: int = 0):
        c = self.campaigns[cid]
        c.update(status="finished", sent=sent, to_send=sent, views=views, clicks=clicks, bounces=bounces)
