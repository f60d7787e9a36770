"""``publish auth CHANNEL``: connect an account from a terminal (the "connect account" button).

- **X, LinkedIn**: OAuth 2.0 authorization code with PKCE. A one-shot HTTP server on loopback
  (``http://127.0.0.1:PORT/callback``, the redirect both platforms allow for native apps) catches the
  redirect; the person's browser is opened on the authorize page (the URL is printed too, for a
  machine with no browser). The tokens go to the encrypted ``state/credentials``; CI needs only
  ``NEWSROOM_KEY`` (and the client secret of a confidential app).
- **Mastodon**: the app is registered on the instance (``POST /api/v1/apps``, docs.joinmastodon.org
  ``methods/apps``), then the same PKCE flow on ``/oauth/authorize`` and ``/oauth/token``
  (``methods/oauth``; PKCE since 4.3). Mastodon tokens do not lapse, so the token is the secret
  ``MASTODON_TOKEN``: it is written to standard output only when asked (``--show``) or when standard
  output is a pipe (``publish auth mastodon | gh secret set MASTODON_TOKEN``).
- **Threads, Facebook Pages, Instagram** with the channel's Meta app (``client_id``): Meta's login in
  the browser, the same loopback redirect, the code exchanged with the app's secret for the token the
  channel keeps, stored encrypted (``channels/meta_auth.py``); without an app, their token is checked
  (and renewed where Meta renews it) as below.
- **Bluesky**: the handle and an app password, checked by creating a session
  (``com.atproto.server.createSession``); the password is read without echo and never printed.

Every flow returns an ``AuthResult`` of lines for the person (stderr) and, only when asked, the
secret to print (stdout). Expected failures are ``AuthError`` with the platform's own words.
"""
from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Callable
from urllib.parse import parse_qs, urlsplit

from newsroom.credentials import KEY_VARIABLE, CredentialError
from newsroom.problems import Refusal

from .base import Channel, Failure
from .http import request
from . import oauth

CALLBACK = "/callback"
DEFAULT_PORT = 8976  # X matches the registered callback URL exactly: one fixed port to register
DEFAULT_TIMEOUT = 300.0  # seconds the person has to approve in the browser
MASTODON_SCOPES = ("read:statuses", "read:accounts", "write:statuses", "write:media")
APP_NAME = "newsroom-publish"
APP_SITE = "https://github.com/newsroom-publish"

DONE_PAGE = """<!doctype html><meta charset="utf-8"><title>{title}</title>
<h1>{title}</h1><p>{text}</p><p>You can close this tab and go back to the terminal.</p>
"""


class AuthError(Refusal):
    """The flow could not finish: the message says why and what to do."""


@dataclass
class AuthResult:
    lines: list[str] = field(default_factory=list)  # for the person (stderr)
    secret: str | None = None  # printed on stdout only when asked


@dataclass
class Person:
    """How a flow reaches the person at the terminal. Tests hand in their own."""

    say: Callable[[str], None]
    open_browser: Callable[[str], bool]
    ask_secret: Callable[[str], str]
    show: bool = False  # the person asked to see the secret (``--show`` or a pipe)

    @classmethod
    def at_terminal(cls, say: Callable[[str], None], *, browser: bool, show: bool) -> Person:
        """The person running ``publish auth``: the default browser (unless not wanted), a hidden
        prompt for secrets."""
        import getpass
        import webbrowser

        return cls(say=say, open_browser=webbrowser.open if browser else (lambda url: False),
                   ask_secret=lambda prompt: getpass.getpass(f"{prompt}: "), show=show)


# -- the loopback redirect catcher ---------------------------------------------------------------
class Catcher:
    """A one-shot HTTP server on 127.0.0.1 that takes the authorization redirect and stops.

    The port is fixed by default (X checks the callback URL exactly, so it must be registered);
    ``port=0`` lets the OS choose (LinkedIn's native flow and Mastodon, which register it per run)."""

    def __init__(self, port: int = DEFAULT_PORT):
        self.params: dict[str, str] | None = None
        self.arrived = threading.Event()
        catcher = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                parts = urlsplit(self.path)
                if parts.path != CALLBACK or catcher.arrived.is_set():
                    self.send_error(404)
                    return
                catcher.params = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
                ok = "code" in catcher.params
                body = DONE_PAGE.format(title="Connected" if ok else "Not connected",
                                        text="The account is connected." if ok else
                                        "The authorization did not complete: see the terminal.").encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                catcher.arrived.set()

        try:
            self.httpd = HTTPServer(("127.0.0.1", port), Handler)
        except OSError as exc:
            raise AuthError(f"cannot listen on 127.0.0.1:{port} for the redirect ({exc.strerror}): free the port "
                            "or choose another with --port (and register that callback URL with the app)") from None
        self.redirect_uri = f"http://127.0.0.1:{self.httpd.server_address[1]}{CALLBACK}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def wait(self, timeout: float) -> dict[str, str]:
        try:
            if not self.arrived.wait(timeout):
                seconds = int(timeout)
                raise AuthError(f"no answer from the browser within {seconds} second{'s' * (seconds != 1)}: run the "
                                "command again and approve the app in the page it opens")
            return dict(self.params or {})
        finally:
            self.close()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def browse(person: Person, url: str) -> None:
    person.say("Opening the authorization page in your browser. If it does not open, visit:")
    person.say(f"  {url}")
    try:
        person.open_browser(url)
    except Exception:  # noqa: BLE001 - no browser is not an error: the URL is printed
        pass


def pkce_code(person: Person, authorize: Callable[[str, str, str], str], catcher: Catcher, timeout: float
              ) -> tuple[str, str, str]:
    """Open ``authorize(redirect_uri, state, challenge)``; wait for the redirect; (code, verifier, redirect_uri)."""
    verifier, challenge = oauth.pkce_pair()
    state = secrets.token_urlsafe(24)
    browse(person, authorize(catcher.redirect_uri, state, challenge))
    params = catcher.wait(timeout)
    if params.get("state") != state:
        raise AuthError("the redirect came back with another state than the one sent: it was not this request's "
                        "answer; run the command again")
    if "error" in params:
        words = params["error"] + (f": {params['error_description']}" if params.get("error_description") else "")
        raise AuthError(f"the authorization was refused ({words})")
    if not params.get("code"):
        raise AuthError("the redirect carried no authorization code")
    return params["code"], verifier, catcher.redirect_uri


# -- flows ---------------------------------------------------------------------------------------
def connect(adapter: Channel, person: Person, *, port: int | None = None, timeout: float = DEFAULT_TIMEOUT,
            now: Callable[[], datetime] | None = None) -> AuthResult:
    """Run the flow for ``adapter``'s type. The adapter carries its settings, env and vault."""
    clock = now or (lambda: datetime.now(timezone.utc))
    flows = {"x": _oauth_app, "linkedin": _oauth_app, "mastodon": _mastodon, "bluesky": _bluesky}
    if getattr(adapter, "CHECKS_TOKEN", False):  # a token or key from the environment: checked, renewed if it can be
        flows[adapter.TYPE] = _check_token
    if getattr(adapter, "META_SIGN_IN", False) and adapter.oauth():  # Meta's login in a browser (client_id set)
        flows[adapter.TYPE] = _meta_app
    flow = flows.get(adapter.TYPE)
    if flow is None:
        raise AuthError(f"{adapter.name}: {adapter.TYPE} channels take their secret straight from the environment; "
                        f"there is nothing to connect (see docs/social.md)")
    return flow(adapter, person, port=port, timeout=timeout, clock=clock)


def _check_vault(adapter: Channel) -> None:
    if adapter.vault is None:
        raise AuthError("this project's state backend keeps no credentials")
    try:
        adapter.vault.all()  # a wrong key is found before the person approves anything
        adapter.vault.check_writable()
    except CredentialError as exc:
        raise AuthError(str(exc)) from None


def _oauth_app(adapter, person: Person, *, port, timeout, clock) -> AuthResult:
    provider: oauth.Provider = adapter.PROVIDER
    client_id = adapter.client_id()
    if not client_id:
        raise AuthError(f"channels.{adapter.name}.client_id is not set in publish.yml: create an app in the "
                        f"{provider.name} developer portal, register the callback URL "
                        f"http://127.0.0.1:{port or DEFAULT_PORT}{CALLBACK}, and put its client id there")
    missing = adapter.missing_secrets()
    if missing:
        raise AuthError(f"{', '.join(missing)} is not set in the environment (the app's client secret)")
    _check_vault(adapter)
    catcher = Catcher(DEFAULT_PORT if port is None else port)
    base = adapter.base_url
    wanted = list(dict.fromkeys(s for scopes in adapter.scopes_for().values() for s in scopes)) or list(provider.scopes)

    def authorize(redirect_uri, state, challenge):
        return oauth.authorize_url(provider, client_id=client_id, redirect_uri=redirect_uri, scopes=wanted,
                                   state=state, challenge=challenge, base=base)

    code, verifier, redirect_uri = pkce_code(person, authorize, catcher, timeout)
    got = oauth.exchange_code(adapter.session, provider, code=code, verifier=verifier, redirect_uri=redirect_uri,
                              client_id=client_id, client_secret=adapter.secret("client_secret"), now=clock(),
                              base=base)
    if isinstance(got, Failure):
        raise AuthError(f"{adapter.name}: the token request failed: {got.message}")
    cred = got
    missing_scopes = [s for s in wanted if cred.scopes and s not in cred.scopes]
    adapter.vault.put(adapter.name, cred)
    adapter.use_credentials(adapter.vault, clock)
    who = adapter.whoami()
    if isinstance(who, Failure):
        raise AuthError(f"{adapter.name}: the new token does not work: {who.message}")
    if who:
        adapter.vault.update(adapter.name, lambda c: replace(c, account=who) if c else None)
    lines = [f"{adapter.name}: connected{f' as {who}' if who else ''}; the tokens are stored encrypted in "
             f"{adapter.vault.label}."]
    if cred.expires_at:
        renew = ("each publish run renews it with the refresh token" if cred.refresh_token else
                 f"there is no refresh token: run `publish auth {adapter.name}` again before then")
        lines.append(f"The access token lapses {cred.expires_at:%Y-%m-%d %H:%M} UTC; {renew}.")
    if cred.refresh_expires_at:
        lines.append(f"The refresh token lapses {cred.refresh_expires_at:%Y-%m-%d}: connect again before then.")
    if missing_scopes:
        lines.append(f"warning: the platform did not grant {', '.join(missing_scopes)}; what needs them will fail")
    lines.append(f"Commit {adapter.vault.label} with the ledger, and give CI the same key: gh secret set "
                 f"{KEY_VARIABLE}")
    ref = adapter.config.options.get("client_secret")
    if ref is not None:
        lines.append(f"CI also needs the app's client secret: gh secret set {ref.env}")
    return AuthResult(lines)


def _meta_app(adapter, person: Person, *, port, timeout, clock) -> AuthResult:
    """Threads, Facebook Pages, Instagram with the channel's Meta app (``channels/meta_auth.py``): Meta's
    login in the browser, the ``state`` checked, the code exchanged with the app's secret; the token
    (Threads' long-lived one, or the Page's) stored encrypted, never printed."""
    from . import meta_auth

    problem = meta_auth.app_problem(adapter, f"http://127.0.0.1:{port or DEFAULT_PORT}{CALLBACK}")
    if problem:
        raise AuthError(problem)
    _check_vault(adapter)
    catcher = Catcher(DEFAULT_PORT if port is None else port)
    state = secrets.token_urlsafe(24)
    browse(person, meta_auth.authorize_url(adapter, catcher.redirect_uri, state))
    params = catcher.wait(timeout)
    if params.get("state") != state:
        raise AuthError("the redirect came back with another state than the one sent: it was not this request's "
                        "answer; run the command again")
    if "error" in params:
        raise AuthError(f"the authorization was refused ({meta_auth.refusal(params)})")
    if not params.get("code"):
        raise AuthError("the redirect carried no authorization code")
    try:
        cred = meta_auth.exchange(adapter, params["code"], catcher.redirect_uri, clock())
    except meta_auth.SignInError as exc:
        raise AuthError(str(exc)) from None
    adapter.vault.put(adapter.name, cred)
    adapter.use_credentials(adapter.vault, clock)
    who = adapter.verify()
    if isinstance(who, Failure):
        raise AuthError(f"{adapter.name}: the new token does not work: {who.message}")
    account = (who or {}).get("account")
    if account:
        adapter.vault.update(adapter.name, lambda c: replace(c, account=account) if c else None)
    lines = [f"{adapter.name}: connected{f' ({account})' if account else ''}; the token is stored encrypted in "
             f"{adapter.vault.label}."]
    lines.append(f"It lapses {cred.expires_at:%Y-%m-%d}: run `publish auth {adapter.name}` again before then."
                 if cred.expires_at else "A Page token does not lapse while the person keeps their role on the Page.")
    lines.append(f"Commit {adapter.vault.label} with the ledger, and give CI the same key: gh secret set {KEY_VARIABLE}")
    return AuthResult(lines)


def _mastodon(adapter, person: Person, *, port, timeout, clock) -> AuthResult:
    ref = adapter.config.options.get("token")
    variable = ref.env if ref is not None else "MASTODON_TOKEN"
    if not person.show:
        raise AuthError(f"the token for {adapter.name} is a secret to keep as {variable}; it is printed only when "
                        f"asked: `publish auth {adapter.name} | gh secret set {variable}` (or add --show)")
    api = adapter.api
    catcher = Catcher(0 if port is None else port)  # registered per run: any free port will do
    try:
        app = request(adapter.session, "POST", f"{api}/api/v1/apps",
                      data={"client_name": APP_NAME, "redirect_uris": catcher.redirect_uri,
                            "scopes": " ".join(MASTODON_SCOPES), "website": APP_SITE})
    except Exception:
        catcher.close()
        raise
    if isinstance(app, Failure):
        catcher.close()
        raise AuthError(f"{adapter.name}: registering the app on {api} failed: {app.message}")
    app = app.json()
    provider = oauth.Provider("mastodon", (api, "/oauth/authorize"), (api, "/oauth/token"), (api, "/oauth/revoke"),
                              scopes=MASTODON_SCOPES, client_auth="body")

    def authorize(redirect_uri, state, challenge):
        return oauth.authorize_url(provider, client_id=app["client_id"], redirect_uri=redirect_uri,
                                   scopes=MASTODON_SCOPES, state=state, challenge=challenge)

    code, verifier, redirect_uri = pkce_code(person, authorize, catcher, timeout)
    got = oauth.exchange_code(adapter.session, provider, code=code, verifier=verifier, redirect_uri=redirect_uri,
                              client_id=app["client_id"], client_secret=app["client_secret"], now=clock())
    if isinstance(got, Failure):
        raise AuthError(f"{adapter.name}: the token request failed: {got.message}")
    me = request(adapter.session, "GET", f"{api}/api/v1/accounts/verify_credentials",
                 headers={"Authorization": f"Bearer {got.access_token}"})
    if isinstance(me, Failure):
        raise AuthError(f"{adapter.name}: the new token does not work: {me.message}")
    acct = me.json().get("acct", "")
    return AuthResult([f"{adapter.name}: connected as @{acct} on {api} (scopes {' '.join(got.scopes or MASTODON_SCOPES)}).",
                       f"Keep the token as the secret {variable} (`gh secret set {variable}` reads it from a pipe); "
                       "Mastodon tokens do not lapse until revoked."], secret=got.access_token)


def _bluesky(adapter, person: Person, *, port, timeout, clock) -> AuthResult:
    ref = adapter.config.options.get("app_password")
    variable = ref.env if ref is not None else "BSKY_APP_PASSWORD"
    handle = adapter.config.options.get("handle")
    password = adapter.secret("app_password")
    if not password:
        person.say(f"Create an app password for {handle} (Settings → Privacy and security → App passwords).")
        password = person.ask_secret(f"App password for {handle}")
    if not password:
        raise AuthError("no app password given")
    got = adapter.send("POST", "com.atproto.server.createSession", json={"identifier": handle, "password": password})
    if isinstance(got, Failure):
        raise AuthError(f"{adapter.name}: sign-in as {handle} failed: {got.message}")
    body = got.json()
    return AuthResult([f"{adapter.name}: signed in as {body.get('handle', handle)} ({body.get('did', '?')}).",
                       f"Keep the app password as the secret {variable}: gh secret set {variable} (it asks for the "
                       "value; paste the same app password)"])


def _check_token(adapter, person: Person, *, port, timeout, clock) -> AuthResult:
    """Threads, Facebook Pages, Instagram, Ghost, WordPress, Hashnode: the secret is made in the
    platform's own settings and kept in the environment. Check that it works (the platform's "who am I"
    call); where the platform renews tokens (Threads' 60-day tokens, a Facebook Page token taken from a
    person's token), print the renewed one only when asked, as for Mastodon."""
    option = adapter.SECRETS[0]
    ref = adapter.config.options.get(option)
    variable = ref.env if ref is not None else option.upper()
    if not adapter.secret(option):
        raise AuthError(f"{variable} is not set in the environment: {adapter.TOKEN_HELP}")
    who = adapter.verify()
    if isinstance(who, Failure):
        raise AuthError(f"{adapter.name}: the secret in {variable} does not work: {who.message}. {adapter.TOKEN_HELP}")
    account = who.get("account") if isinstance(who, dict) else None
    lines = [f"{adapter.name}: the secret in {variable} works{f' ({account})' if account else ''}."]
    renew = getattr(adapter, "renew", None)
    if renew is None:
        lines.append(adapter.TOKEN_NOTE)
        return AuthResult(lines)
    if not person.show:
        lines.append(f"{adapter.TOKEN_NOTE} To replace it with a renewed one: `publish auth {adapter.name} | gh secret "
                     f"set {variable}` (or add --show)")
        return AuthResult(lines)
    got = renew()
    if isinstance(got, Failure):
        raise AuthError(f"{adapter.name}: renewing the token failed: {got.message}")
    token, lasts = got
    until = f"it lapses {clock() + lasts:%Y-%m-%d}" if lasts else "it does not lapse"
    lines.append(f"{adapter.name}: a renewed token ({until}); keep it as the secret {variable}: gh secret set {variable}")
    return AuthResult(lines, secret=token)


# -- revoke --------------------------------------------------------------------------------------
def disconnect(adapter, *, now: Callable[[], datetime] | None = None) -> AuthResult:
    """Revoke the stored tokens with the platform and forget them."""
    if adapter.TYPE not in ("x", "linkedin"):
        raise AuthError(f"{adapter.name}: revoke {adapter.TYPE} access in the platform's settings "
                        "(authorized apps); nothing is stored here")
    _check_vault(adapter)
    cred = adapter.vault.get(adapter.name)
    if cred is None:
        return AuthResult([f"{adapter.name}: no credential stored; nothing to revoke"])
    for token, hint in ((cred.refresh_token, "refresh_token"), (cred.access_token, "access_token")):
        if token:
            got = oauth.revoke(adapter.session, adapter.PROVIDER, token, hint=hint, client_id=adapter.client_id(),
                               client_secret=adapter.secret("client_secret"), base=adapter.base_url)
            if isinstance(got, Failure):
                raise AuthError(f"{adapter.name}: revoking the {hint.replace('_', ' ')} failed: {got.message}")
    adapter.vault.remove(adapter.name)
    return AuthResult([f"{adapter.name}: access revoked and the stored tokens removed from {adapter.vault.label}"])


def authorize(project, name: str, env, person: Person, *, revoke: bool = False, port: int | None = None,
              timeout: float = DEFAULT_TIMEOUT) -> AuthResult:
    """``publish auth NAME``: connect channel ``name``'s account, or with ``revoke`` disconnect it."""
    adapter = adapter_for(project, name, env)
    return disconnect(adapter) if revoke else connect(adapter, person, port=port, timeout=timeout)


def adapter_for(project, name: str, env, *, clock: Callable[[], datetime] | None = None) -> Channel:
    """The adapter of channel ``name`` with the project's credential vault handed to it."""
    from newsroom.state import open_store

    from . import registry

    config = project.settings.channels.get(name)
    if config is None:
        known = ", ".join(sorted(project.settings.channels)) or "none"
        raise AuthError(f"no channel named '{name}' in publish.yml (channels: {known})")
    if config.type not in registry.TYPES:
        raise AuthError(f"channel '{name}' has the unknown type '{config.type}'")
    adapter = registry.build(config, env)
    adapter.prepare(project.settings)
    try:
        store = open_store(project.root, project.settings.state, cache=False)
    except NotImplementedError:
        store = None
    getter = getattr(store, "credentials", None)
    adapter.use_credentials(getter(env) if getter else None, clock or (lambda: datetime.now(timezone.utc)))
    return adapter
