"""The template context: every variable a template can use, in one documented type.

``TemplateContext.variables()`` lists each variable with its line of help; docs/templates.md lists the
same (a test fails when one is missing there). Costly values (the body as HTML and as text) are
computed only when a template uses them, and once per item and segment (``Body``).
"""
from __future__ import annotations

import html as htmllib
from dataclasses import dataclass, field, fields
from datetime import datetime
from functools import cached_property
from typing import Any

from markupsafe import Markup

from newsroom.model import Item, Site

from . import fields as recipient_fields, filters, markdown_engines, markup, plaintext


def doc(text: str) -> dict:
    return {"doc": text}


class Body:
    """An item's body as one segment sees it, in every form a channel needs; each form made once."""

    def __init__(self, source: str, segment: str | None, known_segments: tuple[str, ...], base_url: str,
                 quick: bool = False, engine=None, marks: bool = False):
        self.source, self.segment, self.known, self.base = source, segment, known_segments, base_url
        self.quick, self.engine, self.marks = quick, engine, marks
        # recipient fields: marks filled per recipient (the newsletter), else their fallbacks
        filled = (recipient_fields.body_marks if marks else recipient_fields.body_fallbacks)(source)
        self.selected, self.notes = markup.select_segment(filled, segment, known_segments)

    @cached_property
    def markdown(self) -> str:
        return markup.absolute_markdown_links(self.selected.strip(), self.base)

    @cached_property
    def raw_html(self) -> str:
        return markup.to_html(self.selected, self.engine)

    @cached_property
    def clean_html(self) -> str:
        """The one parse every other form comes from: sanitised, links absolute."""
        return self._clean(self.raw_html)

    def _clean(self, html: str) -> str:
        return markup.rewrite_links(markup.sanitise(html), self.base)

    def lead_text(self, chars: int) -> str:
        """``text``, or a start of it longer than ``chars`` made from the body's opening paragraphs
        alone (``markup.opening``): all an excerpt reads (``filters.excerpt_reads``). A post made
        from the excerpt (Mastodon, Bluesky, check's renderings) then parses a paragraph or two of
        a long body, not all of it; the same parse, the same text."""
        if "clean_html" in self.__dict__ or markup.engine_name(self.engine) != markdown_engines.CMARK_GFM:
            return self.text
        size = 2 * chars
        while (end := markup.opening(self.selected, size)) is not None:
            lead = plaintext.html_to_text(self._clean(markup.to_html(self.selected[:end], self.engine)))
            if len(lead) > chars:
                return lead
            size *= 2
        return self.text

    @cached_property
    def html(self) -> str:
        if self.quick:
            # check: the templates around the body are what can fail, not the body; a stand-in of
            # escaped paragraphs keeps check from writing every body's HTML into a page.
            return f"<pre>{htmllib.escape(self.selected)}</pre>"
        return self.clean_html

    @cached_property
    def text(self) -> str:
        return plaintext.html_to_text(self.clean_html)

    @cached_property
    def images_without_alt(self) -> list[tuple[int, str]]:
        """(body line, src) of images without alt text."""
        return markup.images_without_alt_in_source(self.source)


@dataclass(frozen=True)
class ChannelInfo:
    """The channel a post is rendered for, as templates see it (never its secrets)."""

    name: str = field(metadata=doc("the channel's name in publish.yml (e.g. team-slack)"))
    type: str = field(metadata=doc("the channel type (mastodon, email …)"))
    limit: int | None = field(metadata=doc("the length limit of one post, or none"))
    unit: str = field(metadata=doc("what the limit counts: characters, graphemes, weighted characters …"))
    utm_source: str = field(metadata=doc("utm_source of this channel's links (utm_source setting, else the name)"))
    utm_medium: str = field(metadata=doc("utm_medium of this channel's links (utm_medium setting, else by type)"))
    options: dict = field(metadata=doc("the channel's options from publish.yml, secrets left out"))


@dataclass
class TemplateContext:
    """What a template sees. Every field and property below is a template variable."""

    item: Item = field(metadata=doc("the item: item.title, item.summary, item.slug, item.id, item.author, "
                                    "item.tags, item.campaign, item.segments, item.publish_at, item.image, "
                                    "item.image_alt, item.canonical_url, item.path, item.extra (unknown keys)"))
    title: str = field(metadata=doc("the item's title"))
    summary: str = field(metadata=doc("the item's summary (may be empty)"))
    url: str = field(metadata=doc("the canonical URL: canonical_url, else the blog URL site.url/slug/"))
    link: str = field(metadata=doc("url with this channel's UTM parameters (source, medium, campaign)"))
    image: str | None = field(metadata=doc("the lead image as an absolute URL, or none"))
    image_alt: str | None = field(metadata=doc("the lead image's alt text"))
    tags: list[str] = field(metadata=doc("the item's tags"))
    hashtags: str = field(metadata=doc("the tags as hashtags in this channel's convention, space separated"))
    campaign: str | None = field(metadata=doc("the item's campaign (also its utm_campaign)"))
    segment: str | None = field(metadata=doc("the audience segment this rendering is for, or none (everyone)"))
    segment_description: str | None = field(metadata=doc("that segment's description from publish.yml"))
    channel: ChannelInfo = field(metadata=doc("the channel: channel.name, channel.type, channel.limit, "
                                              "channel.unit, channel.utm_source, channel.utm_medium, channel.options"))
    site: Site = field(metadata=doc("the publication: site.title, site.url, site.language, site.description, "
                                    "site.author"))
    author: str = field(metadata=doc("the item's author"))
    thread: bool = field(metadata=doc("true when a long post may become a thread on this channel"))
    publish_at: datetime | None = field(metadata=doc("when the item goes out, in its own timezone, or none"))
    body: Body = field(repr=False, metadata=doc("", ) | {"hidden": True})
    recipient: Any = field(default=recipient_fields.NO_RECIPIENT, repr=False, metadata=doc(
        "the recipient's fields in a newsletter: recipient.<column> of their list (escaped in HTML), e.g. "
        "{{ recipient.first_name | default(\"there\") }}; read-only, printed not tested; elsewhere the fallback"))
    link_transform: Any = field(default=None, repr=False, metadata={"hidden": True})
    segments: dict = field(default_factory=dict, repr=False, metadata={"hidden": True})

    @cached_property
    def body_html(self) -> Markup:
        """the body as HTML: Markdown rendered, raw HTML sanitised, links absolute (HTML-safe)"""
        html = self.body.html
        if self.link_transform is not None:
            html = markup.rewrite_links(html, self.site.url, self.link_transform)
        return Markup(html)

    @cached_property
    def body_text(self) -> str:
        """the body as plain text: paragraphs, lists as - and 1., links as text (url)"""
        return self.body.text

    @cached_property
    def body_markdown(self) -> str:
        """the body's Markdown for this segment, segment blocks resolved, links absolute"""
        return self.body.markdown

    @cached_property
    def excerpt(self) -> str:
        """the summary, else the body's first sentences (at most 200 characters)"""
        return self.summary or filters.excerpt(self.body.lead_text(filters.excerpt_reads(200)), 200)

    @classmethod
    def variables(cls) -> dict[str, str]:
        """Every template variable with its line of help."""
        out = {f.name: f.metadata["doc"] for f in fields(cls) if not f.metadata.get("hidden")}
        for name in ("body_html", "body_text", "body_markdown", "excerpt"):
            out[name] = getattr(cls, name).__doc__.strip()
        return out

    def as_dict(self, names=None) -> dict[str, Any]:
        """The variables a template needs (all when ``names`` is None), computing only those."""
        names = self.variables() if names is None else _ALWAYS.union(names)
        out = {n: getattr(self, n) for n in names if n in _NAMES}
        out["_markdown"] = self.body.engine  # for the plain filter: the body's own engine
        return out


_NAMES = frozenset(TemplateContext.variables())
#: cheap variables the filters read from the context (utm, truncate, hashtags, absolute_url)
_ALWAYS = frozenset({"channel", "campaign", "site"})
