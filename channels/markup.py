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
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import markdown
import nh3

SEGMENT_OPEN = re.compile(r"^:::\s*segment\s+(\S+)\s*$")
SEGMENT_CLOSE = re.compile(r"^:::\s*$")
_FENCE = re.compile(r"^(`{3,}|~{3,})")


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
        m_fence = _FENCE.match(stripped)
        if m_fence:
            marker = m_fence.group(1)
            if fence is None:
                fence = marker
            elif marker[0] == fence[0] and len(marker) >= len(fence):
                fence = None
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


_MD_LINK = re.compile(r"(!?\[[^\]]*\]\()([^)\s]+)")


def absolute_markdown_links(text: str, base: str) -> str:
    """Relative Markdown links and images made absolute (for platforms that take Markdown: dev.to)."""
    base = base.rstrip("/") + "/"

    def fix(m: re.Match) -> str:
        url = m.group(2)
        if url.startswith("#") or urlsplit(url).scheme:
            return m.group(0)
        return m.group(1) + urljoin(base, url)

    return _MD_LINK.sub(fix, text)


_IMG = re.compile(r"<img\b[^>]*>", re.I)
_ALT = re.compile(r'\salt\s*=\s*("([^"]*)"|\'([^\']*)\'|([^\s>]+))', re.I)
_SRC = re.compile(r'\ssrc\s*=\s*("([^"]*)"|\'([^\']*)\'|([^\s>]+))', re.I)


def images_without_alt(html: str) -> list[str]:
    """The src of every image whose alt text is missing or blank."""
    out = []
    for tag in _IMG.findall(html):
        alt = _ALT.search(tag)
        if not alt or not (alt.group(2) or alt.group(3) or alt.group(4) or "").strip():
            src = _SRC.search(tag)
            out.append(htmllib.unescape(next(g for g in src.groups()[1:] if g is not None)) if src else "")
    return out


# -- HTML → plain text --------------------------------------------------------------------------
_BLOCK = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "blockquote", "pre", "hr",
          "section", "article", "header", "footer", "figure", "dl"}


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.href: list[str | None] = []
        self.link_text: list[int] = []
        self.skip = 0
        self.pre = 0
        self.lists: list[list[int]] = []  # [counter or -1 for bullets]
        self.li_fresh = False  # just after <li>: its first <p> starts no new paragraph
        self.cells = 0
        self.in_ref = 0

    def _newlines(self, n: int) -> None:
        text = "".join(self.out)
        have = len(text) - len(text.rstrip("\n"))
        if text.strip():
            self.out.append("\n" * max(0, n - have))

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "style"):
            self.skip += 1
        elif tag in _BLOCK:
            if not (tag == "p" and self.li_fresh):
                self._newlines(2)
            if tag == "pre":
                self.pre += 1
            elif tag in ("ul", "ol"):
                self.lists.append([0 if tag == "ol" else -1])
        elif tag == "li":
            self._newlines(1)
            self.li_fresh = True
            counter = self.lists[-1] if self.lists else [-1]
            if (a.get("id") or "").startswith("fn:"):  # a footnote: [1] its text
                counter[0] += 1 if counter[0] >= 0 else 0
                self._sep(f"[{a['id'][3:]}] ")
            elif counter[0] >= 0:
                counter[0] += 1
                self._sep(f"{counter[0]}. ")
            else:
                self._sep("- ")
        elif tag == "br":
            self.out.append("\n")
        elif tag in ("tr",):
            self._newlines(1)
            self.cells = 0
        elif tag in ("td", "th"):
            if self.cells:
                self._sep(" | ")
            self.cells += 1
        elif tag == "a":
            self.href.append(a.get("href"))
            self.link_text.append(len(self.out))
        elif tag == "img":
            if a.get("alt"):
                self.out.append(f"[{a['alt']}]")
        elif tag == "sup" and (a.get("id") or "").startswith("fnref"):
            self.out.append("[")
            self.in_ref += 1

    def handle_endtag(self, tag):
        if tag == "sup" and self.in_ref:
            self.in_ref -= 1
            self.out.append("]")
        elif tag in ("script", "style"):
            self.skip = max(0, self.skip - 1)
        elif tag in _BLOCK:
            if tag == "pre":
                self.pre = max(0, self.pre - 1)
            elif tag in ("ul", "ol") and self.lists:
                self.lists.pop()
            self._newlines(2)
        elif tag == "a" and self.href:
            href = self.href.pop()
            start = self.link_text.pop()
            text = "".join(self.out[start:]).strip()
            if href and not href.startswith("#") and href != text and not href.startswith("mailto:"):
                self.out.append(f" ({href})")
            elif href and href.startswith("#"):
                # footnote markers and back links: keep the number, drop the arrow
                if text in ("\u21a9", "\u21a9\ufe0e"):
                    del self.out[start:]

    def _sep(self, sep: str) -> None:
        while self.out and self.out[-1].endswith(" ") and not self.pre:
            self.out[-1] = self.out[-1].rstrip(" ")
            if not self.out[-1]:
                self.out.pop()
            else:
                break
        self.out.append(sep)

    def handle_data(self, data):
        if self.skip:
            return
        if data.strip():
            self.li_fresh = False
        if not self.pre:
            data = re.sub(r"\s+", " ", data)
            if data.startswith(" ") and (not self.out or self.out[-1].endswith(("\n", " "))):
                data = data.lstrip()
        self.out.append(data)


def to_text(html: str) -> str:
    """HTML to readable plain text: paragraphs kept, lists as - and 1., links as text (url)."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    text = "".join(parser.out)
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def markdown_to_text(text: str) -> str:
    return to_text(to_html(text))
