"""`publish auth` for Threads, Facebook Pages and Instagram in a browser, against loopback servers that
follow Meta's documented sign-in (channels/meta_auth.py): the loopback redirect, the state checked,
the code exchanged with the app's secret, the long-lived token (Threads) or the Page token (Facebook,
Instagram) kept encrypted in state/credentials and used by the next delivery; never printed."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from channels.auth import AuthError, Person, connect
from channels.base import Receipt
from channels.facebook import Facebook
from channels.instagram import Instagram
from channels.threads import Threads
from newsroom.credentials import new_key
from newsroom.state import FileStore
from tests.servers import channel, context, post
from tests.servers.facebook import PAGE_ID, FacebookServer
from tests.servers.instagram import IG_USER, InstagramServer
from tests.servers.meta import CLIENT_ID, CLIENT_SECRET
from tests.servers.oauth import approve
from tests.servers.threads import ThreadsServer

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)


class Browser:
    def __init__(self, rewrite=lambda url: url):
        self.urls: list[str] = []
        self.rewrite = rewrite

    def __call__(self, url):
        self.urls.append(url)
        threading.Thread(target=approve, args=(self.rewrite(url),), daemon=True).start()
        return True


def person(browser=None):
    said: list[str] = []
    p = Person(say=said.append, open_browser=browser or Browser(), ask_secret=lambda q: "")
    p.said = said
    return p


@pytest.fixture
def env():
    return {"NEWSROOM_KEY": new_key(), "META_APP_SECRET": CLIENT_SECRET}


def wired(cls, server, tmp_path, env, **options):
    adapter = channel(cls, server, {"client_id": CLIENT_ID, "client_secret": "env:META_APP_SECRET", **options}, env)
    adapter.use_credentials(FileStore(tmp_path / "state").credentials(env), lambda: T0)
    return adapter


def stored(tmp_path, env, name):
    return FileStore(tmp_path / "state").credentials(env).get(name)


def test_threads_signs_in_and_keeps_the_long_lived_token_encrypted(tmp_path, env):
    with ThreadsServer() as server:
        browser = Browser()
        p = person(browser)
        result = connect(wired(Threads, server, tmp_path, env), p, port=0, now=lambda: T0)
        asked = {k: v[0] for k, v in parse_qs(urlsplit(browser.urls[0]).query).items()}
        assert urlsplit(browser.urls[0]).path == "/oauth/authorize"
        assert asked["client_id"] == CLIENT_ID and asked["response_type"] == "code" and asked["state"]
        assert asked["scope"] == ("threads_basic,threads_content_publish,threads_delete,threads_manage_insights,"
                                  "threads_read_replies")
        exchange = dict(server.requests("/oauth/access_token$", "POST")[0].form)
        assert exchange["client_secret"] == CLIENT_SECRET and exchange["grant_type"] == "authorization_code"
        assert exchange["redirect_uri"] == asked["redirect_uri"]
        long = server.requests("^/access_token$")[0].query
        assert long["grant_type"] == ["th_exchange_token"]
        cred = stored(tmp_path, env, "threads")
        assert cred.access_token == server.token and cred.expires_at == T0 + timedelta(seconds=5183944)
        assert cred.account == "@northwind"
        assert result.secret is None and result.lines[0] == ("threads: connected (@northwind); the token is stored "
                                                             "encrypted in state/credentials.")
        assert not any(server.token in line or CLIENT_SECRET in line for line in result.lines + p.said)
        # the next delivery uses the stored token, with no token in the environment
        receipt = wired(Threads, server, tmp_path, env).deliver(post(["Hello"], type="threads"), context())
        assert isinstance(receipt, Receipt), receipt
        assert server.requests("/threads_publish$")[0].headers["authorization"] == f"Bearer {server.token}"


def test_facebook_keeps_the_pages_token(tmp_path, env):
    with FacebookServer() as server:
        browser = Browser()
        result = connect(wired(Facebook, server, tmp_path, env, page_id=PAGE_ID), person(browser), port=0,
                         now=lambda: T0)
        assert urlsplit(browser.urls[0]).path == "/dialog/oauth"
        exchanges = [s.query for s in server.requests("/oauth/access_token$", "GET")]
        assert exchanges[0]["client_secret"] == [CLIENT_SECRET] and "code" in exchanges[0]
        assert exchanges[1]["grant_type"] == ["fb_exchange_token"]
        cred = stored(tmp_path, env, "facebook")
        assert cred.access_token == "page-token" and cred.expires_at is None
        assert cred.account == "the Page Northwind News"
        assert result.lines[1] == "A Page token does not lapse while the person keeps their role on the Page."
        receipt = wired(Facebook, server, tmp_path, env, page_id=PAGE_ID).deliver(post(["Hi"], type="facebook"),
                                                                                  context())
        assert isinstance(receipt, Receipt), receipt


def test_instagram_takes_the_token_of_the_page_its_account_is_connected_to(tmp_path, env):
    with InstagramServer() as server:
        server.pages.insert(0, {"id": "104857600999999", "name": "Another Page"})
        connect(wired(Instagram, server, tmp_path, env, user_id=IG_USER), person(), port=0, now=lambda: T0)
        assert stored(tmp_path, env, "instagram").access_token == "page-token"
        server.pages = [{"id": "104857600999999", "name": "Another Page"}]
        with pytest.raises(AuthError) as exc:
            connect(wired(Instagram, server, tmp_path, env, user_id=IG_USER), person(), port=0, now=lambda: T0)
    assert str(exc.value) == (f"instagram: no Page the person who signed in can act for is connected to the Instagram "
                              f"account {IG_USER} (its instagram_business_account); the person who signed in can act "
                              "for: Another Page")


def test_a_declined_sign_in_says_so_in_metas_words(tmp_path, env):
    with ThreadsServer() as server:
        server.deny = True
        with pytest.raises(AuthError) as exc:
            connect(wired(Threads, server, tmp_path, env), person(), port=0, now=lambda: T0)
    assert str(exc.value) == "the authorization was refused (user_denied: Permissions error)"
    assert stored(tmp_path, env, "threads") is None


def test_an_answer_with_another_state_is_not_taken(tmp_path, env):
    with FacebookServer() as server:
        browser = Browser(rewrite=lambda url: url.replace("state=", "state=forged"))
        with pytest.raises(AuthError) as exc:
            connect(wired(Facebook, server, tmp_path, env, page_id=PAGE_ID), person(browser), port=0, now=lambda: T0)
        assert "another state than the one sent" in str(exc.value)
        assert not server.requests("/oauth/access_token$")  # the code was never exchanged


def test_a_wrong_app_secret_is_metas_error(tmp_path, env):
    with ThreadsServer() as server:
        env = {**env, "META_APP_SECRET": "not-the-secret"}
        with pytest.raises(AuthError) as exc:
            connect(wired(Threads, server, tmp_path, env), person(), port=0, now=lambda: T0)
    assert str(exc.value) == "threads: exchanging the code failed: HTTP 400: Error validating client secret. (code 1)"


def test_the_app_secret_must_be_set(tmp_path, env):
    adapter = wired(Threads, None, tmp_path, {"NEWSROOM_KEY": env["NEWSROOM_KEY"]})
    with pytest.raises(AuthError) as exc:
        connect(adapter, person(), port=0, now=lambda: T0)
    assert str(exc.value) == ("META_APP_SECRET is not set in the environment: take the app id and secret of your Meta "
                              "app (App settings → Basic; the Threads app id for Threads), add "
                              "http://127.0.0.1:8976/callback to its valid OAuth redirect URIs, and set client_id and "
                              "client_secret: env:NAME")


def test_with_neither_token_nor_app_the_channel_says_what_to_run(tmp_path, env):
    adapter = channel(Facebook, None, {"page_id": PAGE_ID}, env)
    assert adapter.credential_problem() == "neither token nor client_id is set: run `publish auth facebook`"
    signed = wired(Facebook, None, tmp_path, env, page_id=PAGE_ID)
    assert signed.credential_problem() == "no credential stored for facebook: run `publish auth facebook`"
    assert signed.missing_secrets() == []  # the app secret is for `publish auth` only
