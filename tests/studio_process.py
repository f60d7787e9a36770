"""``publish studio`` as a whole process on loopback, and plain HTTP to it (the API tests, the browser
tests and bench/studio.py share this)."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ADDRESS = re.compile(r"^studio at (http://127\.0\.0\.1:\d+/) \((\d+) items; Ctrl-C stops it\)$")


class Studio:
    """``publish --root ROOT studio --no-browser [ARGS]`` started and read until it prints its address."""

    def __init__(self, root: Path, *args: str, timeout: float = 120, env: dict | None = None):
        environment = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.started = time.monotonic()
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "publish.py"), "--root", str(root), "studio",
                                      "--no-browser", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=environment)
        self.first_line = self.proc.stdout.readline().rstrip("\n")
        self.ready = time.monotonic() - self.started
        m = ADDRESS.match(self.first_line)
        if not m:
            self.stop()
            raise RuntimeError(f"publish studio said {self.first_line!r}; stderr: {self.proc.stderr.read()}")
        self.url = m.group(1)

    def get(self, path: str, timeout: float = 30) -> tuple[int, bytes, dict]:
        try:
            with urllib.request.urlopen(self.url + path.lstrip("/"), timeout=timeout) as r:
                return r.status, r.read(), dict(r.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read(), dict(exc.headers)

    def json(self, path: str):
        status, body, _ = self.get(path)
        assert status == 200, (status, body)
        return json.loads(body)

    def post(self, path: str, body, headers: dict | None = None) -> tuple[int, dict]:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path.lstrip("/"), data=data, method="POST",
                                     headers={"Content-Type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    def wait_for(self, predicate, timeout: float = 20, what: str = "the studio to see the change"):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            value = predicate()
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream:
                stream.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout


def git_repo(root: Path, user: str = "Ana") -> Path:
    """``root`` as a git repository with everything committed, ``user`` as git's user.name there."""
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", user)
    git(root, "config", "user.email", "editor@news.test")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "the newsroom")
    return root
