"""OAuth 2.0 for the channels that use it: PKCE, the token endpoint, refresh with rotation, revoke.

The contract followed (RFC 6749, RFC 7636 PKCE, RFC 7009 revocation) and each platform's variant:

- **X** (docs.x.com ``fundamentals/authentication/oauth-2-0/authorization-code`` and
  ``user-access-token``): authorize at ``https://x.com/i/oauth2/authorize`` with ``code_challenge``
  (S256) and ``state``; ``POST https://api.x.com/2/oauth2/token`` (form: ``code``,
  ``grant_type=authorization_code``, ``client_id``, ``redirect_uri``, ``code_verifier``; a
  confidential client authenticates with HTTP Basic ``client_id:client_secret``). Access tokens
  last two hours; the ``offline.access`` scope brings a refresh token, and ``grant_type=refresh_token``
  answers with a *new* refresh token: the old one is spent, so the new one must be kept at once.
  Revoke: ``POST https://api.x.com/2/oauth2/revoke`` (``token``, ``token_type_hint``).
- **LinkedIn** (learn.microsoft.com ``linkedin/shared/authentication/authorization-code-flow``,
  ``authorization-code-flow-native`` (PKCE, loopback redirect ``http://127.0.0.1:{port}``) and
  ``programmatic-refresh-tokens``): authorize at ``https://www.linkedin.com/oauth/v2/authorization``,
  tokens from ``POST https://www.linkedin.com/oauth/v2/accessToken`` with ``client_id`` and
  ``client_secret`` in the form. Access tokens last 60 days (``expires_in``); apps approved for
  programmatic refresh tokens also get ``refresh_token`` and ``refresh_token_expires_in`` (a year,
  counted from the first authorization and *not* renewed by a refresh). Revoke:
  ``POST https://www.linkedin.com/oauth/v2/revoke``.
- **Mastodon** (docs.joinmastodon.org ``methods/apps``, ``methods/oauth``): the app is registered
  on the instance (``POST /api/v1/apps``), then ``/oauth/authorize`` (PKCE S256 since 4.3) and
  ``POST /oauth/token``; its tokens do not expire. Revoke: ``POST /oauth/revoke``.

Error bodies are RFC 6749 §5.2: ``{"error": "invalid_grant", "error_description": "…"}``; both
the code and the words are kept in the message.
"""
from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Callable
from urllib.parse import urlencode

from newsroom.credentials import Credential, CredentialError

from .base import Failure
from .http import request

if TYPE_CHECKING:
    from newsroom.credentials import Vault

#: A token is refreshed when it lapses within this many seconds: a run never starts a thread with a
#: token that dies halfway through it.
REFRESH_MARGIN = 600


@dataclass(frozen=True)
class Provider:
    """One platform's OAuth endpoints: (host, path) pairs, so tests aim the host at a loopback server."""

    name: str
    authorize: tuple[str, str]
    token: tuple[str, str]
    revoke: tuple[str, str] | None
    scopes: tuple[str, ...]  # what the channel needs to post, upload and read its numbers
    client_auth: str = "basic"  # "basic": HTTP Basic for confidential clients; "body": client_secret in the form
    scope_separator: str = " "
    rotates_refresh: bool = False  # every refresh answers with a new refresh token

    def url(self, which: str, base: str | None = None) -> str:
        host, path = getattr(self, which)
        return (base.rstrip("/") if base else host) + path


X = Provider("x", ("https://x.com", "/i/oauth2/authorize"), ("https://api.x.com", "/2/oauth2/token"),
             ("https://api.x.com", "/2/oauth2/revoke"),
             scopes=("tweet.read", "tweet.write", "users.read", "media.write", "offline.access"),
             client_auth="basic", rotates_refresh=True)
LINKEDIN = Provider("linkedin", ("https://www.linkedin.com", "/oauth/v2/authorization"),
                    ("https://www.linkedin.com", "/oauth/v2/accessToken"),
                    ("https://www.linkedin.com", "/oauth/v2/revoke"),
                    scopes=("w_member_social",), client_auth="body")
PROVIDERS = {"x": X, "linkedin": LINKEDIN}


# -- PKCE (RFC 7636) ------------------------------------------------------------------------------
def pkce_pair() -> tuple[str, str]:
    """(code_verifier, code_challenge): 64 unreserved characters and their S256 challenge."""
    verifier = secrets.token_urlsafe(48)  # 64 characters from [A-Za-z0-9_-], within RFC 7636's 43–128
    return verifier, challenge_of(verifier)


def challenge_of(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorize_url(provider: Provider, *, client_id: str, redirect_uri: str, scopes, state: str, challenge: str,
                  base: str | None = None) -> str:
    query = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
             "scope": provider.scope_separator.join(scopes), "state": state, "code_challenge": challenge,
             "code_challenge_method": "S256"}
    return provider.url("authorize", base) + "?" + urlencode(query)


# -- the token endpoint ---------------------------------------------------------------------------
def oauth_failure(got: Failure, response) -> Failure:
    """RFC 6749 §5.2 error bodies keep their code and description: ``invalid_grant: …``."""
    try:
        body = response.json()
    except ValueError:
        return got
    if not isinstance(body, dict) or not isinstance(body.get("error"), str):
        return got
    words = body["error"] + (f": {body['error_description']}" if body.get("error_description") else "")
    return Failure(f"HTTP {response.status_code}: {words}", retryable=got.retryable, retry_after=got.retry_after,
                   status=got.status, ambiguous=got.ambiguous)


def token_call(session, provider: Provider, form: dict, *, client_id: str, client_secret: str | None,
               base: str | None = None, which: str = "token"):
    """POST to the token (or revoke) endpoint, authenticating the client the platform's way."""
    form = {**form, "client_id": client_id}
    kwargs: dict = {}
    if client_secret:
        if provider.client_auth == "basic":
            kwargs["auth"] = (client_id, client_secret)
        else:
            form["client_secret"] = client_secret
    seen: list = []
    got = request(session, "POST", provider.url(which, base), data=form,
                  headers={"Accept": "application/json"},
                  hooks={"response": [lambda response, *a, **k: seen.append(response)]}, **kwargs)
    if isinstance(got, Failure):
        return oauth_failure(got, seen[-1]) if seen else got
    return got


def credential_from(body: dict, now: datetime, previous: Credential | None = None) -> Credential:
    """A token response (RFC 6749 §5.1) as a credential; what the answer leaves out is kept from before."""
    expires_in = body.get("expires_in")
    refresh_in = body.get("refresh_token_expires_in")
    scope = body.get("scope")
    scopes = tuple(s for s in str(scope).replace(",", " ").split() if s) if scope else (
        previous.scopes if previous else ())
    return Credential(
        access_token=body["access_token"],
        refresh_token=body.get("refresh_token") or (previous.refresh_token if previous else None),
        expires_at=now + timedelta(seconds=int(expires_in)) if expires_in else None,
        refresh_expires_at=(now + timedelta(seconds=int(refresh_in)) if refresh_in else
                            previous.refresh_expires_at if previous else None),
        scopes=scopes, obtained_at=now if previous is None else previous.obtained_at,
        account=previous.account if previous else None, extra=dict(previous.extra) if previous else {})


def exchange_code(session, provider: Provider, *, code: str, verifier: str, redirect_uri: str, client_id: str,
                  client_secret: str | None, now: datetime, base: str | None = None) -> Credential | Failure:
    got = token_call(session, provider, {"grant_type": "authorization_code", "code": code,
                                         "redirect_uri": redirect_uri, "code_verifier": verifier},
                     client_id=client_id, client_secret=client_secret, base=base)
    return _issued(got, provider, now)


def refresh_credential(session, provider: Provider, old: Credential, *, client_id: str, client_secret: str | None,
                       now: datetime, base: str | None = None) -> Credential | Failure:
    got = token_call(session, provider, {"grant_type": "refresh_token", "refresh_token": old.refresh_token},
                     client_id=client_id, client_secret=client_secret, base=base)
    return _issued(got, provider, now, previous=old)


def _issued(got, provider: Provider, now: datetime, previous: Credential | None = None) -> Credential | Failure:
    """The credential a token endpoint's answer holds (a code exchanged, or a refresh)."""
    if isinstance(got, Failure):
        return got
    body = got.json()
    if not body.get("access_token"):
        return Failure(f"{provider.name}: the token endpoint answered without an access_token")
    return credential_from(body, now, previous=previous)


def revoke(session, provider: Provider, token: str, *, hint: str, client_id: str, client_secret: str | None,
           base: str | None = None) -> None | Failure:
    if provider.revoke is None:
        return None
    got = token_call(session, provider, {"token": token, "token_type_hint": hint}, client_id=client_id,
                     client_secret=client_secret, base=base, which="revoke")
    return got if isinstance(got, Failure) else None


# -- a live access token for an adapter -----------------------------------------------------------
class TokenKeeper:
    """Hands an adapter a working access token for one channel, from the vault.

    A token that lapses within ``REFRESH_MARGIN`` is refreshed *under the state store's lock*: the
    vault is read fresh inside it, so when two runs race, the second finds the token the first just
    got (and the refresh token X rotated) instead of spending the old refresh token a second time,
    which X would refuse and which would leave the channel with no working credential at all.
    """

    def __init__(self, name: str, provider: Provider, vault: Vault, session, *, client_id: str,
                 client_secret: str | None, clock: Callable[[], datetime], base: str | None = None):
        self.name, self.provider, self.vault, self.session = name, provider, vault, session
        self.client_id, self.client_secret, self.clock, self.base = client_id, client_secret, clock, base
        self._current: Credential | None = None
        self.refreshes = 0

    def _fresh_enough(self, cred: Credential | None, now: datetime) -> bool:
        return cred is not None and bool(cred.access_token) and not cred.expires_within(now, REFRESH_MARGIN)

    def credential(self, *, refused: str | None = None) -> Credential | Failure:
        """A working credential. ``refused``: the access token the platform just answered 401 to (revoked
        before its time): renewed even though its expiry says it is fresh."""
        now = self.clock()

        def usable(cred: Credential | None) -> bool:
            return self._fresh_enough(cred, now) and (refused is None or cred.access_token != refused)

        if usable(self._current):
            return self._current
        try:
            cred = self.vault.get(self.name)
            if cred is None:
                return Failure(f"no credential stored for {self.name}: run `publish auth {self.name}`")
            if usable(cred):
                self._current = cred
                return cred
            failed: list[Failure] = []

            def change(fresh: Credential | None) -> Credential | None:
                if fresh is None:
                    failed.append(Failure(f"no credential stored for {self.name}: run `publish auth {self.name}`"))
                    return None
                if usable(fresh):
                    return fresh  # another run refreshed it while this one waited for the lock
                if not fresh.refresh_token:
                    failed.append(Failure(f"{self.name}: the access token expired and there is no refresh token: "
                                          f"run `publish auth {self.name}` again"))
                    return None
                got = refresh_credential(self.session, self.provider, fresh, client_id=self.client_id,
                                         client_secret=self.client_secret, now=now, base=self.base)
                if isinstance(got, Failure):
                    retry = got.retryable and not (got.status or 0) in (400, 401)
                    hint = "" if retry else f" (run `publish auth {self.name}` again)"
                    failed.append(Failure(f"{self.name}: token refresh: {got.message}{hint}", retryable=retry,
                                          retry_after=got.retry_after, status=got.status))
                    return None
                self.refreshes += 1
                return got

            cred = self.vault.update(self.name, change)
        except CredentialError as exc:
            return Failure(str(exc))
        if failed:
            return failed[0]
        self._current = cred
        return cred

    def token(self) -> str | Failure:
        cred = self.credential()
        return cred if isinstance(cred, Failure) else cred.access_token


class OAuthChannel:
    """Mixed into an adapter whose access token may come from ``publish auth`` (``client_id`` set):
    then the token is taken from the vault and refreshed before it lapses; otherwise the ``token``
    option names a bare access token in the environment, as before."""

    PROVIDER: Provider

    def oauth(self) -> bool:
        return bool(self.config.options.get("client_id"))

    def client_id(self) -> str:
        value = str(self.config.options.get("client_id") or "")
        return (self.env.get(value[4:]) or "") if value.startswith("env:") else value

    @property
    def keeper(self) -> TokenKeeper:
        if getattr(self, "_keeper", None) is None:
            from datetime import timezone

            self._keeper = TokenKeeper(self.name, self.PROVIDER, self.vault, self.session,
                                       client_id=self.client_id(),
                                       client_secret=self.secret("client_secret"),
                                       clock=self.clock or (lambda: datetime.now(timezone.utc)), base=self.base_url)
        return self._keeper

    def bearer(self) -> str | Failure:
        """The access token to send: refreshed first when it lapses soon. A renewal the platform refuses
        (or nothing to renew with) is a refused credential: the entry waits for `publish auth`."""
        if not self.oauth():
            return self.secret("token") or ""
        if self.vault is None:
            return Failure(f"{self.name}: no credential store was handed to the adapter")
        got = self.keeper.token()
        return self.refused_token(got) if isinstance(got, Failure) and not got.retryable else got

    def refused_token(self, failure: Failure) -> Failure:
        from dataclasses import replace

        return replace(failure, credential=f"the {self.name} token in {self.vault.label if self.vault else 'state'}"
                                           f" (publish auth {self.name})")

    def renewing(self, send):
        """``send()`` once more with a renewed token when the platform answers 401 to a token whose
        expiry says it is fresh (revoked early, e.g. after a password change). A 401 means the request
        was not carried out, so repeating it cannot post twice."""
        got = send()
        if not (isinstance(got, Failure) and got.status == 401 and self.oauth() and self.vault is not None):
            return got
        used = self.bearer()
        cred = self.keeper.credential(refused=used if isinstance(used, str) else None)
        if isinstance(cred, Failure):
            return cred if cred.retryable else self.refused_token(cred)
        again = send()
        if isinstance(again, Failure) and again.status == 401:
            return self.refused_token(again)  # a brand-new token refused too: the app's access was withdrawn
        return again

    def credential_facts(self) -> dict:
        if not self.oauth():
            ref = self.config.options.get("token")
            return {"source": str(ref) if ref is not None else None}
        cred = None
        if self.vault is not None:
            try:
                cred = self.vault.get(self.name)
            except CredentialError:
                cred = None
        if cred is None:
            return {"source": "state/credentials"}
        lapses = cred.refresh_expires_at if cred.refresh_token else cred.expires_at
        return {"source": "state/credentials", "expires_at": cred.expires_at, "lapses_at": lapses,
                "refreshable": bool(cred.refresh_token), "scopes": cred.scopes or None, "account": cred.account}

    def whoami(self) -> str | None | Failure:
        """Who the token belongs to, by the platform's cheap verify call (None: the platform has none)."""
        return None

    def missing_secrets(self) -> list[str]:
        names = [ref.env for option in ("token", "client_secret")
                 if (ref := self.config.options.get(option)) is not None and hasattr(ref, "resolve")
                 and not ref.resolve(self.env) and (option == "client_secret" or not self.oauth())]
        return names

    def credential_problem(self) -> str | None:
        if not self.oauth():
            if self.config.options.get("token") is None:
                return f"neither token nor client_id is set: run `publish auth {self.name}`"
            return None
        if self.vault is None:
            return None
        try:
            cred = self.vault.get(self.name)
        except CredentialError as exc:
            return str(exc)
        if cred is None:
            return f"no credential stored for {self.name}: run `publish auth {self.name}`"
        return None
