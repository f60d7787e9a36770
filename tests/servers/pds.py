"""The AT Protocol reference PDS (npm ``@atproto/dev-env``) on loopback, for the Bluesky contract tests.

``tests/pds/launch.mjs`` starts an in-memory PLC directory and a PDS on SQLite (no AppView, no
PostgreSQL) on free loopback ports; ``ReferencePds`` runs it as a child process, creates accounts
(``com.atproto.server.createAccount``, then an app password as a person would make one), and can
stop the PDS and start it again on the same port with the same data (an outage).

``Relay`` is a loopback HTTP proxy in front of it that can forward a request and drop its answer
(the write happened; the client cannot know), and answers 502 while the PDS is down, as the
reverse proxy in front of a real PDS does.

The packages are installed by ``npm ci --prefix tests/pds`` (``.ci/run`` does it); where Node is
missing the tests are skipped, where Node is there but the packages are not, they fail and say so.
"""
from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import threading
from http.client import HTTPConnection
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import urlsplit

from tests.servers.base import Loopback

FOLDER = Path(__file__).resolve().parent.parent / "pds"
INSTALL = "npm ci --prefix tests/pds"
#: How long the launcher may take to answer (starting under a loaded machine takes a while).
START_TIMEOUT = 120.0


def node_missing() -> str | None:
    """Why the reference PDS cannot run here, when the reason is that Node is missing; else None."""
    if shutil.which("node") is None:
        return "Node.js is not installed: the Bluesky contract tests need it to run the reference PDS"
    return None


class PdsError(Exception):
    pass


class ReferencePds:
    """One launcher process: ``url`` is the PDS, ``account()`` makes a fresh account on it."""

    _serial = itertools.count()

    def __init__(self):
        if not (FOLDER / "node_modules" / "@atproto" / "dev-env").is_dir():
            raise PdsError(f"the reference PDS is not installed: run `{INSTALL}` (Node.js and npm)")
        self.proc = subprocess.Popen(["node", str(FOLDER / "launch.mjs")], cwd=FOLDER, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
        self._stderr: list[str] = []
        threading.Thread(target=self._drain, daemon=True).start()
        self._lock = threading.Lock()
        ready = self._answer()
        self.url: str = ready["pds"]
        self.plc: str = ready["plc"]
        self.up = True

    def _drain(self) -> None:
        for line in self.proc.stderr:
            self._stderr.append(line)
            del self._stderr[:-40]

    def _answer(self) -> dict:
        got: list[str] = []
        reader = threading.Thread(target=lambda: got.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(START_TIMEOUT)
        if not got or not got[0]:
            self.close()
            raise PdsError("the reference PDS did not start:\n" + "".join(self._stderr[-20:]))
        answer = json.loads(got[0])
        if "error" in answer:
            raise PdsError(answer["error"])
        return answer

    def _command(self, word: str) -> None:
        with self._lock:
            self.proc.stdin.write(word + "\n")
            self.proc.stdin.flush()
            self._answer()

    def stop(self) -> None:
        """Close the PDS (its data directory stays): requests are refused until ``start``."""
        if self.up:
            self._command("stop")
            self.up = False

    def start(self) -> None:
        if not self.up:
            self._command("start")
            self.up = True

    def xrpc(self, nsid: str, body: dict | None = None, *, token: str | None = None, params: str = "") -> dict:
        """One XRPC call straight to the PDS (account set-up and reading back), JSON in and out."""
        split = urlsplit(self.url)
        conn = HTTPConnection(split.hostname, split.port, timeout=30)
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        conn.request("POST" if body is not None else "GET", f"/xrpc/{nsid}{'?' + params if params else ''}",
                     body=json.dumps(body) if body is not None else None, headers=headers)
        response = conn.getresponse()
        data = json.loads(response.read() or b"{}")
        conn.close()
        if response.status != 200:
            raise PdsError(f"{nsid}: HTTP {response.status}: {data}")
        return data

    def account(self, name: str = "acct") -> dict:
        """A fresh account: {handle, did, password (the account's), app_password, token}."""
        handle = f"{name}{next(self._serial)}-{os.getpid()}.test"
        password = f"pw-{handle}"
        made = self.xrpc("com.atproto.server.createAccount",
                         {"handle": handle, "email": f"{handle}@example.test", "password": password})
        app = self.xrpc("com.atproto.server.createAppPassword", {"name": "newsroom-publish"}, token=made["accessJwt"])
        return {"handle": made["handle"], "did": made["did"], "password": password, "app_password": app["password"],
                "token": made["accessJwt"]}

    def records(self, account: dict, collection: str = "app.bsky.feed.post") -> list[dict]:
        """Every record of ``collection`` in the account's repo, oldest key first."""
        out, cursor = [], ""
        while True:
            params = f"repo={account['did']}&collection={collection}&limit=100&reverse=true"
            got = self.xrpc("com.atproto.repo.listRecords", params=params + (f"&cursor={cursor}" if cursor else ""))
            out += got["records"]
            cursor = got.get("cursor")
            if not cursor or not got["records"]:
                return out

    def blob(self, account: dict, cid: str) -> bytes:
        split = urlsplit(self.url)
        conn = HTTPConnection(split.hostname, split.port, timeout=30)
        conn.request("GET", f"/xrpc/com.atproto.sync.getBlob?did={account['did']}&cid={cid}")
        response = conn.getresponse()
        data = response.read()
        conn.close()
        if response.status != 200:
            raise PdsError(f"getBlob: HTTP {response.status}: {data[:200]!r}")
        return data

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()  # the launcher closes everything and exits at end of input
                self.proc.wait(20)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()


class Relay(Loopback):
    """A loopback proxy to ``upstream`` that can drop answers and stop the PDS behind it.

    ``drop(nsid, skip=n, then=callable)``: the (n+1)-th request for ``nsid`` is forwarded, its answer
    thrown away, ``then`` called (e.g. to stop the PDS), and the connection closed unanswered.
    While the upstream refuses connections the relay answers 502, as a reverse proxy does.
    """

    def __init__(self, upstream: str):
        self.upstream = urlsplit(upstream)
        self.drops: list[dict] = []
        self.seen: list[str] = []
        self.lock = threading.Lock()
        relay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _forward(self):
                nsid = urlsplit(self.path).path.rsplit("/", 1)[-1]
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                with relay.lock:
                    relay.seen.append(nsid)
                    drop = None
                    for rule in relay.drops:
                        if rule["nsid"] == nsid:
                            if rule["skip"]:
                                rule["skip"] -= 1
                            else:
                                drop = rule
                                relay.drops.remove(rule)
                            break
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                conn = HTTPConnection(relay.upstream.hostname, relay.upstream.port, timeout=60)
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    response = conn.getresponse()
                    data = response.read()
                except ConnectionRefusedError:
                    return self._answer(502, [("Content-Type", "text/html")], b"<html>502 Bad Gateway</html>")
                finally:
                    conn.close()
                if drop is not None:
                    if drop["then"]:
                        drop["then"]()
                    self.close_connection = True
                    return  # nothing written back: the client sees the connection close
                self._answer(response.status, [(k, v) for k, v in response.getheaders()
                                               if k.lower() not in ("transfer-encoding", "connection",
                                                                    "content-length")], data)

            def _answer(self, status, headers, data):
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _forward

        super().__init__(Handler)

    def drop(self, nsid: str, *, skip: int = 0, then=None) -> None:
        with self.lock:
            self.drops.append({"nsid": nsid, "skip": skip, "then": then})
