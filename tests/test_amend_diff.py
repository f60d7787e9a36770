"""`calendar --diff` in a pull request shows what it changes in posts already out: a "correction"
per channel with the text diff (and whether the platform edits it in place), a "withdrawal" per
channel with what taking it down does. A real git repository and the loopback Mastodon server."""
from __future__ import annotations

import json

import pytest

from conftest import write_project
from servers.mastodon import MastodonServer
from publishing import run_mastodon as run
from test_amend_run import SETTINGS, launch
from test_calendar_diff import git


@pytest.fixture
def repo(tmp_path):
    with MastodonServer() as server:
        root = tmp_path / "p"
        write_project(root, {"content/launch.md": launch(),
                             "templates/mastodon/post.j2": "{{ title }}: {{ body_text }}\n{{ link }}\n"},
                      SETTINGS.format(url=server.url))
        first = run(root, "publish")
        assert first.exit_code == 0, first.output + run(root, "check").output
        git(root, "init", "-q", "-b", "main")
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "delivered")
        yield root


def test_a_correction_shows_per_channel_with_the_text_diff(repo):
    (repo / "content" / "launch.md").write_text(launch("Launch is on Wednesday.\n"))
    out = run(repo, "calendar", "--diff", "main", "--now", "2026-11-21T10:00Z")
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert any(line.startswith("correction") and "mastodon" in line and "edited in place by the next run" in line
               for line in lines), out.output
    assert "correction on mastodon: content/launch.md" in lines
    assert "  -Launch: Launch is on Tuesday." in lines and "  +Launch: Launch is on Wednesday." in lines
    assert any(line.startswith("correction") and "blog" in line for line in lines)

    data = json.loads(run(repo, "calendar", "--diff", "main", "--format", "json", "--now", "2026-11-21T10:00Z").output)
    rows = {r["channel"]: r for r in data["after_publishing"]}
    assert rows["mastodon"]["change"] == "correction" and rows["mastodon"]["automatic"] is True
    assert rows["mastodon"]["diff"][1:] == ["-Launch: Launch is on Tuesday.", "+Launch: Launch is on Wednesday.",
                                            " https://news.test/launch/?utm_source=mastodon&utm_medium=social"]
    assert data["summary"]["corrections"] == 2

    md = run(repo, "calendar", "--diff", "main", "--format", "md", "--now", "2026-11-21T10:00Z").output
    assert "#### After publishing" in md and "```diff" in md and "+Launch: Launch is on Wednesday." in md


def test_a_correction_waiting_for_approval_says_so(repo):
    (repo / "content" / "launch.md").write_text(launch("Launch is on Wednesday.\n", status="review",
                                                       approved_by=None, reviewers=["editor"]))
    data = json.loads(run(repo, "calendar", "--diff", "main", "--format", "json", "--now", "2026-11-21T10:00Z").output)
    rows = {r["channel"]: r for r in data["after_publishing"]}
    assert rows["mastodon"]["how"] == "edited in place once approved (status is review)"


def test_a_withdrawal_shows_what_it_does_on_each_channel(repo):
    (repo / "content" / "launch.md").write_text(launch(status="withdrawn", reason="Cancelled."))
    data = json.loads(run(repo, "calendar", "--diff", "main", "--format", "json", "--now", "2026-11-21T10:00Z").output)
    rows = {r["channel"]: (r["change"], r["how"]) for r in data["after_publishing"]}
    assert rows == {"blog": ("withdrawal", "taken down by the next run"),
                    "mastodon": ("withdrawal", "taken down by the next run")}
    assert data["summary"]["withdrawals"] == 2
