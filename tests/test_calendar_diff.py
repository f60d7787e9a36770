"""`publish.py calendar --diff REV` on a real temporary git repository."""
import json
import subprocess

import pytest

from conftest import BASE_SETTINGS, item

APPROVED = dict(status="approved", author="ana", approved_by="ben")
NOW = "2026-11-20T00:00Z"


def git(root, *args):
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "T",
                        "GIT_COMMITTER_EMAIL": "t@t", "PATH": "/usr/bin:/bin", "HOME": str(root)})


@pytest.fixture
def repo(project):
    root = project({
        "content/stay.md": item("Stays", publish_at="2026-12-01T09:00", channels=["blog"], **APPROVED),
        "content/move.md": item("Moves", publish_at="2026-12-02T09:00", channels=["blog", "mastodon"], **APPROVED),
        "content/gone.md": item("Goes away", publish_at="2026-12-03T09:00", channels=["blog"], **APPROVED),
        "content/ready.md": item("Gets ready", status="review", reviewers=["ben"], publish_at="2026-12-04T09:00",
                                 channels=["blog"]),
    })
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "before")
    (root / "content/gone.md").unlink()
    (root / "content/move.md").write_text(item("Moves", publish_at="2026-12-05T15:00", channels=["blog", "mastodon"],
                                               **APPROVED))
    (root / "content/ready.md").write_text(item("Gets ready", publish_at="2026-12-04T09:00", channels=["blog"],
                                                **APPROVED))
    (root / "content/new.md").write_text(item("New one", publish_at="2026-12-01T09:00", channels=["blog", "mastodon"],
                                              **APPROVED))
    return root


def test_diff_json(cli, repo):
    result = cli(repo, "calendar", "--diff", "main", "--format", "json", "--now", NOW)
    assert result.exit_code == 0
    d = json.loads(result.output)
    assert [(r["key"], r["at"]) for r in d["added"]] == [("new/blog", "2026-12-01T09:00+01:00"),
                                                       ("new/mastodon", "2026-12-01T09:00+01:00")]
    assert [(r["key"], r["at"]) for r in d["removed"]] == [("gone/blog", "2026-12-03T09:00+01:00")]
    assert [(r["key"], r["from"], r["to"]) for r in d["moved"]] == [
        ("move/blog", "2026-12-02T09:00+01:00", "2026-12-05T15:00+01:00"),
        ("move/mastodon", "2026-12-02T09:00+01:00", "2026-12-05T15:00+01:00")]
    assert [(r["key"], r["from"], r["to"]) for r in d["state_changed"]] == [("ready/blog", "review", "approved")]
    assert [(r["key"], r["flags"]) for r in d["new_problems"]] == [("new/blog", ["conflict"]), ("stay/blog", ["conflict"])]
    assert d["new_problems"][0]["notes"] == ["conflict: 2 entries on channel 'blog' at 2026-12-01 09:00"]
    assert d["summary"] == {"added": 2, "removed": 1, "moved": 2, "state_changed": 1, "new_problems": 2,
                            "new_conflicts": 2, "corrections": 0, "withdrawals": 0}


def test_diff_markdown_for_a_pull_request(cli, repo):
    md = cli(repo, "calendar", "--diff", "main", "--format", "md", "--now", NOW).output
    assert md.startswith("### Calendar changes since `main`\n\n**2** added · **1** removed · **2** moved · "
                         "**1** state changed · **2** new problems (**2** conflicts)\n")
    assert "| 2026-12-01 09:00 | blog | New one (`content/new.md`) | conflict: 2 entries on channel 'blog' at " \
           "2026-12-01 09:00 |" in md
    assert "| blog | Moves | 2026-12-02 09:00 | **2026-12-05 15:00** |" in md
    assert "| 2026-12-04 09:00 | blog | Gets ready | review → **approved** |" in md
    assert md.index("New problems") < md.index("#### Moved") < md.index("#### Added") < md.index("#### Removed")


def test_diff_table_and_filters(cli, repo):
    out = cli(repo, "calendar", "--diff", "main", "--now", NOW, "--channel", "mastodon").output
    lines = out.splitlines()
    assert lines[0] == "Calendar changes since main"
    assert lines[2].split() == ["change", "when", "channel", "item", "state"]
    assert [line.split()[0] for line in lines[3:]] == ["added", "moved"]
    assert "2026-12-02 09:00 → 2026-12-05 15:00" in out


def test_no_change(cli, repo):
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "after")
    assert cli(repo, "calendar", "--diff", "HEAD", "--now", NOW).output == "No change to the calendar since HEAD.\n"
    md = cli(repo, "calendar", "--diff", "HEAD", "--format", "md", "--now", NOW).output
    assert md == "### Calendar\n\nNo change to the calendar since `HEAD`.\n"


def test_project_in_a_subfolder_of_the_repo(cli, project, tmp_path):
    outer = tmp_path / "mono"
    root = project({"content/a.md": item("A", publish_at="2026-12-01T09:00", channels=["blog"], **APPROVED)})
    outer.mkdir()
    root.rename(outer / "site")
    git(outer, "init", "-q", "-b", "main")
    git(outer, "add", "-A")
    git(outer, "commit", "-q", "-m", "one")
    (outer / "site/content/a.md").write_text(item("A", publish_at="2026-12-01T10:00", channels=["blog"], **APPROVED))
    d = json.loads(cli(outer / "site", "calendar", "--diff", "main", "--format", "json", "--now", NOW).output)
    assert [(r["from"], r["to"]) for r in d["moved"]] == [("2026-12-01T09:00+01:00", "2026-12-01T10:00+01:00")]


def test_bad_revision_and_no_git(cli, repo, project):
    result = cli(repo, "calendar", "--diff", "no-such-branch")
    assert result.exit_code == 2
    assert result.output == "error: 'no-such-branch' is not a revision in this repository (try main, HEAD~1 or a commit hash)\n"
    plain = project({"content/a.md": item()})
    result = cli(plain, "calendar", "--diff", "main")
    assert result.exit_code == 2
    assert result.output == f"error: {plain} is not in a git checkout; --diff compares with a git revision\n"
    assert "Traceback" not in result.output


def test_a_base_without_the_project_is_an_empty_schedule(cli, project):
    """A content repository's first pull request adds publish.yml: its base has no schedule at all."""
    root = project({})
    (root / "publish.yml").unlink()
    (root / "README.md").write_text("A content repository.\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "empty")
    (root / "publish.yml").write_text(BASE_SETTINGS)
    (root / "content").mkdir()
    (root / "content/first.md").write_text(item("First", publish_at="2026-12-01T09:00", channels=["blog"], **APPROVED))
    result = cli(root, "calendar", "--diff", "main", "--format", "json", "--now", NOW)
    assert result.exit_code == 0, result.output
    d = json.loads(result.output)
    assert [r["key"] for r in d["added"]] == ["first/blog"] and d["removed"] == [] and d["summary"]["added"] == 1
