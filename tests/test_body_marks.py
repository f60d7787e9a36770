"""Looking for a mark in a body (``newsroom/bodyscan.py``, ``has_mark``) gives what ``in`` gives, and
the scans that ask it first (images, recipient fields, segments, an excerpt's opening) find what
they found before: the mark's first character located first, then the mark compared only there."""
from __future__ import annotations

from hypothesis import given, settings, strategies as st

from channels import fields, markup
from newsroom import bodyscan
from newsroom.bodyscan import _MARK_TRIES, has_mark

MARKS = ("![", ":::", "]:", "{{", "<img")

# Text made of the marks' own characters, so a mark is often nearly there (its first character
# alone, or broken by one character) and often there more than once.
_PIECES = st.sampled_from(["!", "[", "]", ":", "{", "}", "<", "i", "m", "g", "<im", "::", "{ {", "! [",
                           "a", " ", "\n", "recipient", "é", "İ"])
TEXTS = st.lists(_PIECES, max_size=80).map("".join)


@settings(max_examples=400, deadline=None)
@given(text=TEXTS, mark=st.sampled_from(MARKS))
def test_a_mark_is_found_where_in_finds_it(text, mark):
    assert has_mark(text, mark) is (mark in text)


def test_a_mark_after_many_of_its_first_character_is_still_found():
    # past the places compared one by one, str.find takes the rest: the mark at the very end
    crowd = "!" * (_MARK_TRIES * 3)
    assert has_mark(crowd + "[", "![")
    assert not has_mark(crowd, "![")
    for tries in (_MARK_TRIES - 1, _MARK_TRIES, _MARK_TRIES + 1):  # at the edge of the places compared
        assert has_mark("!a" * tries + "![", "![")
        assert not has_mark("!a" * tries + "!", "![")
    assert has_mark("![", "![") and not has_mark("", "![") and not has_mark("!", "![")


def test_an_image_without_alt_text_is_found_in_markdown_and_in_html_whatever_its_case():
    assert markup.images_without_alt_in_source("Text.\n\n![](a.png)\n") == [(3, "a.png")]
    assert markup.images_without_alt_in_source('One.\n<IMG src="b.png">\n') == [(2, "b.png")]
    assert markup.images_without_alt_in_source('<p>no image</p>\n![alt](c.png)\n') == []
    assert markup.images_without_alt_in_source("no mark at all: a < b, ! and [links](x)") == []


def test_recipient_fields_need_their_braces():
    assert bodyscan.body_fields("Dear recipient, hello.") == []
    assert bodyscan.body_fields("Hi {{ recipient.first_name }}!") == [(1, "first_name", True)]
    assert fields.body_fallbacks('Hi {{ recipient.first_name | default("there") }}.') == "Hi there."
    assert fields.body_fallbacks("Dear recipient, {{ not a field }}.") == "Dear recipient, {{ not a field }}."


def test_segments_and_an_excerpts_opening_still_see_their_marks():
    body = "Everyone.\n\n::: segment pro\nOnly pro.\n:::\n"
    assert markup.select_segment(body, None, ("pro",))[0] != body  # the block is taken out
    assert markup.select_segment("Time 10:00, a: b", None)[0] == "Time 10:00, a: b"
    long = "A first paragraph of some length.\n\n" * 4
    assert markup.opening(long, 40) is not None
    assert markup.opening(long + "[x]: https://example.com/\n", 40) is None  # a definition reaches back


def _excerpt_before(value: str, n: int = 200, end: str = "…") -> str:
    """``filters.excerpt`` as it was, whitespace collapsed by a regex pass (the reference)."""
    import re

    from channels.filters import _SENTENCE, excerpt_reads

    value = value or ""
    head = value[: excerpt_reads(n)]
    cut_off = len(head) < len(value)
    value = re.sub(r"\s+", " ", head).strip()
    if len(value) <= n and not cut_off:
        return value
    if len(value) <= n:
        return value[: max(0, n - len(end))].rstrip() + end
    room = value[: n - len(end) + 1]
    cut = max((m.end() for m in _SENTENCE.finditer(room)), default=0)
    if cut >= n // 3:
        return value[:cut]
    space = room.rfind(" ")
    head = room[:space] if space > 0 else room[: n - len(end)]
    return head.rstrip(" ,;:-–—") + end


# every character Python counts as whitespace (str.isspace, the same test as \s), and some that are not
_SPACES = [chr(c) for c in range(0x3001) if chr(c).isspace()] + ["\u200b", "\ufeff", "\u180e"]


@settings(max_examples=400, deadline=None)
@given(words=st.lists(st.one_of(st.sampled_from(["word", "end.", "Wait!", "a", "—", "é"]),
                                st.text(alphabet=_SPACES, min_size=1, max_size=3)), max_size=120),
       n=st.integers(min_value=1, max_value=120))
def test_an_excerpt_collapses_whitespace_as_the_regex_did(words, n):
    from channels.filters import excerpt

    text = "".join(words)
    assert excerpt(text, n) == _excerpt_before(text, n)
