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

import markdown
import nh3

SEGMENT_OPEN = re.compile(r"^:::\s*segment\s+(\S+)\s*$")
SEGMENT_CLOSE = re.compile(r"^:::\s*$")
_FENCE = re.compile(r"^(`{3,}|~{3,})")


def _fence_after(fence: str | None, stripped: str) -> str | None:
    """The open code fence (its marker) after a line, given the one open before it (None: none)."""
    m = _FENCE.match(stripped)
    if m:
        marker = m.group(1)
        if fence is None:
            return marker
        if marker[0] == fence[0] and len(marker) >= len(fence):
            return None
    return fence


@dataclass(frozen=True)
class Note:
    """A problem found in a body: ``line`` counts from the body's first line (1-based)."""

    line: int
    key: str
    message: str


def select_segment(body: str, segment: str | None, known: tuple[str, ...] | list[str] = ()) -> tuple[str, list[Note]]:
    """The body as ``segment`` sees it: everyone's text plus that segment's blocks (none when
    ``segment`` is None). Block markers inside fenced code are text. ``known``: the item's segments."""
    if ":::" not in body:
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


# -- Markdown → HTML ----------------------------------------------------------------------------
EXTENSIONS = ["tables", "fenced_code", "footnotes", "smarty", "toc", "sane_lists"]
_md: markdown.Markdown | None = None


def to_html(text: str) -> str:
    """Markdown to (unsanitised) HTML with the content team's extensions: tables, fenced code,
    footnotes, smart quotes and header ids. One converter is reused (reset between documents)."""
    global _md
    if _md is None:
        _md = markdown.Markdown(extensions=EXTENSIONS, extension_configs={"smarty": {"smart_angled_quotes": False}})
    return _md.reset().convert(text)


_ATTRS = {
    "*": {"id", "title", "lang", "dir"},
    "a": {"href", "hreflang", "class", "rel"},
    "img": {"src", "alt", "width", "height"},
    "code": {"class"}, "div": {"class"}, "sup": {"class"}, "li": {"class"}, "span": {"class"},
    "ol": {"start"}, "th": {"align", "colspan", "rowspan", "scope"}, "td": {"align", "colspan", "rowspan"},
    "blockquote": {"cite"}, "time": {"datetime"},
}
_cleaner: nh3.Cleaner | None = None


def sanitise(html: str) -> str:
    """Raw HTML in content reduced to a safe subset (nh3, the Rust ammonia sanitiser): no scripts,
    no event handlers, no javascript: links, no styles; footnote and header ids kept."""
    global _cleaner
    if _cleaner is None:
        _cleaner = nh3.Cleaner(tags=set(nh3.ALLOWED_TAGS) - {"center", "strike", "tt", "acronym"},
                               attributes=_ATTRS, link_rel=None, clean_content_tags={"script", "style"},
                               url_schemes={"http", "https", "mailto", "tel"})
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
    if "![" not in text and "<img" not in text.lower():
        return out
    for n, line in enumerate(text.splitlines(), 1):
        for m in _MD_IMAGE_NO_ALT.finditer(line):
            out.append((n, m.group(1)))
        if "<img" in line.lower():
            out.extend((n, src) for src in images_without_alt(line))
    return out


_MD_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)")


def image_sources(text: str) -> list[tuple[int, str]]:
    """(line, src) of every Markdown image in ``text`` outside fenced code; lines count from 1."""
    out: list[tuple[int, str]] = []
    if "![" not in text:
        return out
    fence = None
    for n, line in enumerate(text.splitlines(), 1):
        after = _fence_after(fence, line.strip())
        in_code = fence is not None or after is not None  # inside, opening or closing a fence
        fence = after
        if not in_code and "![" in line:
            out.extend((n, m.group(1)) for m in _MD_IMAGE.finditer(line))
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


# -- Markdown → plain text (fast, no HTML on the way) ---------------------------------------------
_FENCE_LINE = re.compile(r"^\s*(`{3,}|~{3,})")
_BLOCK_START = re.compile(r"^\s*(?:[-*+]\s|\d+[.)]\s|#{1,6}\s|>|\||\[\^[^\]]+\]:)")
_HEADING = re.compile(r"^\s*#{1,6}\s+(.*?)\s*#*\s*$")
_QUOTE = re.compile(r"^\s*>\s?")
_FOOTDEF = re.compile(r"^\[\^([^\]]+)\]:\s*")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_FOOTREF = re.compile(r"\[\^([^\]]+)\]")
_AUTOLINK = re.compile(r"<(https?://[^>\s]+)>")
_SCRIPT = re.compile(r"<(script|style)\b.*?</\1\s*>", re.S | re.I)
_TAG = re.compile(r"</?[A-Za-z][^>]*>")
# emphasis markers: * anywhere, _ only at word edges (snake_case stays), ~~ for strike-through;
# the content may not hold the marker, which keeps matching linear on long paragraphs
_EMPH_STAR = re.compile(r"(\*{1,3})(?=\S)([^*]+?)(?<=\S)\1")
_EMPH_UNDER = re.compile(r"(?<!\w)(_{1,3})(?=\S)([^_]+?)(?<=\S)\1(?!\w)")
_STRIKE = re.compile(r"~~(?=\S)([^~]+?)(?<=\S)~~")
_CODE = re.compile(r"`+([^`]*)`+")
_RAW_A = re.compile(r"""<a\b[^>]*?\shref=["']([^"']+)["'][^>]*>(.*?)</a\s*>""", re.I | re.S)


def _inline_text(line: str) -> str:
    # each rewrite only where its marker occurs: most paragraphs have none of them
    if "<" in line:
        line = _SCRIPT.sub("", line)
        line = _AUTOLINK.sub(r"\1", line)
        line = _RAW_A.sub(lambda m: m.group(2) if m.group(2) == m.group(1) else f"{m.group(2)} ({m.group(1)})", line)
        line = _TAG.sub("", line)
    if "](" in line:
        line = _IMAGE.sub(lambda m: f"[{m.group(1)}]" if m.group(1).strip() else "", line)
        line = _LINK.sub(lambda m: m.group(1) if m.group(1) == m.group(2) else f"{m.group(1)} ({m.group(2)})", line)
    if "[^" in line:
        line = _FOOTREF.sub(r"[\1]", line)
    if "`" in line:
        line = _CODE.sub(r"\1", line)
    if "*" in line:
        line = _EMPH_STAR.sub(r"\2", line)
    if "_" in line:
        line = _EMPH_UNDER.sub(r"\2", line)
    if "~~" in line:
        line = _STRIKE.sub(r"\1", line)
    return htmllib.unescape(line) if "&" in line else line


def quick_text(text: str) -> str:
    """Markdown to plain text without building HTML: paragraphs joined onto one line each (a hard
    wrap in the source is no line break on Mastodon), headings and quotes as their text, lists as
    - and 1., links as text (url), images as [alt], footnotes as [1], code as it is. Much faster than
    rendering HTML first, so previews and checks of social posts never wait for Markdown."""
    out: list[str] = []
    para: list[str] = []
    fence: str | None = None

    def flush() -> None:
        if para:
            out.append(_inline_text(" ".join(para)))
            para.clear()

    for raw in _SCRIPT.sub("", text).splitlines():
        m = _FENCE_LINE.match(raw)
        if fence is not None:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                fence = None
            else:
                out.append(raw)
            continue
        if m:
            flush()
            fence = m.group(1)
            continue
        line = raw.strip()
        if not line:
            flush()
            if out and out[-1] != "":
                out.append("")
            continue
        if _BLOCK_START.match(raw) or raw.startswith(("    ", "\t")):
            flush()
            h = _HEADING.match(raw)
            if h:
                out.append(_inline_text(h.group(1)))
                continue
            if _QUOTE.match(raw):
                para.append(_QUOTE.sub("", raw).strip())
                continue
            f = _FOOTDEF.match(line)
            if f:
                out.append(f"[{f.group(1)}] " + _inline_text(line[f.end():]))
                continue
            if line.startswith(("* ", "+ ")):
                line = "- " + line[2:]
            if re.match(r"^\|?\s*:?-{3,}", line):  # a table's divider row
                continue
            if line.startswith("|"):
                out.append(" | ".join(c.strip() for c in _inline_text(line).strip().strip("|").split("|")))
                continue
            para.append(line)
            flush()
            continue
        para.append(line)
    flush()
    while out and out[-1] == "":
        out.pop()
    return "\n".join(line.rstrip() for line in out)


def markdown_to_text(text: str) -> str:
    return quick_text(text)
