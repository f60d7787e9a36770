"""A loopback stand-in for GitHub's REST API: the issue comments a pull request's check comment uses.

Follows https://docs.github.com/en/rest/issues/comments : ``GET /repos/{owner}/{repo}/issues/{n}/comments``
(``per_page`` at most 100, ``page`` from 1) answers 200 with a JSON array; ``POST`` to the same path
with ``{"body": …}`` answers 201 with the comment; ``PATCH /repos/{owner}/{repo}/issues/comments/{id}``
answers 200 with the edited comment; a missing or wrong bearer token is 401 ``Bad credentials``.
"""
from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from servers.base import Loopback


class GitHub(Loopback):
    def __init__(self, token: str = "ghs_test", repo: str = "team/newsroom"):
        self.token, self.repo = token, repo
        self.comments: dict[int, list[dict]] = {}  # issue number → comments, oldest first
        self.requests: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.next_id = 1000
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status: int, body) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _route(self, method: str) -> None:
                url = urlsplit(self.path)
                with api.lock:
                    api.requests.append((method, self.path))
                if self.headers.get("Authorization") != f"Bearer {api.token}":
                    return self._send(401, {"message": "Bad credentials",
                                            "documentation_url": "https://docs.github.com/rest"})
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"null")
                listing = re.fullmatch(rf"/repos/{api.repo}/issues/(\d+)/comments", url.path)
                single = re.fullmatch(rf"/repos/{api.repo}/issues/comments/(\d+)", url.path)
                with api.lock:
                    if listing and method == "GET":
                        q = parse_qs(url.query)
                        per_page = min(int(q.get("per_page", ["30"])[0]), 100)
                        page = int(q.get("page", ["1"])[0])
                        rows = api.comments.get(int(listing.group(1)), [])
                        return self._send(200, rows[(page - 1) * per_page:page * per_page])
                    if listing and method == "POST":
                        api.next_id += 1
                        comment = {"id": api.next_id, "body": body["body"], "user": {"login": "github-actions[bot]"}}
                        api.comments.setdefault(int(listing.group(1)), []).append(comment)
                        return self._send(201, comment)
                    if single and method == "PATCH":
                        for rows in api.comments.values():
                            for comment in rows:
                                if comment["id"] == int(single.group(1)):
                                    comment["body"] = body["body"]
                                    return self._send(200, comment)
                return self._send(404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})

            def do_GET(self):
                self._route("GET")

            def do_POST(self):
                self._route("POST")

            def do_PATCH(self):
                self._route("PATCH")

        super().__init__(Handler)
