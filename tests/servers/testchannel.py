"""A loopback channel for publish-run tests: a real HTTP server on 127.0.0.1 and a Channel that speaks to it.

The server keeps every post it accepts (it never de-duplicates, so a double delivery shows up as two
posts) and can be scripted per account to fail, stall, rate-limit or drop the connection:

- ``ok``: 201 with ``{"id", "url"}``;
- ``fail:<status>[:<message>]``: that status with ``{"error": message}``;
- ``rate:<seconds>``: 429 with ``Retry-After: <seconds>``;
- ``stall``: never answers and stores nothing (a request lost on the way);
- ``store-stall``: stores the post, then never answers (the crash-after-delivery case);
- ``drop``: stores the post, then closes the connection without a response;
- ``slow:<seconds>``: stores the post after that delay, then answers.

``GET /<account>/posts?key=K`` finds posts by their ``Idempotency-Key`` (the channel's reconcile);
``POST /<account>/finish`` records a ``Channel.finish`` call.

Run as ``python -m tests.servers.testchannel --root R publish …``: the publish CLI with this channel
type registered (how the crash and concurrency tests start real processes).
"""
from __future__ import annotations

import json
import threading
from collections import defaultdict, deque
from datetime import timedelta
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlparse

from channels import http
from channels.base import CannotReconcile, Channel, Failure, Receipt
from newsroom import schema as s

from .base import Loopback

TOKEN = "test-token-123"


class TestChannel(Channel):
    """Posts text to the loopback server; reconciles by looking the idempotency key up."""

    __test__ = False  # not a pytest test class
    TYPE = "testchannel"
    MEDIUM = "social"
    MAX_CHARS = 500
    DEFAULT_GRACE = timedelta(hours=2)
    SECRETS = ("token",)
    OPTIONS = s.Schema("testchannel options", [
        s.Key("url", s.Url(), "base URL of the account on the loopback server", required=True),
        s.Key("token", s.Secret(), "bearer token, from the environment", required=True),
        s.Key("timeout", s.Text(), "seconds before a request gives up", default="0.5"),
        s.Key("reconcile", s.Choice("lookup", "none"), "how an interrupted delivery is checked", default="lookup"),
    ])

    @property
    def timeout(self) -> float:
        return float(self.config.options.get("timeout") or 0.5)

    def _headers(self, ctx) -> dict:
        return {"Authorization": f"Bearer {self.secret('token')}", "Idempotency-Key": ctx.key}

    def deliver(self, post, ctx):
        tries = ctx.journal.get("tries", 0) + 1
        ctx.journal.put("tries", tries)  # the run keeps this in the ledger: it survives a crash
        body = {"text": post.parts[0] if post.parts else post.title, "item": post.item_id, "revision": post.revision,
                "journal_tries": tries}
        if ctx.dry_run:
            return Receipt(remote_id="dry-run", url=None, at=ctx.now)
        r = http.request(self.session, "POST", f"{self.config.options['url']}/posts", json=body,
                         headers=self._headers(ctx), timeout=(self.timeout, self.timeout))
        if isinstance(r, Failure):
            return r
        data = r.json()
        return Receipt(remote_id=data["id"], url=data["url"], at=ctx.now)

    def reconcile(self, post, ctx):
        if self.config.options.get("reconcile") == "none":
            raise CannotReconcile("testchannel offers no lookup")
        r = http.request(self.session, "GET", f"{self.config.options['url']}/posts", params={"key": ctx.key},
                         headers=self._headers(ctx), timeout=(self.timeout, self.timeout))
        if isinstance(r, Failure):
            raise RuntimeError(r.message)
        found = r.json()
        if not found:
            return None
        return Receipt(remote_id=found[0]["id"], url=found[0]["url"], at=ctx.now)

    def finish(self, delivered, ctx):
        if ctx.dry_run:
            return
        body = {"delivered": [[p.item_id, r.remote_id, p.revision] for p, r in delivered],
                "syndication": ctx.syndication}
        r = http.request(self.session, "POST", f"{self.config.options['url']}/finish", json=body,
                         headers=self._headers(ctx), timeout=(self.timeout, self.timeout))
        if isinstance(r, Failure):
            raise RuntimeError(r.message)


def register(monkeypatch=None) -> None:
    """Make ``testchannel`` a known channel type (for the process: no built-in has that name)."""
    from channels.registry import register_channel_type

    register_channel_type(TestChannel)


class ChannelServer(Loopback):
    """The loopback service. ``script(account, *modes)`` queues behaviours for the next POSTs."""

    def __init__(self):
        self.posts: list[dict] = []
        self.finishes: list[dict] = []
        self.requests: list[dict] = []
        self.modes: dict[str, deque] = defaultdict(deque)
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.arrived = threading.Event()  # set when a post request arrives (before it is answered)
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _send(self, status, body, headers=None):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def _account(self):
                parts = urlparse(self.path).path.strip("/").split("/")
                return parts[0], "/".join(parts[1:])

            def _authorised(self):
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    self._send(401, {"error": "The access token is invalid"})
                    return False
                return True

            def do_GET(self):
                account, rest = self._account()
                if not self._authorised():
                    return
                key = parse_qs(urlparse(self.path).query).get("key", [None])[0]
                with server.lock:
                    found = [p for p in server.posts if p["account"] == account and p["key"] == key]
                self._send(200, found)

            def do_POST(self):
                account, rest = self._account()
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                if not self._authorised():
                    return
                if rest == "finish":
                    with server.lock:
                        server.finishes.append({"account": account, **body})
                    self._send(200, {})
                    return
                with server.lock:
                    mode = server.modes[account].popleft() if server.modes[account] else "ok"
                    server.requests.append({"account": account, "mode": mode, "key": self.headers.get("Idempotency-Key"),
                                            **body})
                server.arrived.set()
                name, _, arg = mode.partition(":")
                if name == "fail":
                    status, _, message = arg.partition(":")
                    self._send(int(status), {"error": message or "Internal Server Error"})
                    return
                if name == "rate":
                    self._send(429, {"error": "Too many requests"}, {"Retry-After": arg})
                    return
                if name == "stall":
                    server.stopping.wait(60)
                    self.close_connection = True
                    return
                if name == "slow":
                    server.stopping.wait(float(arg))
                post = server.store(account, self.headers.get("Idempotency-Key"), body)
                if name == "store-stall":
                    server.stopping.wait(60)
                    self.close_connection = True
                    return
                if name == "drop":
                    self.close_connection = True
                    return
                self._send(201, {"id": post["id"], "url": post["url"]})

        super().__init__(Handler, poll_interval=0.05)

    def store(self, account, key, body) -> dict:
        with self.lock:
            n = len(self.posts) + 1
            post = {"id": str(n), "url": f"{self.url}/{account}/posts/{n}", "account": account, "key": key,
                    "text": body.get("text"), "item": body.get("item"), "revision": body.get("revision"),
                    "journal_tries": body.get("journal_tries")}
            self.posts.append(post)
        return post

    def script(self, account: str, *modes: str) -> None:
        with self.lock:
            self.modes[account].extend(modes)

    def posts_for(self, account: str) -> list[dict]:
        with self.lock:
            return [p for p in self.posts if p["account"] == account]

    def stop(self) -> None:
        self.stopping.set()  # a stalled handler gives up first, so shutdown is quick
        super().stop()


def main() -> None:  # pragma: no cover - runs in a child process
    from channels.registry import register_channel_type

    register_channel_type(TestChannel)
    import publish

    publish.main()


if __name__ == "__main__":
    main()
