"""`publish auth`: each platform's flow against a loopback authorization server that follows its
documented contract (authorize, token, refresh with rotation, revoke, error bodies)."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest

from channels.auth import AuthError, Person, connect, disconnect
from channels.base import Failure
from channels.bluesky import Bluesky
from channels.linkedin import LinkedIn
from channels.mastodon import Mastodon
from channels.x import X
from newsroom.credentials import new_key
from newsroom.state import FileStore
from tests.servers import channel, context, post
from tests.servers.bluesky import BlueskyServer
from tests.servers.oauth import (CLIENT_ID, CLIENT_SECRET, LinkedInAuthServer, MastodonAuthServer, XAuthServer,
                                 approve)

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self, now=T0):
        self.now = now

    def __call__(self):
        return self.now


class Browser:
    """Stands in for the person's browser: approves on the consent page, from another thread."""

    def __init__(self):
        self.urls: list[str] = []
        self.threads: list[threading.Thread] = []

    def __call__(self, url: str) -> bool:
        self.urls.append(url)
        t = threading.Thread(target=approve, args=(url,), daemon=True)
        t.start()
        self.threads.append(t)
        return True


def person(browser=None, *, show=False, secret=""):
    said: list[str] = []
    asked: list[str] = []
    p = Person(say=said.append, open_browser=browser or Browser(), ask_secret=lambda q: asked.append(q) or secret,
               show=show)
    p.said, p.asked = said, asked
    return p


@pytest.fixture
def env():
    return {"NEWSROOM_KEY": new_key()}


def wire(adapter, tmp_path, env, clock):
    adapter.use_credentials(FileStore(tmp_path / "state").credentials(env), clock)
    return adapter


def x_adapter(server, tmp_path, env, clock, **options):
    return wire(channel(X, server, {"client_id": CLIENT_ID, **options}, env), tmp_path, env, clock)


# -- X: PKCE, a public client ---------------------------------------------------------------------
def test_x_pkce_flow_stores_tokens_encrypted(tmp_path, env):
    clock = Clock()
    with XAuthServer() as server:
        adapter = x_adapter(server, tmp_path, env, clock)
        p = person()
        result = connect(adapter, p, port=0, now=clock)
        authorize = server.requests("/i/oauth2/authorize", "GET")[0].query
        token = server.requests("/2/oauth2/token", "POST")[0]
    assert result.lines == [
        "x: connected as @newsroom; the tokens are stored encrypted in state/credentials.",
        "The access token lapses 2026-11-30 11:00 UTC; each publish run renews it with the refresh token.",
        "Commit state/credentials with the ledger, and give CI the same key: gh secret set NEWSROOM_KEY"]
    assert result.secret is None
    assert authorize["code_challenge_method"] == ["S256"] and len(authorize["code_challenge"][0]) == 43
    assert authorize["scope"] == ["tweet.read tweet.write users.read media.write offline.access"]
    redirect = authorize["redirect_uri"][0]
    assert redirect.startswith("http://127.0.0.1:") and redirect.endswith("/callback")
    form = dict(token.form)
    assert form["grant_type"] == "authorization_code" and form["client_id"] == CLIENT_ID
    assert form["redirect_uri"] == redirect and 43 <= len(form["code_verifier"]) <= 128
    assert "authorization" not in token.headers  # a public client sends no secret
    assert p.said[1] == f"  {p.open_browser.urls[0]}"  # the URL is printed for a machine with no browser
    cred = FileStore(tmp_path / "state").credentials(env).get("x")
    assert cred.refresh_token.startswith("refresh-") and cred.account == "@newsroom"
    raw = (tmp_path / "state" / "credentials").read_bytes()
    assert cred.access_token.encode() not in raw and cred.refresh_token.encode() not in raw
    assert not any(cred.access_token in line or cred.refresh_token in line for line in result.lines + p.said)


def test_x_confidential_client_authenticates_with_basic(tmp_path, env):
    clock = Clock()
    with XAuthServer(client_secret=CLIENT_SECRET) as server:
        adapter = x_adapter(server, tmp_path, {**env, "X_CLIENT_SECRET": CLIENT_SECRET}, clock,
                            client_secret="env:X_CLIENT_SECRET")
        result = connect(adapter, person(), port=0, now=clock)
        token = server.requests("/2/oauth2/token", "POST")[0]
    assert token.headers["authorization"].startswith("Basic ") and "client_secret" not in dict(token.form)
    assert result.lines[-1] == "CI also needs the app's client secret: gh secret set X_CLIENT_SECRET"


def test_refused_authorization_and_token_errors(tmp_path, env):
    clock = Clock()
    with XAuthServer() as server:
        server.deny = True
        with pytest.raises(AuthError) as exc:
            connect(x_adapter(server, tmp_path, env, clock), person(), port=0, now=clock)
        assert str(exc.value) == "the authorization was refused (access_denied: The user denied the request)"
        server.deny = False
        server.fail(400, {"error": "invalid_request", "error_description": "Value passed for the authorization code "
                          "was invalid."}, path="/2/oauth2/token")
        with pytest.raises(AuthError) as exc:
            connect(x_adapter(server, tmp_path, env, clock), person(), port=0, now=clock)
        assert str(exc.value) == ("x: the token request failed: HTTP 400: invalid_request: Value passed for the "
                                  "authorization code was invalid.")
    assert FileStore(tmp_path / "state").credentials(env).get("x") is None


def test_no_browser_answer_times_out(tmp_path, env):
    clock = Clock()
    with XAuthServer() as server:
        p = person(browser=lambda url: False)
        with pytest.raises(AuthError) as exc:
            connect(x_adapter(server, tmp_path, env, clock), p, port=0, timeout=0.3, now=clock)
    assert str(exc.value) == ("no answer from the browser within 0 seconds: run the command again and approve the app "
                              "in the page it opens")
    assert p.said[0].startswith("Opening the authorization page") and "client_id=client-abc" in p.said[1]


def test_missing_key_stops_before_the_browser(tmp_path):
    clock = Clock()
    with XAuthServer() as server:
        p = person()
        with pytest.raises(AuthError) as exc:
            connect(x_adapter(server, tmp_path, {}, clock), p, port=0, now=clock)
        assert not server.requests("/i/oauth2/authorize")
    assert str(exc.value).startswith("NEWSROOM_KEY is not set: state/credentials is kept encrypted with it.")
    assert p.said == []


def test_missing_client_id_says_what_to_register(tmp_path, env):
    adapter = wire(channel(X, None, {"token": "env:X_TOKEN"}, env), tmp_path, env, Clock())
    with pytest.raises(AuthError) as exc:
        connect(adapter, person(), now=Clock())
    assert str(exc.value) == ("channels.x.client_id is not set in publish.yml: create an app in the x developer "
                              "portal, register the callback URL http://127.0.0.1:8976/callback, and put its client "
                              "id there")


# -- refresh and rotation -------------------------------------------------------------------------
def test_lapsing_token_is_refreshed_before_delivery_and_the_rotated_one_kept(tmp_path, env):
    clock = Clock()
    with XAuthServer() as server:
        connect(x_adapter(server, tmp_path, env, clock), person(), port=0, now=clock)
        vault = FileStore(tmp_path / "state").credentials(env)
        first = vault.get("x")
        clock.now = T0 + timedelta(hours=1, minutes=55)  # five minutes left: inside the refresh margin
        server.expire_access()
        adapter = x_adapter(server, tmp_path, env, clock)
        receipt = adapter.deliver(post(["Launch day"], type="x"), context())
        assert not isinstance(receipt, Failure), receipt
        refresh = server.requests("/2/oauth2/token", "POST")[-1]
        assert dict(refresh.form) == {"grant_type": "refresh_token", "refresh_token": first.refresh_token,
                                      "client_id": CLIENT_ID}
        second = vault.get("x")
        assert second.refresh_token != first.refresh_token and first.refresh_token in server.spent
        assert second.expires_at == clock.now + timedelta(hours=2) and second.account == "@newsroom"
        assert server.requests("^/2/tweets$", "POST")[0].headers["authorization"] == f"Bearer {second.access_token}"
        # A copy of the store from before the rotation holds a spent refresh token: the platform's words.
        vault.put("x", first)
        clock.now += timedelta(hours=3)
        got = x_adapter(server, tmp_path, env, clock).deliver(post(["Next"], type="x"), context())
    assert got == Failure("x: token refresh: HTTP 400: invalid_request: Value passed for the token was invalid. "
                          "(run `publish auth x` again)", status=400,
                          credential="the x token in state/credentials (publish auth x)")  # the entry waits


def test_refresh_outage_is_retryable(tmp_path, env):
    clock = Clock()
    with XAuthServer() as server:
        connect(x_adapter(server, tmp_path, env, clock), person(), port=0, now=clock)
        clock.now += timedelta(hours=3)
        server.fail(503, {"title": "Service Unavailable", "status": 503}, path="/2/oauth2/token")
        got = x_adapter(server, tmp_path, env, clock).deliver(post(["Hi"], type="x"), context())
        assert got.retryable and got.message == "x: token refresh: HTTP 503: Service Unavailable"
        again = x_adapter(server, tmp_path, env, clock).deliver(post(["Hi"], type="x"), context())
    assert not isinstance(again, Failure)


def test_revoke_forgets_the_tokens(tmp_path, env):
    clock = Clock()
    with XAuthServer() as server:
        adapter = x_adapter(server, tmp_path, env, clock)
        connect(adapter, person(), port=0, now=clock)
        cred = FileStore(tmp_path / "state").credentials(env).get("x")
        result = disconnect(x_adapter(server, tmp_path, env, clock))
        assert server.revoked == [cred.refresh_token, cred.access_token]
        assert [dict(r.form)["token_type_hint"] for r in server.requests("/2/oauth2/revoke")] == [
            "refresh_token", "access_token"]
        denied = channel(X, server, {"token": "env:T"}, {"T": cred.access_token}).me()
    assert result.lines == ["x: access revoked and the stored tokens removed from state/credentials"]
    assert FileStore(tmp_path / "state").credentials(env).get("x") is None
    assert denied.status == 401


# -- LinkedIn: a confidential client, refresh tokens that are not rotated -------------------------
def li_adapter(server, tmp_path, env, clock):
    env = {**env, "LI_SECRET": CLIENT_SECRET}
    return wire(channel(LinkedIn, server, {"client_id": CLIENT_ID, "client_secret": "env:LI_SECRET",
                                           "author": "urn:li:person:abc"}, env), tmp_path, env, clock)


def test_linkedin_flow_and_refresh_without_rotation(tmp_path, env):
    clock = Clock()
    with LinkedInAuthServer() as server:
        server.clock = lambda: clock().timestamp()
        result = connect(li_adapter(server, tmp_path, env, clock), person(), port=0, now=clock)
        token = server.requests("/oauth/v2/accessToken", "POST")[0]
        assert dict(token.form)["client_secret"] == CLIENT_SECRET and "authorization" not in token.headers
        assert result.lines[:3] == [
            "linkedin: connected; the tokens are stored encrypted in state/credentials.",
            "The access token lapses 2027-01-29 09:00 UTC; each publish run renews it with the refresh token.",
            "The refresh token lapses 2027-11-30: connect again before then."]
        first = FileStore(tmp_path / "state").credentials(env).get("linkedin")
        clock.now = T0 + timedelta(days=59, hours=23, minutes=55)
        server.expire_access()
        receipt = li_adapter(server, tmp_path, env, clock).deliver(post(["Launch"], type="linkedin"), context())
        assert not isinstance(receipt, Failure), receipt
    second = FileStore(tmp_path / "state").credentials(env).get("linkedin")
    assert second.refresh_token == first.refresh_token and second.access_token != first.access_token
    assert second.expires_at == clock.now + timedelta(days=60)
    assert second.refresh_expires_at == first.refresh_expires_at  # a year from the first authorization


def test_linkedin_without_refresh_tokens_says_to_connect_again(tmp_path, env):
    clock = Clock()
    with LinkedInAuthServer(refresh_tokens=False) as server:
        result = connect(li_adapter(server, tmp_path, env, clock), person(), port=0, now=clock)
        assert result.lines[1] == ("The access token lapses 2027-01-29 09:00 UTC; there is no refresh token: run "
                                   "`publish auth linkedin` again before then.")
        clock.now = T0 + timedelta(days=61)
        got = li_adapter(server, tmp_path, env, clock).deliver(post(["Launch"], type="linkedin"), context())
    assert got == Failure("linkedin: the access token expired and there is no refresh token: run `publish auth "
                          "linkedin` again", credential="the linkedin token in state/credentials (publish auth "
                                                        "linkedin)")


# -- Mastodon: app registration on the instance --------------------------------------------------
def test_mastodon_registers_an_app_and_shows_the_token_only_when_asked(tmp_path, env):
    clock = Clock()
    with MastodonAuthServer() as server:
        adapter = channel(Mastodon, server, {"instance": server.url, "token": "env:MASTODON_TOKEN"}, env)
        with pytest.raises(AuthError) as exc:
            connect(adapter, person(show=False), now=clock)
        assert str(exc.value) == ("the token for mastodon is a secret to keep as MASTODON_TOKEN; it is printed only "
                                  "when asked: `publish auth mastodon | gh secret set MASTODON_TOKEN` (or add --show)")
        assert not server.requests("/api/v1/apps")
        result = connect(adapter, person(show=True), now=clock)
        app = dict(server.requests("/api/v1/apps", "POST")[0].form)
        token = dict(server.requests("/oauth/token", "POST")[0].form)
    assert app["client_name"] == "newsroom-publish"
    assert app["scopes"] == "read:statuses read:accounts write:statuses write:media"
    assert app["redirect_uris"].startswith("http://127.0.0.1:")
    assert token["client_secret"] == "mastodon-secret-1" and token["redirect_uri"] == app["redirect_uris"]
    assert result.secret == server.token and result.secret.startswith("access-")
    assert result.lines == [
        f"mastodon: connected as @newsroom on {server.url} (scopes read:statuses read:accounts write:statuses "
        "write:media).",
        "Keep the token as the secret MASTODON_TOKEN (`gh secret set MASTODON_TOKEN` reads it from a pipe); Mastodon "
        "tokens do not lapse until revoked."]
    assert not any(result.secret in line for line in result.lines)


def test_mastodon_registration_error_is_shown(tmp_path, env):
    with MastodonAuthServer() as server:
        server.fail(422, {"error": "Validation failed: Redirect URI must be an absolute URI."}, path="/api/v1/apps")
        adapter = channel(Mastodon, server, {"instance": server.url, "token": "env:MASTODON_TOKEN"}, env)
        with pytest.raises(AuthError) as exc:
            connect(adapter, person(show=True), now=Clock())
    assert str(exc.value) == (f"mastodon: registering the app on {server.url} failed: HTTP 422: Validation failed: "
                              "Redirect URI must be an absolute URI.")


# -- Bluesky: an app password, checked by creating a session -------------------------------------
def test_bluesky_app_password_is_checked_and_never_printed(tmp_path):
    with BlueskyServer() as server:
        adapter = channel(Bluesky, server, {"handle": "newsroom.bsky.social", "app_password": "env:BSKY_APP_PASSWORD"}, {})
        p = person(secret="app-pass-word")
        result = connect(adapter, p, now=Clock())
        assert p.asked == ["App password for newsroom.bsky.social"]
        assert server.requests("createSession")[0].json == {"identifier": "newsroom.bsky.social", "password": "app-pass-word"}
        wrong = person(secret="wrong-pass")
        with pytest.raises(AuthError) as exc:
            connect(adapter, wrong, now=Clock())
    assert result.lines[1] == ("Keep the app password as the secret BSKY_APP_PASSWORD: gh secret set "
                               "BSKY_APP_PASSWORD (it asks for the value; paste the same app password)")
    assert result.lines[0].startswith("bluesky: signed in as newsroom.bsky.social (did:plc:")
    assert str(exc.value) == ("bluesky: sign-in as newsroom.bsky.social failed: HTTP 401: AuthenticationRequired: Invalid "
                              "identifier or password")
    assert result.secret is None and not any("app-pass-word" in line for line in result.lines + p.said)


def test_a_token_revoked_before_its_time_is_renewed_once_and_the_post_sent(tmp_path, env):
    clock = Clock()
    with XAuthServer() as server:
        connect(x_adapter(server, tmp_path, env, clock), person(), port=0, now=clock)
        server.expire_access()  # e.g. the person changed their password: X answers 401 at once
        adapter = x_adapter(server, tmp_path, env, clock)
        receipt = adapter.deliver(post(["Launch day"], type="x"), context())
        creates = server.requests("^/2/tweets$", "POST")
        assert not isinstance(receipt, Failure), receipt
        assert [c.headers["authorization"] for c in creates][1:] == [f"Bearer {server.token}"]
        assert len(creates) == 2 and len(server.tweets) == 1 and adapter.keeper.refreshes == 1
        server.expire_access()
        server.refreshes.clear()  # and the refresh token is gone too: the platform's words, not a loop
        got = x_adapter(server, tmp_path, env, clock).deliver(post(["Next"], type="x"), context())
    assert got.message == ("x: token refresh: HTTP 400: invalid_request: Value passed for the token was invalid. "
                           "(run `publish auth x` again)")
