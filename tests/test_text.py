"""Length rules against the platforms' own cases, and threads that respect them."""
import pytest

from channels import text
from channels.registry import rule_for
from channels.text import graphemes, mastodon_length, split_thread, x_length

CJK_160 = ("故人西辞黄鹤楼，烟花三月下扬州。孤帆远影碧空尽，唯见长江天际流。朱雀桥边野草花，乌衣巷口夕阳斜。"
           "旧时王谢堂前燕，飞入寻常百姓家。朝辞白帝彩云间，千里江陵一日还。两岸猿声啼不住，轻舟已过万重山。"
           "泪湿罗巾梦不成，夜深前殿按歌声。红颜未老恩先断，斜倚薰笼坐到明。独在异乡为异客，每逢佳节倍思亲。"
           "遥知兄弟登高处，遍插茱萸少一人。")


# twitter-text conformance/tests/validate.yml, WeightedTweetsWithDiscountedEmojiCounterTest (config v3).
@pytest.mark.parametrize("tweet, weighted", [
    ("H\U0001F431\u263A\U0001F468\u200D\U0001F469\u200D\U0001F467\u200D\U0001F466", 7),
    ("\U0001F637\U0001F47E\U0001F621\U0001F525\U0001F4A9", 10),
    ("\U0001F64B\U0001F3FD\U0001F468\u200D\U0001F3A4", 4),
    ("https://www.twitter.com/aloha " * 10, 240),
    (CJK_160, 320),
    ("the" + CJK_160, 323),
    ("285 chars- http://www.twitter.com/jack " + "xxxxxxxxxx-" * 24, 299),
    ("xxxxxxxxxx-" * 24 + " http://www.twitter.com/jack ", 289),
    ("282 chars-" + "xxxxxxxxxx-" * 24 + "xxxxxA\u0301x", 281),  # NFC: A + combining acute is one Á
])
def test_x_weighted_length_matches_twitter_text_conformance(tweet, weighted):
    assert x_length(tweet) == weighted


# twitter-text conformance/validate.yml, "lengths"
@pytest.mark.parametrize("tweet, weighted", [
    ("This is a test.", 15),
    ("http://test.com", 23),
    ("https://test.com", 23),
    ("test.com", 23),
    ("Test https://test.com test https://test.com test.com test", 86),
])
def test_x_counts_every_url_23_even_without_a_scheme(tweet, weighted):
    assert x_length(tweet) == weighted


def test_x_cjk_weighs_two_and_latin_accents_one():
    assert x_length("東京") == 4
    assert x_length("café") == 4
    assert x_length("שלום") == 4  # Hebrew is inside 0-4351


# Mastodon spec/validators/status_length_validator_spec.rb
def test_mastodon_counts_urls_as_23_flat():
    status = "a" * 476 + " http://" + "b" * 30 + ".com/example"
    assert mastodon_length(status) == 500


def test_mastodon_does_not_count_non_autolinkable_urls_flat():
    status = "a" * 476 + "http://" + "b" * 30 + ".com/example"
    assert mastodon_length(status) == len(status)


def test_mastodon_counts_only_the_front_part_of_remote_usernames():
    status = "a" * 473 + " @alice@" + "b" * 30 + ".com"
    assert mastodon_length(status) == 473 + len(" @alice")


def test_mastodon_counts_graphemes():
    assert mastodon_length("\U0001F468\u200D\U0001F469\u200D\U0001F467") == 1


def test_bluesky_counts_graphemes_not_code_points():
    family = "\U0001F468\u200D\U0001F469\u200D\U0001F467\u200D\U0001F466"
    assert len(family) == 7 and graphemes(family) == 1
    assert graphemes("e\u0301") == 1
    assert graphemes("🇩🇪") == 1
    # a URL counts in full on Bluesky
    assert rule_for("bluesky").measure("https://example.com/x") == 21


def test_rules_and_limits_per_type():
    assert rule_for("mastodon").limit == 500
    assert rule_for("mastodon", {"max_chars": 1000}).limit == 1000
    assert rule_for("bluesky").limit == 300
    assert rule_for("x").limit == 280
    assert rule_for("linkedin").limit == 3000
    assert rule_for("telegram").limit == 4096
    assert rule_for("discord").limit == 2000
    assert rule_for("email").limit is None
    # Telegram counts UTF-16 units: an emoji outside the BMP is two
    assert rule_for("telegram").measure("\U0001F389") == 2


def test_channel_count_dispatches_to_the_type_rule():
    from channels.registry import TYPES
    from newsroom.model import ChannelConfig

    masto = TYPES["mastodon"](ChannelConfig("m", "mastodon", options={"max_chars": 800}), {})
    assert masto.count("see https://example.com/" + "x" * 100) == 4 + 23
    assert masto.limit == 800
    x = TYPES["x"](ChannelConfig("x", "x"), {})
    assert x.count("東京") == 4
    bsky = TYPES["bluesky"](ChannelConfig("b", "bluesky"), {})
    assert bsky.count("🇩🇪🇩🇪") == 2


LONG = ("Our offline mode keeps every order on the device until the network is back. "
        "It syncs in the background and shows what is pending. "
        "Read the guide at https://docs.example.com/offline/a-very-long-path/that-keeps-going?ref=thread-test "
        "before you switch it on. " * 6).strip()


@pytest.mark.parametrize("rule_type", ["mastodon", "bluesky", "x"])
def test_thread_parts_fit_are_numbered_and_never_cut_a_link(rule_type):
    rule = rule_for(rule_type)
    limit = 200
    parts = split_thread(LONG, limit, rule.measure)
    assert len(parts) > 1
    n = len(parts)
    for i, part in enumerate(parts, 1):
        assert rule.measure(part) <= limit
        assert part.endswith(f"\n\n{i}/{n}")
    links = [m.group(0) for p in parts for m in text.URL_RE.finditer(p)]
    assert links == ["https://docs.example.com/offline/a-very-long-path/that-keeps-going?ref=thread-test"] * 6
    # nothing lost, nothing added but the numbering
    joined = " ".join(p.rsplit("\n\n", 1)[0] for p in parts)
    assert joined.split() == LONG.split()


def test_thread_prefers_sentence_ends():
    sentences = ["Sentence number %d is here." % i for i in range(30)]
    parts = split_thread(" ".join(sentences), 120, len)
    for part in parts:
        assert part.rsplit("\n\n", 1)[0].endswith(".")


def test_a_text_that_fits_stays_one_unnumbered_part():
    assert split_thread("Short and sweet.", 500, len) == ["Short and sweet."]


def test_ten_or_more_parts_reserve_room_for_two_digit_numbers():
    words = " ".join(["word"] * 400)
    parts = split_thread(words, 50, len)
    assert len(parts) >= 10
    assert all(len(p) <= 50 for p in parts)
    assert parts[-1].endswith(f"{len(parts)}/{len(parts)}")


def test_a_part_never_starts_with_the_whitespace_after_a_paragraph():
    parts = split_thread("? ? ??a a\n\n ?", 12, len)
    assert parts == ["? ?\n\n1/3", "??a a\n\n2/3", "?\n\n3/3"]


# Mastodon's countable_text counts 23 only for URLs its extractor links (twitter-text valid_url: the host
# must end in a known TLD); anything else is text to it and counts whole.
def test_mastodon_counts_a_url_on_a_name_without_a_known_tld_whole():
    assert mastodon_length("see https://example.invalid/a/very/long/path") == len(
        "see https://example.invalid/a/very/long/path")
    assert mastodon_length("see https://news.test/2026/launch/") == len("see https://news.test/2026/launch/")
    assert mastodon_length("dev http://localhost:8000/x and http://127.0.0.1/y") == len(
        "dev http://localhost:8000/x and http://127.0.0.1/y")
    # known TLDs (generic, country, new generic) and punycode labels are links: 23 each
    assert mastodon_length("https://example.com/" + "p" * 40) == 23
    assert mastodon_length("https://shop.example.co.uk/" + "p" * 40) == 23
    assert mastodon_length("https://northwind.social/@news/1") == 23
    assert mastodon_length("https://example.xn--p1ai/" + "p" * 40) == 23
    assert mastodon_length("a https://news.test/x b https://example.com/" + "p" * 40) == len(
        "a https://news.test/x b ") + 23


def test_a_mastodon_post_over_the_limit_only_when_its_url_counts_whole_fails_check(project, cli):
    import json

    # 470 + 1 + 23 + 5 = 499 if the URL were a link; as text (27 characters) the post is 503
    body = "w" * 470 + " https://docs.internal/guide"
    root = project({"content/a.md": "---\ntitle: A\nstatus: approved\nauthor: w\napproved_by: e\n"
                                    "publish_at: 2026-11-20T09:00\nchannels:\n  mastodon:\n    text: |\n      "
                                    + body + " more\n---\nBody.\n"},
                   "site:\n  title: T\n  url: https://news.example.com\ntimezone: UTC\nchannels:\n"
                   "  mastodon:\n    type: mastodon\n    instance: https://mastodon.example\n    token: env:MT\n")
    result = cli(root, "check", "--offline", "--format", "json")
    errors = json.loads(result.output)["errors"]
    assert [e["message"] for e in errors if e["key"].startswith("channels.mastodon")] == [
        "mastodon: the post is 3 characters over the limit of 500 (503/500), from channels.mastodon.text in "
        "content/a.md; shorten it, or set channels.mastodon.thread: true to post it as a thread"], errors
