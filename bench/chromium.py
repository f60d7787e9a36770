"""A headless Chromium driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``).

Standard library only: Chromium reads commands on file descriptor 3 and writes answers and events on
4, each a JSON message ending in a NUL byte (https://chromedevtools.github.io/devtools-protocol/).
The flags are those that work on a closed network (no background fetches, no component updates).
Used by the page benchmark (bench/calendar_page.py) and the browser tests.
"""
from __future__ import annotations

import base64
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

BINARY = Path("/usr/bin/chromium")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--hide-scrollbars", "--mute-audio")


class ChromiumError(RuntimeError):
    pass


class Chromium:
    """One browser with one tab. ``call(method, **params)`` answers the command's result."""

    def __init__(self, binary: Path = BINARY, timeout: float = 60):
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="chromium-")
        to_browser_r, self._out = os.pipe()
        self._in, from_browser_w = os.pipe()

        def fds():  # the protocol's fixed descriptors in the child (moved out of the way first)
            import fcntl

            high = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10), fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)
            for fd, src in zip((3, 4), high):
                os.dup2(src, fd)
                os.set_inheritable(fd, True)

        self.proc = subprocess.Popen([str(binary), *FLAGS, "--remote-debugging-pipe", f"--user-data-dir={self.profile}",
                                      "about:blank"], preexec_fn=fds, close_fds=False,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._next = 0
        self._answers: dict[int, queue.Queue] = {}
        self.events: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()
        target = self.call("Target.createTarget", url="about:blank", session=None)["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True, session=None)["sessionId"]
        self.call("Page.enable")
        self.call("Runtime.enable")

    def _read(self) -> None:
        buf = b""
        while True:
            try:
                chunk = os.read(self._in, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                for q in list(self._answers.values()):
                    q.put({"error": {"message": "chromium closed the pipe"}})
                return
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                msg = json.loads(raw)
                if "id" in msg and msg["id"] in self._answers:
                    self._answers[msg["id"]].put(msg)
                else:
                    self.events.put(msg)

    def call(self, method: str, session: str | None | bool = True, timeout: float | None = None, **params):
        with self._lock:
            self._next += 1
            n = self._next
            self._answers[n] = queue.Queue()
        msg = {"id": n, "method": method, "params": params}
        if session is True:
            msg["sessionId"] = self.session
        elif session:
            msg["sessionId"] = session
        os.write(self._out, json.dumps(msg).encode() + b"\0")
        try:
            answer = self._answers[n].get(timeout=timeout or self.timeout)
        except queue.Empty:
            raise ChromiumError(f"{method}: no answer in {timeout or self.timeout} s") from None
        finally:
            self._answers.pop(n, None)
        if "error" in answer:
            raise ChromiumError(f"{method}: {answer['error'].get('message')}")
        return answer.get("result", {})

    def wait_event(self, method: str, timeout: float | None = None) -> dict:
        import time

        end = time.monotonic() + (timeout or self.timeout)
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise ChromiumError(f"no {method} in {timeout or self.timeout} s")
            try:
                msg = self.events.get(timeout=left)
            except queue.Empty:
                continue
            if msg.get("method") == method:
                return msg.get("params", {})

    def viewport(self, width: int, height: int, *, mobile: bool = False, scale: float = 1) -> None:
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=scale,
                  mobile=mobile)
        self.call("Emulation.setTouchEmulationEnabled", enabled=mobile)

    def open(self, url: str, *, before: str | None = None) -> None:
        """Go to ``url`` and wait for its load event; ``before`` runs in the page before its own scripts."""
        if before:
            self.call("Page.addScriptToEvaluateOnNewDocument", source=before)
        if self.js("location.href").split("#")[0] == url.split("#")[0]:  # else only the fragment would change
            self.call("Page.navigate", url="about:blank")
            self.wait_event("Page.loadEventFired")
        while not self.events.empty():
            self.events.get_nowait()
        self.call("Page.navigate", url=url)
        self.wait_event("Page.loadEventFired")

    def js(self, expression: str, timeout: float | None = None):
        """The value of ``expression`` (a promise is awaited)."""
        result = self.call("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True,
                           timeout=timeout)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise ChromiumError(details.get("exception", {}).get("description") or details.get("text"))
        return result["result"].get("value")

    def screenshot(self, path: Path) -> None:
        data = self.call("Page.captureScreenshot", format="png")["data"]
        Path(path).write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            self.call("Browser.close", session=None, timeout=5)
        except ChromiumError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._out, self._in):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
