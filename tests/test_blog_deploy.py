"""The blog's site is derived state that really goes out: written, deployed (``git`` to a real bare
repository on disk, or the team's ``command``), and only then recorded; rebuilt by any run that finds
it missing or stale; and in CI, owned channels without a real destination are inactive."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from conftest import item

T = "2026-11-20T09:05:00Z"
GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t.test", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t.test"}

SETTINGS = """\
site:
  title: Test Newsroom
  url: https://news.test
timezone: UTC
channels:
  blog:
    type: blog
{deploy}"""


def approved(title: str, channels=("blog",)) -> str:
    return item(title, status="approved", approved_by="editor", author="writer", publish_at="2026-11-20T09:00",
                channels=list(channels))


def branch_files(remote, branch="gh-pages") -> list[str]:
    out = subprocess.run(["git", "--git-dir", str(remote), "ls-tree", "-r", "--name-only", branch],
                         capture_output=True, text=True)
    return out.stdout.split() if out.returncode == 0 else []


def commits(remote, branch="gh-pages") -> int:
    out = subprocess.run(["git", "--git-dir", str(remote), "rev-list", "--count", branch], capture_output=True, text=True)
    return int(out.stdout) if out.returncode == 0 else 0


@pytest.fixture
def remote(tmp_path):
    path = tmp_path / "site.git"
    subprocess.run(["git", "init", "-q", "--bare", str(path)], check=True)
    return path


def test_git_deploy_pushes_the_site_to_a_branch_and_records_after_it(project, cli, remote):
    deploy = f"    deploy:\n      git: {remote}\n      branch: gh-pages\n"
    root = project({"content/a.md": approved("Launch day")}, settings=SETTINGS.format(deploy=deploy))
    first = cli(root, "publish", "--now", T, env=GIT_ENV)
    assert first.exit_code == 0, first.output
    assert first.output.splitlines()[0] == "delivered  content/a.md → blog  https://news.test/a/"
    files = branch_files(remote)
    assert "a/index.html" in files and "index.html" in files and "atom.xml" in files
    assert ".newsroom-blog.json" not in files and ".newsroom-site.json" not in files  # bookkeeping stays home
    assert commits(remote) == 1
    # the project's own repository is untouched: the deploy keeps its index and objects in .cache/
    assert not (root / ".git").exists()

    again = cli(root, "publish", "--now", "2026-11-20T09:20:00Z", env=GIT_ENV)
    assert again.exit_code == 0 and commits(remote) == 1  # nothing new: nothing pushed

    shutil.rmtree(root / "public")  # a CI runner starts without the site
    (root / ".cache" / "publish-index.json").unlink(missing_ok=True)
    rebuilt = cli(root, "publish", "--now", "2026-11-20T09:30:00Z", env=GIT_ENV)
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "note: blog: the site was missing or out of date; rebuilt from the ledger" in rebuilt.output.splitlines()
    assert (root / "public" / "a" / "index.html").is_file()
    assert commits(remote) == 1  # the same site: the branch already serves it


def test_a_removed_site_is_rebuilt_even_when_nothing_is_due(project, cli):
    root = project({"content/a.md": approved("Launch day")}, settings=SETTINGS.format(deploy=""))
    assert cli(root, "publish", "--now", T).exit_code == 0
    quiet = cli(root, "publish", "--now", "2026-11-20T09:20:00Z")
    assert quiet.output.startswith("Nothing due")
    shutil.rmtree(root / "public")
    again = cli(root, "publish", "--now", "2026-11-20T09:30:00Z")
    assert again.exit_code == 0, again.output
    assert "note: blog: the site was missing or out of date; rebuilt from the ledger" in again.output.splitlines()
    assert (root / "public" / "a" / "index.html").is_file()


def test_a_failed_deploy_records_nothing_delivered_and_the_next_run_tries_again(project, cli, tmp_path):
    flag = tmp_path / "deploy-ok"
    deploy = f"    deploy:\n      command: test -f {flag} && cp -r \"$SITE_DIR\" {tmp_path}/served || (echo host unreachable >&2; exit 3)\n"
    root = project({"content/a.md": approved("Launch day")}, settings=SETTINGS.format(deploy=deploy))
    failed = cli(root, "publish", "--now", T)
    assert failed.exit_code == 1
    assert failed.output.splitlines()[0] == (
        "FAILED     content/a.md → blog  the site holding it could not be published: deploy (command `test -f "
        f"{flag} && cp -r \"$SITE_DIR\" {tmp_path}/served || (echo host unreachable >&2; exit 3)`) failed: the "
        "deploy command exited with 3: host unreachable; a later run tries again")
    ledger = (root / "state" / "ledger.jsonl").read_text()
    assert '"event":"delivered"' not in ledger
    flag.touch()
    ok = cli(root, "publish", "--now", "2026-11-20T09:20:00Z")
    assert ok.exit_code == 0, ok.output
    assert ok.output.splitlines()[0] == "delivered  content/a.md → blog  https://news.test/a/"
    assert (tmp_path / "served" / "a" / "index.html").is_file()


def test_in_ci_a_blog_without_deploy_and_a_newsletter_without_host_are_inactive(project, cli):
    settings = SETTINGS.format(deploy="") + """\
  newsletter:
    type: email
    from: "News <news@news.test>"
    unsubscribe_url: "https://news.test/u?token={token}"
    lists:
      all: audience/all.csv
"""
    root = project({"content/a.md": approved("Launch day", channels=("blog", "newsletter")),
                    "audience/all.csv": "email,name\nana@customers.example,Ana\n"}, settings=settings)
    result = cli(root, "publish", "--now", T, env={"CI": "true"})
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "note: blog: inactive, no deploy target: set channels.blog.deploy (git: REMOTE, or command: COMMAND); the "
        "site built on a CI runner is thrown away with it (1 entry waiting)",
        "note: newsletter: inactive, no SMTP host: set channels.newsletter.host (and port, security, username, "
        "password); the outbox written on a CI runner is thrown away with it (1 entry waiting)",
        "Nothing due at 2026-11-20 09:05 UTC.",
    ]
    assert not (root / "public").exists() and not (root / "outbox").exists()
    assert not (root / "state" / "ledger.jsonl").exists() or '"delivered"' not in (root / "state" / "ledger.jsonl").read_text()


def test_deploy_settings_are_checked(project, cli):
    deploy = "    deploy:\n      git: ../site.git\n      command: rsync -a public/ host:/srv\n"
    root = project({}, settings=SETTINGS.format(deploy=deploy))
    result = cli(root, "check")
    assert result.exit_code == 2  # publish.yml has an error: publish would not run
    assert "publish.yml:8: channels.blog.deploy: give exactly one of git: REMOTE or command: COMMAND" in result.output


#: edits a delivered item's file may get that no correction may apply yet: (name, the edit)
HELD_EDITS = [
    ("an error in its file", lambda text: text.replace("'2026-11-20T09:00'", "'20/11'")),
    ("back in review", lambda text: text.replace("status: approved", "status: review")),
    ("a file that does not load", lambda text: text.replace('title: "Launch day"', 'title: "Launch day')),
]


def _held_edit(project, cli, edit):
    """A delivered page, then its file edited (a new sentence) the way ``edit`` says."""
    root = project({"content/a.md": approved("Launch day"), "content/b.md": approved("Other news").replace("T09:00", "T08:00")},
                   settings=SETTINGS.format(deploy=""))
    assert cli(root, "publish", "--now", T).exit_code == 0
    path = root / "content" / "a.md"
    path.write_text(edit(path.read_text().replace("Body text.", "Body text. An unapproved sentence.")))
    return root


@pytest.mark.parametrize("name, edit", HELD_EDITS, ids=[n for n, _ in HELD_EDITS])
def test_an_edit_no_correction_applied_never_reaches_the_page(project, cli, name, edit):
    """The page shows what went out until a correction applies the edit, whatever makes the site be
    rebuilt meanwhile (here: the site removed); fixed and approved again, the edit goes out as a
    correction."""
    root = _held_edit(project, cli, edit)
    page = root / "public" / "a" / "index.html"
    quiet = cli(root, "publish", "--now", "2026-11-20T09:20:00Z")
    assert "rebuilt" not in quiet.output and "An unapproved sentence" not in page.read_text(), quiet.output
    shutil.rmtree(root / "public")
    again = cli(root, "publish", "--now", "2026-11-20T09:30:00Z")
    assert "note: blog: the site was missing or out of date; rebuilt from the ledger" in again.output.splitlines()
    assert "Body text." in page.read_text() and "An unapproved sentence" not in page.read_text(), again.output
    (root / "content" / "a.md").write_text(approved("Launch day").replace("Body text.", "Body text. Now approved."))
    fixed = cli(root, "publish", "--now", "2026-11-20T09:40:00Z")
    assert "corrected  content/a.md → blog" in fixed.output, fixed.output
    assert "Now approved." in page.read_text()


@pytest.mark.parametrize("name, edit", HELD_EDITS, ids=[n for n, _ in HELD_EDITS])
def test_a_page_that_went_out_and_is_no_longer_kept_is_said(project, cli, name, edit):
    """Without ``.cache/`` (the posts that went out are kept there) the page cannot be made as it went
    out: the run says what it did instead, and never silently."""
    root = _held_edit(project, cli, edit)
    shutil.rmtree(root / "public")
    shutil.rmtree(root / ".cache")
    again = cli(root, "publish", "--now", "2026-11-20T09:30:00Z")
    page = root / "public" / "a" / "index.html"
    if name == "a file that does not load":
        assert ("note: blog: content/a.md: its page is left out of the site: the file no longer loads as item 'a' "
                "(publish check lists its errors) and the page that went out is no longer kept in .cache/") \
            in again.output.splitlines()
        assert not page.exists()
    else:
        assert ("note: blog: content/a.md: its page shows an edit no correction has applied: the page that went out "
                "is no longer kept in .cache/ (publish check says why the correction waits)") in again.output.splitlines()
        assert "An unapproved sentence" in page.read_text()
    assert (root / "public" / "b" / "index.html").is_file()


def test_a_deleted_items_page_is_withdrawn_and_the_ledger_says_so(project, cli):
    """The site follows the files: a delivered item's file deleted takes its page down as a withdrawal
    does (a notice where it was, out of the index and feeds), and the ledger, status and the run say
    so, instead of a page gone while the ledger still calls it delivered."""
    import json

    root = _held_edit(project, cli, lambda text: text)
    (root / "content" / "a.md").unlink()
    run = cli(root, "publish", "--now", "2026-11-20T09:30:00Z")
    assert run.exit_code == 0, run.output
    assert "withdrawn  content/a.md → blog  its file content/a.md was deleted" in run.output, run.output
    page = (root / "public" / "a" / "index.html").read_text()
    assert "This page was withdrawn" in page and "Launch day" not in (root / "public" / "index.html").read_text()
    assert "Other news" in (root / "public" / "index.html").read_text()
    events = [json.loads(line) for line in (root / "state" / "ledger.jsonl").read_text().splitlines()]
    assert [(e["entry"], e["path"], e["cause"]) for e in events if e["event"] == "withdrawn"] == \
        [("a/blog", "content/a.md", "its file content/a.md was deleted")]
    status = cli(root, "status", "--now", "2026-11-20T09:40:00Z").output
    assert "1 delivered" in status and "  gone     content/a.md: withdrawn (its file was deleted)" in status, status
    again = cli(root, "publish", "--now", "2026-11-20T09:40:00Z")  # said and recorded once
    assert "withdrawn" not in again.output and "rebuilt" not in again.output, again.output


def test_a_deleted_items_withdrawal_is_recorded_by_the_next_run_when_a_run_died_before(project, cli):
    """A run killed after the site without the page was deployed, before the ledger said so: the next
    run finds the site current and records the withdrawal then."""
    import json

    root = _held_edit(project, cli, lambda text: text)
    (root / "content" / "a.md").unlink()
    assert cli(root, "publish", "--now", "2026-11-20T09:30:00Z").exit_code == 0
    ledger = root / "state" / "ledger.jsonl"
    lines = ledger.read_text().splitlines(keepends=True)
    assert json.loads(lines[-1])["event"] == "withdrawn"
    ledger.write_text("".join(lines[:-1]))  # as if the run had died before its record
    shutil.rmtree(root / ".cache", ignore_errors=True)
    again = cli(root, "publish", "--now", "2026-11-20T09:40:00Z")
    assert "withdrawn  content/a.md → blog  its file content/a.md was deleted" in again.output, again.output
    assert "rebuilt" not in again.output
    assert [json.loads(x)["event"] for x in ledger.read_text().splitlines()].count("withdrawn") == 1


def test_a_page_whose_path_is_taken_is_recorded_failed_not_delivered(project, cli):
    """Two items wanting one page (one of them kept as it went out, its file no longer loading): the
    page that is up stays (though the newcomer's id sorts first), and the newcomer is recorded failed
    with the build's words, never delivered to a page showing another item."""
    import json

    root = _held_edit(project, cli, lambda text: text.replace('title: "Launch day"', 'title: "Launch day'))
    (root / "content" / "c.md").write_text(item("Newcomer", status="approved", approved_by="editor", author="writer",
                                               id="0c", slug="a", publish_at="2026-11-20T09:20",
                                               channels=["blog"]))
    run = cli(root, "publish", "--now", "2026-11-20T09:30:00Z")
    assert ("FAILED     content/c.md → blog  its page was left out of the site: the blog page 'a/' is taken by "
            "item 'a'; give the item another slug; fix it and a later run tries again") in run.output, run.output
    page = (root / "public" / "a" / "index.html").read_text()
    assert "Launch day" in page and "Newcomer" not in page
    events = [json.loads(line) for line in (root / "state" / "ledger.jsonl").read_text().splitlines()]
    assert [e["event"] for e in events if e["entry"] == "0c/blog"] == ["claimed", "failed"]
    # given its own slug, it goes out
    (root / "content" / "c.md").write_text((root / "content" / "c.md").read_text().replace("slug: a", "slug: c"))
    again = cli(root, "publish", "--now", "2026-11-20T09:35:00Z")
    assert "delivered  content/c.md → blog  https://news.test/c/" in again.output, again.output
