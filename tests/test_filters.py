"""Template filters: UTM, hashtags, excerpts, truncation by the channel's own rule."""
import pytest

from channels import filters
from channels.text import x_length


def test_utm_keeps_existing_query_and_fragment():
    url = "https://shop.example/p/42?color=red&size=m#reviews"
    assert filters.add_utm(url, "mastodon", "social", "black-friday") == (
        "https://shop.example/p/42?color=red&size=m&utm_source=mastodon&utm_medium=social"
        "&utm_campaign=black-friday#reviews")


def test_utm_on_a_bare_url_and_encoding():
    assert filters.add_utm("https://a.example/", "team slack", "chat", "Q4 & more", "hero") == (
        "https://a.example/?utm_source=team%20slack&utm_medium=chat&utm_campaign=Q4%20%26%20more&utm_content=hero")


def test_utm_an_existing_utm_key_wins_and_the_query_stays_byte_for_byte():
    url = "https://a.example/?q=a+b%2Fc&utm_source=partner"
    assert filters.add_utm(url, "mastodon", "social") == url + "&utm_medium=social"


def test_utm_without_values_returns_the_url_untouched():
    assert filters.add_utm("https://a.example/x?y=1#z") == "https://a.example/x?y=1#z"


@pytest.mark.parametrize("tag, style, expected", [
    ("offer", "camel", "#offer"),
    ("café-talks", "camel", "#CaféTalks"),
    ("open source", "camel", "#OpenSource"),
    ("Zürich events", "camel", "#ZürichEvents"),
    ("2026", "camel", None),
    ("#already", "camel", "#already"),
    ("C++", "camel", "#C"),
    ("café-talks", "lower", "cafetalks"),
    ("Open Source", "lower", "opensource"),
])
def test_hashtag_conventions(tag, style, expected):
    assert filters.hashtag(tag, style) == expected


def test_hashtags_per_channel_limit_and_no_duplicates():
    tags = ["release", "Release", "mobile", "search", "api"]
    assert filters.hashtags_for(tags, "x") == ["#release", "#mobile"]
    assert filters.hashtags_for(tags, "mastodon") == ["#release", "#mobile", "#search", "#api"]
    assert filters.hashtags_for(["café-talks", "API design"], "devto") == ["cafetalks", "apidesign"]


def test_excerpt_prefers_sentences_then_words():
    text = "First sentence is here. Second one is a bit longer than the first. Third."
    assert filters.excerpt(text, 50) == "First sentence is here."
    assert filters.excerpt("one two three four five six seven", 20) == "one two three four…"
    assert filters.excerpt("short", 20) == "short"


def test_truncate_to_by_the_channel_rule_never_cuts_a_link():
    value = "東京 pop-up news " * 10
    out = filters.truncate_to(value, 40, x_length)
    assert x_length(out) <= 40 and out.endswith("…")
    link = "https://example.com/" + "a" * 80
    assert filters.truncate_to(f"see {link} now", 30, len) == "see…"


def test_truncate_filter_in_a_template_uses_channel_rule_and_reserve():
    import jinja2

    from channels.context import ChannelInfo

    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    env.filters.update(filters.FILTERS)
    x = ChannelInfo("x", "x", 280, "weighted characters", "x", "social", {})
    tpl = env.from_string("{{ t | truncate(reserve=r) }}")
    out = tpl.render(t="東京 " * 200, r="r" * 200, channel=x)
    assert x_length(out) <= 80 and x_length(out) > 70


def test_plain_turns_markdown_into_text():
    md = "# Title\n\nSome **bold** and a [link](https://a.example/).\n\n- one\n- two\n"
    import jinja2

    env = jinja2.Environment()
    env.filters.update(filters.FILTERS)
    assert env.from_string("{{ md | plain }}").render(md=md) == \
        "Title\n\nSome bold and a link (https://a.example/).\n\n- one\n- two"


def test_mrkdwn_escapes_slack_control_characters():
    assert filters.mrkdwn_filter("Q&A <now>") == "Q&amp;A &lt;now&gt;"
