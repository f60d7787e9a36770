"""A real HTTP server on loopback for the webhook channels: it records each request and answers with
what the test queued (status, headers, body, an optional delay), the way the platform documents."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from servers.base import Loopback


@dataclass
class Answer:
    status: int = 200
    body: bytes | str | dict = b""
    headers: dict = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Seen:
    method: str
    path: str
    query: dict
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)


class HookServer(Loopback):
    def __init__(self, respond=None):
        self.requests: list[Seen] = []
        self.answers: list[Answer] = []
        self.respond = respond  # optional function(Seen) -> Answer, used when nothing is queued
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                self.do_POST(method="GET")

            def do_POST(self, method="POST"):
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                seen = Seen(method, parts.path, parse_qs(parts.query), dict(self.headers), self.rfile.read(length))
                server.requests.append(seen)
                answer = server.answers.pop(0) if server.answers else (server.respond(seen) if server.respond else Answer())
                if answer.delay:
                    time.sleep(answer.delay)
                body = answer.body
                ctype = "text/html"
                if isinstance(body, dict):
                    body, ctype = json.dumps(body).encode(), "application/json"
                elif isinstance(body, str):
                    body = body.encode()
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Type", answer.headers.pop("Content-Type", ctype))
                    for k, v in answer.headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        super().__init__(Handler)

    @property
    def base(self) -> str:
        return self.url

    def queue(self, *answers: Answer) -> "HookServer":
        self.answers.extend(answers)
        return self

