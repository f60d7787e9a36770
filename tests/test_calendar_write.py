"""`publish.py plan` and `plan --write`: the queue shown, then pinned in the files with nothing else changed."""
import json

from conftest import BASE_SETTINGS

SETTINGS = BASE_SETTINGS + """\
calendar:
  slots:
    - days: weekdays
      times: ['09:00', '13:00']
"""
NOW = "2026-11-23T07:00Z"  # Monday 08:00 Berlin

HEAD = "---\ntitle: {title}\nstatus: approved\nauthor: ana\napproved_by: ben\napproved_at: {approved}\n"

FORMS = {
    # at: next with a comment after it, keys in an unusual order
    "content/a-next.md": HEAD.format(title="A", approved="2026-11-01T09:00") + (
        "channels:\n"
        "  mastodon:\n"
        "    text: 'Hand-written: keep me'  # a comment\n"
        "    at: next   # take the next slot\n"
        "  blog: {}\n"
        "tags: [z, a]\n"
        "---\nBody stays.\n"),
    # a flow mapping, and an empty channel under a comment line
    "content/b-flow.md": HEAD.format(title="B", approved="2026-11-01T10:00") + (
        "# where it goes\n"
        "channels:\n"
        "  mastodon: {thread: true}\n"
        "---\nBody.\n"),
    "content/c-empty.md": HEAD.format(title="C", approved="2026-11-01T11:00") + (
        "channels:\n"
        "  blog:\n"
        "  mastodon:\n"
        "---\nBody.\n"),
    "content/d-list.md": HEAD.format(title="D", approved="2026-11-01T12:00") + (
        "channels: [blog, mastodon]  # both\n"
        "---\nBody.\n"),
    "content/f-flow-next.md": HEAD.format(title="F", approved="2026-11-01T14:00") + (
        "channels: {mastodon: {thread: true, at: 'next'}}\n"
        "---\nBody.\n"),
    "content/e-block-list.md": HEAD.format(title="E", approved="2026-11-01T13:00") + (
        "channels:\n"
        "  - mastodon   # social first\n"
        "  - blog\n"
        "summary: after the list\n"
        "---\nBody.\n"),
}

EXPECTED = {
    "content/a-next.md": HEAD.format(title="A", approved="2026-11-01T09:00") + (
        "channels:\n"
        "  mastodon:\n"
        "    text: 'Hand-written: keep me'  # a comment\n"
        "    at: 2026-11-23T09:00+01:00   # take the next slot\n"
        "  blog: {at: 2026-11-23T09:00+01:00}\n"
        "tags: [z, a]\n"
        "---\nBody stays.\n"),
    "content/b-flow.md": HEAD.format(title="B", approved="2026-11-01T10:00") + (
        "# where it goes\n"
        "channels:\n"
        "  mastodon: {at: 2026-11-23T13:00+01:00, thread: true}\n"
        "---\nBody.\n"),
    "content/c-empty.md": HEAD.format(title="C", approved="2026-11-01T11:00") + (
        "channels:\n"
        "  blog:\n"
        "    at: 2026-11-23T13:00+01:00\n"
        "  mastodon:\n"
        "    at: 2026-11-24T09:00+01:00\n"
        "---\nBody.\n"),
    "content/d-list.md": HEAD.format(title="D", approved="2026-11-01T12:00") + (
        "channels: {blog: {at: 2026-11-24T09:00+01:00}, mastodon: {at: 2026-11-24T13:00+01:00}}  # both\n"
        "---\nBody.\n"),
    "content/e-block-list.md": HEAD.format(title="E", approved="2026-11-01T13:00") + (
        "channels:\n"
        "    mastodon: {at: 2026-11-25T09:00+01:00}   # social first\n"
        "    blog: {at: 2026-11-24T13:00+01:00}\n"
        "summary: after the list\n"
        "---\nBody.\n"),
    "content/f-flow-next.md": HEAD.format(title="F", approved="2026-11-01T14:00") + (
        "channels: {mastodon: {thread: true, at: 2026-11-25T13:00+01:00}}\n"
        "---\nBody.\n"),
}


def test_plan_shows_the_queue(cli, project):
    root = project(FORMS, settings=SETTINGS)
    result = cli(root, "plan", "--now", NOW)
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "2026-11-23T09:00+01:00  mastodon      content/a-next.md  A"  # front-matter order
    assert lines[-1] == "10 of 10 waiting entries have a slot"
    rows = json.loads(cli(root, "plan", "--now", NOW, "--format", "json").output)
    assert [(r["path"], r["channel"], r["local"]) for r in rows][:3] == [
        ("content/a-next.md", "mastodon", "2026-11-23T09:00+01:00"),
        ("content/a-next.md", "blog", "2026-11-23T09:00+01:00"),
        ("content/b-flow.md", "mastodon", "2026-11-23T13:00+01:00")]
    # plan without --write changes nothing
    assert {p: (root / p).read_text() for p in FORMS} == FORMS


def test_plan_write_pins_times_and_keeps_everything_else(cli, project):
    root = project(FORMS, settings=SETTINGS)
    before = json.loads(cli(root, "plan", "--now", NOW, "--format", "json").output)
    result = cli(root, "plan", "--now", NOW, "--write")
    assert result.exit_code == 0
    assert "wrote content/d-list.md (2 times)" in result.output
    got = {p: (root / p).read_text() for p in FORMS}
    for path in FORMS:
        assert got[path] == EXPECTED[path], path
    # Pinned: the same times come back as fixed times, nothing is waiting, and check is clean.
    assert json.loads(cli(root, "plan", "--now", NOW, "--format", "json").output) == []
    rows = json.loads(cli(root, "calendar", "--now", NOW, "--format", "json").output)
    assert sorted((r["path"], r["channel"], r["local"]) for r in rows) == \
        sorted((r["path"], r["channel"], r["local"]) for r in before)
    assert {r["source"] for r in rows} == {"at"}
    assert cli(root, "check", "--now", NOW).exit_code == 0
    # Run again: nothing is waiting, nothing is written.
    assert cli(root, "plan", "--now", NOW, "--write").output == "no entry is waiting for a slot\n"
    assert {p: (root / p).read_text() for p in FORMS} == got


def test_plan_write_keeps_crlf_and_other_files_alone(cli, project):
    crlf = FORMS["content/a-next.md"].replace("\n", "\r\n").encode()
    root = project({"content/a-next.md": crlf, "content/fixed.md": "---\ntitle: F\nstatus: draft\n---\n"},
                   settings=SETTINGS)
    cli(root, "plan", "--now", NOW, "--write")
    assert (root / "content/a-next.md").read_bytes() == EXPECTED["content/a-next.md"].replace("\n", "\r\n").encode()
    assert (root / "content/fixed.md").read_text() == "---\ntitle: F\nstatus: draft\n---\n"


def test_plan_exit_1_when_an_entry_finds_no_slot(cli, project):
    settings = SETTINGS + "  blackout:\n    - 2026-11-01..2027-12-31\n"
    root = project({"content/a-next.md": FORMS["content/a-next.md"]}, settings=settings)
    result = cli(root, "plan", "--now", NOW)
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == "0 of 2 waiting entries have a slot"
