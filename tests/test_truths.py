"""Smaller truths: inputs that used to be accepted silently or read as something else."""
from __future__ import annotations

import json

from conftest import item


def test_a_null_or_blank_title_is_an_error_at_its_line(cli, project):
    root = project({
        "content/null.md": "---\ntitle:\nstatus: draft\n---\nBody.\n",
        "content/blank.md": "---\nstatus: draft\ntitle: \"   \"\n---\nBody.\n",
        "content/fine.md": item("Fine"),
    })
    result = cli(root, "check", "--format", "json")
    assert result.exit_code == 1
    errors = [(p["path"], p["line"], p["key"], p["message"]) for p in json.loads(result.output)["errors"]]
    assert errors == [
        ("content/blank.md", 3, "title", "is blank; title is required (the headline)"),
        ("content/null.md", 2, "title", "is empty; title is required (the headline)"),
    ]


def test_the_webhook_signature_timestamp_is_the_moment_of_sending_not_the_runs_now(cli, project):
    import time

    from hookserver import HookServer

    settings = """\
site:
  title: Test Newsroom
  url: https://news.test
timezone: UTC
channels:
  hook:
    type: webhook
    url: env:HOOK_URL
    signing_secret: env:HOOK_SECRET
"""
    root = project({"content/a.md": item("A", status="approved", approved_by="editor", author="writer",
                                         publish_at="2026-11-20T09:00", channels=["hook"])}, settings=settings)
    with HookServer() as server:
        before = int(time.time())
        # a late run: --now is the entry's time, the request goes out now
        result = cli(root, "publish", "--now", "2026-11-20T09:05:00Z",
                     env={"HOOK_URL": f"{server.url}/hook", "HOOK_SECRET": "s3cret"})
        after = int(time.time())
    assert result.exit_code == 0, result.output
    (request,) = server.requests
    stamp = int({k.lower(): v for k, v in request.headers.items()}["x-newsroom-timestamp"])
    assert before <= stamp <= after
    from channels.webhook import sign

    assert {k.lower(): v for k, v in request.headers.items()}["x-newsroom-signature"] == sign("s3cret", stamp, request.body)
