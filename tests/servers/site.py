"""A loopback public site: the static host (or CDN) a blog is deployed to, as readers reach it.

It serves the files of ``folder`` as a static host does (``/a/`` is ``a/index.html``), and shows a
deploy late as CDNs do: a page answers 404 until its file exists, and for ``lag`` seconds after the
site first saw it, then 200. ``head=False`` refuses HEAD with 405 (RFC 9110 §15.5.6: ``Allow``
names what it takes), as some hosts do; ``redirects`` maps a path to a ``Location`` answered with
301. Every request is recorded as (method, path, status).
"""
from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .base import Loopback


class Site(Loopback):
    def __init__(self, folder: Path, *, lag: float = 0.0, head: bool = True, redirects: dict | None = None):
        self.folder = Path(folder)
        self.lag = lag
        self.head = head
        self.redirects = dict(redirects or {})
        self.seen: dict[str, float] = {}  # path → when its file was first there
        self.requests: list[tuple[str, str, int]] = []
        self.lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, method: str) -> None:
                path = unquote(urlsplit(self.path).path)
                status, body, headers = site.answer(method, path)
                with site.lock:
                    site.requests.append((method, path, status))
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if method == "GET":
                    self.wfile.write(body)

            def do_HEAD(self):
                self._answer("HEAD")

            def do_GET(self):
                self._answer("GET")

        super().__init__(Handler)

    def answer(self, method: str, path: str) -> tuple[int, bytes, dict]:
        if method == "HEAD" and not self.head:
            return 405, b"", {"Allow": "GET"}
        if path in self.redirects:
            return 301, b"", {"Location": self.redirects[path]}
        rel = path.lstrip("/")
        file = self.folder / rel / "index.html" if path.endswith("/") else self.folder / rel
        if ".." in Path(rel).parts or not file.is_file():
            return 404, b"<h1>Not found</h1>", {"Content-Type": "text/html"}
        now = time.monotonic()
        with self.lock:
            first = self.seen.setdefault(path, now)
        if now - first < self.lag:
            return 404, b"<h1>Not found</h1>", {"Content-Type": "text/html"}  # the CDN has not caught up
        return 200, file.read_bytes(), {"Content-Type": "text/html; charset=utf-8"}

    def statuses(self, path: str) -> list[int]:
        with self.lock:
            return [status for _, p, status in self.requests if p == path]
