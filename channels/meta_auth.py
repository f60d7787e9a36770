"""Meta's sign-in for ``publish auth`` (Threads, Facebook Pages, Instagram), when the channel names its
Meta app (``client_id``, with ``client_secret`` in the environment): the endpoints and exchanges of
the OAuth authorization code flow as Meta documents them. ``channels/auth.py`` runs the flow (the
loopback redirect, the ``state`` check) and keeps the token encrypted in the project's credentials.

- **Threads** (developers.facebook.com/documentation/threads/get-started/get-access-tokens-and-permissions
  and ``long-lived-tokens``): the Authorization Window ``https://threads.com/oauth/authorize``
  (``client_id``, ``redirect_uri``, ``scope`` comma-separated, ``response_type=code``, ``state``) sends
  the person back with ``code``; ``POST https://graph.threads.net/oauth/access_token`` (``client_id``,
  ``client_secret``, ``grant_type=authorization_code``, ``redirect_uri``, ``code``) →
  ``{"access_token", "user_id"}``, good for an hour; ``GET https://graph.threads.net/access_token
  ?grant_type=th_exchange_token&client_secret=…&access_token=…`` → ``{"access_token", "token_type",
  "expires_in"}``, a long-lived token (60 days).
- **Facebook Pages, Instagram** (facebook-login/guides/advanced/manual-flow, facebook-login/guides/
  access-tokens/get-long-lived, pages-api/getting-started): the Login Dialog
  ``https://www.facebook.com/{version}/dialog/oauth`` (``client_id``, ``redirect_uri``, ``state``,
  ``scope``, ``response_type=code``) → ``code``; ``GET https://graph.facebook.com/{version}/oauth/
  access_token`` (``client_id``, ``redirect_uri``, ``client_secret``, ``code``) → a user token; the
  same endpoint with ``grant_type=fb_exchange_token`` and ``fb_exchange_token`` → a long-lived user
  token; ``GET /me/accounts`` → the Pages the person can act for, each with its Page token, which
  does not lapse. Facebook keeps the token of ``page_id``; Instagram the token of the Page whose
  ``instagram_business_account`` is the channel's ``user_id``.

A refusal comes back on the redirect as ``error``, ``error_reason`` and ``error_description``.
"""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from newsroom.credentials import Credential

from .base import Failure
from . import graph

THREADS_AUTHORIZE = ("https://threads.com", "/oauth/authorize")
THREADS_TOKEN_HOST = "https://graph.threads.net"


def _endpoints(adapter) -> tuple[str, str]:
    """(the authorize page, the root of the token endpoints), aimed at ``base_url`` in tests."""
    base = (adapter.base_url or "").rstrip("/")
    if adapter.TYPE == "threads":
        return (base or THREADS_AUTHORIZE[0]) + THREADS_AUTHORIZE[1], base or THREADS_TOKEN_HOST
    version = adapter.config.options.get("version") or graph.DEFAULT_VERSION
    return (base or f"https://www.facebook.com/{version}") + "/dialog/oauth", adapter.api


class SignInError(Exception):
    """A step of the sign-in failed: the message says which, in Meta's words."""


def app_problem(adapter, callback: str) -> str | None:
    """What is missing to sign in (the app's id or secret), and where to find it; None when all is set."""
    ref = adapter.config.options.get("client_secret")
    if adapter.client_id() and adapter.secret("client_secret"):
        return None
    what = (f"{ref.env} is not set in the environment" if ref is not None and adapter.client_id() else
            f"channels.{adapter.name}.client_secret is not set in publish.yml" if adapter.client_id() else
            f"channels.{adapter.name}.client_id is not set in publish.yml")
    return (f"{what}: take the app id and secret of your Meta app (App settings → Basic"
            f"{'; the Threads app id for Threads' if adapter.TYPE == 'threads' else ''}), add {callback} to its "
            "valid OAuth redirect URIs, and set client_id and client_secret: env:NAME")


def authorize_url(adapter, redirect_uri: str, state: str) -> str:
    scopes = list(dict.fromkeys(s for group in adapter.scopes_for().values() for s in group))
    return _endpoints(adapter)[0] + "?" + urlencode({"client_id": adapter.client_id(), "redirect_uri": redirect_uri,
                                                     "scope": ",".join(scopes), "response_type": "code",
                                                     "state": state})


def refusal(params: dict) -> str:
    """The words of a declined sign-in on the redirect (``error_reason``: ``error_description``)."""
    words = params.get("error_reason") or params.get("error", "")
    return words + (f": {params['error_description']}" if params.get("error_description") else "")


def exchange(adapter, code: str, redirect_uri: str, now) -> Credential:
    """The code exchanged for the token the channel keeps: Threads' long-lived token, or the Page token."""
    root = _endpoints(adapter)[1]
    client_id, secret = adapter.client_id(), adapter.secret("client_secret")
    scopes = tuple(dict.fromkeys(s for group in adapter.scopes_for().values() for s in group))

    def ask(step, method, url, **kwargs):
        got = graph.call(adapter.session, method, url, **kwargs)
        if isinstance(got, Failure):
            raise SignInError(f"{adapter.name}: {step} failed: {got.message}")
        return got.json()

    if adapter.TYPE == "threads":
        short = ask("exchanging the code", "POST", f"{root}/oauth/access_token", data={
            "client_id": client_id, "client_secret": secret, "grant_type": "authorization_code",
            "redirect_uri": redirect_uri, "code": code})
        long = ask("the long-lived token", "GET", f"{root}/access_token", params={
            "grant_type": "th_exchange_token", "client_secret": secret, "access_token": short["access_token"]})
        lasts = long.get("expires_in")
        return Credential(access_token=long["access_token"], scopes=scopes, obtained_at=now,
                          expires_at=now + timedelta(seconds=int(lasts)) if lasts else None)
    short = ask("exchanging the code", "GET", f"{root}/oauth/access_token", params={
        "client_id": client_id, "redirect_uri": redirect_uri, "client_secret": secret, "code": code})
    user = ask("the long-lived token", "GET", f"{root}/oauth/access_token", params={
        "grant_type": "fb_exchange_token", "client_id": client_id, "client_secret": secret,
        "fb_exchange_token": short["access_token"]})
    pages = ask("listing the Pages", "GET", f"{root}/me/accounts", params={
        "fields": "id,name,access_token,instagram_business_account"},
        headers={"Authorization": f"Bearer {user['access_token']}"})
    page = next((p for p in pages.get("data") or [] if adapter.owns_page(p)), None)
    if page is None or not page.get("access_token"):
        raise SignInError(f"{adapter.name}: {adapter.page_missing()}; the person who signed in can act for: "
                          f"{', '.join(p.get('name', '?') for p in pages.get('data') or []) or 'no Page'}")
    return Credential(access_token=page["access_token"], scopes=scopes, obtained_at=now, account=page.get("name"),
                      extra={"page_id": str(page.get("id"))})
