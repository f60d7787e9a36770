"""Template filters: links with UTM, absolute URLs, hashtags, plain text, excerpts, truncation.

Each is a plain function (tested alone); ``FILTERS`` is what the Jinja environment registers. Filters
that need the channel (UTM defaults, the length rule, the hashtag convention) read it from the
template context, so templates write ``{{ url | utm }}`` and ``{{ text | truncate }}``.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from urllib.parse import quote, urljoin, urlsplit

import jinja2
import regex

from . import markup, text
from .registry import rule_for

UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")


_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*")


def _q(value) -> str:
    value = str(value)
    return value if _UNRESERVED.fullmatch(value) else quote(value, safe="")


def add_utm(url: str, source: str | None = None, medium: str | None = None, campaign: str | None = None,
            content: str | None = None, term: str | None = None) -> str:
    """``url`` with UTM parameters added. The existing query string is kept byte for byte (a UTM key
    it already has wins: the writer chose it on purpose) and the fragment stays last."""
    base, hash_, fragment = url.partition("#")
    base, qmark, query = base.partition("?")
    present = {p.split("=", 1)[0] for p in query.split("&") if p} if query else set()
    added = [f"{key}={_q(value)}" for key, value in zip(UTM_KEYS, (source, medium, campaign, content, term))
             if value not in (None, "") and key not in present]
    if not added:
        return url
    query = "&".join(([query] if query else []) + added)
    return f"{base}?{query}{hash_}{fragment}"


def absolute(url: str, base: str) -> str:
    """``url`` resolved against ``base`` (the site URL); absolute URLs are returned unchanged."""
    if urlsplit(url).scheme:
        return url
    return urljoin(base.rstrip("/") + "/", url)


_SPLIT_WORDS = regex.compile(r"[\s_\-./]+")
_NOT_WORD = regex.compile(r"[^\w]", regex.UNICODE)


def hashtag(tag: str, style: str = "camel") -> str | None:
    """One tag as a hashtag. ``camel``: ``#CaféTalks`` from "café-talks" (multiword tags in CamelCase,
    which screen readers read as words; accents kept); ``lower``: dev.to's lowercase alphanumerics,
    without '#'. None when nothing usable is left (a tag of digits only is no hashtag on Mastodon,
    whose HASHTAG_RE requires a letter)."""
    words = [w for w in _SPLIT_WORDS.split(tag.strip().lstrip("#")) if w]
    if style == "lower":
        # dev.to tags are lowercase ASCII letters and digits: fold accents rather than drop letters
        value = unicodedata.normalize("NFKD", "".join(words)).encode("ascii", "ignore").decode().lower()
        value = regex.sub(r"[^a-z0-9]", "", value)
        return value or None
    if len(words) > 1:
        words = [w[:1].upper() + w[1:] for w in words]
    value = "".join(_NOT_WORD.sub("", w) for w in words)
    if not value or value.isdigit():
        return None
    return "#" + value


#: Hashtag convention per channel type: how many at most, and in which style.
HASHTAG_STYLE = {"devto": ("lower", text.DEVTO_MAX_TAGS), "linkedin": ("camel", 5), "x": ("camel", 2),
                 "bluesky": ("camel", 3), "mastodon": ("camel", 5), "telegram": ("camel", 3),
                 "threads": ("camel", 1), "facebook": ("camel", 3), "instagram": ("camel", 10)}


def hashtags_for(tags, channel_type: str = "", limit: int | None = None) -> list[str]:
    return list(_hashtags(tuple(str(t) for t in tags or ()), channel_type, limit))


@lru_cache(maxsize=4096)
def _hashtags(tags: tuple[str, ...], channel_type: str, limit: int | None) -> tuple[str, ...]:
    style, default_limit = HASHTAG_STYLE.get(channel_type, ("camel", 5))
    out: list[str] = []
    for tag in tags:
        h = hashtag(tag, style)
        if h and h.casefold() not in {o.casefold() for o in out}:
            out.append(h)
    return tuple(out[: limit if limit is not None else default_limit])


_SENTENCE = regex.compile(r"[.!?…。！？](?=\s|$)")


def excerpt_reads(n: int) -> int:
    """How much of a text ``excerpt(text, n)`` reads: a text longer than this has the excerpt of every
    longer text it begins (``Body.lead_text`` relies on it)."""
    return 4 * n + 64


def excerpt(value: str, n: int = 200, end: str = "…") -> str:
    """At most ``n`` characters of ``value``: whole sentences when at least a third of ``n`` fits that
    way, else whole words, with ``end`` appended when something was cut."""
    value = value or ""
    head = value[: excerpt_reads(n)]  # only the start can end up in an excerpt: spare the rest of a long body
    cut_off = len(head) < len(value)
    value = " ".join(head.split())  # each run of whitespace one space, none at the ends (as plaintext.flush)
    if len(value) <= n and not cut_off:
        return value
    if len(value) <= n:  # whitespace-heavy start: what is left still fits
        return value[: max(0, n - len(end))].rstrip() + end
    room = value[: n - len(end) + 1]
    cut = max((m.end() for m in _SENTENCE.finditer(room)), default=0)
    if cut >= n // 3:
        return value[:cut]
    space = room.rfind(" ")
    head = room[:space] if space > 0 else room[: n - len(end)]
    return head.rstrip(" ,;:-–—") + end


def truncate_to(value: str, limit: int, measure, end: str = "…") -> str:
    """``value`` cut at a word boundary so that it measures at most ``limit`` by ``measure``
    (the channel's own rule). A link is never cut: it goes whole or not at all."""
    if measure(value) <= limit:
        return value
    words = re.findall(r"\S+\s*", value)
    out = ""
    for word in words:
        if measure((out + word).rstrip() + end) > limit:
            break
        out += word
    if not out and words:  # a single word longer than the limit: cut it by graphemes, unless a link
        if text.URL_RE.fullmatch(words[0].strip()):
            return ""
        for g in regex.findall(r"\X", words[0]):
            if measure(out + g + end) > limit:
                break
            out += g
    return out.rstrip(" ,;:-–—") + end


# -- the filters as templates see them ------------------------------------------------------------
def _channel(ctx):
    return ctx.get("channel")


@jinja2.pass_context
def utm_filter(ctx, url: str, source: str | None = None, medium: str | None = None,
               campaign: str | None = None, content: str | None = None, term: str | None = None) -> str:
    """``{{ url | utm }}``: source = channel utm_source or its name, medium = channel utm_medium or
    the type's medium, campaign = the item's campaign; any of them can be given."""
    ch = _channel(ctx)
    return add_utm(url, source or (ch.utm_source if ch else None), medium or (ch.utm_medium if ch else None),
                   campaign or ctx.get("campaign"), content, term)


@jinja2.pass_context
def absolute_url_filter(ctx, url: str) -> str:
    site = ctx.get("site")
    return absolute(url, site.url if site else "")


@jinja2.pass_context
def hashtags_filter(ctx, tags, limit: int | None = None) -> str:
    """``{{ item.tags | hashtags }}``: the channel's hashtag convention, space separated."""
    ch = _channel(ctx)
    return " ".join(hashtags_for(tags, ch.type if ch else "", limit))


@jinja2.pass_context
def plain_filter(ctx, value: str) -> str:
    """Markdown to plain text, by the project's Markdown engine."""
    return markup.markdown_to_text(value or "", ctx.get("_markdown"))


@jinja2.pass_context
def truncate_filter(ctx, value: str, limit: int | None = None, end: str = "…", reserve: str = "") -> str:
    """``{{ text | truncate(200) }}``: cut at a word so it fits ``limit`` by the channel's own length
    rule (default: the channel's limit). ``reserve``: the rest of the post, whose length is kept free
    (``{{ excerpt | truncate(reserve=title ~ link) }}``)."""
    ch = _channel(ctx)
    rule = rule_for(ch.type if ch else "", ch.options if ch else None)
    limit = limit if limit is not None else rule.limit
    if limit is None:
        return value
    if reserve:
        limit -= rule.measure(reserve)
    return truncate_to(value, max(limit, 0), rule.measure, end)


def mrkdwn_filter(value: str) -> str:
    """Escape &, < and > for Slack's mrkdwn (api.slack.com/reference/surfaces/formatting#escaping)."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_DISCORD_MD = re.compile(r"([\\*_~`|\[\]])")
_DISCORD_LINE = re.compile(r"^(\s*)([>#-])", re.M)


def discord_escape_filter(value: str) -> str:
    """Backslash-escape Discord Markdown (emphasis, code, spoilers, masked links; quotes, headings
    and lists at a line start) so a title shows as written."""
    return _DISCORD_LINE.sub(r"\1\\\2", _DISCORD_MD.sub(r"\\\1", str(value)))


FILTERS = {
    "utm": utm_filter,
    "absolute_url": absolute_url_filter,
    "hashtags": hashtags_filter,
    "plain": plain_filter,
    "excerpt": excerpt,
    "truncate": truncate_filter,
    "mrkdwn": mrkdwn_filter,
    "discord_escape": discord_escape_filter,
}
