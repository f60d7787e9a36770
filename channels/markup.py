"""Markdown bodies: segment blocks, HTML (sanitised, links absolute), plain text, image checks.

Segment blocks select text for one audience segment; text outside blocks is for everyone::

    ::: segment smb
    Small teams: start with your top 20 products.
    :::

The body is only ever data: it is never compiled as a template, so ``{{ … }}`` in content stays text.
"""
from __future__ import annotations

import html as htmllib
import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import nh3

from newsroom.bodyscan import fence_after as _fence_after, has_mark
from newsroom.bodyscan import image_sources  # noqa: F401 (for callers)

from . import markdown_engines, plaintext

SEGMENT_OPEN = re.compile(r"^:::\s*segment\s+(\S+)\s*$")
SEGMENT_CLOSE = re.compile(r"^:::\s*$")

@dataclass(frozen=True)
class Note:
    """A problem found in a body: ``line`` counts from the body's first line (1-based)."""

    line: int
    key: str
    message: str


def select_segment(body: str, segment: str | None, known: tuple[str, ...] | list[str] = ()) -> tuple[str, list[Note]]:
    """The body as ``segment`` sees it: everyone's text plus that segment's blocks (none when
    ``segment`` is None). Block markers inside fenced code are text. ``known``: the item's segments."""
    if not has_mark(body, ":::"):
        return body, []
    out: list[str] = []
    notes: list[Note] = []
    current: str | None = None
    opened_at = 0
    fence: str | None = None
    for n, line in enumerate(body.splitlines(keepends=True), 1):
        stripped = line.strip()
        fence = _fence_after(fence, stripped)
        if fence is None and (m := SEGMENT_OPEN.match(stripped)):
            if current is not None:
                notes.append(Note(n, "body", f"segment block '{m.group(1)}' starts inside block '{current}' "
                                             f"(opened on body line {opened_at}); close it with ::: first"))
            current, opened_at = m.group(1), n
            if known and current not in known:
                notes.append(Note(n, "body", f"segment block '{current}' is not in this item's segments "
                                             f"({', '.join(known)}); add it to segments: or fix the name"))
            elif not known:
                notes.append(Note(n, "body", f"segment block '{current}' but the item lists no segments; "
                                             f"add segments: [{current}]"))
            continue
        if fence is None and current is not None and SEGMENT_CLOSE.match(stripped):
            current = None
            continue
        if current is None or current == segment:
            out.append(line)
    if current is not None:
        notes.append(Note(opened_at, "body", f"segment block '{current}' is never closed: add a line ':::' after it"))
    return "".join(out), notes


# -- Markdown → HTML → text --------------------------------------------------------------------
def to_html(text: str, engine=None) -> str:
    """Markdown to (unsanitised) HTML with ``engine`` (``markdown_engines.engine()``; default cmark-gfm)."""
    return (engine or markdown_engines.engine()).html(text)


def engine_name(engine=None) -> str:
    """The name of ``engine`` (``to_html``'s; None: the default)."""
    return (engine or markdown_engines.engine()).name


# A line that may open a block which stays open across a blank line (a list, fenced or indented
# code, an HTML block) or that is not a plain paragraph (a quote, a table row): ``opening`` stops there.
_OPENS = re.compile(r" {0,3}(?:[-+*](?:[ \t]|$)|\d{1,9}[.)](?:[ \t]|$)|[>|<]|```|~~~)| {0,3}\t| {4}")


def opening(text: str, size: int) -> int | None:
    """The end of the body's opening (at least ``size`` characters of it, up to and with a blank
    line) when CommonMark parses that opening as it parses it within the whole body: paragraphs and
    headings only, each closed by a blank line, and nothing later that reaches back into it (no link
    reference or footnote definition anywhere). None when no such opening is long enough, or when
    the body is shorter than ``size``: then the whole body is parsed."""
    if len(text) <= size or has_mark(text, "]:"):
        return None
    pos, content = 0, False
    while pos < len(text):
        nl = text.find("\n", pos)
        end = len(text) if nl < 0 else nl + 1
        line = text[pos:end]
        if not line.strip(" \t\n"):
            if content and end >= size:
                return end
        elif _OPENS.match(line):
            return None
        else:
            content = True
        pos = end
    return None


def markdown_to_text(text: str, engine=None) -> str:
    """Markdown to plain text, read off the same parse as the HTML (``plaintext.html_to_text``)."""
    return plaintext.html_to_text(sanitise(to_html(text, engine)))


_ATTRS = {
    "*": {"id", "title", "lang", "dir"},
    "a": {"href", "hreflang", "class", "rel"},
    "img": {"src", "alt", "width", "height"},
    "code": {"class"}, "div": {"class"}, "sup": {"class"}, "li": {"class"}, "span": {"class"},
    "section": {"class"}, "input": {"checked", "disabled"},
    "ol": {"start"}, "th": {"align", "colspan", "rowspan", "scope"}, "td": {"align", "colspan", "rowspan"},
    "blockquote": {"cite"}, "time": {"datetime"},
}
_cleaner: nh3.Cleaner | None = None


def sanitise(html: str) -> str:
    """Raw HTML in content reduced to a safe subset (nh3, the Rust ammonia sanitiser): no scripts,
    no event handlers, no javascript: links, no styles; footnote and header ids kept."""
    global _cleaner
    if _cleaner is None:
        # a task list's checkboxes (cmark-gfm: <input type="checkbox" disabled="">) stay, and only those
        _cleaner = nh3.Cleaner(tags=(set(nh3.ALLOWED_TAGS) - {"center", "strike", "tt", "acronym"}) | {"input", "section"},
                               attributes=_ATTRS, link_rel=None, clean_content_tags={"script", "style"},
                               url_schemes={"http", "https", "mailto", "tel"},
                               tag_attribute_values={"input": {"type": {"checkbox"}}},
                               set_tag_attribute_values={"input": {"disabled": ""}})
    return _cleaner.clean(html)


_LINK_ATTR = re.compile(r'(<(?:a|img)\b[^>]*?\s(?:href|src)=")([^"]*)(")')


def rewrite_links(html: str, base: str, transform=None) -> str:
    """Every href/src made absolute against ``base``; ``transform(url)`` then applies (UTM for own links).
    Fragment-only links (#fn:1) stay as they are."""
    base = base.rstrip("/") + "/"

    def fix(m: re.Match) -> str:
        url = htmllib.unescape(m.group(2))
        if not url.startswith("#"):
            if not urlsplit(url).scheme:
                url = urljoin(base, url)
            if transform is not None:
                url = transform(url)
        return m.group(1) + htmllib.escape(url, quote=True) + m.group(3)

    return _LINK_ATTR.sub(fix, html)


# the target of a Markdown link or image whose URL has no scheme and is no fragment: a relative one
_MD_LINK = re.compile(r"(\]\()(?![#<]|[A-Za-z][A-Za-z0-9+.-]*:)([^)\s]+)")


def absolute_markdown_links(text: str, base: str) -> str:
    """Relative Markdown links and images made absolute (for platforms that take Markdown: dev.to)."""
    base = base.rstrip("/") + "/"

    def fix(m: re.Match) -> str:
        return m.group(1) + urljoin(base, m.group(2))

    def fix_attr(m: re.Match) -> str:
        url = m.group(2)
        if url.startswith("#") or urlsplit(url).scheme:
            return m.group(0)
        return m.group(1) + urljoin(base, url) + m.group(3)

    if "](" in text:
        text = _MD_LINK.sub(fix, text)
    if "<" in text:
        text = _RAW_ATTR.sub(fix_attr, text)
    return text


_RAW_ATTR = re.compile(r"""(<(?:a|img)\b[^>]*?\s(?:href|src)=["'])([^"']*)(["'])""", re.I)


_IMG = re.compile(r"<img\b[^>]*>", re.I)
_ALT = re.compile(r'\salt\s*=\s*("([^"]*)"|\'([^\']*)\'|([^\s>]+))', re.I)
_SRC = re.compile(r'\ssrc\s*=\s*("([^"]*)"|\'([^\']*)\'|([^\s>]+))', re.I)


_MD_IMAGE_NO_ALT = re.compile(r"!\[\s*\]\(\s*<?([^)\s>]*)")


def images_without_alt_in_source(text: str) -> list[tuple[int, str]]:
    """(line, src) of every image in Markdown source (``![](x.png)`` or a raw ``<img>``) without alt
    text; the line counts from 1 at the body's first line."""
    out: list[tuple[int, str]] = []
    # no '<' at all: no "<img" in the text lowered either (lowering makes no '<'), and no copy made
    if not has_mark(text, "![") and ("<" not in text or "<img" not in text.lower()):
        return out
    for n, line in enumerate(text.splitlines(), 1):
        for m in _MD_IMAGE_NO_ALT.finditer(line):
            out.append((n, m.group(1)))
        if "<" in line and "<img" in line.lower():
            out.extend((n, src) for src in images_without_alt(line))
    return out


def images_without_alt(html: str) -> list[str]:
    """The src of every image whose alt text is missing or blank."""
    out = []
    for tag in _IMG.findall(html):
        alt = _ALT.search(tag)
        if not alt or not (alt.group(2) or alt.group(3) or alt.group(4) or "").strip():
            src = _SRC.search(tag)
            out.append(htmllib.unescape(next(g for g in src.groups()[1:] if g is not None)) if src else "")
    return out
