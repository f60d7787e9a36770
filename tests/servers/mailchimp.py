"""Mailchimp's Marketing API 3.0 on loopback (https://mailchimp.com/developer/marketing/api/).

- HTTP Basic, any user name, the API key as password; a wrong key is 401 with a problem document
  ``{"type", "title": "API Key Invalid", "status", "detail", "instance"}``;
- ``POST /3.0/campaigns`` (400 "Invalid Resource" with ``errors`` for a missing field or an unknown
  list), ``PUT /3.0/campaigns/{id}/content``, ``POST …/actions/send`` (204; 400 "Bad Request" when
  already sent), ``POST …/actions/schedule`` (``schedule_time`` on a quarter hour, else 400),
  ``GET /3.0/campaigns`` (``list_id``, ``count`` ≤ 1000, ``offset``, ``fields`` ignored here),
  ``GET /3.0/campaigns/{id}``;
- ``GET /3.0/reports`` (``count`` ≤ 1000, ``offset``) → ``{"reports": [...], "total_items"}``;
- at most ``max_connections`` (10) requests at once per account: the next is 429 "Too Many Requests",
  detail "You have exceeded the limit of 10 simultaneous connections." (the error glossary,
  https://mailchimp.com/developer/marketing/docs/errors/, and "API limits" in
  https://mailchimp.com/developer/marketing/docs/fundamentals/: no Retry-After, no rate-limit
  headers); ``hold()`` keeps the requests that arrive waiting until ``release()``, so a test fills the
  ten connections;
- ``GET /3.0/ping`` → ``{"health_status": "Everything's Chimpy!"}`` (the Marketing API quick start);
  ``GET /3.0/lists/{list_id}`` (404 for an audience this account does not have) and
  ``GET /3.0/lists/{list_id}/segments`` → ``{"segments": [{"id", "name", "member_count", …}], "total_items"}``;
- ``report(id, …)`` stands for the audience opening and clicking.
"""
from __future__ import annotations

import base64
import itertools
import threading
from datetime import datetime

from .base import Answer, Seen, Server


def problem(status: int, title: str, detail: str, **extra) -> Answer:
    return Answer(status, {"type": "https://mailchimp.com/developer/marketing/docs/errors/", "title": title,
                           "status": status, "detail": detail, "instance": "0d1f8e7c-1a2b-4c3d-9e8f-7a6b5c4d3e2f",
                           **extra}, {"Content-Type": "application/problem+json; charset=utf-8"})


class MailchimpServer(Server):
    routes = [
        ("POST", r"/3.0/campaigns", "create"),
        ("GET", r"/3.0/campaigns", "index"),
        ("GET", r"/3.0/campaigns/(?P<cid>[0-9a-f]+)", "get"),
        ("PUT", r"/3.0/campaigns/(?P<cid>[0-9a-f]+)/content", "content"),
        ("POST", r"/3.0/campaigns/(?P<cid>[0-9a-f]+)/actions/send", "send"),
        ("POST", r"/3.0/campaigns/(?P<cid>[0-9a-f]+)/actions/schedule", "schedule"),
        ("GET", r"/3.0/reports", "reports"),
        ("GET", r"/3.0/ping", "ping"),
        ("GET", r"/3.0/lists/(?P<lid>[0-9a-f]+)", "audience"),
        ("GET", r"/3.0/lists/(?P<lid>[0-9a-f]+)/segments", "saved_segments"),
    ]
    TOO_MANY = "You have exceeded the limit of 10 simultaneous connections."

    def __init__(self, key="0123456789abcdef0123456789abcdef-us21", list_id="a1b2c3d4e5", segments=(101, 102),
                 max_connections=10):
        super().__init__()
        self.key, self.list_id, self.segments = key, list_id, set(segments)
        self.campaigns: dict[str, dict] = {}
        self.reports_: dict[str, dict] = {}
        self.ids = itertools.count(0x2a0f0c01)
        self.max_connections, self.in_flight = max_connections, 0
        self.gate: threading.Event | None = None

    def hold(self) -> None:
        self.gate = threading.Event()

    def release(self) -> None:
        if self.gate is not None:
            self.gate.set()

    def dispatch(self, seen: Seen):
        with self.lock:
            self.in_flight += 1
            over = self.in_flight > self.max_connections
        try:
            if over:
                return problem(429, "Too Many Requests", self.TOO_MANY)
            if self.gate is not None:
                self.gate.wait(30)
            return self._authorised(seen)
        finally:
            with self.lock:
                self.in_flight -= 1

    def _authorised(self, seen: Seen):
        auth = seen.headers.get("authorization", "")
        try:
            user_key = base64.b64decode(auth.removeprefix("Basic ")).decode().partition(":")[2]
        except ValueError:
            user_key = ""
        if not auth.startswith("Basic ") or user_key != self.key:
            return problem(401, "API Key Invalid", "Your API key may be invalid, or you've attempted to access the "
                                                   "wrong datacenter.")
        return super().dispatch(seen)

    def error(self, status, message):
        return problem(status, "Resource Not Found" if status == 404 else "Bad Request", message)

    def create(self, seen: Seen):
        b = seen.json or {}
        r, st = b.get("recipients") or {}, b.get("settings") or {}
        missing = [f for f, v in (("type", b.get("type")), ("recipients.list_id", r.get("list_id")),
                                  ("settings.subject_line", st.get("subject_line")),
                                  ("settings.from_name", st.get("from_name")), ("settings.reply_to", st.get("reply_to")))
                   if not v]
        if missing:
            return problem(400, "Invalid Resource", "The resource submitted could not be validated. For field-specific "
                                                    "details, see the 'errors' array.",
                           errors=[{"field": f, "message": "This value should not be blank."} for f in missing])
        if r["list_id"] != self.list_id:
            return problem(400, "Invalid Resource", "The requested list does not exist.")
        seg = (r.get("segment_opts") or {}).get("saved_segment_id")
        if seg is not None and seg not in self.segments:
            return problem(400, "Invalid Resource", f"The segment {seg} does not exist.")
        cid = f"{next(self.ids):x}"
        c = {"id": cid, "web_id": int(cid, 16) % 100000, "type": b["type"], "status": "save",
             "archive_url": f"https://mailchi.mp/northwind/{cid}", "recipients": r, "settings": st,
             "create_time": "2026-11-23T09:00:00+00:00", "content": None}
        with self.lock:
            self.campaigns[cid] = c
        return Answer(200, c)

    def index(self, seen: Seen):
        list_id = (seen.query.get("list_id") or [None])[0]
        count = min(1000, int((seen.query.get("count") or ["10"])[0]))
        offset = int((seen.query.get("offset") or ["0"])[0])
        found = [c for c in self.campaigns.values() if list_id in (None, c["recipients"]["list_id"])][::-1]
        return Answer(200, {"campaigns": found[offset:offset + count], "total_items": len(found)})

    def _campaign(self, cid):
        return self.campaigns.get(cid)

    def get(self, seen: Seen, cid: str):
        c = self._campaign(cid)
        return Answer(200, c) if c else self.error(404, "The requested resource could not be found.")

    def content(self, seen: Seen, cid: str):
        c = self._campaign(cid)
        if c is None:
            return self.error(404, "The requested resource could not be found.")
        c["content"] = seen.json
        return Answer(200, {"html": (seen.json or {}).get("html"), "plain_text": (seen.json or {}).get("plain_text")})

    def send(self, seen: Seen, cid: str):
        c = self._campaign(cid)
        if c is None:
            return self.error(404, "The requested resource could not be found.")
        if c["status"] != "save" or not c["content"]:
            return problem(400, "Bad Request", "Your Campaign is not ready to send.")
        c["status"] = "sending"
        return Answer(204, None)

    def schedule(self, seen: Seen, cid: str):
        c = self._campaign(cid)
        if c is None:
            return self.error(404, "The requested resource could not be found.")
        when = datetime.fromisoformat((seen.json or {}).get("schedule_time", ""))
        if when.minute % 15 or when.second:
            return problem(400, "Bad Request", "Schedule time must be on the quarter-hour (:00, :15, :30, :45).")
        if c["status"] != "save" or not c["content"]:
            return problem(400, "Bad Request", "Your Campaign is not ready to send.")
        c["status"], c["send_time"] = "schedule", when.isoformat()
        return Answer(204, None)

    def ping(self, seen: Seen):
        return Answer(200, {"health_status": "Everything's Chimpy!"})

    def audience(self, seen: Seen, lid: str):
        if lid != self.list_id:
            return self.error(404, "The requested resource could not be found.")
        return Answer(200, {"id": lid, "web_id": 40001, "name": "Northwind Notes",
                            "stats": {"member_count": 2220}})

    def saved_segments(self, seen: Seen, lid: str):
        if lid != self.list_id:
            return self.error(404, "The requested resource could not be found.")
        rows = [{"id": sid, "name": f"segment {sid}", "member_count": 0, "type": "saved", "list_id": lid}
                for sid in sorted(self.segments)]
        return Answer(200, {"segments": rows, "list_id": lid, "total_items": len(rows)})

    def reports(self, seen: Seen):
        count = min(1000, int((seen.query.get("count") or ["10"])[0]))
        offset = int((seen.query.get("offset") or ["0"])[0])
        reps = list(self.reports_.values())
        return Answer(200, {"reports": reps[offset:offset + count], "total_items": len(reps)})

    def report(self, cid: str, *, sent: int, opens: int, unique_opens: int, clicks: int, unsubscribed: int = 0,
               hard: int = 0, soft: int = 0):
        self.campaigns[cid]["status"] = "sent"
        self.reports_[cid] = {"id": cid, "campaign_title": self.campaigns[cid]["settings"]["title"], "type": "regular",
                              "list_id": self.list_id, "emails_sent": sent, "unsubscribed": unsubscribed,
                              "bounces": {"hard_bounces": hard, "soft_bounces": soft, "syntax_errors": 0},
                              "opens": {"opens_total": opens, "unique_opens": unique_opens,
                                        "open_rate": unique_opens / sent if sent else 0},
                              "clicks": {"clicks_total": clicks, "unique_clicks": clicks,
                                         "click_rate": clicks / sent if sent else 0}}
