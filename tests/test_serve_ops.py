"""`publish.py serve` as an operator runs it: a real process with JSON log lines and health probes,
publish.yml broken and mended while it runs, a broken content file added, receipts stamped when the
platform answered."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest

from conftest import ROOT
from publishing import SETTINGS, approved, make_newsroom, wait_for
from servers.testchannel import TOKEN, ChannelServer


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def probe(port: int, path: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


class Lines:
    """The service's stderr, read as it comes: every line must be one JSON object."""

    def __init__(self, stream):
        self.lines: list[dict] = []
        self.raw: list[str] = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def _read(self, stream):
        for raw in stream:
            with self.lock:
                self.raw.append(raw)
                self.lines.append(json.loads(raw))

    def where(self, **want) -> list[dict]:
        with self.lock:
            return [ln for ln in self.lines if all(want[k] in str(ln.get(k)) for k in want)]

    def wait(self, timeout=20.0, **want) -> dict:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            found = self.where(**want)
            if found:
                return found[0]
            time.sleep(0.05)
        raise AssertionError(f"no log line with {want}; got:\n" + "".join(self.raw))




@pytest.mark.slow
def test_a_broken_publish_yml_while_serving_is_one_line_and_what_came_due_goes_out_once_it_is_mended(tmp_path):
    with ChannelServer() as server:
        settings = SETTINGS.replace('timeout: "0.3"', 'timeout: "30"')
        now = datetime.now(timezone.utc).replace(microsecond=0)
        n = make_newsroom(tmp_path / "p", server, {
            "content/early.md": approved("Early", at=(now - timedelta(minutes=1)).isoformat()),
        }, settings=settings)
        good = (n.root / "publish.yml").read_text()
        server.script("social", "slow:1.5")  # the platform takes 1.5 s to answer the first post
        port = free_port()
        child = subprocess.Popen([sys.executable, "-m", "tests.servers.testchannel", "--root", str(n.root), "serve",
                                  "--log-format", "json", "--health", str(port), "--watch", "0.3"],
                                 cwd=ROOT, env={**os.environ, "TC_TOKEN": TOKEN, "PYTHONPATH": str(ROOT)},
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        log = Lines(child.stderr)
        try:
            log.wait(message="serving ")
            first = log.wait(item="early", result="delivered")
            assert first["level"] == "INFO" and first["channel"] == "social"
            assert first["message"].startswith("delivered content/early.md → social")
            code, status = probe(port, "/readyz")
            assert code == 200 and status["settings"] == "usable" and status["last_success"]["what"]
            # The receipt's time is when the platform answered, 1.5 s after the claim.
            events = {e["event"]: e for e in n.ledger() if e["entry"] == "early/social"}
            answered = datetime.fromisoformat(events["delivered"]["receipt"]["at"])
            assert answered - datetime.fromisoformat(events["claimed"]["at"]) >= timedelta(seconds=1.4)

            # An entry due a few seconds from now, once the service is up (however long it took to
            # start), scheduled before publish.yml breaks: it must come due while the file is broken.
            due = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=8)
            n.write("content/between.md", approved("Between", at=due.isoformat()))
            wait_for(lambda: probe(port, "/status")[1]["next_run"] == due.isoformat())

            # publish.yml broken while it runs: one error line naming file, line and key; still alive.
            (n.root / "publish.yml").write_text(good.replace('    timeout: "30"\n  chat:',
                                                             '    timeout: "30"\n    tiemout: 3\n  chat:', 1))
            assert datetime.now(timezone.utc) < due - timedelta(seconds=1), "broken too late: nothing would be tested"
            broken = log.wait(level="ERROR")
            assert broken["message"] == ("publish.yml:13: channels.social.tiemout: unknown key (did you mean "
                                         "'timeout'?); keeping the last good settings: entries due meanwhile wait "
                                         "until the file is usable")
            assert broken["path"] == "publish.yml"
            code, status = probe(port, "/readyz")
            assert code == 503 and status["settings"].startswith("publish.yml:13: channels.social.tiemout")
            assert status["last_error"]["message"].startswith("publish.yml:13:")
            assert probe(port, "/livez")[0] == 200
            # The entry that comes due meanwhile waits, and says so once.
            waiting = log.wait(timeout=30, item="between", level="WARNING")
            assert waiting["message"] == "due, not sent while publish.yml is unusable: goes out once it is fixed"
            assert waiting["channel"] == "social" and [p["item"] for p in server.posts_for("social")] == ["early"]
            assert len(log.where(level="ERROR")) == 1  # one line, not a traceback per job
            assert child.poll() is None

            # Mended: said at once, and what waited goes out within seconds, not at the next re-plan.
            (n.root / "publish.yml").write_text(good)
            fixed = time.monotonic()
            log.wait(message="publish.yml is usable again")
            wait_for(lambda: [p["item"] for p in server.posts_for("social")] == ["early", "between"])
            assert time.monotonic() - fixed < 5
            assert probe(port, "/readyz")[0] == 200

            # A content file with broken YAML: logged once, at its path and line.
            (n.root / "content" / "broken.md").write_text("---\ntitle: [oops\nstatus: draft\n---\nbody\n")
            bad = log.wait(path="content/broken.md")
            assert bad["level"] == "WARNING" and bad["line"] == 3  # where the parser found the list unclosed
            assert bad["message"] == "content/broken.md:3: YAML: did not find expected ',' or ']'"
            (n.root / "content" / "other.md").write_text(approved("Later", at=(now + timedelta(days=1)).isoformat()))
            wait_for(lambda: probe(port, "/status")[1]["entries_scheduled"] == 1)  # re-planned since
            assert len(log.where(path="content/broken.md")) == 1
        finally:
            child.send_signal(signal.SIGTERM)
            child.wait(timeout=30)
            out = child.stdout.read()
            log.thread.join(timeout=10)
        assert child.returncode == 0 and out == ""  # one stream: everything on stderr, nothing on stdout
        assert log.lines[-1]["message"] == "stopped"
        assert all(set(ln) >= {"time", "level", "logger", "message"} for ln in log.lines)
        assert all(ln["time"].endswith("Z") and "T" in ln["time"] for ln in log.lines)


def test_text_lines_have_a_time_a_level_and_the_fields():
    import io
    import logging

    from scheduler.servicelog import LOGGER, configure

    out = io.StringIO()
    handler = configure("text", out)
    try:
        logging.getLogger(LOGGER).warning("due, not sent", extra={"fields": {"item": "a", "channel": "social"}})
    finally:
        logging.getLogger(LOGGER).removeHandler(handler)
        logging.getLogger("apscheduler").removeHandler(handler)
    line = out.getvalue()
    date, level, rest = line.split(" ", 2)
    assert datetime.strptime(date, "%Y-%m-%dT%H:%M:%S.%fZ") and level == "WARNING"
    assert rest == "due, not sent  item=a  channel=social\n"
