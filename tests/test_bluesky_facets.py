"""Bluesky facets at their edges: where a link, tag, cashtag or mention starts and ends, in UTF-8 bytes.

The expected facets below are what the reference detector (@atproto/api
``RichText.detectFacetsWithoutResolution``, run by ``tests/pds/facets.mjs``) returns for the same
texts, with the handle where the DID goes; ``tests/test_bluesky_pds.py`` compares against the
detector itself where Node and the reference packages are installed. Here they are pinned as data, so
a change in the detector's edges fails without a Node toolchain.
"""
import pytest

from channels.bluesky import _byte_span, _utf16_len, facets

FEATURE = {"link": ("app.bsky.richtext.facet#link", "uri"), "tag": ("app.bsky.richtext.facet#tag", "tag"),
           "mention": ("app.bsky.richtext.facet#mention", "did")}

CASES = [
    ("https://a.test/x at the start", [(0, 16, 'link', 'https://a.test/x')]),
    ("see (https://a.test/x) and xhttps://b.test/y", [(5, 21, 'link', 'https://a.test/x')]),
    ("end https://a.test/x. more https://a.test/y, and https://a.test/z!",
     [(4, 20, 'link', 'https://a.test/x'), (27, 43, 'link', 'https://a.test/y'), (49, 65, 'link', 'https://a.test/z')]),
    ("wiki https://en.wikipedia.org/wiki/Foo_(bar) ok", [(5, 44, 'link', 'https://en.wikipedia.org/wiki/Foo_(bar)')]),
    ("link https://a.test/p?q=1) closes", [(5, 25, 'link', 'https://a.test/p?q=1')]),
    ("shout HTTPS://A.TEST/X now", []),
    ("#tag at start, #tag. #123 #a1 a#b # #", [(0, 4, 'tag', 'tag'), (15, 19, 'tag', 'tag'), (26, 29, 'tag', 'a1')]),
    ("\uff03full and #tag#two and #\u00e9moji",
     [(0, 7, 'tag', 'full'), (12, 20, 'tag', 'tag#two'), (25, 32, 'tag', '\u00e9moji')]),
    ("#" + "a" * 64 + " #" + "b" * 65, [(0, 65, 'tag', "a" * 64)]),  # 64 UTF-16 units at most
    ("$AAPL $ABCDE $ABCDEF $1A ($msft) $goog. x$AAPL",
     [(0, 5, 'tag', '$AAPL'), (6, 12, 'tag', '$ABCDE'), (26, 31, 'tag', '$MSFT'), (33, 38, 'tag', '$GOOG')]),
    ("\u00e9 \U0001F1E9\U0001F1EA #tag https://a.test/\u00e9",
     [(12, 16, 'tag', 'tag'), (17, 34, 'link', 'https://a.test/\u00e9')]),
    ("hi @alice.bsky.social and @bob and (@carol.test) mail@dave.test @eve.test.",
     [(3, 21, 'mention', 'alice.bsky.social'), (36, 47, 'mention', 'carol.test'), (64, 73, 'mention', 'eve.test')]),
    ("#tag!? #t_a #tag\ufe0f #\ufe0fno", [(0, 4, 'tag', 'tag'), (7, 11, 'tag', 't_a'), (12, 19, 'tag', 'tag\ufe0f')]),
    ("@a0.test and @b9.test hi", [(0, 8, 'mention', 'a0.test'), (13, 21, 'mention', 'b9.test')]),
    ("$A0 $B9 $A $AAPL\u2019s x", [(0, 3, 'tag', '$A0'), (4, 7, 'tag', '$B9'), (8, 10, 'tag', '$A'), (11, 16, 'tag', '$AAPL')]),
    ("http://a.test/x ok", [(0, 15, 'link', 'http://a.test/x')]),
    # what is skipped never stops the search for what follows
    ("@alice. and @.bob and @carol.test", [(22, 33, 'mention', 'carol.test')]),
    ("HTTPS://A.TEST then https://b.test/X", [(20, 36, 'link', 'https://b.test/X')]),
    # links without a scheme: a bare domain is a link when its last label is a known top-level domain
    ("Docs at example.com/start, (northwind.io) and Example.COM or news.test.\nwww.example.org/x?y=1!",
     [(8, 25, 'link', 'https://example.com/start'), (28, 40, 'link', 'https://northwind.io'),
      (72, 93, 'link', 'https://www.example.org/x?y=1')]),
    ("a.b.com. x1.co) go.dev:8080/p", [(0, 7, 'link', 'https://a.b.com'), (9, 14, 'link', 'https://x1.co'),
                                      (16, 29, 'link', 'https://go.dev:8080/p')]),
    ("mail@dave.com and caf\u00e9.com and e.x.y.zz", []),
    ("#123 #ok #!!! #fine #" + "a" * 65 + " #XmasX",
     [(5, 8, 'tag', 'ok'), (14, 19, 'tag', 'fine'), (87, 93, 'tag', 'XmasX')]),
]


def expand(rows):
    out = []
    for start, end, kind, value in rows:
        kind_type, key = FEATURE[kind]
        out.append({"index": {"byteStart": start, "byteEnd": end}, "features": [{"$type": kind_type, key: value}]})
    return out


@pytest.mark.parametrize("text, rows", CASES)
def test_facets_match_the_reference_detector(text, rows):
    assert facets(text, resolve=lambda handle: handle) == expand(rows)


@pytest.mark.parametrize("text, rows", CASES)
def test_every_facet_covers_exactly_its_text(text, rows):
    raw = text.encode("utf-8")
    for f in facets(text, resolve=lambda handle: handle):
        span = raw[f["index"]["byteStart"]:f["index"]["byteEnd"]].decode("utf-8")
        feature = f["features"][0]
        value = feature.get("uri") or feature.get("did") or feature.get("tag")
        assert (span.lstrip("#\uff03@").upper() == value.lstrip("$").upper() or span.upper() == value
                or "https://" + span == value)  # a bare domain is linked with the scheme added


def test_a_mention_is_resolved_by_its_lowercased_handle_and_dropped_when_it_does_not_resolve():
    asked = []

    def resolve(handle):
        asked.append(handle)
        return {"alice.test": "did:plc:alice"}.get(handle)

    found = facets("@Alice.Test and @bob.test", resolve)
    assert asked == ["alice.test", "bob.test"]
    assert found == [{"index": {"byteStart": 0, "byteEnd": 11},
                      "features": [{"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:alice"}]}]


def test_without_a_resolver_mentions_stay_text():
    assert facets("hi @alice.test") == []


def test_facets_come_in_text_order():
    found = facets("$AAPL https://a.test #tag @al.test", resolve=lambda h: "did:plc:x")
    assert [f["index"]["byteStart"] for f in found] == [0, 6, 21, 26]


def test_byte_spans_and_utf16_lengths():
    assert _byte_span("é🇩🇪x", 1, 2) == {"byteStart": 2, "byteEnd": 6}
    assert _byte_span("é🇩🇪x", 0, 4) == {"byteStart": 0, "byteEnd": 11}
    assert _utf16_len("a😀") == 3
    assert f"{_utf16_len('😀')}" == "2"
