"""`publish import jekyll|hugo|pelican`: posts written the way each tool's documentation shows
(Jekyll's `jekyll new` post, Hugo's front matter page, Pelican's "File metadata"), converted and
published to the blog; the parsers fuzzed."""
from __future__ import annotations

import json
import shutil

from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import FIXTURES
from newsroom.importer import convert, foreign_syntax, parse_post

IMPORTS = FIXTURES / "imports"
SETTINGS = """\
site: {title: Imported, url: https://imported.example}
timezone: UTC
dependencies: {live_check: false}
channels:
  blog: {type: blog}
"""


def test_each_tools_posts_are_converted_and_published_to_the_blog(cli, project, tmp_path):
    root = project({}, settings=SETTINGS)
    outputs = {}
    for tool in ("jekyll", "hugo", "pelican"):
        source = tmp_path / tool
        shutil.copytree(IMPORTS / tool, source)
        result = cli(root, "import", tool, str(source), "--approved-by", "Editor Ed")
        assert result.exit_code == 0, result.output
        outputs[tool] = result.output

    assert outputs["jekyll"] == (
        "imported _posts/2026-11-20-welcome-to-jekyll.markdown → content/2026/11/welcome-to-jekyll.md\n"
        "imported _posts/2026-11-21-second_post.md → content/2026/11/second-post.md\n"
        "imported _drafts/an-idea.md → content/imported/an-idea.md\n"
        "copied content/images/launch.png\n"
        "Needs a person\n"
        "  _posts/2026-11-20-welcome-to-jekyll.markdown:14: a Liquid tag ({% highlight ruby %}) only renders in "
        "the old tool: rewrite it as Markdown or HTML\n"
        "  _posts/2026-11-20-welcome-to-jekyll.markdown:18: a Liquid tag ({% endhighlight %}) only renders in the "
        "old tool: rewrite it as Markdown or HTML\n"
        "  _posts/2026-11-21-second_post.md:8: a Liquid variable ({{ page.date | date: \"%B %e, %Y\" }}) only "
        "renders in the old tool: rewrite it as Markdown or HTML\n"
        "3 imported, 0 kept, 0 skipped; 3 to look at. Then: publish check\n")
    assert "skipped content/posts/_index.md: a Hugo list page, not a post\n" in outputs["hugo"]
    assert ("  content/posts/toml-post.md:13: a Hugo shortcode ({{< youtube 0RKpf3rK57I >}}) only renders in the "
            "old tool: rewrite it as Markdown or HTML\n") in outputs["hugo"]
    assert "skipped content/about.rst: .rst posts are not converted: rewrite it as Markdown\n" in outputs["pelican"]
    assert ("  content/my-super-post.md:14: a Pelican link ({filename}) only renders in the old tool: rewrite it "
            "as Markdown or HTML\n") in outputs["pelican"]

    jekyll = (root / "content/2026/11/welcome-to-jekyll.md").read_text()
    assert jekyll.startswith("---\ntitle: Welcome to Jekyll!\npublish_at: 2026-11-20T10:00+01:00\nstatus: approved\n"
                             "approved_by: Editor Ed\ntags: [jekyll, update]\nslug: welcome-to-jekyll\n"
                             "channels: [blog]\n---\n")
    assert "![The launch](/images/launch.png)" in jekyll
    pelican = (root / "content/2026/11/my-super-post.md").read_text()
    assert "author: Alexis Metaireau\n" in pelican and "tags: [pelican, publishing, Python]\n" in pelican
    assert "summary: Short version for index and feeds\n" in pelican and "![A pelican](/images/pelican.png)" in pelican
    toml = (root / "content/2026/11/toml-post.md").read_text()
    assert "publish_at: 2026-11-20T09:00-08:00\n" in toml and "author: John Smith\n" in toml
    assert "status: draft\n" in (root / "content/2026/11/yaml-draft.md").read_text()
    assert "status: draft\n" in (root / "content/imported/an-idea.md").read_text()  # from _drafts/
    assert "status: draft\n" in (root / "content/2026/11/draft-post.md").read_text()  # Pelican Status: draft

    checked = cli(root, "check", "--now", "2026-11-19T00:00Z")
    assert checked.exit_code == 0, checked.output
    published = cli(root, "publish", "--now", "2026-11-25T12:00Z")
    assert published.exit_code == 0, published.output
    delivered = sorted(line.split(" → ")[0].split()[-1] for line in published.output.splitlines()
                       if line.startswith("delivered"))
    assert delivered == ["content/2026/11/bundle.md", "content/2026/11/json-front-matter.md",
                         "content/2026/11/my-super-post.md", "content/2026/11/second-post.md",
                         "content/2026/11/toml-post.md", "content/2026/11/welcome-to-jekyll.md"]
    site = root / "public"
    for slug in ("welcome-to-jekyll", "second-post", "toml-post", "json-front-matter", "bundle", "my-super-post"):
        assert (site / slug / "index.html").is_file()
    for image in ("launch.png", "harbour.png", "cover.png", "pelican.png"):
        assert (site / "images" / image).read_bytes().startswith(b"\x89PNG")
    assert 'src="/images/harbour.png"' in (site / "toml-post/index.html").read_text() or \
        "/images/harbour.png" in (site / "toml-post/index.html").read_text()


def test_import_never_overwrites_and_says_so(cli, project, tmp_path):
    root = project({}, settings=SETTINGS)
    shutil.copytree(IMPORTS / "pelican", tmp_path / "pelican")
    cli(root, "import", "pelican", str(tmp_path / "pelican"))
    target = root / "content/2026/11/my-super-post.md"
    assert "status: review\n" in target.read_text()  # without --approved-by: for review
    target.write_text(target.read_text().replace("status: review", "status: draft"))
    again = cli(root, "import", "pelican", str(tmp_path / "pelican"), "--format", "json")
    report = json.loads(again.output)
    assert report["imported"] == [] and sorted(report["kept"]) == ["content/2026/11/draft-post.md",
                                                                    "content/2026/11/my-super-post.md"]
    assert "status: draft\n" in target.read_text()


def test_parsers_read_every_format_with_lines():
    toml = parse_post("+++\ntitle = 'x'\ndate = 2026-01-02T03:04:05Z\n+++\nbody\n")
    assert (toml.fmt, toml.meta["title"], toml.body, toml.lines) == ("toml", "x", "body\n", {"title": 2, "date": 3})
    bad = parse_post("+++\ntitle = \n+++\n")
    assert bad.problems and bad.problems[0][0] == 2
    pelican = parse_post("Title: A\nTags: a; b, c\n    d\n\nBody")
    assert pelican.meta == {"title": "A", "tags": "a; b, c d"} and pelican.body == "Body" and pelican.body_line == 5
    assert convert("pelican", "a.md", pelican, approved_by=None).front["tags"] == ["a", "b, c d"]
    broken_json = parse_post('{\n  "title": "x",\n  "date": \n}\nbody')
    assert broken_json.problems[0] == (4, "JSON front matter: Expecting value")


_line = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
_starts = st.sampled_from(["---\n", "+++\n", "{", "Title: ", "", "---\r\n", "\ufeff---\n"])


@settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(start=_starts, lines=st.lists(_line, max_size=12), tool=st.sampled_from(["jekyll", "hugo", "pelican"]))
def test_fuzzed_posts_never_crash_and_every_problem_has_a_line(start, lines, tool):
    text = start + "\n".join(lines)
    post = parse_post(text)
    total = text.count("\n") + 2
    for line, message in post.problems:
        assert isinstance(line, int) and 1 <= line <= total + 1 and message
    converted = convert(tool, "posts/2026-01-02-fuzz.md", post, approved_by="Ed")
    assert converted.front["title"] and converted.front["slug"]
    for line, message in foreign_syntax(post.body, post.body_line):
        assert line >= post.body_line and message
