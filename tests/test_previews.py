"""``publish preview``: the changed items of a branch, each as every one of its channels would send it,
in a small static site; and the pull-request workflow that uploads it and links it from its comment."""
from __future__ import annotations

import json
import subprocess

import yaml

from conftest import BASE_SETTINGS, ROOT, item, write_project
from servers.github import GitHub
from workflowrun import Runner, first_pull_request, git

SETTINGS = BASE_SETTINGS + """\
  newsletter:
    type: email
    from: "News <news@news.test>"
    unsubscribe_url: https://news.test/u/{token}
    lists:
      all: audience.csv
"""
LONG = "A launch note that runs on. " * 25  # 700 characters: over Mastodon's 500


def repo_with_a_branch(tmp_path):
    root = write_project(tmp_path / "newsroom", {
        "audience.csv": "email,name\nana@example.org,Ana\n",
        "content/kept.md": item("Kept as it is", status="approved", approved_by="Ben", publish_at="2026-12-01T09:00",
                                channels=["blog", "mastodon"]),
        "content/edited.md": item("Edited", status="review", channels=["blog"]),
        "content/gone.md": item("Gone", status="draft", channels=["blog"]),
    }, settings=SETTINGS)
    for args in (("init", "-q", "-b", "main"), ("add", "-A"), ("commit", "-q", "-m", "base")):
        git(root, *args)
    git(root, "checkout", "-q", "-b", "autumn")
    (root / "content/edited.md").write_text(item("Edited", status="review", channels=["blog", "newsletter"],
                                                 body="Now for the newsletter too.\n"))
    (root / "content/launch.md").write_text(item("The autumn launch", status="review",
                                                 channels={"mastodon": {"text": LONG}, "blog": True}))
    (root / "content/gone.md").unlink()
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "autumn")
    (root / "content/broken.md").write_text("---\ntitle: Broken\nstatus: drafty\n---\nText.\n")  # not committed yet
    return root


def test_only_the_changed_items_each_on_every_channel_with_lengths_against_limits(cli, tmp_path):
    root = repo_with_a_branch(tmp_path)
    out = tmp_path / "site"
    done = cli(root, "preview", "--changed-since", "main", "--out", str(out), "--format", "json")
    assert done.exit_code == 1  # a post over its limit, and an item that does not load
    found = json.loads(done.output)
    assert [(p["path"], p["change"]) for p in found] == [
        ("content/broken.md", "broken"), ("content/edited.md", "changed"), ("content/gone.md", "removed"),
        ("content/launch.md", "added")]
    broken, edited, gone, launch = found
    assert broken["problems"] == ["content/broken.md:3: status: 'drafty' is not one of idea, draft, review, "
                                  "approved, published, archived, withdrawn (did you mean 'draft'?)"]
    assert [(c["channel"], c["type"], c["limit"], c["over"]) for c in edited["channels"]] == [
        ("blog", "blog", None, False), ("newsletter", "email", None, False)]
    mastodon = next(c for c in launch["channels"] if c["channel"] == "mastodon")
    assert (mastodon["length"], mastodon["limit"], mastodon["unit"], mastodon["over"]) == (
        len(LONG.strip()), 500, "characters", True)
    assert gone["channels"] == [] and gone["page"] is None

    pages = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert pages == ["index.html", "items/edited.html", "items/launch.html", "previews.json", "summary.md"]
    launch_page = (out / "items/launch.html").read_text()
    assert "<h2>mastodon</h2>" in launch_page and "<h2>blog</h2>" in launch_page and "OVER BY" in launch_page
    index = (out / "index.html").read_text()
    assert "<a href='items/launch.html'>The autumn launch</a>" in index and "Kept as it is" not in index
    assert (out / "summary.md").read_text() == (
        "### Previews\n\n4 changed items, each as its channels would send it (the longest part against the "
        "channel's limit):\n\n| item | change | channels |\n|---|---|---|\n"
        "| content/broken.md (`content/broken.md`) | broken | does not load: content/broken.md:3: status: 'drafty' "
        "is not one of idea, draft, review, approved, published, archived, withdrawn (did you mean 'draft'?) |\n"
        f"| Edited (`content/edited.md`) | changed | blog {edited['channels'][0]['length']}; newsletter "
        f"{edited['channels'][1]['length']} |\n"
        "| Gone (`content/gone.md`) | removed |  |\n".replace("| Gone (`content/gone.md`)", "| content/gone.md "
                                                              "(`content/gone.md`)") +
        f"| The autumn launch (`content/launch.md`) | added | ⚠️ mastodon {len(LONG.strip())}/500 over by "
        f"{len(LONG.strip()) - 500}; blog {launch['channels'][1]['length']} |\n")


def test_nothing_changed_and_a_base_that_is_not_there(cli, tmp_path):
    root = repo_with_a_branch(tmp_path)
    (root / "content/broken.md").unlink()
    git(root, "stash", "-u", "-q")
    done = cli(root, "preview", "--changed-since", "autumn", "--out", str(tmp_path / "none"))
    assert (done.exit_code, done.output) == (0, "no item changed\nwrote " + str(tmp_path / "none/index.html") + "\n")
    assert (tmp_path / "none/summary.md").read_text() == "### Previews\n\nNo item changed.\n"
    missing = cli(root, "preview", "--changed-since", "origin/main", "--out", str(tmp_path / "x"))
    assert missing.exit_code == 2
    assert missing.output.startswith("error: --changed-since origin/main: not a revision in this repository")
    assert missing.output.rstrip().endswith("in CI, check out with fetch-depth: 0 so the base branch is there")


def _check_workflow(path):
    steps = yaml.safe_load(path.read_text())["jobs"]["check"]["steps"]
    return {s.get("name"): s for s in steps}, [s.get("name") for s in steps]


def test_the_pull_request_workflows_upload_the_previews_and_link_them(cli, tmp_path):
    cli(tmp_path, "init", str(tmp_path / "started"))  # the workflow publish init writes, and this repository's
    for path in (ROOT / ".github/workflows/check.yml", tmp_path / "started/.github/workflows/check.yml"):
        steps, order = _check_workflow(path)
        assert order.index("Calendar changes") < order.index("Previews of the changed items") < \
            order.index("Upload the previews") < order.index("Comment on the pull request"), path
        run = steps["Previews of the changed items"]["run"]
        assert 'publish preview --changed-since "origin/$GITHUB_BASE_REF" --out "$RUNNER_TEMP/preview"' in run
        upload = steps["Upload the previews"]
        assert upload["uses"] == "actions/upload-artifact@v4" and upload["id"] == "previews"
        assert upload["with"]["path"] == "${{ runner.temp }}/preview"
        comment = steps["Comment on the pull request"]
        assert comment["env"]["PREVIEW_URL"] == "${{ steps.previews.outputs.artifact-url }}"
        assert 'read("preview/summary.md")' in comment["run"]


def test_the_comment_shows_the_previews_beside_the_calendar_changes(tmp_path, cli):
    bare, work = first_pull_request(tmp_path, lambda seed: cli(tmp_path, "init", str(seed)))
    url = "https://github.com/team/newsroom/actions/runs/42/artifacts/9001"
    with GitHub(token="ghs_test", repo="team/newsroom") as api:
        runner = Runner(work / ".github/workflows/check.yml", "check", work,
                        {"GITHUB_REPOSITORY": "team/newsroom", "GITHUB_BASE_REF": "main", "GITHUB_SHA": "abcdef1234",
                         "GITHUB_API_URL": api.url},
                        {"secrets.GITHUB_TOKEN": "ghs_test", "github.event.pull_request.number": "7",
                         # the upload step is GitHub's own action: its output as it gives it
                         "steps.previews.outputs.artifact-url": url})
        for name in ("Check content and settings", "Calendar changes", "Previews of the changed items",
                     "Comment on the pull request"):
            done = runner.run(name)
            assert done.returncode == 0, (name, done.stdout, done.stderr)
        (comment,) = api.comments[7]
    body = comment["body"]
    calendar, previews = body.index("### Calendar changes"), body.index("### Previews")
    assert calendar < previews
    [started] = [p.relative_to(work).as_posix() for p in (work / "content").rglob("*.md")]
    assert f"1 changed item, each as its channels would send it" in body and f"(`{started}`) | added |" in body
    assert f"[Open the previews]({url}) (a zip of a small site: open index.html)" in body
    site = runner.temp / "preview"
    assert (site / "index.html").is_file() and (site / "summary.md").is_file()
    assert "### Previews" in runner.summary.read_text()
    subprocess.run(["git", "-C", str(work), "status"], check=True, capture_output=True)
