"""`publish studio` over HTTP, as a whole process on loopback: the calendar it answers, the changes it
makes (one line of one item, committed when asked), and every refusal: rules, edits made on disk
meanwhile, paths outside the project, requests from other origins, an author approving their own item."""
import json
import os
import socket
import threading
import time
import urllib.error
import urllib.request

import pytest

from conftest import BASE_SETTINGS
from scheduler.page import unpack
from studio_process import Studio, git, git_repo

NOW = "2026-11-30T08:00Z"  # Monday 30 November, 09:00 in Berlin
SETTINGS = BASE_SETTINGS + """\
workflow:
  require_second_pair_of_eyes: true
calendar:
  quiet_hours: "22:00-07:00"
  blackout:
    - {date: 2026-12-24, reason: Christmas Eve}
"""
LAUNCH = """\
---
title: "Launch; big, bold"
status: review
author: ana
reviewers: [ben]
publish_at: 2026-12-01T09:00  # the launch
channels: {blog: {}, mastodon: {at: +30m}}
---
We launch today.
"""
CLASH = """\
---
title: Clash
status: approved
author: ana
approved_by: ben
publish_at: 2026-12-01T09:30
channels: [mastodon]
---
Body.
"""
DRAFT = """\
---
title: A draft with a title long enough to be cut in a month cell of any calendar
status: draft
author: cleo
---
Not yet.
"""


def files():
    return {"content/launch.md": LAUNCH, "content/clash.md": CLASH, "content/draft.md": DRAFT, ".gitignore": "/.cache/\n"}


@pytest.fixture
def newsroom(project):
    return git_repo(project(files(), settings=SETTINGS))


@pytest.fixture
def studio(newsroom):
    with Studio(newsroom, "--now", NOW) as s:
        yield s


def entry(studio, key):
    return next(e for e in unpack(studio.json("/api/calendar")) if e["key"] == key)


def revision(studio, path):
    data = studio.json("/api/calendar")
    paths = [data["s"][it[1]] + it[2] for it in data["items"]] + [loose[0] for loose in data["loose"]]
    return (data["revisions"] + [loose[4] for loose in data["loose"]])[paths.index(path)]


def test_the_studio_prints_its_loopback_address_and_answers_the_static_pages_data(studio, newsroom, cli):
    assert studio.first_line == f"studio at {studio.url} (3 items; Ctrl-C stops it)"
    data = studio.json("/api/calendar")
    rows = {r["key"]: r for r in json.loads(cli(newsroom, "calendar", "--now", NOW, "--format", "json",
                                                "--days", "60").output)}
    got = {e["key"]: e for e in unpack(data)}
    assert set(got) == set(rows) == {"launch/blog", "launch/mastodon", "clash/mastodon"}
    for key, r in rows.items():
        for k in ("path", "title", "channel", "local", "state", "flags", "notes", "source"):
            assert got[key][k] == r[k], (key, k)
    # What check says of each item rides along, and the item with no channel is on the board.
    problems = {data["s"][it[1]] + it[2]: data["problems"].get(str(n), []) for n, it in enumerate(data["items"])}
    assert problems["content/clash.md"] == [
        "error: publish_at: conflict: 2 entries on channel 'mastodon' at 2026-12-01 09:30 (with content/launch.md) (line 6)"]
    assert data["loose"][0][:4] == ["content/draft.md", DRAFT.split('title: ')[1].split("\n")[0], "draft", "cleo"]
    assert data["board"] == ["idea", "draft", "review", "approved", "published", "archived", "withdrawn"]


def test_a_move_rewrites_the_time_on_its_line_and_commits_naming_what_moved(studio, newsroom):
    before = (newsroom / "content/launch.md").read_text()
    status, answer = studio.post("/api/move", {"path": "content/launch.md", "channel": "mastodon", "date": "2026-12-02",
                                               "time": "10:15", "revision": revision(studio, "content/launch.md"),
                                               "commit": True})
    assert status == 200, answer
    sha = git(newsroom, "rev-parse", "--short", "HEAD").strip()
    assert answer["message"] == ("Move 'Launch; big, bold' on mastodon to 2026-12-02 10:15 (was 2026-12-01 09:30) "
                                 f"(committed {sha})")
    after = (newsroom / "content/launch.md").read_text()
    assert after == before.replace("mastodon: {at: +30m}", "mastodon: {at: 2026-12-02T10:15+01:00}")
    assert git(newsroom, "log", "-1", "--format=%s").strip() == \
        "Move 'Launch; big, bold' on mastodon to 2026-12-02 10:15 (was 2026-12-01 09:30)"
    assert git(newsroom, "status", "--porcelain") == ""
    assert entry(studio, "launch/mastodon")["local"] == "2026-12-02T10:15+01:00"
    # An entry whose time comes from publish_at gets a time of its own (plan --write's edit: the list of
    # channels becomes a mapping). Left uncommitted when the editor says so.
    status, answer = studio.post("/api/move", {"path": "content/clash.md", "channel": "mastodon", "date": "2026-12-03",
                                               "time": "08:00", "revision": revision(studio, "content/clash.md")})
    assert status == 200 and answer["message"] == "Move 'Clash' on mastodon to 2026-12-03 08:00 (was 2026-12-01 09:30)"
    assert (newsroom / "content/clash.md").read_text() == CLASH.replace(
        "channels: [mastodon]", "channels: {mastodon: {at: 2026-12-03T08:00+01:00}}")
    assert git(newsroom, "status", "--porcelain") == " M content/clash.md\n"
    assert "conflict" not in entry(studio, "clash/mastodon")["flags"]


def refusals():
    return [
        ({"channel": "mastodon", "date": "2026-12-02", "time": "23:30"}, 422,
         "2026-12-02 23:30 is in the quiet hours of 'mastodon' (22:00-07:00 Europe/Berlin); nothing was written"),
        ({"channel": "blog", "date": "2026-12-24", "time": "10:00"}, 422,
         "2026-12-24 is a blackout date on 'blog' (2026-12-24: Christmas Eve); nothing was written"),
        ({"channel": "mastodon", "date": "2027-03-28", "time": "02:30"}, 422,
         "2027-03-28T02:30 does not exist in Europe/Berlin (clocks jump at the DST change); it could mean "
         "2027-03-28T03:30+02:00 or 2027-03-28T01:30+01:00; write the one you mean; nothing was written"),
        ({"channel": "newsletter", "date": "2026-12-02", "time": "10:00"}, 404,
         "content/launch.md does not go to a channel named 'newsletter'"),
        ({"channel": "blog", "date": "2 December", "time": "10:00"}, 400,
         "'2 December 10:00' is not a date and time (use 2026-12-01 and 09:00)"),
        ({"channel": "blog", "date": "2026-12-02", "time": "10:00", "path": "../publish.yml"}, 403,
         "'../publish.yml' is outside the project; the studio writes only the project's items"),
        ({"channel": "blog", "date": "2026-12-02", "time": "10:00", "path": "/etc/passwd"}, 403,
         "'/etc/passwd' is outside the project; the studio writes only the project's items"),
        ({"channel": "blog", "date": "2026-12-02", "time": "10:00", "path": "content/../publish.yml"}, 404,
         "'content/../publish.yml' is not an item of this project (items live under content/)"),
        ({"channel": "blog", "date": "2026-12-02", "time": "10:00", "path": "content/outside.md"}, 403,
         "'content/outside.md' is outside the project; the studio writes only the project's items"),
        ({"channel": "blog", "date": "2026-12-02", "time": "10:00", "revision": "0123456789abcdef"}, 409,
         "content/launch.md changed since this page showed it; nothing was written. The calendar shows it as it "
         "is now: look, then try again."),
    ]


def test_refusals_say_why_and_write_nothing(project, tmp_path):
    root = git_repo(project(files(), settings=SETTINGS))
    outside = tmp_path / "elsewhere.md"
    outside.write_text(LAUNCH)
    (root / "content" / "outside.md").symlink_to(outside)  # a link out of the project is not followed
    snapshot = {p: p.read_bytes() for p in [*root.rglob("*.md"), root / "publish.yml", outside]}
    with Studio(root, "--now", NOW) as studio:
        rev = revision(studio, "content/launch.md")
        for given, code, message in refusals():
            status, answer = studio.post("/api/move", {"path": "content/launch.md", "revision": rev, **given})
            assert (status, answer) == (code, {"ok": False, "message": message}), given
        status, answer = studio.post("/api/move", {"path": "content/launch.md", "channel": "blog", "revision": rev,
                                                   "date": "2026-12-02", "time": "10:00"},
                                     headers={"Origin": "http://evil.test"})
        assert (status, answer["message"]) == (403, "changes come from the studio's own page only")
        assert studio.post("/api/move", b"not json")[0] == 400
        request = urllib.request.Request(studio.url + "api/calendar", headers={"Host": "rebound.test"})
        with pytest.raises(urllib.error.HTTPError) as wrong_host:
            urllib.request.urlopen(request, timeout=30)
        assert (wrong_host.value.code, wrong_host.value.read()) == (400, b"Invalid host header")
        assert studio.post("/api/status", {"path": "content/draft.md", "revision": revision(studio, "content/draft.md"),
                                           "status": "printed"}) == (400, {"ok": False, "message": (
            "'printed' is not a state of the workflow (idea, draft, review, approved, published, archived, withdrawn)")})
        assert studio.get("/static/..%2Fstudio.py")[0] == 404
        assert studio.get("/preview?path=../publish.yml")[0] == 403
    assert {p: p.read_bytes() for p in snapshot} == snapshot
    assert git(root, "status", "--porcelain") == "?? content/outside.md\n"


def test_an_edit_on_disk_is_never_overwritten_and_the_studio_follows_it(studio, newsroom):
    path = newsroom / "content/launch.md"
    shown = revision(studio, "content/launch.md")
    edited = LAUNCH.replace("We launch today.", "We launch today, at last.")
    path.write_text(edited)
    # Whether or not the watcher has reloaded yet, the revision the page showed is not the file's.
    status, answer = studio.post("/api/move", {"path": "content/launch.md", "channel": "blog", "revision": shown,
                                               "date": "2026-12-02", "time": "10:00"})
    assert status == 409 and answer["message"] in (
        "content/launch.md changed on disk since the studio loaded it; nothing was written. The calendar shows it "
        "as it is now: look, then try again.",
        "content/launch.md changed since this page showed it; nothing was written. The calendar shows it as it "
        "is now: look, then try again.")
    assert path.read_text() == edited
    fresh = studio.wait_for(lambda: (r := revision(studio, "content/launch.md")) != shown and r)
    status, answer = studio.post("/api/move", {"path": "content/launch.md", "channel": "blog", "revision": fresh,
                                               "date": "2026-12-02", "time": "10:00"})
    assert status == 200, answer
    assert path.read_text() == edited.replace("channels: {blog: {}", "channels: {blog: {at: 2026-12-02T10:00+01:00}")


def test_approve_takes_gits_user_name_and_refuses_the_author(studio, newsroom):
    rev = revision(studio, "content/launch.md")
    status, answer = studio.post("/api/approve", {"path": "content/launch.md", "revision": rev, "commit": True})
    assert (status, answer["message"]) == (403, "'Ana' wrote this item and cannot also approve it "
                                                "(require_second_pair_of_eyes is on): ask another editor; "
                                                "nothing was written")
    assert (newsroom / "content/launch.md").read_text() == LAUNCH
    git(newsroom, "config", "user.name", "Ben Okafor")
    status, answer = studio.post("/api/approve", {"path": "content/launch.md", "revision": rev, "commit": True})
    assert status == 200, answer
    assert (newsroom / "content/launch.md").read_text() == LAUNCH.replace(
        "status: review\n", "status: approved\napproved_by: Ben Okafor\n")
    assert git(newsroom, "log", "-1", "--format=%s|%an").strip() == \
        "Approve 'Launch; big, bold' (approved_by: Ben Okafor)|Ben Okafor"
    # A card dragged to another state: status is rewritten on its line.
    status, answer = studio.post("/api/status", {"path": "content/draft.md", "status": "review",
                                                 "revision": revision(studio, "content/draft.md")})
    assert (status, answer["message"]) == (200, f"Move '{DRAFT.split('title: ')[1].splitlines()[0]}' from draft to review")
    assert (newsroom / "content/draft.md").read_text() == DRAFT.replace("status: draft", "status: review")


def test_preview_is_renders_html_and_changes_stream_as_events(studio, newsroom, cli):
    status, body, headers = studio.get("/preview?path=content/launch.md")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert body.decode() == cli(newsroom, "render", "content/launch.md", "--format", "html").output
    assert "/500 characters" in body.decode()
    got: list[str] = []

    def listen():
        with urllib.request.urlopen(studio.url + "api/events", timeout=30) as r:
            for raw in r:
                got.append(raw.decode())
                if raw.startswith(b"data:"):
                    return

    reader = threading.Thread(target=listen, daemon=True)
    reader.start()
    time.sleep(0.5)
    (newsroom / "content/clash.md").write_text(CLASH.replace("Body.", "A new body."))
    reader.join(20)
    # First the new plan (the check of the changed file follows, with a second event).
    assert got[-2] == "event: changed\n" and got[-1].startswith("data: ")
    assert json.loads(got[-1][6:]) == {"paths": ["content/clash.md"], "gen": 3, "error": None, "checking": True}
    status, body, _ = studio.get("/preview?path=content/clash.md")
    assert "A new body." in body.decode()
    # The check follows: its problems are back, for the file as it is now.
    data = studio.wait_for(lambda: (d := studio.json("/api/calendar"))["checking"] is False and d)
    assert data["gen"] == 4 and "conflict" in data["problems"]["1"][0]


def test_a_port_in_use_is_a_clear_error(project):
    root = project(files(), settings=SETTINGS)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        import subprocess
        import sys

        from studio_process import ROOT
        done = subprocess.run([sys.executable, str(ROOT / "publish.py"), "--root", str(root), "studio", "--no-browser",
                               "--port", str(port)], capture_output=True, text=True, timeout=60,
                              env={**os.environ})
    assert done.returncode == 2
    assert done.stderr.strip().endswith(f"--port {port}: Address already in use; choose another port, or leave "
                                        "--port out for a free one")


CUSTOM = BASE_SETTINGS + """\
workflow:
  states:
    - draft
    - review
    - name: legal-review
      approval: true
      approvers: [Lee]
    - cleared
"""


def test_the_board_and_approvals_follow_the_teams_own_states(project):
    """A team's own states (workflow.states) are the board's columns; an approval in legal-review
    moves the item to the final state, and only a named approver may give it."""
    legal = LAUNCH.replace("status: review", "status: legal-review").replace("reviewers: [ben]\n", "")
    root = git_repo(project({"content/launch.md": legal, ".gitignore": "/.cache/\n"}, settings=CUSTOM))
    with Studio(root, "--now", NOW) as studio:
        data = studio.json("/api/calendar")
        assert data["board"] == ["idea", "draft", "review", "legal-review", "cleared", "published", "archived",
                                 "withdrawn"]
        assert data["final"] == "cleared"
        rev = revision(studio, "content/launch.md")
        git(root, "config", "user.name", "Ben Okafor")
        status, answer = studio.post("/api/approve", {"path": "content/launch.md", "revision": rev})
        assert status == 403 and "Lee" in answer["message"], answer
        assert (root / "content/launch.md").read_text() == legal
        git(root, "config", "user.name", "Lee")
        status, answer = studio.post("/api/approve", {"path": "content/launch.md", "revision": rev})
        assert status == 200, answer
    assert (root / "content/launch.md").read_text() == legal.replace(
        "status: legal-review\n", "status: cleared\napproved_by: Lee\n")
