"""Counting and splitting pinned at the limit: exactly the limit fits, one over does not."""
import unicodedata

import pytest
from hypothesis import given, settings, strategies as st

from channels import text
from channels.registry import rule_for
from channels.text import code_points, graphemes, mastodon_length, split_thread, utf16_units, x_length


# -- counting ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("s, n", [
    ("", 0), ("abc", 3), ("a\r\nb", 3), ("\r\n", 1), ("\r\n\r\n", 2), ("\n\r", 2), ("\r", 1),
    ("é\r\n", 2), ("e\u0301", 1), ("🇩🇪🇫🇷", 2), ("👍🏽", 1),
])
def test_graphemes_count_crlf_as_one(s, n):
    assert graphemes(s) == n


def test_code_points_and_utf16_units():
    assert code_points("a😀") == 2
    assert utf16_units("a😀") == 3
    assert utf16_units("é") == 1


def test_mastodon_counts_every_url_at_the_given_weight_and_remote_mentions_short():
    assert mastodon_length("see https://example.com/a/very/long/path") == 4 + 23
    assert mastodon_length("see https://example.com/a/very/long/path", url_weight=30) == 4 + 30
    assert mastodon_length("ping @alice@example.social now") == len("ping @alice now")
    assert mastodon_length("ping @a@example.social") == len("ping @a")
    assert mastodon_length("mail me: alice@example.social") == len("mail me: alice@example.social")
    assert mastodon_length("a:// b") == 6


# twitter-text config/v3.json ranges: 0-4351, 8192-8205, 8208-8223, 8242-8247 weigh 1, the rest 2.
# U+2000 and U+2001 are NFC-normalised to U+2002 and U+2003 before counting, so the lower edge of the
# second range is tested at U+1FFF (outside) and U+2002 (inside).
@pytest.mark.parametrize("cp, weight", [
    (0, 1), (4351, 1), (4352, 2),
    (8191, 2), (8192, 1), (8194, 1), (8205, 1), (8206, 2),
    (8207, 2), (8208, 1), (8223, 1), (8224, 2),
    (8241, 2), (8242, 1), (8247, 1), (8248, 2),
])
def test_x_weight_ranges_at_their_edges(cp, weight):
    assert x_length("é" + chr(cp)) == 1 + weight  # non-ASCII: the weighted path, never the ASCII shortcut


def test_x_emoji_sequences_weigh_two_and_urls_the_given_weight():
    assert x_length("é👨\u200d👩\u200d👧") == 3
    assert x_length("é🇩🇪") == 3
    assert x_length("é1\ufe0f\u20e3") == 3  # keycap sequence
    assert x_length("go to example.com now") == 6 + 23 + 4
    assert x_length("go to example.com now", url_weight=10) == 6 + 10 + 4
    assert x_length("é https://x.org/é") == 2 + 23


def test_x_normalises_before_counting():
    assert x_length("Ame\u0301lie") == 6
    assert x_length(unicodedata.normalize("NFD", "東京")) == 4


# -- rules ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind, limit, unit", [
    ("mastodon", 500, "characters"), ("bluesky", 300, "graphemes"), ("x", 280, "weighted characters"),
    ("linkedin", 3000, "characters"), ("telegram", 4096, "UTF-16 units"), ("discord", 2000, "characters"),
    ("slack", 3000, "characters"), ("email", None, "characters"), ("webhook", None, "characters"),
])
def test_every_platform_rule(kind, limit, unit):
    rule = rule_for(kind)
    assert (rule.limit, rule.unit) == (limit, unit)
    assert rule.name == (kind if limit else "plain")


def test_rule_measures_are_the_platforms_counting():
    assert rule_for("mastodon").measure("https://example.com/" + "x" * 50) == 23
    assert rule_for("bluesky").measure("👍🏽👍🏽") == 2
    assert rule_for("x").measure("東京") == 4
    assert rule_for("telegram").measure("😀") == 2
    for kind in ("linkedin", "discord", "slack", "email"):
        assert rule_for(kind).measure("😀é") == 2


def test_mastodon_max_chars_raises_the_limit_and_nothing_else():
    assert rule_for("mastodon", {"max_chars": 1000}).limit == 1000
    assert rule_for("mastodon", {"max_chars": "750"}).limit == 750
    assert rule_for("mastodon", {"max_chars": None}).limit == 500
    assert rule_for("mastodon", {}).limit == 500
    assert rule_for("x", {"max_chars": 1000}).limit == 280
    assert rule_for("mastodon", {"max_chars": 1000}).measure("https://example.com/" + "x" * 50) == 23


def test_devto_tag_limit():
    from channels.devto import DevTo

    assert DevTo.MAX_TAGS == 4


# -- splitting at the limit -------------------------------------------------------------------------
def test_a_post_exactly_at_the_limit_stays_one_part():
    post = "a" * 100
    assert split_thread(post, 100, len) == [post]
    assert split_thread("  " + post + "\n", 100, len) == [post]


def test_a_post_one_over_the_limit_becomes_a_thread():
    post = "word " * 20 + "w"  # 100 + 1 characters
    assert len(post) == 101
    parts = split_thread(post, 100, len)
    assert len(parts) == 2
    assert parts[-1].endswith("\n\n2/2")


def test_a_part_may_fill_its_budget_exactly():
    # limit 50, numbering "\n\n9/9" takes 5: a sentence of exactly 45 fits a part, one of 46 does not
    s45 = "x" * 44 + "."
    parts = split_thread(s45 + " " + s45 + " " + s45, 50, len)
    assert parts == [f"{s45}\n\n1/3", f"{s45}\n\n2/3", f"{s45}\n\n3/3"]
    assert all(len(p) == 50 for p in parts)
    s46 = "y" * 45 + "."
    parts = split_thread(s46 + " " + s45, 50, len)
    assert parts[0] == "y" * 45 + "\n\n1/3"  # the 46-character word is cut at the budget


def test_two_sentences_fit_one_part_when_they_add_up_to_the_budget():
    a, b = "x" * 21 + ".", "y" * 22 + "."  # 22 + 1 space + 23 = 46 > 45; 22 + 1 + 22 = 45
    assert split_thread(f"{a} {'z' * 21}. {b}", 50, len)[0] == f"{a} {'z' * 21}.\n\n1/2"
    assert split_thread(f"{a} {'z' * 22}. {b}", 50, len)[0] == f"{a}\n\n1/3"


def test_a_word_longer_than_a_part_is_cut_by_graphemes():
    parts = split_thread("🇩🇪" * 70, 50, graphemes)
    bodies = [p.rsplit("\n\n", 1)[0] for p in parts]
    assert [graphemes(b) for b in bodies] == [45, 25]
    assert "".join(bodies) == "🇩🇪" * 70  # never cut inside a flag


def test_a_link_longer_than_a_part_is_never_cut():
    link = "https://example.com/" + "p" * 80
    parts = split_thread(f"Read {link} today.", 50, len)
    assert [p.rsplit("\n\n", 1)[0] for p in parts] == ["Read", link, "today."]
    assert len(parts[1]) > 50  # it stays whole, over the limit, for check to report


def test_crlf_counts_once_when_splitting():
    para = "z" * 22 + ".\r\n\r\n"  # 23 + 2 graphemes with CRLF counted once
    parts = split_thread(para * 4, 55, graphemes)
    assert all(graphemes(p) <= 55 for p in parts)
    assert len(parts) == 2  # two sentences a part: 23 + 2 + 23 = 48 <= 50


def test_a_part_ends_at_a_paragraph_when_that_fills_at_least_half_of_it():
    first = "One two three four five six seven eight nine ten eleven twelve."  # 63
    second = "Short one. Then a much longer sentence that does not fit anymore at all here."
    parts = split_thread(first + "\n\n" + second, 100, len)
    assert parts[0] == first + "\n\n1/2"
    assert parts[1].startswith("Short one.")


def test_a_paragraph_end_under_half_a_part_is_not_preferred():
    first = "Tiny para."  # 10 of a 95 budget
    second = "Short one. Then a much longer sentence that does not fit anymore at all here, not at all."
    parts = split_thread(first + "\n\n" + second, 100, len)
    assert parts[0] == first + "\n\nShort one.\n\n1/2"


def test_the_paragraph_preference_threshold_is_exactly_half():
    # budget 96: a first paragraph measuring 47 is under half (94 < 96), 48 is exactly half (96 >= 96)
    tail = "Short one. " + "w" * 81 + "."
    for size, expected_first in ((47, None), (48, "p" * 47 + ".")):
        first = "p" * (size - 1) + "."
        parts = split_thread(first + "\n\n" + tail, 101, len)
        if expected_first:
            assert parts[0] == expected_first + "\n\n1/2"
        else:
            assert parts[0] == first + "\n\nShort one.\n\n1/2"


def test_ninety_nine_parts_and_then_a_hundred():
    for words, n in ((99, 99), (100, 100)):
        parts = split_thread(" ".join(["abcd."] * words), 14, len)
        assert len(parts) == n
        assert all(len(p) <= 14 for p in parts)
        assert parts[-1] == f"abcd.\n\n{n}/{n}"


def test_a_measure_that_does_not_add_up_is_packed_again_exactly():
    def shouty(s: str) -> int:  # two exclamations in one part cost 10 more than each alone
        return len(s) + (10 if s.count("!") >= 2 else 0)

    parts = split_thread("Go! Now! Here! There!", 20, shouty)
    assert all(shouty(p) <= 20 for p in parts)
    assert [p.rsplit("\n\n", 1)[0] for p in parts] == ["Go!", "Now!", "Here!", "There!"]


# -- properties -------------------------------------------------------------------------------------
words = st.text(alphabet=st.sampled_from("abcé東👍🏽.!? \n\r"), min_size=1, max_size=12)
texts = st.lists(words, min_size=1, max_size=80).map(" ".join)
measures = st.sampled_from([len, graphemes, mastodon_length, x_length, utf16_units])


def body(part: str, n: int) -> str:
    return part.rsplit("\n\n", 1)[0] if n > 1 else part


@settings(max_examples=150, deadline=None)
@given(texts, st.integers(min_value=12, max_value=120), measures)
def test_a_split_never_loses_or_reorders_text(s, limit, measure):
    parts = split_thread(s, limit, measure)
    joined = "".join(body(p, len(parts)) for p in parts)
    assert "".join(joined.split()) == "".join(s.split())


@settings(max_examples=150, deadline=None)
@given(texts, st.integers(min_value=12, max_value=120), measures)
def test_no_part_exceeds_its_limit_and_every_part_is_numbered(s, limit, measure):
    parts = split_thread(s, limit, measure)
    n = len(parts)
    for i, part in enumerate(parts, 1):
        assert measure(part) <= limit
        assert part.strip() == part
        if n > 1:
            assert part.endswith(f"\n\n{i}/{n}")
    assert (n == 1) == (measure(s.strip()) <= limit)



def test_counts_are_whole_numbers_as_shown_to_people():
    assert f"{utf16_units('a😀')} {code_points('a😀')} {graphemes('a😀')}" == "3 2 2"


def test_a_limit_smaller_than_the_numbering_still_makes_one_character_parts():
    parts = split_thread("abcdefgh", 6, len)
    assert parts == [f"{c}\n\n{i}/8" for i, c in enumerate("abcdefgh", 1)]


def test_three_digit_part_numbers_are_reserved_before_packing():
    parts = split_thread(" ".join(["a"] * 400), 14, len)  # "a a a" + "\n\n134/134" is exactly 14
    assert len(parts) == 134
    assert all(len(p) <= 14 for p in parts)
    assert parts[0] == "a a a\n\n1/134"


@pytest.mark.parametrize("exact", [False, True])
def test_packing_fills_a_part_to_exactly_its_budget(exact):
    assert text._pack("aaaa bbbb cc dddd", 12, len, exact) == ["aaaa bbbb cc", "dddd"]
    assert text._pack("aaaa bbbb ccc dddd", 12, len, exact) == ["aaaa bbbb", "ccc dddd"]
    assert text._pack("Aaaa. Bbbb.  Cc. Dddd.", 13, len, exact) == ["Aaaa. Bbbb.", "Cc. Dddd."]
    assert text._pack("One.\n\nTwo three.\n\nFour five six.", 20, len, exact) == [
        "One.\n\nTwo three.", "Four five six."]


@settings(max_examples=200, deadline=None)
@given(texts, st.integers(min_value=1, max_value=80), st.sampled_from([len, utf16_units]))
def test_the_running_sum_is_exact_for_rules_that_add_up(s, budget, measure):
    """The fast packing must not lean on split_thread's exact re-packing for additive rules."""
    s = s.strip()
    assert text._pack(s, budget, measure) == text._pack(s, budget, measure, exact=True)


def test_a_part_ends_at_the_last_paragraph_break_that_fills_half_of_it():
    # budget 20: "Aa.\n\nBbbbbbb." (13) fills more than half; the break after "Aa." alone would not
    parts = split_thread("Aa.\n\nBbbbbbb.\n\nCc. Ddddddddddddd.", 25, len)
    assert parts == ["Aa.\n\nBbbbbbb.\n\n1/2", "Cc. Ddddddddddddd.\n\n2/2"]


def test_the_break_that_ends_a_part_is_never_the_one_at_its_very_end():
    parts = split_thread("Aaaaaaaaaa.\n\nB.\n\nCcccccccccc.", 25, len)
    assert parts == ["Aaaaaaaaaa.\n\n1/2", "B.\n\nCcccccccccc.\n\n2/2"]


def test_a_paragraph_break_is_kept_inside_the_last_part():
    parts = split_thread("Xxxxxxxxxxxxxxxxx. Aaaaaaaaa.\n\nB. C.", 25, len)
    assert parts == ["Xxxxxxxxxxxxxxxxx.\n\n1/2", "Aaaaaaaaa.\n\nB. C.\n\n2/2"]


def test_spaces_before_a_paragraph_break_do_not_end_a_part():
    parts = split_thread("Aaaaaaaaaa.   \n\nB.\n\nCcccccccccc.", 25, len)
    assert parts[0] == "Aaaaaaaaaa.\n\n1/2"
