"""A loopback HTTP server that stands in for a platform's API.

Each platform module declares routes (method, path pattern) → handler; the base records every request
(method, path, query, headers, body) so tests assert what an adapter sent, and offers modes that go
wrong on demand:

- ``fail(status, body, times=1, path=None)``: answer the next matching requests with an error;
- ``drop(path, times=1, skip=0)``: process the next matching request (after ``skip`` of them), then
  close the connection unanswered (the write happened; the client cannot know);
- ``stall(seconds, path=None, times=1)``: wait before answering (a read timeout on the client);
- ``latency``: seconds added to every request (benchmarks);
- ``rate_limit(remaining, reset_in)``: the budget reported in the platform's rate-limit headers.
"""
from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, parse_qsl, urlsplit


class Loopback:
    """A ThreadingHTTPServer on 127.0.0.1 (the OS picks the port) served on a daemon thread: the
    lifecycle every loopback stand-in shares. Use it as a context manager, or start()/stop()."""

    def __init__(self, handler, *, poll_interval: float = 0.02, queue_size: int | None = None):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        if queue_size:
            self.httpd.request_queue_size = queue_size
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        # A short poll interval: shutdown() waits for the next poll (0.5 s by default).
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": poll_interval},
                                       daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


@dataclass
class Seen:
    method: str
    path: str
    query: dict  # name → list of values
    headers: dict  # lower-case name → value
    body: bytes

    @property
    def json(self):
        return json.loads(self.body or b"null")

    @property
    def form(self) -> list[tuple[str, str]]:
        return parse_qsl(self.body.decode(), keep_blank_values=True)


@dataclass
class Answer:
    status: int = 200
    body: object = None  # dict/list → JSON; bytes/str as they are
    headers: dict = field(default_factory=dict)


@dataclass
class _Mode:
    kind: str
    path: str | None
    times: int
    status: int = 500
    body: object = None
    seconds: float = 0.0
    headers: dict = field(default_factory=dict)
    skip: int = 0  # let this many matching requests through first


class Server(Loopback):
    """Subclasses fill ``routes`` with (method, regex, handler name)."""

    routes: list[tuple[str, str, str]] = []

    def __init__(self):
        self.seen: list[Seen] = []
        self.lock = threading.RLock()
        self.modes: list[_Mode] = []
        self.latency = 0.0
        self._compiled = [(m, re.compile(p + r"$"), h) for m, p, h in self.routes]
        super().__init__(self._handler_class(), queue_size=64)

    # -- modes --------------------------------------------------------------------------------
    def fail(self, status: int, body=None, *, times: int = 1, path: str | None = None, headers=None):
        self.modes.append(_Mode("fail", path, times, status=status, body=body, headers=headers or {}))

    def drop(self, path: str | None = None, *, times: int = 1, skip: int = 0):
        self.modes.append(_Mode("drop", path, times, skip=skip))

    def stall(self, seconds: float, *, path: str | None = None, times: int = 1):
        self.modes.append(_Mode("stall", path, times, seconds=seconds))

    def _take(self, kind: str, path: str) -> _Mode | None:
        with self.lock:
            for mode in self.modes:
                if mode.kind == kind and mode.times > 0 and (mode.path is None or re.search(mode.path, path)):
                    if mode.skip > 0:
                        mode.skip -= 1
                        continue
                    mode.times -= 1
                    return mode
        return None

    def requests(self, path: str | None = None, method: str | None = None) -> list[Seen]:
        with self.lock:
            return [s for s in self.seen if (path is None or re.search(path, s.path))
                    and (method is None or s.method == method)]

    # -- per-platform hooks -------------------------------------------------------------------
    def rate_headers(self) -> dict:
        return {}

    def error(self, status: int, message: str) -> Answer:
        return Answer(status, {"error": message})

    # -- the handler --------------------------------------------------------------------------
    def _handler_class(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def setup(self):
                super().setup()
                # Headers and body leave in two writes: without this, Nagle and delayed ACKs add 40 ms.
                import socket

                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def _any(self):
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                seen = Seen(self.command, parts.path, parse_qs(parts.query, keep_blank_values=True),
                            {k.lower(): v for k, v in self.headers.items()}, body)
                with server.lock:
                    server.seen.append(seen)
                if server.latency:
                    time.sleep(server.latency)
                stall = server._take("stall", parts.path)
                if stall:
                    time.sleep(stall.seconds)
                failing = server._take("fail", parts.path)
                if failing:
                    answer = Answer(failing.status, failing.body, dict(failing.headers))
                else:
                    answer = server.dispatch(seen)
                if server._take("drop", parts.path):
                    # The work is done; the answer never arrives.
                    self.close_connection = True
                    try:
                        import socket

                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return
                self._send(answer)

            def _send(self, answer: Answer):
                body = answer.body
                headers = {**server.rate_headers(), **answer.headers}
                if isinstance(body, (dict, list)):
                    payload = json.dumps(body).encode()
                    headers.setdefault("Content-Type", "application/json; charset=utf-8")
                elif isinstance(body, str):
                    payload = body.encode()
                elif body is None:
                    payload = b""
                else:
                    payload = body
                try:
                    self.send_response(answer.status)
                    for k, v in headers.items():
                        self.send_header(k, str(v))
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (a timeout under test): nothing to answer

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _any

        return Handler

    def dispatch(self, seen: Seen) -> Answer:
        for method, pattern, name in self._compiled:
            m = pattern.match(seen.path)
            if m and method == seen.method:
                return getattr(self, name)(seen, **m.groupdict())
        return self.error(404, "Not Found")


def multipart(seen: Seen) -> dict[str, tuple[str | None, bytes, str]]:
    """A multipart/form-data body → name → (file name, bytes, content type)."""
    from email.parser import BytesParser
    from email.policy import HTTP

    head = f"Content-Type: {seen.headers.get('content-type', '')}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + seen.body)
    out = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        out[name] = (part.get_filename(), part.get_payload(decode=True) or b"", part.get_content_type())
    return out
