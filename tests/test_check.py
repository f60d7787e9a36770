"""`publish.py check`: every problem, with its file and line, one broken file never hiding the others."""
import json
import shutil

from conftest import BASE_SETTINGS, FIXTURES, ROOT, item

BROKEN = FIXTURES / "broken"

EXPECTED = [
    ("content/Bad Name.md", 1, "slug", "the file name gives 'Bad Name', which is not a safe path segment; add slug: bad-name"),
    ("content/approved-without-approver.md", 3, "approved_by", "an approved item needs approved_by: the name of who approved it"),
    ("content/approved-without-approver.md", 5, "publish_at", "conflict: 2 entries on channel 'blog' at 2026-12-01 09:00 (with content/self-approved.md)"),
    ("content/approved-without-time.md", 6, "channels.blog", "approved but has no time on 'blog': give publish_at, channels.blog.at, or slots for the channel in publish.yml"),
    ("content/bare-date.md", 4, "publish_at", "'2026-11-27' is a date without a time (use 2026-11-27T09:00 or add the time you mean)"),
    ("content/colon-in-value.md", 2, "", "YAML: mapping values are not allowed in this context (a value holds ': '; put the whole value in quotes)"),
    ("content/crlf.md", 3, "status", "'drafted' is not one of idea, draft, review, approved, published, archived, withdrawn (did you mean 'draft'?)"),
    ("content/dst-gap.md", 4, "publish_at", "2026-03-29T02:30 does not exist in Europe/Berlin (clocks jump at the DST change); it could mean 2026-03-29T03:30+02:00 or 2026-03-29T01:30+01:00; write the one you mean"),
    ("content/dst-overlap.md", 4, "publish_at", "2026-10-25T02:30 happens twice in Europe/Berlin (clocks go back at the DST change): it could mean 2026-10-25T02:30+02:00 or 2026-10-25T02:30+01:00; write the offset you mean"),
    ("content/duplicate-key.md", 4, "title", "appears twice; keep one"),
    ("content/duplicate-slug-a.md", 3, "slug", "'same-slug' is also used by content/duplicate-slug-b.md; every item needs its own slug"),
    ("content/duplicate-slug-b.md", 3, "slug", "'same-slug' is also used by content/duplicate-slug-a.md; every item needs its own slug"),
    ("content/empty-front-matter.md", 1, "", "front matter is empty: title and status are required"),
    ("content/image-without-alt.md", 4, "image_alt", "an image needs alt text: describe it in image_alt for people who cannot see it"),
    ("content/no-front-matter.md", 1, "", "has no front matter: start the file with a line '---', the YAML keys (title, status …), then another '---'"),
    ("content/not-utf8.md", 2, "", "is not UTF-8 (byte 0xe9 on this line); save the file as UTF-8"),
    ("content/self-approved.md", 5, "approved_by", "'ana' wrote this item and cannot also approve it (require_second_pair_of_eyes is on): ask another editor"),
    ("content/self-approved.md", 6, "publish_at", "conflict: 2 entries on channel 'blog' at 2026-12-01 09:00 (with content/approved-without-approver.md)"),
    ("content/tab-indent.md", 5, "", "a tab is used for indentation; YAML needs spaces"),
    ("content/time-as-number.md", 4, "publish_at", "'09:00' is a time without a date (use YYYY-MM-DDT09:00)"),
    ("content/unclosed.md", 1, "", "front matter is not closed: add a line '---' after the last key"),
    ("content/unknown-channel.md", 5, "channels.mastadon", "no channel named 'mastadon' in publish.yml (did you mean 'mastodon'?)"),
    ("content/yes-no-booleans.md", 7, "channels.mastodon.enabled", "expected true or false, got 'maybe'"),
]


def test_broken_fixture_lists_every_problem_with_file_and_line(cli, tmp_path):
    root = tmp_path / "broken"
    shutil.copytree(BROKEN, root)
    result = cli(root, "check", "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.output)
    got = [(p["path"], p["line"], p["key"], p["message"]) for p in report["errors"]]
    assert got == EXPECTED
    assert [(p["path"], p["line"], p["key"], p["message"]) for p in report["warnings"]] == [
        ("content/image-without-alt.md", 4, "image", "'/images/x.png' is not in the project: put the file at "
                                                     "content/images/x.png (the blog copies it into the site) or "
                                                     "give a full URL"),
        ("content/unknown-key.md", 4, "publsh_at", "unknown key (did you mean 'publish_at'?)")]


def test_text_output_groups_errors_then_warnings(cli, tmp_path):
    root = tmp_path / "broken"
    shutil.copytree(BROKEN, root)
    result = cli(root, "check")
    out = result.output
    assert out.index("Errors") < out.index("content/Bad Name.md:1: slug:") < out.index("Warnings") \
        < out.index("content/unknown-key.md:4: publsh_at: unknown key (did you mean 'publish_at'?)")
    assert out.rstrip().endswith("16 items checked: 23 errors, 2 warnings in 22 files")


def test_the_traps_that_are_not_problems_load(cli, project):
    from scheduler.project import load_project as load

    root = project({
        "content/bom.md": b"\xef\xbb\xbf---\ntitle: BOM\nstatus: draft\n---\nBody\n",
        "content/crlf.md": b"---\r\ntitle: CRLF\r\nstatus: draft\r\nchannels:\r\n  mastodon:\r\n    thread: yes\r\n---\r\nBody\r\n",
        "content/time.md": item("Naive time", publish_at="2026-11-27 09:00"),
    })
    loaded = load(root)
    assert loaded.problems == []
    by = {i.slug: i for i in loaded.items}
    assert by["bom"].title == "BOM"
    assert by["crlf"].channels["mastodon"].thread is True
    assert by["time"].publish_at.isoformat() == "2026-11-27T08:00:00+00:00"  # Berlin is UTC+1 in November


def test_example_project_is_clean(cli):
    result = cli(ROOT, "check", "--strict", "--now", "2026-11-16T00:00Z")
    assert result.exit_code == 0, result.output
    assert "no problems" in result.output


def test_strict_makes_warnings_fail(cli, project):
    root = project({"content/a.md": item(publsh_at="2026-11-27T09:00")})
    assert cli(root, "check").exit_code == 0
    assert cli(root, "check", "--strict").exit_code == 1


def test_unusable_settings_exit_2_without_traceback(cli, project):
    root = project({"content/a.md": item()}, settings="site: [unclosed\n")
    result = cli(root, "check")
    assert result.exit_code == 2
    assert "publish.yml:2: YAML:" in result.output and "Traceback" not in result.output


def test_missing_settings_exit_2(cli, project):
    root = project({}, settings=None)
    result = cli(root, "check")
    assert result.exit_code == 2
    assert "publish.yml: not found" in result.output


def test_one_broken_file_does_not_hide_the_others(cli, project):
    root = project({
        "content/a.md": "---\ntitle: [\n---\n",
        "content/b.md": item(status="finished"),
        "content/c.md": item(publish_at="tomorrow"),
    })
    report = json.loads(cli(root, "check", "--format", "json").output)
    assert [p["path"] for p in report["errors"]] == ["content/a.md", "content/b.md", "content/c.md"]


def test_check_below_the_command_line_gives_one_verdict_per_file(project):
    """scheduler.project.check is what ``publish.py check`` prints and what a run can hold on: every
    layer's problems, grouped by the file they are in, publish.yml's apart."""
    from scheduler.project import check, load_project

    settings = BASE_SETTINGS + "pull:\n  pause:\n    mastodn: 1s\n"
    root = project({"content/a.md": item("A", status="approved", approved_by="ed", author="wr",
                                         publish_at="2026-12-01T09:00", channels=["blog"]),
                    "content/b.md": item("B", status="draft", channels=["mastadon"]),
                    "content/c.md": item("C", status="draft", channels=["blog"])}, settings=settings)
    verdict = check(load_project(root, cache=False))
    assert [(p.path, p.key) for p in verdict.errors] == [("content/b.md", "channels.mastadon"),
                                                          ("publish.yml", "pull.pause.mastodn")]
    assert [str(p) for p in verdict.settings] == [
        "publish.yml:14: pull.pause.mastodn: no channel named 'mastodn' (did you mean 'mastodon'?)"]
    assert [p.key for p in verdict.errors_in("content/b.md")] == ["channels.mastadon"]
    assert verdict.errors_in("content/a.md") == [] and verdict.errors_in("content/c.md") == []
    assert set(verdict.by_path()) == {"content/b.md", "publish.yml"}
    assert verdict.failed() and verdict.failed(strict=True)


def test_a_files_problem_without_a_line_sorts_before_its_lines():
    """Problems are listed by file, then line; one about the whole file (no line) comes first, and
    mixing one with line problems of the same file is no error."""
    import random

    from newsroom.problems import ERROR, WARNING, Problem, Verdict

    expected = [Problem("a.md", None, "", "is 1.2 MB", WARNING), Problem("a.md", 2, "title", "empty", ERROR),
                Problem("a.md", 2, "title", "empty", WARNING), Problem("a.md", 10, "body", "x", ERROR),
                Problem("b.md", None, "", "x", ERROR), Problem("b.md", 1, "", "x", ERROR)]
    for seed in range(5):
        shuffled = expected * 2  # repeats dropped
        random.Random(seed).shuffle(shuffled)
        assert Verdict(shuffled).problems == expected
