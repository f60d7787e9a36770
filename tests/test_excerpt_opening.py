"""An excerpt made from the body's opening paragraphs is the excerpt of the whole body.

``Body.lead_text`` parses only the opening of a long body when that opening parses as it does
within the whole (``markup.opening``). Generated bodies mix every block that can reach past a blank
line (lists, fences, indented code, HTML blocks, quotes, tables, reference and footnote
definitions) with plain paragraphs, and the lead text must always begin the whole text and give the
same excerpt.
"""
from hypothesis import HealthCheck, given, settings, strategies as st

from channels import filters, markup
from channels.context import Body

BASE = "https://news.test/"

WORDS = st.sampled_from(["launch", "the", "*new*", "**plan**", "`code`", "\"quoted\"", "it's", "--", "...",
                         "[a link](https://x.test/a)", "[rel](/docs/)", "[ref]", "<b>bold</b>",
                         "www.example.com", "~~gone~~", "a_b_c", "&amp;", "Q&A", "\\*", "end.", "Next!",
                         "why?", "ünïcode", "emoji 🎉", "x" * 40])
SENTENCE = st.lists(WORDS, min_size=1, max_size=14).map(" ".join)
PARAGRAPH = st.lists(SENTENCE, min_size=1, max_size=4).map("\n".join)
OTHER = st.one_of(  # blocks an opening must not be cut through
    SENTENCE.map(lambda s: "## " + s),
    st.tuples(SENTENCE, st.sampled_from(["===", "---"])).map("\n".join),  # setext headings
    st.lists(SENTENCE, min_size=1, max_size=3).map(lambda xs: "\n".join("- " + x for x in xs)),
    st.lists(SENTENCE, min_size=1, max_size=3).map(lambda xs: "\n\n".join(f"{i + 1}. {x}" for i, x in enumerate(xs))),
    SENTENCE.map(lambda s: f"- item\n\n  {s}"),  # a loose list's second paragraph
    SENTENCE.map(lambda s: f"```\n{s}\n\n{s}\n```"),
    SENTENCE.map(lambda s: f"    code {s}\n\n    more code"),
    SENTENCE.map(lambda s: f"> {s}\n\n> {s}"),
    SENTENCE.map(lambda s: f"<div>\n{s}\n</div>"),
    SENTENCE.map(lambda s: f"<!-- {s}\n\n{s} -->"),
    SENTENCE.map(lambda s: f"| a | b |\n|---|---|\n| {s} | x |"),
    st.just("***"),
    SENTENCE.map(lambda s: f"\t{s}"),
)
DEFINITIONS = st.one_of(st.just("[ref]: https://x.test/ref \"Ref\""), SENTENCE.map(lambda s: f"{s}[^1]\n\n[^1]: {s}"))
# mostly paragraphs, so that an opening is often long enough to be read alone
BODY = st.tuples(st.lists(st.one_of(*[PARAGRAPH] * 4, OTHER, OTHER, st.one_of(OTHER, DEFINITIONS)), min_size=1,
                          max_size=16),
                 st.sampled_from(["\n\n", "\n\n\n", "\n \n"])).map(lambda t: t[1].join(t[0]) + "\n")


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(BODY, st.sampled_from([10, 60, 200]))
def test_the_lead_text_begins_the_whole_text_and_gives_its_excerpt(body, n):
    whole = Body(body, None, (), BASE).text
    lead = Body(body, None, (), BASE).lead_text(filters.excerpt_reads(n))
    assert whole.startswith(lead)
    assert lead == whole or len(lead) > filters.excerpt_reads(n)
    assert filters.excerpt(lead, n) == filters.excerpt(whole, n)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(BODY, st.integers(1, 1500))
def test_an_opening_parses_as_it_does_within_the_whole_body(body, size):
    end = markup.opening(body, size)
    if end is None:
        return
    assert end >= size and body[end - 1] == "\n"
    # the same HTML, element for element: nothing after the opening changed how it was read
    whole, lead = markup.to_html(body), markup.to_html(body[:end])
    assert whole.startswith(lead) and whole[len(lead):len(lead) + 1] in ("", "\n"), (lead, whole)


def test_a_long_plain_body_is_read_from_its_opening_only():
    paragraphs = [f"Paragraph {i} says *something* about [the launch](/launch/) at length. " * 6 for i in range(60)]
    body = "\n\n".join(paragraphs) + "\n"
    end = markup.opening(body, 2 * filters.excerpt_reads(200))
    assert end is not None and end < len(body) // 10  # a few paragraphs of sixty
    lead = Body(body, None, (), BASE).lead_text(filters.excerpt_reads(200))
    assert len(lead) < len(Body(body, None, (), BASE).text) // 5


def test_an_opening_ends_at_the_first_blank_line_at_or_after_the_size():
    text = "One.\n\nTwo two.\n\nThree three three.\n \nFour.\n"
    assert [markup.opening(text, size) for size in (1, 6, 7, 16, 17, 37, 38)] == [6, 6, 16, 16, 37, 37, None]
    assert markup.opening(text, len(text) - 1) is None  # no blank line after the last paragraph
    assert markup.opening("\n\nOne.\n\nTwo.\n", 1) == 8  # leading blank lines open nothing


def test_each_line_that_may_open_another_block_stops_the_opening_and_no_other_does():
    # CommonMark's block starts, at the edges of their rules: up to three spaces before a marker, a
    # marker followed by a space, a tab or the line's end, at most nine digits to an ordered one
    stops = ["- a", "* a", "+ a", "-", "+\t", "1. a", "1) a", "123456789. a", "1.", "> a", "<div>", "<!-- x",
             "| a |", "```", "~~~", "    code", "\tcode", "   \tcode", "   - a", "  1. a", " > a"]
    goes = ["*Bold* start.", "-dash start.", "... and then.", "2.5 million.", "1234567890. no list.",
            "   Three spaces.", "#hashtag", "## A heading", ".", ")", "a | b"]
    rest = ("More text of the body, a sentence or two. " * 5 + "\n\n") * 4
    for line in stops + goes:
        text = f"First paragraph.\n\n{line}\n\n{rest}"
        found = markup.opening(text, 19)  # past the first paragraph: the line is looked at
        assert (found is None) == (line in stops), line


def test_a_blank_line_is_one_of_spaces_and_tabs_only():
    rest = ("More text of the body. " * 8 + "\n\n") * 4
    for filler in ("\xa0", "X", "\u3000", "\f"):  # text, to CommonMark: the paragraph goes on
        text = f"One.\n{filler}\nTwo.\n\n{rest}"
        assert markup.opening(text, 1) == len(f"One.\n{filler}\nTwo.\n\n"), repr(filler)
    assert markup.opening(f"One.\n \t \nTwo.\n\n{rest}", 1) == len("One.\n \t \n")


def test_bodies_without_a_way_out_end_without_an_opening():
    assert markup.opening("\n" * 30, 5) is None  # only blank lines
    assert markup.opening("One.\nTwo three four five six seven", 3) is None  # no blank line, no last newline
    assert markup.opening("One two three.\n\nFour", 3) == 16


def test_no_opening_where_a_later_block_reaches_back_or_the_opening_is_no_paragraph():
    long = ("A sentence of the opening paragraph. " * 30 + "\n\n") * 3
    assert markup.opening(long, 100) is not None
    assert markup.opening(long + "[ref]: https://x.test/\n", 100) is None  # resolves [ref] anywhere
    assert markup.opening(long + "Text[^1].\n\n[^1]: A note.\n", 100) is None  # footnotes are numbered at the end
    for first in ("- a list\n", "1. a list\n", "```\ncode\n", "    code\n", "> a quote\n", "<div>\n", "| a |\n"):
        assert markup.opening(first + "\n" + long, 10) is None
    assert markup.opening("Short.\n\nBody.\n", 100) is None  # shorter than asked: the whole is read


def test_the_whole_text_is_taken_when_it_is_made_anyway_or_the_engine_is_not_commonmark():
    from channels.markdown_engines import PYTHON_MARKDOWN, engine

    long = ("A sentence of the opening paragraph. " * 30 + "\n\n") * 10
    body = Body(long, None, (), BASE)
    body.clean_html  # the blog's page made it: its text costs less than another parse
    assert body.lead_text(100) == body.text
    other = Body(long, None, (), BASE, engine=engine(PYTHON_MARKDOWN))
    assert other.lead_text(100) == other.text
