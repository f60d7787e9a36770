"""Content written for other tools (Jekyll, Hugo, Pelican) is read or named, never skipped silently."""
import json

from conftest import item


def problems(cli, root, *args):
    report = json.loads(cli(root, "check", "--format", "json", *args).output)
    return {(p["path"], p["line"], p["key"], p["message"], sev) for sev in ("errors", "warnings") for p in report[sev]}


def test_markdown_files_are_items(cli, project):
    root = project({"content/2026-11-20-jekyll-default.markdown": item("Jekyll's extension", status="draft")})
    result = cli(root, "check")
    assert result.output == "1 items checked: no problems\n"


def test_another_tools_keys_say_which_key_we_read(cli, project):
    root = project({
        "content/dated.md": "---\ntitle: Dated\nstatus: draft\ndate: 2026-11-20 10:00:00 +0100\ncategories: [news]\n---\nBody\n",
        "content/drafted.md": "---\ntitle: Drafted\nstatus: approved\napproved_by: ben\ndraft: true\n---\nBody\n",
    })
    got = problems(cli, root)
    hint = "(publish import converts a whole folder)"
    assert ("content/dated.md", 4, "date", f"is another tool's key: use publish_at {hint}", "warnings") in got
    assert ("content/dated.md", 5, "categories", f"is another tool's key: use tags {hint}", "warnings") in got
    assert ("content/drafted.md", 5, "draft", f"is another tool's key: use status (status: draft) {hint}",
            "errors") in got
    assert not [p for p in got if "unknown key" in p[3]]


def test_front_matter_in_another_tools_format_is_named(cli, project):
    root = project({
        "content/hugo-toml.md": "+++\ntitle = 'Hugo'\ndate = 2026-11-20T10:00:00Z\n+++\nBody\n",
        "content/hugo-json.md": '{\n  "title": "Hugo JSON"\n}\nBody\n',
        "content/pelican.md": "Title: Pelican\nDate: 2026-11-20 10:20\n\nBody\n",
    })
    got = problems(cli, root)
    tail = ": write YAML between '---' lines instead (publish import converts a whole folder)"
    assert {p[:4] for p in got} == {
        ("content/hugo-toml.md", 1, "", "has TOML front matter (+++, as Hugo writes it)" + tail),
        ("content/hugo-json.md", 1, "", "has JSON front matter (as Hugo writes it)" + tail),
        ("content/pelican.md", 1, "", "has a 'Key: value' header (as Pelican writes it)" + tail)}


def test_a_file_under_content_that_is_not_read_is_named(cli, project):
    root = project({
        "content/ok.md": item("Fine", status="draft"),
        "content/about.rst": "About\n=====\n",
        "content/_unpublished.md": item("Jekyll-style draft", status="draft"),
        "content/_drafts/later.md": item("Later", status="draft"),
        "content/images/photo.png": b"\x89PNG\r\n",
        "content/.DS_Store": b"\0",
    })
    result = cli(root, "check")
    assert result.exit_code == 0
    assert result.output == (
        "Warnings\n"
        "  content/_drafts/: is not read (a folder whose name starts with '_'): rename it to make its files items\n"
        "  content/_unpublished.md: is not read: its name starts with '_'; rename it to make it an item\n"
        "  content/about.rst: is not read: only .md and .markdown files are items; rename it if it is one\n"
        "1 items checked: 0 errors, 3 warnings in 3 files\n")
