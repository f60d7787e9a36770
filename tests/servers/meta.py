"""What Meta's Graph APIs share on loopback (Threads, Facebook Pages, Instagram): the access token
in ``Authorization: Bearer`` or ``access_token``, error bodies as the Graph API writes them
(developers.facebook.com/docs/graph-api/guides/error-handling), usage headers on every answer and
throttling with a Business Use Case header (``overview/rate-limiting``), and containers that must be
published in a second step.

- ``expire()``: the token is refused with code 190, subcode 463 ("Session has expired");
- ``throttle(times, code, minutes, status)``: the next requests fail as the rate-limiting guide
  (developers.facebook.com/docs/graph-api/overview/rate-limiting) and the error reference
  (graph-api/guides/error-handling) describe: a Graph error with the throttling code, ``is_transient``
  true, HTTP 400 (the status Graph gives its ``OAuthException`` errors: the code, not the status, says
  "throttled"), and the usage header of the limit that was reached at 100: ``X-App-Usage`` for the
  application and user limits (codes 4 and 17), ``X-Page-Usage`` for a Page's (32), none for a custom
  limit (613), ``X-Business-Use-Case-Usage`` for the Business Use Case limits (80001 Pages, 80002
  Instagram, …) with the minutes in ``estimated_time_to_regain_access``;
- ``usage``: the percentage reported in ``X-App-Usage`` on every answer.
"""
from __future__ import annotations

import itertools
import json

from .base import Answer, Seen, Server


def graph_error(status: int, message: str, code: int, subcode: int | None = None, type_: str = "OAuthException"):
    error = {"message": message, "type": type_, "code": code, "fbtrace_id": "AbCdEfGhIjK"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return Answer(status, {"error": error})


class MetaServer(Server):
    def __init__(self, token: str, business_id: str = "1234567890"):
        super().__init__()
        self.token = token
        self.business_id = business_id
        self.expired = False
        self.usage = 5
        self.throttles: list[tuple[int, int, int]] = []  # (code, minutes, status) per request to fail
        self.ids = itertools.count(17841400000000001)

    def next_id(self) -> str:
        return str(next(self.ids))

    def rate_headers(self) -> dict:
        return {"X-App-Usage": json.dumps({"call_count": self.usage, "total_cputime": 1, "total_time": 1})}

    def error(self, status, message):
        return graph_error(status, message, 100 if status == 400 else 803 if status == 404 else 1)

    def expire(self):
        self.expired = True

    def throttle(self, times: int = 1, *, code: int = 4, minutes: int = 5, status: int = 400):
        self.throttles.extend([(code, minutes, status)] * times)

    def dispatch(self, seen: Seen) -> Answer:
        with self.lock:
            throttled = self.throttles.pop(0) if self.throttles else None
        if throttled:
            return self.throttled(*throttled)
        token = (seen.headers.get("authorization") or "").removeprefix("Bearer ") or \
            self.param(seen, "access_token", "")
        if self.expired and token == self.token:
            return graph_error(400, "Error validating access token: Session has expired on Sunday, 22-Nov-26 "
                                    "09:00:00 PST. The current time is Monday, 23-Nov-26 01:00:00 PST.", 190, 463)
        if token != self.token:
            return graph_error(400, "Invalid OAuth access token - Cannot parse access token", 190)
        return super().dispatch(seen)

    #: the throttling errors' words (graph-api/guides/error-handling, "Error Codes"; overview/rate-limiting)
    THROTTLE_WORDS = {
        4: "(#4) Application request limit reached",
        17: "(#17) User request limit reached",
        32: "(#32) Page request limit reached",
        613: "(#613) Calls to this api have exceeded the rate limit.",
        80001: "(#80001) There have been too many calls to this Page account. Wait a bit and try again.",
        80002: "(#80002) There have been too many calls to this Instagram account. Wait a bit and try again.",
    }
    BUC_TYPES = {80001: "pages", 80002: "instagram", 80004: "ads_management", 80000: "ads_insights"}

    def throttled(self, code: int, minutes: int, status: int) -> Answer:
        answer = Answer(status, {"error": {"message": self.THROTTLE_WORDS.get(code, f"(#{code}) Too many calls"),
                                           "type": "OAuthException", "is_transient": True, "code": code,
                                           "fbtrace_id": "AbCdEfGhIjK"}})
        spent = {"call_count": 100, "total_cputime": 20, "total_time": 30}
        if code in (4, 17):
            answer.headers["X-App-Usage"] = json.dumps(spent)
        elif code == 32:
            answer.headers["X-Page-Usage"] = json.dumps(spent)
        elif code >= 80000:
            answer.headers["X-Business-Use-Case-Usage"] = json.dumps({self.business_id: [
                {"type": self.BUC_TYPES.get(code, "pages"), **spent, "estimated_time_to_regain_access": minutes}]})
        return answer

    @staticmethod
    def fields(seen: Seen) -> list[str]:
        raw = (seen.query.get("fields") or [""])[0]
        out, depth, cur = [], 0, ""
        for ch in raw:  # top-level names of a field list with expansions: a,b.summary(x),c{d,e}
            if ch in "({":
                depth += 1
            elif ch in ")}":
                depth -= 1
            if ch == "," and depth == 0:
                out.append(cur)
                cur = ""
            else:
                cur += ch
        if cur:
            out.append(cur)
        return out

    @staticmethod
    def param(seen: Seen, name: str, default: str | None = None) -> str | None:
        if seen.method == "POST":
            form = dict(seen.form) if seen.body else {}
            if name in form:
                return form[name]
        return (seen.query.get(name) or [default])[0]
