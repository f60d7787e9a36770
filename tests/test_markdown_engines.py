"""The two Markdown engines on the cases where they read the same text differently, the plain text
read off the same parse, GitHub's header ids, and the engine publish.yml chooses."""
import pytest

from channels import markup
from channels.markdown_engines import CMARK_GFM, PYTHON_MARKDOWN, engine, header_ids, slug

ENGINES = (CMARK_GFM, PYTHON_MARKDOWN)


def html(md: str, name: str) -> str:
    return markup.sanitise(markup.to_html(md, engine(name)))


# what GitHub's preview shows (cmark-gfm) and what python-markdown makes of the same text
CASES = {
    "two-space nested list": (
        "- a\n  - b\n- c\n",
        {CMARK_GFM: "<ul>\n<li>a\n<ul>\n<li>b</li>\n</ul>\n</li>\n<li>c</li>\n</ul>",
         PYTHON_MARKDOWN: "<ul>\n<li>a</li>\n<li>b</li>\n<li>c</li>\n</ul>"}),
    "continuation paragraph indented by three spaces": (
        "1. Install it\n\n   then restart.\n",
        {CMARK_GFM: "<ol>\n<li>\n<p>Install it</p>\n<p>then restart.</p>\n</li>\n</ol>",
         PYTHON_MARKDOWN: "<ol>\n<li>Install it</li>\n</ol>\n<p>then restart.</p>"}),
    "table": (
        "| plan | price |\n|:--|--:|\n| Team | 9 € |\n",
        {CMARK_GFM: '<table>\n<thead>\n<tr>\n<th align="left">plan</th>\n<th align="right">price</th>\n</tr>\n'
                    '</thead>\n<tbody>\n<tr>\n<td align="left">Team</td>\n<td align="right">9 €</td>\n</tr>\n'
                    '</tbody>\n</table>',
         # python-markdown aligns with style="", which the sanitiser drops
         PYTHON_MARKDOWN: "<table>\n<thead>\n<tr>\n<th>plan</th>\n<th>price</th>\n</tr>\n</thead>\n<tbody>\n"
                          "<tr>\n<td>Team</td>\n<td>9 €</td>\n</tr>\n</tbody>\n</table>"}),
    "footnote": (
        "True[^1].\n\n[^1]: A note.\n",
        {CMARK_GFM: '<p>True<sup class="footnote-ref"><a href="#fn-1" id="fnref-1">1</a></sup>.</p>\n'
                    '<section class="footnotes">\n<ol>\n<li id="fn-1">\n<p>A note. '
                    '<a href="#fnref-1" class="footnote-backref">↩</a></p>\n</li>\n</ol>\n</section>',
         PYTHON_MARKDOWN: '<p>True<sup id="fnref:1"><a class="footnote-ref" href="#fn:1">1</a></sup>.</p>\n'
                          '<div class="footnote">\n<hr>\n<ol>\n<li id="fn:1">\n<p>A note.&nbsp;'
                          '<a class="footnote-backref" href="#fnref:1" title="Jump back to footnote 1 in the text">'
                          '↩</a></p>\n</li>\n</ol>\n</div>'}),
    "header ids": (
        "## Q&A: what's new?\n\n## Intro\n\n## Intro\n",
        {CMARK_GFM: '<h2 id="qa-whats-new">Q&amp;A: what’s new?</h2>\n<h2 id="intro">Intro</h2>\n'
                    '<h2 id="intro-1">Intro</h2>',
         PYTHON_MARKDOWN: '<h2 id="qa-whats-new">Q&amp;A: what’s new?</h2>\n<h2 id="intro">Intro</h2>\n'
                          '<h2 id="intro_1">Intro</h2>'}),
    "smart quotes": (
        "\"Ready\" -- it's 'done'...\n",
        {CMARK_GFM: "<p>“Ready” – it’s ‘done’…</p>",
         PYTHON_MARKDOWN: "<p>“Ready” – it’s ‘done’…</p>"}),
}


@pytest.mark.parametrize("name", ENGINES)
@pytest.mark.parametrize("case", CASES)
def test_each_engine_reads_the_cases_as_documented(case, name):
    md, expected = CASES[case]
    assert html(md, name) == expected[name]


TEXT_SOURCE = ("Intro\n=====\n\nRead [the docs][d] and <https://a.example/> -- \"now\".\n\n"
               "- one\n  - nested\n- [x] done\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
               "A claim[^1].\n\n[d]: https://docs.example/\n[^1]: Source.\n")


@pytest.mark.parametrize("name,expected", [
    (CMARK_GFM, "Intro\n\nRead the docs (https://docs.example/) and https://a.example/ – “now”.\n\n"
                "- one\n  - nested\n- [x] done\n\na | b\n1 | 2\n\nA claim[1].\n\n[1] Source."),
    # python-markdown flattens the two-space nested list and knows no task lists
    (PYTHON_MARKDOWN, "Intro\n\nRead the docs (https://docs.example/) and https://a.example/ – “now”.\n\n"
                      "- one\n- nested\n- [x] done\n\na | b\n1 | 2\n\nA claim[1].\n\n[1] Source."),
])
def test_plain_text_comes_from_the_same_parse_as_the_html(name, expected):
    # no reference link, definition line or setext underline is left over as text
    assert markup.markdown_to_text(TEXT_SOURCE, engine(name)) == expected


def test_header_ids_as_github_derives_them_without_its_prefix():
    assert slug("Wie geht’s? Ça va — 東京 2026_v2!") == "wie-gehts-ça-va--東京-2026_v2"
    out = header_ids("<h1>A <em>b</em> &amp; C</h1><h2>A b  C</h2><h3>a-b--c</h3><h2>A b &amp; C</h2><h4>!!</h4>")
    assert out == ('<h1 id="a-b--c">A <em>b</em> &amp; C</h1><h2 id="a-b--c-1">A b  C</h2>'
                   '<h3 id="a-b--c-2">a-b--c</h3><h2 id="a-b--c-3">A b &amp; C</h2><h4>!!</h4>')
    assert "user-content-" not in html("# Title\n", CMARK_GFM)


def test_task_list_checkboxes_survive_the_sanitiser_and_nothing_else_does():
    out = html('- [ ] todo\n- [x] done\n\n<input type="text" name="q" value="x" onfocus="alert(1)">\n', CMARK_GFM)
    assert out == ('<ul>\n<li><input type="checkbox" disabled=""> todo</li>\n'
                   '<li><input type="checkbox" checked="" disabled=""> done</li>\n</ul>\n'
                   '<input disabled="">')  # another input keeps no type, name or handler, and is disabled


def test_cmark_gfm_frees_what_it_parses():
    """cmarkgfm's own wrapper keeps every parsed document and rendered buffer (~12 bytes a byte)."""
    def rss_kb() -> int:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))

    md = ("## A heading\n\nA paragraph with *emphasis*, a [link](https://a.example/) and a list:\n\n"
          "- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n") * 100   # about 13 KB
    cmark = engine(CMARK_GFM)
    for _ in range(20):
        cmark.html(md)
    before = rss_kb()
    for _ in range(300):
        cmark.html(md)
    assert rss_kb() - before < 15_000  # a leak of 12 bytes a byte would be ~47 MB


def write_settings(root, markdown: str) -> None:
    (root / "publish.yml").write_text("site: {title: T, url: https://t.example}\n" + markdown, encoding="utf-8")


def test_publish_yml_chooses_the_engine_and_its_extensions(tmp_path):
    from channels.render import markdown_engine
    from newsroom.settings import load_settings

    write_settings(tmp_path, "")
    settings, problems = load_settings(tmp_path)
    assert problems == [] and markdown_engine(settings).name == CMARK_GFM
    write_settings(tmp_path, "markdown:\n  engine: python-markdown\n  extensions: [tables, def_list]\n")
    settings, problems = load_settings(tmp_path)
    chosen = markdown_engine(settings)
    assert problems == [] and chosen.name == PYTHON_MARKDOWN and chosen.extensions == ("tables", "def_list")
    assert markup.to_html("Term\n: its definition\n", chosen) == "<dl>\n<dt>Term</dt>\n<dd>its definition</dd>\n</dl>"


def test_publish_yml_markdown_mistakes_are_named_at_their_line(tmp_path):
    from newsroom.settings import load_settings

    write_settings(tmp_path, "markdown:\n  engine: commonmark\n  extensions:\n    - tabels\n")
    _, problems = load_settings(tmp_path)
    assert [str(p) for p in problems] == [
        "publish.yml:3: markdown.engine: 'commonmark' is not one of cmark-gfm, python-markdown",
        "publish.yml:5: markdown.extensions[0]: 'tabels' is no python-markdown extension installed here "
        "(did you mean 'tables'?) (built in: abbr, admonition, attr_list, codehilite, def_list, extra, "
        "fenced_code, footnotes, legacy_attrs, legacy_em, md_in_html, meta, nl2br, sane_lists, smarty, tables, "
        "toc, wikilinks; or a module path such as pymdownx.tasklist)",
    ]
    write_settings(tmp_path, "markdown:\n  extensions: [tables]\n")
    _, problems = load_settings(tmp_path)
    assert [str(p) for p in problems] == [
        "publish.yml:3: markdown.extensions: extensions apply to python-markdown only; cmark-gfm has its own "
        "built in (add engine: python-markdown, or remove extensions)"]


MARKDOWN_BITS = ["# ", "## ", "- ", "  - ", "1. ", "   ", "> ", "| a | b |\n|---|---|\n", "```\n", "~~~", "[x](y)",
                 "[^1]", "[^1]: n\n", "![a](b.png)", "<a href='x'>", "</a>", "<script>", "&amp;", "**", "_", "~~",
                 "\n", "\n\n", "- [ ] ", "<https://a.example>", "\"", "'", "--", "…", "東京", "\t", "===\n", "<!--"]


@pytest.mark.parametrize("name", ENGINES)
def test_any_body_gives_html_and_text_without_a_traceback(name):
    from hypothesis import HealthCheck, given, settings, strategies as st

    chosen = engine(name)

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.lists(st.one_of(st.sampled_from(MARKDOWN_BITS), st.text(max_size=8)), max_size=40))
    def check(parts):
        body = "".join(parts)
        html = markup.sanitise(markup.to_html(body, chosen))
        text = markup.markdown_to_text(body, chosen)
        assert isinstance(html, str) and isinstance(text, str)
        assert "<script" not in html.lower() and "onerror" not in html

    check()
