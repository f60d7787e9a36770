"""A refused connection is "not sent, retry", never "uncertain": real ``publish`` processes whose
SMTP server, Mastodon instance and webhook receiver are a closed loopback port, then the same
entries once the servers answer.

No connection means no byte of a request left the machine, so nothing can have reached anyone: the
entry is recorded ``failed`` (retryable), stays due, is never listed for a person, and the next run
sends it exactly once.
"""
from __future__ import annotations

import json
import re
import socket
from collections import Counter

import pytest

from faults import RECIPIENTS, make_project, servers  # noqa: F401 -- servers: the module's fixture

pytestmark = pytest.mark.slow


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed: the kernel refuses connections to it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_refused_connection_is_not_sent_and_the_next_run_sends_it_once(tmp_path, servers):
    newsroom = make_project(tmp_path / "p", servers, deploy=False, recipients=3)
    settings = newsroom.root / "publish.yml"
    good = settings.read_text(encoding="utf-8")
    port = closed_port()
    settings.write_text(re.sub(r"port: \d+", f"port: {port}", good)
                        .replace(servers.mastodon.url, f"http://127.0.0.1:{port}"), encoding="utf-8")
    env = newsroom.env
    env["HOOK_URL"] = f"http://127.0.0.1:{port}/hook/secret-path"
    refused = newsroom.cli("publish", "--now", "2026-11-20T09:00:00Z", env=env)

    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert refused.stdout.splitlines() == [
        "delivered  content/alpha.md → blog  https://news.test/alpha/",
        f"FAILED     content/alpha.md → newsletter  cannot connect to the SMTP server 127.0.0.1:{port}: [Errno 111] "
        "Connection refused (nothing was sent) (gave up after 4 tries); a later run tries again",
        f"FAILED     content/alpha.md → mastodon  could not connect: connection refused at 127.0.0.1:{port} "
        "(nothing was sent) (gave up after 4 tries); a later run tries again",
        f"FAILED     content/alpha.md → hook  could not connect: connection refused at 127.0.0.1:{port} "
        "(nothing was sent) (gave up after 4 tries); a later run tries again",
        "1 delivered, 3 failed."]
    assert "secret-path" not in refused.stdout + refused.stderr  # the webhook URL is a credential
    events = newsroom.ledger()
    assert not [e for e in events if e["event"] in ("uncertain", "unresolved", "delivered") and e["channel"] != "blog"]
    assert all(e["retryable"] for e in events if e["event"] == "failed")
    assert (newsroom.mails(), newsroom.toots(), newsroom.hooks()) == ([], [], [])

    status = json.loads(newsroom.cli("status", "--format", "json", "--offline", env=env).stdout)
    for name in ("newsletter", "mastodon", "hook"):
        row = status["channels"][name]
        assert not row["needs_person"], row  # nothing for a person to settle: it surely did not go out
        assert [f["error"] for f in row["failed"]][0].endswith("(nothing was sent) (gave up after 4 tries)")

    settings.write_text(good, encoding="utf-8")  # the servers answer again
    again = newsroom.publish(now="2026-11-20T09:10:00Z")
    assert again.returncode == 0, again.stdout + again.stderr
    assert Counter(newsroom.mails()) == Counter(RECIPIENTS[:3])
    assert (len(newsroom.toots()), len(newsroom.hooks())) == (1, 1)
    assert newsroom.delivered() == {"alpha/blog", "alpha/newsletter", "alpha/mastodon", "alpha/hook"}
