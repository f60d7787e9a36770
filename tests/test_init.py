"""`publish init`: a content repository a team can commit as it is, and the workflows it writes, run
step by step in a scratch clone whose ``origin`` is a bare repository (as GitHub's runner would)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from servers.github import GitHub
from workflowrun import Runner, first_pull_request, git


def test_init_writes_a_repository_that_checks_clean_and_never_overwrites(cli, tmp_path):
    root = tmp_path / "newsroom"
    result = cli(tmp_path, "init", str(root), "--timezone", "Europe/Berlin")
    assert result.exit_code == 0, result.output
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    [item] = [f for f in files if f.startswith("content/")]
    assert re.fullmatch(r"content/\d{4}/\d{2}/welcome\.md", item)
    assert files == sorted([".github/workflows/check.yml", ".github/workflows/publish.yml",
                            ".github/workflows/pull.yml", ".gitignore", ".vscode/settings.json",
                            "audience/subscribers.csv", item, "publish.yml", "schemas/front-matter.schema.json",
                            "schemas/publish.schema.json", "state/.gitattributes", "state/.gitignore"])
    assert (root / "audience/subscribers.csv").read_text() == "email,name,unsubscribed\n"
    assert (root / "state/.gitignore").read_text() == ".lock\n.runs/\n"
    assert result.output.endswith(f"12 files written, 0 kept in {root}. Next: publish check, then set the secrets "
                                  "publish.yml names (see .github/workflows/publish.yml).\n")
    workflow = yaml.safe_load((root / ".github/workflows/publish.yml").read_text())
    step = next(s for s in workflow["jobs"]["publish"]["steps"] if s.get("name") == "Publish due entries")
    assert list(step["env"]) == ["SMTP_USER", "SMTP_PASSWORD", "MASTODON_TOKEN", "NEWSROOM_KEY"]
    settings = yaml.safe_load((root / "publish.yml").read_text())
    assert settings["site"]["title"] == "Newsroom" and settings["timezone"] == "Europe/Berlin"
    assert sorted(settings["channels"]) == ["blog", "mastodon", "newsletter"]

    checked = cli(root, "check")
    assert checked.exit_code == 0 and checked.output == "1 items checked: no problems\n"

    (root / "publish.yml").write_text("# ours\n" + (root / "publish.yml").read_text())
    again = cli(tmp_path, "init", str(root))
    assert again.exit_code == 0
    assert "kept publish.yml (exists)\n" in again.output and "wrote" not in again.output
    assert (root / "publish.yml").read_text().startswith("# ours\n")


def test_init_answers_by_option_and_refuses_an_unknown_timezone(cli, tmp_path):
    title = 'Ana\'s "Notes": #1'
    ok = cli(tmp_path, "init", str(tmp_path / "a"), "--title", title, "--url", "https://notes.example/")
    assert ok.exit_code == 0
    settings = yaml.safe_load((tmp_path / "a/publish.yml").read_text())
    assert settings["site"] == {"title": title, "url": "https://notes.example/", "language": "en"}
    assert settings["channels"]["newsletter"]["unsubscribe_url"] == "https://notes.example/unsubscribe?token={token}"
    bad = cli(tmp_path, "init", str(tmp_path / "b"), "--timezone", "Mars/Olympus")
    assert bad.exit_code == 2
    assert bad.output == ("error: --timezone: 'Mars/Olympus' is not a known timezone (use an IANA name such as "
                          "Europe/Berlin or UTC)\n")
    assert not (tmp_path / "b").exists()


def test_the_started_item_once_approved_is_published_to_the_blog_and_the_rest_waits(cli, tmp_path):
    root = tmp_path / "team"
    cli(tmp_path, "init", str(root), "--url", "https://team.example")
    [item] = list((root / "content").rglob("*.md"))
    text = item.read_text().replace("status: draft", "status: approved").replace(
        "# approved_by: Someone Else", "approved_by: Someone Else")
    item.write_text(text)
    when = re.search(r"publish_at: (\S+)", text).group(1)
    result = cli(root, "publish", "--now", when.replace("T09:", "T10:") + ":00+00:00",
                 env={"MASTODON_TOKEN": "", "SMTP_USER": ""})
    assert result.exit_code == 0, result.output
    assert "delivered  content/" in result.output and "→ blog  https://team.example/welcome/" in result.output
    assert ("note: mastodon: inactive, MASTODON_TOKEN is not set in the environment (1 entry waiting)\n"
            "note: newsletter: inactive, SMTP_USER, SMTP_PASSWORD are not set in the environment (1 entry waiting)\n"
            "1 delivered.\n") in result.output
    assert (root / "public/welcome/index.html").is_file()


def test_init_example_copies_the_full_example_newsroom(cli, tmp_path):
    from newsroom.resources import shipped

    result = cli(tmp_path, "init", str(tmp_path / "ex"), "--example")
    assert result.exit_code == 0
    for path in shipped("content").rglob("*"):
        if path.is_file():
            assert (tmp_path / "ex/content" / path.relative_to(shipped("content"))).read_bytes() == path.read_bytes()
    assert (tmp_path / "ex/publish.yml").read_bytes() == shipped("publish.yml").read_bytes()
    # publish.yml's report.sample names sample/, so the example's report shows the recorded month
    assert (tmp_path / "ex/sample/state/snapshots/2026-11.jsonl").read_bytes() == \
        (shipped("sample") / "state/snapshots/2026-11.jsonl").read_bytes()
    assert cli(tmp_path / "ex", "report", "--format", "md").stdout.startswith("> **SAMPLE DATA: a recorded month from sample/")
    publish = yaml.safe_load((tmp_path / "ex/.github/workflows/publish.yml").read_text())
    step = next(s for s in publish["jobs"]["publish"]["steps"] if s.get("name") == "Publish due entries")
    assert "BLUESKY_APP_PASSWORD" in step["env"] and "PARTNER_WEBHOOK_SECRET" in step["env"]
    assert cli(tmp_path / "ex", "check").exit_code == 0


# -- the workflows, run step by step -------------------------------------------------------------

@pytest.fixture
def origin(cli, tmp_path):
    """A content repository made by init and pushed to a bare ``origin``; returns (bare, seed clone)."""
    (tmp_path / "home").mkdir()
    seed = tmp_path / "seed"
    cli(tmp_path, "init", str(seed), "--url", "https://team.example")
    [item] = list((seed / "content").rglob("*.md"))
    an_hour_ago = (datetime.now(timezone.utc) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    item.write_text(re.sub(r"publish_at: \S+", f"publish_at: {an_hour_ago}", item.read_text().replace(
        "status: draft", "status: approved").replace("# approved_by: Someone Else", "approved_by: Someone Else")))
    bare = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    git(seed, "init", "-q", "-b", "main")
    git(seed, "add", "-A")
    git(seed, "commit", "-q", "-m", "Start the newsroom")
    git(seed, "remote", "add", "origin", str(bare))
    git(seed, "push", "-q", "origin", "main")
    return bare, seed


def test_the_publish_workflow_commits_the_ledger_without_locks_and_wins_a_push_race(origin, tmp_path):
    bare, seed = origin
    work = tmp_path / "runner"
    git(tmp_path, "clone", "-q", str(bare), str(work))
    # While the run works, a person pushes an edit: the run's first push is refused.
    (seed / "audience/subscribers.csv").write_text("email,name,unsubscribed\nana@team.example,Ana,\n")
    git(seed, "commit", "-q", "-am", "A first subscriber")
    git(seed, "push", "-q", "origin", "main")

    runner = Runner(work / ".github/workflows/publish.yml", "publish", work,
                    {"GITHUB_RUN_ID": "4242", "GITHUB_REF_NAME": "main", "GITHUB_REPOSITORY": "team/newsroom"},
                    {"secrets.MASTODON_TOKEN": "", "secrets.SMTP_USER": "", "secrets.SMTP_PASSWORD": ""})
    published = runner.run("Publish due entries")
    assert published.returncode == 0, published.stdout + published.stderr
    assert "→ blog" in published.stdout and (work / "state/.lock").exists()
    committed = runner.run("Commit the ledger")
    assert committed.returncode == 0, committed.stderr

    log = git(bare, "log", "--format=%s", "main").splitlines()
    assert log == ["state: publish run 4242", "A first subscriber", "Start the newsroom"]
    tree = git(bare, "ls-tree", "-r", "--name-only", "main").splitlines()
    assert "state/ledger.jsonl" in tree and not [p for p in tree if p.endswith(".lock") or "/.runs/" in p]
    assert git(bare, "show", "main:audience/subscribers.csv").endswith("ana@team.example,Ana,\n")

    again = runner.run("Commit the ledger")  # nothing new: no empty commit
    assert again.returncode == 0 and again.stdout == "state unchanged\n"


def test_publish_and_pull_share_one_concurrency_group_and_the_pull_commits_no_lock(origin, tmp_path):
    bare, _ = origin
    work = tmp_path / "runner"
    git(tmp_path, "clone", "-q", str(bare), str(work))
    groups = {yaml.safe_load((work / f".github/workflows/{n}").read_text())["concurrency"]["group"]
              for n in ("publish.yml", "pull.yml")}
    assert groups == {"newsroom-state-${{ github.repository }}"}
    runner = Runner(work / ".github/workflows/pull.yml", "pull", work,
                    {"GITHUB_RUN_ID": "7", "GITHUB_REF_NAME": "main", "GITHUB_REPOSITORY": "team/newsroom"},
                    {"inputs.weekly": "true"})
    pulled = runner.run("Pull")
    assert pulled.returncode == 0 and runner.expressions["steps.pull.outputs.status"] == "0", pulled.stderr
    weekly = runner.run("Weekly report")
    assert weekly.returncode == 0, weekly.stderr
    assert runner.expressions["steps.weekly.outputs.write"] == "true"
    committed = runner.run("Commit the snapshots (and the report)")
    assert committed.returncode == 0, committed.stderr
    tree = git(bare, "ls-tree", "-r", "--name-only", "main").splitlines()
    assert [p for p in tree if p.startswith("reports-out/weekly/")], tree
    assert not [p for p in tree if p.endswith(".lock")]


def test_the_check_workflow_posts_one_comment_and_updates_it(tmp_path, cli):
    bare, work = first_pull_request(tmp_path, lambda seed: cli(tmp_path, "init", str(seed)))

    with GitHub(token="ghs_test", repo="team/newsroom") as api:
        api.comments[7] = [{"id": 1, "body": "Looks good to me", "user": {"login": "ben"}}]
        runner = Runner(work / ".github/workflows/check.yml", "check", work,
                        {"GITHUB_REPOSITORY": "team/newsroom", "GITHUB_BASE_REF": "main", "GITHUB_SHA": "abcdef1234",
                         "GITHUB_API_URL": api.url},
                        {"secrets.GITHUB_TOKEN": "ghs_test", "github.event.pull_request.number": "7"})
        for name in ("Check content and settings", "Calendar changes", "Comment on the pull request"):
            done = runner.run(name)
            assert done.returncode == 0, (name, done.stdout, done.stderr)
        assert done.stdout == "posted the check comment\n"
        assert runner.expressions["steps.check.outputs.status"] == "0"
        first = api.comments[7][1]["body"]
        assert first.startswith("<!-- newsroom-publish: check -->\n### Check passed\n\n```\n1 items checked: no problems\n```")
        assert "### Calendar changes since `origin/main`" in first and "**3** added" in first

        # A second push breaks an item: the same comment is edited, not a second one posted.
        [item] = list((work / "content").rglob("*.md"))
        item.write_text(item.read_text().replace("status: draft", "status: drafty"))
        for name in ("Check content and settings", "Calendar changes", "Comment on the pull request"):
            done = runner.run(name)
        assert done.stdout == "updated the check comment\n"
        assert runner.expressions["steps.check.outputs.status"] == "1"
        fail = runner.run("Fail when check found errors")
        assert fail.returncode == 1

    [ours] = [c for c in api.comments[7] if c["id"] != 1]
    assert len(api.comments[7]) == 2
    body = ours["body"]
    assert body.startswith("<!-- newsroom-publish: check -->\n### Check found problems\n\n```\nErrors\n")
    assert "welcome.md:4: status: 'drafty'" in body
    assert "No change to the calendar since `origin/main`." in body  # the broken item plans nothing
    assert [m for m, _ in api.requests] == ["GET", "POST", "GET", "PATCH"]
    summary = runner.summary.read_text()
    assert summary.startswith("### Calendar changes since `origin/main`") and summary.endswith(
        "### Calendar\n\nNo change to the calendar since `origin/main`.\n")
