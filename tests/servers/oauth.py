"""Authorization servers on loopback: OAuth 2.0 as X, LinkedIn and Mastodon document it.

The contract (RFC 6749 authorization code, RFC 7636 PKCE S256, RFC 7009 revocation) with each
platform's variant, from the sources cited in ``channels/oauth.py``:

- **authorize** ``GET``: checks ``response_type=code``, the client, the registered redirect URI and a
  ``code_challenge`` (S256); answers a consent page whose form a browser submits (a script presses
  "Authorize" at once); ``POST`` redirects (302) to ``redirect_uri?code=…&state=…``, or
  ``?error=access_denied&state=…`` when the person declines (``deny = True``).
- **token** ``POST`` (form): ``authorization_code`` checks the code (one use, ten minutes), the
  redirect URI and the verifier against the challenge; ``refresh_token`` issues a new access token
  and, where the platform rotates (X), a new refresh token, the old one spent. Errors are RFC 6749
  §5.2 bodies, 400 ``invalid_grant``/``invalid_request``, 401 ``invalid_client``; X answers a spent
  or unknown refresh token with ``invalid_request`` "Value passed for the token was invalid.".
  Confidential clients authenticate with HTTP Basic (X) or ``client_secret`` in the form (LinkedIn).
- **revoke** ``POST``: forgets the token; X answers ``{"revoked": true}``, LinkedIn 200 with no body.

A token the server issued is the one its API routes accept (``self.token``), so an adapter that
sends a lapsed or revoked token gets the platform's 401.

Run as ``python -m tests.servers.oauth --root R publish …``: the publish CLI with the X adapter aimed
at ``$X_API_BASE`` (how the race test starts real processes).
"""
from __future__ import annotations

import base64
import hashlib
import itertools
import threading
import time
from urllib.parse import parse_qs, urlencode, urlsplit

from .base import Answer, Seen
from .linkedin import LinkedInServer
from .mastodon import MastodonServer
from .x import XServer

CLIENT_ID = "client-abc"
CLIENT_SECRET = "client-secret-xyz"

CONSENT = """<!doctype html><title>Authorize {client}</title>
<form method="post" action="{action}">
{fields}
<p>{client} wants to use your account: {scope}</p>
<button id="approve" name="decision" value="approve">Authorize app</button>
</form>
<script>document.getElementById("approve").click()</script>
"""


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


class Authorization:
    """Mixed into a platform's loopback server (before it): the OAuth routes and their bookkeeping."""

    AUTHORIZE = "/oauth2/authorize"
    TOKEN = "/oauth2/token"
    REVOKE = "/oauth2/revoke"
    ACCESS_TTL = 7200
    REFRESH_TTL: int | None = None
    ROTATES = True
    CLIENT_AUTH = "basic"
    BAD_REFRESH = ("invalid_request", "Value passed for the token was invalid.")

    def setup_oauth(self, *, client_id=CLIENT_ID, client_secret=None, redirect_prefix="http://127.0.0.1:",
                    refresh_tokens=True):
        self.client_id, self.client_secret = client_id, client_secret
        self.redirect_prefix = redirect_prefix  # registered redirect URIs: loopback, any port
        self.refresh_tokens = refresh_tokens
        self.codes: dict[str, dict] = {}
        self.access: dict[str, float] = {}  # token → expiry (epoch)
        self.scopes_of: dict[str, list[str]] = {}
        self.refreshes: dict[str, dict] = {}  # live refresh token → grant
        self.spent: set[str] = set()
        self.revoked: list[str] = []
        self.serial = itertools.count(1)
        self.deny = False
        self.token_delay = 0.0  # seconds the token endpoint takes (to make racing clients overlap)
        self.access_ttl = self.ACCESS_TTL
        self.token_lock = threading.Lock()
        self.clock = time.time  # epoch seconds; tests that move time hand in their own
        self.granted: list[str] | None = None  # scopes granted (default: those asked for)

    @classmethod
    def oauth_routes(cls):
        return [("GET", cls.AUTHORIZE, "authorize_page"), ("POST", cls.AUTHORIZE, "authorize_decide"),
                ("POST", cls.TOKEN, "token_endpoint"), ("POST", cls.REVOKE, "revoke_endpoint")]

    # -- helpers --------------------------------------------------------------------------------
    def oauth_error(self, status, code, description):
        return Answer(status, {"error": code, "error_description": description})

    def _client(self, seen: Seen, form: dict) -> Answer | None:
        given_id, given_secret = form.get("client_id"), form.get("client_secret")
        auth = seen.headers.get("authorization", "")
        if auth.startswith("Basic "):
            given_id, _, given_secret = base64.b64decode(auth[6:]).decode().partition(":")
        if given_id != self.client_id:
            return self.oauth_error(401, "invalid_client", "Missing valid authorization header"
                                    if self.CLIENT_AUTH == "basic" else "Client authentication failed")
        if self.client_secret is not None:
            if self.CLIENT_AUTH == "basic" and not auth.startswith("Basic "):
                return self.oauth_error(401, "unauthorized_client", "Missing valid authorization header")
            if given_secret != self.client_secret:
                return self.oauth_error(401, "invalid_client", "Client authentication failed")
        return None

    def _issue(self, scopes: list[str], grant: dict | None = None) -> dict:
        if self.granted is not None and grant is None:
            scopes = list(self.granted)  # the person unticked some of what was asked for
        n = next(self.serial)
        access = f"access-{n}-{time.monotonic_ns()}"
        self.access[access] = self.clock() + self.access_ttl
        self.scopes_of[access] = list(scopes)
        self.token = access  # the API routes accept the newest token
        body = {"token_type": "bearer", "access_token": access, "expires_in": self.access_ttl,
                "scope": " ".join(scopes)}
        wants_refresh = self.refresh_tokens and ("offline.access" in scopes or self.CLIENT_AUTH == "body")
        if grant is not None and not self.ROTATES:
            body["refresh_token"] = grant["token"]  # LinkedIn: the same refresh token, its TTL running on
            if grant.get("expires"):
                body["refresh_token_expires_in"] = int(grant["expires"] - self.clock())
        elif wants_refresh:
            refresh = f"refresh-{n}-{time.monotonic_ns()}"
            expires = grant["expires"] if grant else (self.clock() + self.REFRESH_TTL if self.REFRESH_TTL else None)
            self.refreshes[refresh] = {"token": refresh, "scopes": scopes, "expires": expires}
            body["refresh_token"] = refresh
            if self.REFRESH_TTL:
                body["refresh_token_expires_in"] = int(expires - self.clock())
        return body

    def expire_access(self):
        """Every access token lapses now (the API answers 401)."""
        self.access = {t: 0 for t in self.access}
        self.token = None

    # -- routes ---------------------------------------------------------------------------------
    def authorize_page(self, seen: Seen):
        q = {k: v[0] for k, v in seen.query.items()}
        if q.get("client_id") != self.client_id:
            return Answer(400, "<p>Invalid client_id</p>", {"Content-Type": "text/html"})
        if not str(q.get("redirect_uri", "")).startswith(self.redirect_prefix):
            return Answer(400, "<p>redirect_uri does not match the app's</p>", {"Content-Type": "text/html"})
        if q.get("response_type") != "code" or q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return self._redirect(q, {"error": "invalid_request", "error_description": "PKCE S256 is required"})
        fields = "\n".join(f'<input type="hidden" name="{k}" value="{v}">' for k, v in q.items())
        html = CONSENT.format(client=self.client_id, action=self.AUTHORIZE, fields=fields, scope=q.get("scope", ""))
        return Answer(200, html, {"Content-Type": "text/html; charset=utf-8"})

    def _redirect(self, q: dict, params: dict):
        params = {**params, "state": q.get("state", "")}
        return Answer(302, b"", {"Location": f"{q['redirect_uri']}?{urlencode(params)}"})

    def authorize_decide(self, seen: Seen):
        q = dict(seen.form)
        if self.deny:
            return self._redirect(q, {"error": "access_denied",
                                      "error_description": "The user denied the request"})
        code = f"code-{next(self.serial)}"
        self.codes[code] = {"challenge": q["code_challenge"], "redirect_uri": q["redirect_uri"],
                            "scopes": [s for s in q.get("scope", "").replace(",", " ").split() if s],
                            "at": self.clock()}
        return self._redirect(q, {"code": code})

    def token_endpoint(self, seen: Seen):
        if self.token_delay:
            time.sleep(self.token_delay)
        form = dict(seen.form)
        with self.token_lock:
            bad = self._client(seen, form)
            if bad:
                return bad
            grant_type = form.get("grant_type")
            if grant_type == "authorization_code":
                grant = self.codes.pop(form.get("code", ""), None)
                if grant is None or self.clock() - grant["at"] > 600:
                    return self.oauth_error(400, "invalid_grant", "Authorization code is invalid or expired")
                if form.get("redirect_uri") != grant["redirect_uri"]:
                    return self.oauth_error(400, "invalid_grant", "redirect_uri does not match")
                if s256(form.get("code_verifier", "")) != grant["challenge"]:
                    return self.oauth_error(400, "invalid_grant", "code_verifier does not match the code_challenge")
                return Answer(200, self._issue(grant["scopes"]))
            if grant_type == "refresh_token":
                token = form.get("refresh_token", "")
                grant = self.refreshes.get(token)
                if grant is None or (grant["expires"] and grant["expires"] < self.clock()):
                    return self.oauth_error(400, *self.BAD_REFRESH)
                if self.ROTATES:
                    del self.refreshes[token]
                    self.spent.add(token)
                return Answer(200, self._issue(grant["scopes"], grant))
            return self.oauth_error(400, "unsupported_grant_type", f"grant_type '{grant_type}' is not supported")

    def revoke_endpoint(self, seen: Seen):
        form = dict(seen.form)
        bad = self._client(seen, form)
        if bad:
            return bad
        token = form.get("token", "")
        with self.token_lock:
            self.revoked.append(token)
            self.refreshes.pop(token, None)
            if token in self.access:
                self.access[token] = 0
                if self.token == token:
                    self.token = None
        return self.revoke_answer()

    def revoke_answer(self):
        return Answer(200, {"revoked": True})


class XAuthServer(Authorization, XServer):
    """X: ``/i/oauth2/authorize`` (on x.com), ``/2/oauth2/token`` and ``/2/oauth2/revoke`` (on api.x.com)."""

    AUTHORIZE, TOKEN, REVOKE = "/i/oauth2/authorize", "/2/oauth2/token", "/2/oauth2/revoke"
    routes = XServer.routes + [("GET", "/i/oauth2/authorize", "authorize_page"),
                               ("POST", "/i/oauth2/authorize", "authorize_decide"),
                               ("POST", "/2/oauth2/token", "token_endpoint"),
                               ("POST", "/2/oauth2/revoke", "revoke_endpoint")]

    def __init__(self, **oauth):
        super().__init__(token=None)
        self.setup_oauth(**oauth)


class LinkedInAuthServer(Authorization, LinkedInServer):
    """LinkedIn: ``/oauth/v2/authorization``, ``/oauth/v2/accessToken``, ``/oauth/v2/revoke``; 60-day
    access tokens, refresh tokens (when the app has them) for a year, not rotated."""

    AUTHORIZE, TOKEN, REVOKE = "/oauth/v2/authorization", "/oauth/v2/accessToken", "/oauth/v2/revoke"
    ACCESS_TTL = 60 * 86400
    REFRESH_TTL = 365 * 86400
    ROTATES = False
    CLIENT_AUTH = "body"
    BAD_REFRESH = ("invalid_request", "The provided refresh token is invalid or expired")
    routes = LinkedInServer.routes + [("GET", "/oauth/v2/authorization", "authorize_page"),
                                      ("POST", "/oauth/v2/authorization", "authorize_decide"),
                                      ("POST", "/oauth/v2/accessToken", "token_endpoint"),
                                      ("POST", "/oauth/v2/revoke", "revoke_endpoint"),
                                      ("POST", "/oauth/v2/introspectToken", "introspect")]

    def __init__(self, **oauth):
        super().__init__(token=None)
        self.setup_oauth(**{"client_secret": CLIENT_SECRET, **oauth})

    def introspect(self, seen: Seen):
        """Token introspection: ``{"active": true, "client_id", "authorized_at", "created_at", "status":
        "active", "expires_at", "scope": "a,b", "auth_type": "3L"}``; ``{"active": false}`` otherwise."""
        form = dict(seen.form)
        bad = self._client(seen, form)
        if bad:
            return bad
        token = form.get("token", "")
        expires = self.access.get(token)
        if expires is None or expires < self.clock():
            return Answer(200, {"active": False, "status": "revoked" if token in self.revoked else "expired"})
        return Answer(200, {"active": True, "client_id": self.client_id, "authorized_at": int(self.clock()),
                            "created_at": int(self.clock()), "status": "active", "expires_at": int(expires),
                            "scope": ",".join(self.scopes_of.get(token, [])), "auth_type": "3L"})

    def revoke_answer(self):
        return Answer(200, b"")


class MastodonAuthServer(Authorization, MastodonServer):
    """Mastodon: apps registered per client (``POST /api/v1/apps`` → Application with ``client_id``,
    ``client_secret``), ``/oauth/authorize`` with the exact registered redirect URI, ``/oauth/token``
    (client credentials in the form; no ``expires_in``, no refresh token), ``/oauth/revoke`` → ``{}``.
    A bad registration is 422 ``{"error": "Validation failed: …"}`` (docs.joinmastodon.org methods/apps)."""

    AUTHORIZE, TOKEN, REVOKE = "/oauth/authorize", "/oauth/token", "/oauth/revoke"
    CLIENT_AUTH = "body"
    ROTATES = False
    routes = MastodonServer.routes + [("POST", "/api/v1/apps", "register_app"),
                                      ("GET", "/oauth/authorize", "authorize_page"),
                                      ("POST", "/oauth/authorize", "authorize_decide"),
                                      ("POST", "/oauth/token", "token_endpoint"),
                                      ("POST", "/oauth/revoke", "revoke_endpoint"),
                                      ("GET", "/api/v1/apps/verify_credentials", "verify_app")]

    def __init__(self, **oauth):
        super().__init__(token=None)
        self.setup_oauth(client_id=None, refresh_tokens=False, **oauth)
        self.apps: dict[str, dict] = {}

    def verify_app(self, seen: Seen):
        """The token's Application; ``scopes`` since 4.3 (``methods/apps.md#verify_credentials``)."""
        if (denied := self._auth(seen)):
            return denied
        token = seen.headers["authorization"].removeprefix("Bearer ")
        return Answer(200, {"name": "newsroom-publish", "website": None, "scopes": self.scopes_of.get(token, [])})

    def register_app(self, seen: Seen):
        form = dict(seen.form)
        uris = form.get("redirect_uris", "").split()
        if not form.get("client_name"):
            return Answer(422, {"error": "Validation failed: Application name can't be blank"})
        if not uris or not all(u.startswith(("http://", "https://")) for u in uris):
            return Answer(422, {"error": "Validation failed: Redirect URI must be an absolute URI."})
        n = next(self.serial)
        app = {"id": str(n), "name": form["client_name"], "website": form.get("website"),
               "scopes": form.get("scopes", "read").split(), "redirect_uri": "\n".join(uris), "redirect_uris": uris,
               "client_id": f"mastodon-client-{n}", "client_secret": f"mastodon-secret-{n}",
               "client_secret_expires_at": 0}
        self.apps[app["client_id"]] = app
        return Answer(200, app)

    def authorize_page(self, seen: Seen):
        q = {k: v[0] for k, v in seen.query.items()}
        app = self.apps.get(q.get("client_id", ""))
        if app is None or q.get("redirect_uri") not in app["redirect_uris"]:
            return Answer(400, {"error": "invalid_client", "error_description": "Client authentication failed due to "
                                "unknown client, no client authentication included, or unsupported authentication method."})
        self.client_id, self.redirect_prefix = app["client_id"], q["redirect_uri"]
        return super().authorize_page(seen)

    def _client(self, seen: Seen, form: dict):
        app = self.apps.get(form.get("client_id", ""))
        if app is None or form.get("client_secret") != app["client_secret"]:
            return self.oauth_error(401, "invalid_client", "Client authentication failed due to unknown client, no "
                                    "client authentication included, or unsupported authentication method.")
        return None

    def _issue(self, scopes, grant=None):
        body = super()._issue(scopes, grant)
        body.pop("expires_in", None)
        body["created_at"] = int(self.clock())
        return body

    def revoke_answer(self):
        return Answer(200, {})


def approve(url: str) -> str:
    """What a person's browser does on the consent page, without one: GET it, POST the form; the
    Location the server redirects to (the loopback callback) is fetched too, as a browser would."""
    import re

    import requests

    page = requests.get(url, timeout=5)
    page.raise_for_status()
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
    action = re.search(r'action="([^"]+)"', page.text).group(1)
    parts = urlsplit(url)
    answer = requests.post(f"{parts.scheme}://{parts.netloc}{action}", data=fields, allow_redirects=False, timeout=5)
    location = answer.headers["Location"]
    requests.get(location, timeout=5)
    return location


def query_of(url: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def main() -> None:  # pragma: no cover - runs in a child process
    import os

    from channels.registry import register_channel_type
    from channels.x import X

    class LoopbackX(X):
        def __init__(self, config, env, *, base_url=None):
            super().__init__(config, env, base_url=base_url or os.environ["X_API_BASE"])

    register_channel_type(LoopbackX, replace=True)
    import publish

    publish.main()


if __name__ == "__main__":
    main()
