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

Meta's sign-in, as ``channels/meta_auth.py`` cites it: the Authorization Window (Threads,
``/oauth/authorize``) or Login Dialog (Facebook, ``/dialog/oauth``) is a consent page whose form a
browser submits; it redirects to ``redirect_uri?code=…&state=…``, or, when the person declines
(``deny``), ``?error=access_denied&error_code=200&error_description=Permissions+error&error_reason=
user_denied&state=…``. ``POST /oauth/access_token`` (Threads) and ``GET /oauth/access_token``
(Facebook) exchange the code (one use, the same ``redirect_uri``, the app's ``client_id`` and
``client_secret``); ``GET /access_token?grant_type=th_exchange_token`` and ``GET /oauth/access_token
?grant_type=fb_exchange_token`` give the long-lived token; ``GET /me/accounts`` lists ``pages`` with
their Page tokens. Errors are Graph errors ("Error validating client secret.", code 1; "Invalid
verification code format.", code 100; a changed redirect URI, code 100/36008).
"""
from __future__ import annotations

import itertools
import json

from urllib.parse import urlencode

from .base import Answer, Seen, Server

#: the app id and secret Meta's Threads documentation shows as examples (get-access-tokens-and-permissions)
CLIENT_ID = "990602627938098"
CLIENT_SECRET = "a1b2C3D4"
CONSENT = """<!doctype html><title>Log in with Meta</title>
<form method="post" action="{action}">
{fields}
<p>The app wants: {scope}</p>
<button id="approve" name="decision" value="approve">Continue</button>
</form>
"""
OAUTH_ROUTES = [
    ("GET", r"/(?P<dialog>oauth/authorize|dialog/oauth)", "oauth_page"),
    ("POST", r"/(?P<dialog>oauth/authorize|dialog/oauth)", "oauth_decide"),
    ("POST", r"/oauth/access_token", "oauth_threads_code"),
    ("GET", r"/oauth/access_token", "oauth_facebook_token"),
    ("GET", r"/access_token", "oauth_threads_long"),
    ("GET", r"/me/accounts", "me_accounts"),
]


def graph_error(status: int, message: str, code: int, subcode: int | None = None, type_: str = "OAuthException"):
    error = {"message": message, "type": type_, "code": code, "fbtrace_id": "AbCdEfGhIjK"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return Answer(status, {"error": error})


class MetaServer(Server):
    def __init__(self, token: str, business_id: str = "1234567890"):
        self.routes = [*OAUTH_ROUTES, *type(self).routes]
        super().__init__()
        self.deny = False
        self.codes: dict[str, str] = {}  # authorization code → its redirect_uri
        self.short_tokens: set[str] = set()
        self.user_tokens: set[str] = set()
        self.pages: list[dict] = []  # what /me/accounts lists (the Page token is ``token``)
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
        if seen.path.lstrip("/") in ("oauth/authorize", "dialog/oauth", "oauth/access_token", "access_token") or \
                (seen.path == "/me/accounts" and token in self.user_tokens):
            return super().dispatch(seen)
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

    # -- sign-in -----------------------------------------------------------------------------------
    def oauth_page(self, seen: Seen, dialog):
        q = {k: v[0] for k, v in seen.query.items()}
        if q.get("client_id") != CLIENT_ID:
            return Answer(400, "<p>Invalid App ID</p>", {"Content-Type": "text/html"})
        if not str(q.get("redirect_uri", "")).startswith("http://127.0.0.1:"):
            return Answer(400, "<p>URL Blocked: the redirect URI is not whitelisted in the app</p>",
                          {"Content-Type": "text/html"})
        fields = "\n".join(f'<input type="hidden" name="{k}" value="{v}">' for k, v in q.items())
        return Answer(200, CONSENT.format(action=f"/{dialog}", fields=fields, scope=q.get("scope", "")),
                      {"Content-Type": "text/html; charset=utf-8"})

    def oauth_decide(self, seen: Seen, dialog):
        q = dict(seen.form)
        if self.deny:
            params = {"error": "access_denied", "error_code": "200", "error_description": "Permissions error",
                      "error_reason": "user_denied"}
        else:
            code = f"AQ{self.next_id()}"
            self.codes[code] = q["redirect_uri"]
            params = {"code": code}
        return Answer(302, b"", {"Location": f"{q['redirect_uri']}?{urlencode({**params, 'state': q.get('state', '')})}"})

    def _app(self, form: dict) -> Answer | None:
        if form.get("client_id", CLIENT_ID) != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return graph_error(400, "Error validating client secret.", 1)
        return None

    def _code(self, form: dict) -> Answer | None:
        redirect = self.codes.pop(form.get("code", ""), None)
        if redirect is None:
            return graph_error(400, "Invalid verification code format.", 100)
        if form.get("redirect_uri") != redirect:
            return graph_error(400, "Error validating verification code. Please make sure your redirect_uri is "
                                    "identical to the one you used in the OAuth dialog request", 100, 36008)
        return None

    def oauth_threads_code(self, seen: Seen):
        form = dict(seen.form)
        bad = self._app(form) or (None if form.get("grant_type") == "authorization_code" else
                                  graph_error(400, "Unsupported grant_type", 100)) or self._code(form)
        if bad:
            return bad
        short = f"THQVJ{self.next_id()}"
        self.short_tokens.add(short)
        return Answer(200, {"access_token": short, "user_id": 17841401234567890})

    def oauth_threads_long(self, seen: Seen):
        q = {k: v[0] for k, v in seen.query.items()}
        if q.get("grant_type") != "th_exchange_token":
            return graph_error(400, "Unsupported grant_type", 100)
        bad = self._app({"client_secret": q.get("client_secret")})
        if bad:
            return bad
        if q.get("access_token") not in self.short_tokens:
            return graph_error(400, "Invalid OAuth access token - Cannot parse access token", 190)
        self.short_tokens.discard(q["access_token"])
        self.token = f"THlong{self.next_id()}"  # the API accepts the newest long-lived token
        return Answer(200, {"access_token": self.token, "token_type": "bearer", "expires_in": 5183944})

    def oauth_facebook_token(self, seen: Seen):
        q = {k: v[0] for k, v in seen.query.items()}
        bad = self._app(q)
        if bad:
            return bad
        if q.get("grant_type") == "fb_exchange_token":
            if q.get("fb_exchange_token") not in self.short_tokens:
                return graph_error(400, "Invalid OAuth access token - Cannot parse access token", 190)
            long = f"EAAlong{self.next_id()}"
            self.user_tokens.add(long)
            return Answer(200, {"access_token": long, "token_type": "bearer", "expires_in": 5183944})
        bad = self._code(q)
        if bad:
            return bad
        short = f"EAAshort{self.next_id()}"
        self.short_tokens.add(short)
        return Answer(200, {"access_token": short, "token_type": "bearer", "expires_in": 5183})

    def me_accounts(self, seen: Seen):
        return Answer(200, {"data": [{"access_token": self.token, "category": "Media/news company",
                                      "category_list": [{"id": "2233", "name": "Media/news company"}],
                                      "tasks": ["ANALYZE", "ADVERTISE", "MODERATE", "CREATE_CONTENT"], **page}
                                     for page in self.pages],
                            "paging": {"cursors": {"before": "QVFIUk", "after": "QVFIUl"}}})
