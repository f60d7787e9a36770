"""Markdown bodies: segments, sanitising, absolute links, images without alt text."""
from channels import markup

BODY = """Everyone reads this.

::: segment smb
Small teams: start small.
:::

::: segment enterprise
Enterprise: talk to your manager.
:::

Everyone again.
"""


def test_segments_select_blocks_and_keep_everyones_text():
    smb, notes = markup.select_segment(BODY, "smb", ("smb", "enterprise"))
    assert notes == []
    assert "Small teams" in smb and "Enterprise" not in smb
    assert smb.startswith("Everyone reads this.") and smb.rstrip().endswith("Everyone again.")
    everyone, _ = markup.select_segment(BODY, None, ("smb", "enterprise"))
    assert "Small teams" not in everyone and "Enterprise" not in everyone and "Everyone again." in everyone


def test_segment_problems_name_the_body_line():
    body = "Intro\n\n::: segment smbb\nText\n:::\n\n::: segment smb\nNever closed\n"
    _, notes = markup.select_segment(body, None, ("smb",))
    assert [(n.line, n.message) for n in notes] == [
        (3, "segment block 'smbb' is not in this item's segments (smb); add it to segments: or fix the name"),
        (7, "segment block 'smb' is never closed: add a line ':::' after it"),
    ]


def test_segment_markers_inside_code_fences_are_text():
    body = "```\n::: segment smb\n```\n"
    out, notes = markup.select_segment(body, None, ("smb",))
    assert out == body and notes == []


def test_sanitiser_removes_scripts_handlers_and_javascript_links():
    html = markup.to_html('Hi <script>alert(1)</script><img src="x.png" alt="x" onerror="alert(2)">'
                          '<a href="javascript:alert(3)">click</a> <b style="color:red">bold</b>')
    clean = markup.sanitise(html)
    assert "script" not in clean and "alert" not in clean and "onerror" not in clean and "style" not in clean
    assert '<img src="x.png" alt="x">' in clean and "<b>bold</b>" in clean and "<a>click</a>" in clean


def test_default_engine_tables_footnotes_smart_quotes_header_ids_fenced_code():
    md = ('## Why "this" matters\n\nIt\'s true[^1].\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n'
          '```python\nprint("hi")\n```\n\n[^1]: A note.\n')
    html = markup.sanitise(markup.to_html(md))
    assert '<h2 id="why-this-matters">Why “this” matters</h2>' in html
    assert "It’s true" in html
    assert "<table>" in html and "<td>1</td>" in html
    assert '<code class="language-python">' in html
    assert '<section class="footnotes">' in html and 'href="#fn-1"' in html and '<li id="fn-1">' in html


def test_links_and_images_made_absolute_fragments_kept():
    html = '<p><a href="/guide/">g</a> <a href="#fn:1">1</a> <img src="img/a.png" alt="A"> ' \
           '<a href="https://other.example/x?a=1&amp;b=2">o</a></p>'
    out = markup.rewrite_links(html, "https://news.example")
    assert 'href="https://news.example/guide/"' in out
    assert 'href="#fn:1"' in out
    assert 'src="https://news.example/img/a.png"' in out
    assert 'href="https://other.example/x?a=1&amp;b=2"' in out


def test_relative_markdown_links_made_absolute():
    out = markup.absolute_markdown_links("See [the guide](/guide/) and ![A chart](img/c.png) or [x](#top).",
                                         "https://news.example")
    assert out == ("See [the guide](https://news.example/guide/) and ![A chart](https://news.example/img/c.png) "
                   "or [x](#top).")


def test_images_without_alt_are_found():
    html = markup.to_html('![](a.png) ![A chart](b.png) <img src="c.png"> <img src="d.png" alt=" ">')
    assert markup.images_without_alt(html) == ["a.png", "c.png", "d.png"]


def test_plain_text_joins_wrapped_lines_and_keeps_lists_links_footnotes():
    md = ("Para one with [a multi-line\nlink](https://a.example/) and **bold**.\n\n1. first\n2. second\n\n"
          "> quoted\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```\nx  = 1\n```\n\n"
          "<script>alert(1)</script>\n\n<a href=\"https://a.example/faq/\">FAQ</a>[^1] ![](x.png)\n\n[^1]: A note.\n")
    assert markup.markdown_to_text(md) == (
        "Para one with a multi-line link (https://a.example/) and bold.\n\n1. first\n2. second\n\nquoted\n\n"
        "a | b\n1 | 2\n\nx  = 1\n\nFAQ (https://a.example/faq/)[1]\n\n[1] A note.")


def test_plain_text_makes_each_run_of_any_whitespace_one_space():
    """Tabs, non-breaking and other Unicode spaces between words, as in a link's text, are one space;
    none is left at a line's ends; a code block keeps its own."""
    md = "A\u00a0\u00a0b\u2003c\t d  \n\n[one\u00a0 two](https://a.example/) e\n\n```\nx\u00a0 \ty\n```\n"
    assert markup.markdown_to_text(md) == "A b c d\n\none two (https://a.example/) e\n\nx\u00a0 \ty"


def test_images_without_alt_in_source_with_lines():
    src = "Intro\n\n![](a.png)\n\n<img src=\"b.png\">\n\n![Fine](c.png)\n"
    assert markup.images_without_alt_in_source(src) == [(3, "a.png"), (5, "b.png")]
