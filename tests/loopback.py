"""A loopback social platform for the engagement tests: a real HTTP server on 127.0.0.1 and a small
channel adapter speaking to it, registered with ``channels.registry.register_channel_type``.

The server follows the habits of the real ones: a bearer token, ids batched in one query
parameter (at most ``MAX_IDS``), unknown ids silently left out (as Mastodon does), 429 with
``Retry-After`` when asked to, 500 on demand, and a log of every request.
"""
from __future__ import annotations

import json
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlparse


from channels.base import Channel, Failure, Reply
from channels.http import request
from newsroom import schema as s
from servers.base import Loopback as LoopbackServer

MAX_IDS = 3


class Platform(LoopbackServer):
    def __init__(self, token: str = "sekret"):
        self.token = token
        self.metrics: dict[str, dict] = {}
        self.replies: list[dict] = []
        self.requests: list[tuple[str, str, float]] = []  # (path, ids, time)
        self.fail_next: list[int] = []  # statuses to answer with before serving normally
        self.delay = 0.0
        self.hold_after: int | None = None  # requests past this many wait for ``release`` (a pull caught mid-way)
        self.release = threading.Event()
        self.lock = threading.Lock()
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status, body, headers=()):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers:
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                import time

                url = urlparse(self.path)
                ids = parse_qs(url.query).get("ids", [""])[0]
                with platform.lock:
                    platform.requests.append((url.path, ids, time.monotonic()))
                    status = platform.fail_next.pop(0) if platform.fail_next else None
                    held = platform.hold_after is not None and len(platform.requests) > platform.hold_after
                if held:
                    platform.release.wait(60)
                if self.headers.get("Authorization") != f"Bearer {platform.token}":
                    return self._send(401, {"error": "The access token is invalid"})
                if status == 429:
                    return self._send(429, {"error": "Too many requests"}, [("Retry-After", "1")])
                if status:
                    return self._send(status, {"error": "Internal server error"})
                wanted = [i for i in ids.split(",") if i]
                if len(wanted) > MAX_IDS:
                    return self._send(422, {"error": f"at most {MAX_IDS} ids"})
                if platform.delay:
                    time.sleep(platform.delay)
                if url.path == "/api/metrics":
                    return self._send(200, [{"id": i, **platform.metrics[i]} for i in wanted if i in platform.metrics])
                if url.path == "/api/replies":
                    # The whole thread under each post, like Mastodon's context ``descendants``.
                    thread, ids_ = [], set(wanted)
                    for r in platform.replies:  # in time order: parents come first
                        if r["in_reply_to"] in ids_:
                            thread.append(r)
                            ids_.add(r["id"])
                    return self._send(200, thread)
                return self._send(404, {"error": "Record not found"})

        LoopbackServer.__init__(self, Handler, poll_interval=0.05)

    def calls(self, path: str) -> list[str]:
        return [ids for p, ids, _ in self.requests if p == path]


class Loopback(Channel):
    TYPE = "loopback"
    METRICS_BATCH = MAX_IDS
    SECRETS = ("token",)
    OPTIONS = s.Schema("loopback options", [
        s.Key("server", s.Url(), "base URL of the loopback platform", required=True),
        s.Key("token", s.Secret(), "bearer token", required=True),
        s.Key("account", s.Text(), "our own handle", default="@us"),
    ])

    def _get(self, path: str, receipts) -> list | Failure:
        got = request(self.session, "GET", self.config.options["server"].rstrip("/") + path,
                      params={"ids": ",".join(r.remote_id for r in receipts)},
                      headers={"Authorization": f"Bearer {self.secret('token')}"})
        return got if isinstance(got, Failure) else got.json()

    def fetch_metrics(self, receipts):
        got = self._get("/api/metrics", receipts)
        if isinstance(got, Failure):
            return got
        return {d["id"]: {"likes": d.get("favourites", 0), "shares": d.get("reblogs", 0),
                          "replies": d.get("replies", 0), "impressions": d.get("impressions")} for d in got}

    def fetch_replies(self, receipts):
        got = self._get("/api/replies", receipts)
        if isinstance(got, Failure):
            return got
        account = self.config.options.get("account") or "@us"
        return [Reply(self.name, d["id"], d["in_reply_to"], d["author"], d["text"], d.get("url"),
                      datetime.fromisoformat(d["at"]), ours=d["author"] == account) for d in got]


def register(monkeypatch=None):
    """Make ``loopback`` a known channel type (for the process: no built-in has that name)."""
    from channels.registry import register_channel_type

    register_channel_type(Loopback)


def settings(servers: dict[str, str], extra: str = "") -> str:
    """publish.yml with one loopback channel per name → server URL."""
    out = ["site:\n  title: Loopback News\n  url: https://news.test\ntimezone: Europe/Berlin\nchannels:"]
    for name, url in servers.items():
        out.append(f"  {name}:\n    type: loopback\n    server: {url}\n    token: env:{name.upper()}_TOKEN")
    return "\n".join(out) + "\n" + extra
