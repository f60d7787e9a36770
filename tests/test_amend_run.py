"""Corrections and withdrawals in the publish run: an item delivered to the blog and Mastodon (its
loopback server following mastodon/documentation), then corrected, then withdrawn — each step once,
recorded in the ledger with the revision it applied, and the blog's index, feeds and sitemap following."""
from __future__ import annotations

import json

import pytest

from conftest import item, write_project
from publishing import BLOG_AND_MASTODON, HEAD, ledger
from publishing import run_mastodon as run  # at publishing.T, 2026-11-20 09:00 UTC, unless told
from servers.mastodon import MastodonServer

SETTINGS = HEAD + BLOG_AND_MASTODON + """\
  chat:
    type: slack
    webhook: env:SLACK_URL
"""


def launch(body="Launch is on Tuesday.\n", status="approved", **keys):
    keys.setdefault("approved_by", "editor")
    return item("Launch", status=status, body=body, author="writer", publish_at="2026-11-20T09:00",
                channels=["blog", "mastodon"], summary="The launch", **keys)


@pytest.fixture
def server():
    with MastodonServer() as s:
        yield s


@pytest.fixture
def newsroom(tmp_path, server):
    root = tmp_path / "p"
    write_project(root, {"content/launch.md": launch(),
                         "templates/mastodon/post.j2": "{{ title }}: {{ body_text }}\n{{ link }}\n"},
                  SETTINGS.format(url=server.url))
    return root


def events(root, kind):
    return [(e["entry"], e["revision"]) for e in ledger(root) if e["event"] == kind]


def edit(root, body, **keys):
    (root / "content" / "launch.md").write_text(launch(body, **keys))


def revision(root):
    from scheduler.project import load_project

    return load_project(root).items[0].revision


def test_a_correction_edits_the_post_once_and_the_blog_moves_its_updated(newsroom, server):
    first = run(newsroom, "publish")
    assert first.exit_code == 0, first.output
    (sid,) = server.statuses
    atom_before = (newsroom / "public" / "atom.xml").read_text()

    edit(newsroom, "Launch is on Wednesday.\n")
    rev = revision(newsroom)
    fixed = run(newsroom, "publish", now="2026-11-21T10:00:00Z")
    assert fixed.exit_code == 0, fixed.output
    assert server.histories[sid][-1].startswith("Launch: Launch is on Wednesday.")
    assert len(server.histories[sid]) == 2
    assert sorted(events(newsroom, "corrected")) == [("launch/blog", rev), ("launch/mastodon", rev)]
    assert "Launch is on Wednesday." in (newsroom / "public" / "launch" / "index.html").read_text()
    atom = (newsroom / "public" / "atom.xml").read_text()
    assert atom != atom_before and "<updated>2026-11-21T10:00:00Z</updated>" in atom
    assert "<lastmod>2026-11-21T10:00:00Z</lastmod>" in (newsroom / "public" / "sitemap.xml").read_text()

    again = run(newsroom, "publish", now="2026-11-21T11:00:00Z")  # the same revision: nothing more
    assert again.exit_code == 0, again.output
    assert len(server.histories[sid]) == 2 and len(events(newsroom, "corrected")) == 2


def test_a_correction_waits_for_approval(newsroom, server):
    run(newsroom, "publish")
    (sid,) = server.statuses
    edit(newsroom, "Launch is on Wednesday.\n", status="review", approved_by=None, reviewers=["editor"])
    held = run(newsroom, "publish", now="2026-11-21T10:00:00Z")
    assert held.exit_code == 0, held.output
    assert len(server.histories[sid]) == 1 and not events(newsroom, "correcting")


def test_an_edit_that_leaves_the_post_the_same_asks_nothing_of_the_platform(newsroom, server):
    run(newsroom, "publish")
    (sid,) = server.statuses
    edit(newsroom, "Launch is on Tuesday.\n", tags=["launch"])  # the Mastodon template shows no tags
    out = run(newsroom, "publish", now="2026-11-21T10:00:00Z")
    assert out.exit_code == 0, out.output
    assert not server.requests(method="PUT")
    assert events(newsroom, "corrected") == [("launch/blog", revision(newsroom))]


def test_a_withdrawal_deletes_the_status_and_leaves_a_notice_where_the_page_was(newsroom, server):
    run(newsroom, "publish")
    (sid,) = server.statuses
    edit(newsroom, "Launch is on Tuesday.\n", status="withdrawn", reason="The launch was cancelled.")
    out = run(newsroom, "publish", now="2026-11-22T10:00:00Z")
    assert out.exit_code == 0, out.output
    assert server.deleted == [sid]
    assert sorted(e for e, _ in events(newsroom, "withdrawn")) == ["launch/blog", "launch/mastodon"]
    page = (newsroom / "public" / "launch" / "index.html").read_text()
    assert "This page was withdrawn" in page and "The launch was cancelled." in page
    for listing in ("index.html", "atom.xml", "rss.xml", "sitemap.xml", "tags/index.html"):
        assert "news.test/launch/" not in (newsroom / "public" / listing).read_text(), listing

    again = run(newsroom, "publish", now="2026-11-23T10:00:00Z")
    assert again.exit_code == 0 and len(server.requests(method="DELETE")) == 1
    assert "This page was withdrawn" in (newsroom / "public" / "launch" / "index.html").read_text()


def test_expiry_unpublishes_from_the_blog_and_deletes_the_status(newsroom, server):
    edit(newsroom, "Launch is on Tuesday.\n", expires_at="2026-11-25T00:00")
    run(newsroom, "publish")
    (sid,) = server.statuses
    before = run(newsroom, "publish", now="2026-11-24T23:00:00Z")
    assert before.exit_code == 0 and sid in server.statuses
    assert "news.test/launch/" in (newsroom / "public" / "atom.xml").read_text()

    after = run(newsroom, "publish", now="2026-11-25T00:15:00Z")
    assert after.exit_code == 0, after.output
    assert sid not in server.statuses
    assert "news.test/launch/" not in (newsroom / "public" / "atom.xml").read_text()
    assert "news.test/launch/" not in (newsroom / "public" / "index.html").read_text()
    reasons = {e["entry"]: e["reason"] for e in ledger(newsroom) if e["event"] == "withdrawn"}
    assert reasons == {"launch/blog": "expired at 2026-11-25 00:00 UTC", "launch/mastodon": "expired at 2026-11-25 00:00 UTC"}


def test_check_explains_what_a_withdrawal_will_do_on_each_channel_before_it_is_merged(newsroom, server):
    run(newsroom, "publish")
    (sid,) = server.statuses
    edit(newsroom, "Launch is on Tuesday.\n", status="withdrawn")
    missing = run(newsroom, "check")
    assert missing.exit_code == 1
    assert "content/launch.md:3: reason: a withdrawn item needs reason: why it is taken back (shown where its page " \
           "was)" in missing.output
    edit(newsroom, "Launch is on Tuesday.\n", status="withdrawn", reason="Cancelled.")
    out = run(newsroom, "check")
    assert out.exit_code == 0, out.output
    assert ("content/launch.md:3: status: withdrawn: Cancelled.: on blog its page leaves the index, feeds and "
            "sitemap by the next run (https://news.test/launch/)") in out.output
    assert ("content/launch.md:3: status: withdrawn: Cancelled.: on mastodon its post is deleted by the next run "
            f"(https://mastodon.test/@newsroom/{sid})") in out.output
    assert sid in server.statuses  # check changes nothing


def test_the_calendar_and_status_show_corrections_and_withdrawals(newsroom, server):
    run(newsroom, "publish")
    edit(newsroom, "Launch is on Wednesday.\n", status="review", approved_by=None, reviewers=["editor"])
    waiting = run(newsroom, "status", "--now", "2026-11-21T10:00:00Z")
    assert "  changed  content/launch.md: edited after it went out (the correction waits for approval (status is " \
           "review))" in waiting.output
    edit(newsroom, "Launch is on Wednesday.\n")
    run(newsroom, "publish", now="2026-11-21T10:00:00Z")
    cal = json.loads(run(newsroom, "calendar", "--format", "json", "--now", "2026-11-21T10:00:00Z",
                         "--since", "2026-11-20").output)
    rows = cal.get("entries", cal) if isinstance(cal, dict) else cal
    notes = {r["channel"]: r.get("notes") for r in rows}
    assert "corrected 1×" in notes["mastodon"] and "corrected 1×" in notes["blog"]
    status = run(newsroom, "status", "--now", "2026-11-21T10:00:00Z").output
    assert "  fixed    content/launch.md: 1 correction(s), the last at 2026-11-21 10:00 UTC" in status

    edit(newsroom, "Launch is on Wednesday.\n", status="withdrawn", reason="Cancelled.")
    run(newsroom, "publish", now="2026-11-22T10:00:00Z")
    cal = json.loads(run(newsroom, "calendar", "--format", "json", "--now", "2026-11-22T10:00:00Z",
                         "--since", "2026-11-20").output)
    rows = cal.get("entries", cal) if isinstance(cal, dict) else cal
    assert {r["channel"]: r["state"] for r in rows} == {"blog": "withdrawn", "mastodon": "withdrawn"}
    status = run(newsroom, "status", "--now", "2026-11-22T10:00:00Z").output
    assert "  gone     content/launch.md: withdrawn (withdrawn: Cancelled.)" in status


def test_status_says_why_an_edit_is_not_corrected_and_lists_none_that_said_the_same(newsroom, server):
    run(newsroom, "publish")
    # an edit with an error in its file: the run holds it, and status says so rather than "due"
    edit(newsroom, "Launch is on Wednesday.\n")
    path = newsroom / "content" / "launch.md"
    path.write_text(path.read_text().replace("'2026-11-20T09:00'", "'27/11'"))
    held = run(newsroom, "status", "--now", "2026-11-21T10:00:00Z")
    assert held.output.count("  changed  content/launch.md: edited after it went out (the correction is held: "
                             "the file has errors (publish check lists them))") == 2, held.output
    # an edit only the blog shows (its summary): the blog is corrected, Mastodon's post says the same
    path.write_text(launch().replace("summary: The launch", "summary: The launch, summed up again"))
    done = run(newsroom, "publish", now="2026-11-21T10:00:00Z")
    assert "corrected  content/launch.md → blog" in done.output, done.output
    assert "unchanged  content/launch.md → mastodon" in done.output, done.output
    status = run(newsroom, "status", "--now", "2026-11-21T10:05:00Z").output
    assert "changed  content/launch.md" not in status, status
    assert "cannot edit" not in status


def test_a_published_file_that_loads_under_another_id_is_held_not_posted_again(newsroom, server):
    """A slug added to an item that went out gives it another id (the ledger's key): it would go out
    again as a new item on every channel. check says so at the line, and the run holds it."""
    run(newsroom, "publish")
    (sid,) = server.statuses
    path = newsroom / "content" / "launch.md"
    path.write_text(launch().replace("status: approved", "slug: launch-day\nstatus: approved"))
    check = run(newsroom, "check", "--format", "json", now="2026-11-20T10:00:00Z")
    found = [(p["path"], p["line"], p["message"]) for p in json.loads(check.output)["errors"] if p["key"] == "id"]
    assert found == [("content/launch.md", 3, "this file went out as 'launch' (on blog, mastodon); it now loads as "
                      "'launch-day', a new item that goes out again on its channels: give it id: launch to keep it "
                      "the item that went out, or write id: launch-day to make it a new one")], check.output
    held = run(newsroom, "publish", now="2026-11-20T10:00:00Z")  # inside mastodon's grace: it would go
    assert "blocked    content/launch.md → mastodon" in held.output, held.output
    assert list(server.statuses) == [sid]  # not posted again
    # a new item on purpose: its id written out makes it a warning (the run would send it as new)
    path.write_text(launch().replace("status: approved", "id: launch-day\nslug: launch-day\nstatus: approved"))
    report = json.loads(run(newsroom, "check", "--format", "json", now="2026-11-20T10:00:00Z").output)
    assert [p["line"] for p in report["warnings"] if p["key"] == "id"] == [3]
    assert not [p for p in report["errors"] if p["key"] == "id"]
    # the same item kept (its id written out as it went out): nothing goes out again, nothing to say
    path.write_text(launch().replace("status: approved", "id: launch\nslug: launch-day\nstatus: approved"))
    report = json.loads(run(newsroom, "check", "--format", "json", now="2026-11-20T10:05:00Z").output)
    assert not [p for p in report["errors"] + report["warnings"] if p["key"] == "id"]
    kept = run(newsroom, "publish", now="2026-11-20T10:05:00Z")
    assert "delivered" not in kept.output and list(server.statuses) == [sid], kept.output


def test_check_warns_before_a_deleted_or_renamed_files_page_is_withdrawn(newsroom, server):
    run(newsroom, "publish")
    (newsroom / "content" / "launch.md").rename(newsroom / "content" / "launch-day.md")
    check = run(newsroom, "check", now="2026-11-21T10:00:00Z")
    assert ("content/launch.md: went out as 'launch' (on blog, mastodon) and the file is gone: the next run "
            "withdraws its blog page; if the file was renamed, give the new one id: launch, or it goes out again "
            "as a new item") in check.output, check.output


def test_status_says_a_claim_without_receipt_waits_for_its_item_when_the_file_is_gone(newsroom, server):
    """A run killed after the claim left no receipt, and the file was deleted before the next run: no
    run reconciles an entry whose item does not load, so status does not promise it does."""
    import shutil as sh

    from conftest import item as make_item

    run(newsroom, "publish")
    (newsroom / "content" / "news.md").write_text(make_item(
        "News", status="approved", approved_by="editor", author="writer", publish_at="2026-11-20T10:00",
        channels=["mastodon"]))
    claim = {"event": "claimed", "entry": "news/mastodon", "item": "news", "channel": "mastodon",
             "path": "content/news.md", "revision": "0", "run": "gone-run", "at": "2026-11-20T10:00:00+00:00"}
    with open(newsroom / "state" / "ledger.jsonl", "a") as f:
        f.write(json.dumps(claim) + "\n")
    sh.rmtree(newsroom / ".cache", ignore_errors=True)
    said = run(newsroom, "status", "--now", "2026-11-20T10:05:00Z").output
    assert "the next publish reconciles it" in said and "no item" not in said, said
    (newsroom / "content" / "news.md").unlink()
    said = run(newsroom, "status", "--now", "2026-11-20T10:05:00Z").output
    assert ("no receipt, its run has ended, and no item 'news' loads any more: it may have gone out; restore "
            "content/news.md (or its id:) and the next publish reconciles it") in said, said
