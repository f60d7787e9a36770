"""Plain text read off a body's rendered HTML, so social posts and the newsletter's text part come
from the same parse as the page, whichever Markdown engine made it.

Paragraphs become one line each (a hard wrap in the source is no line break on Mastodon), headings
and quotes their text, list items ``- `` and ``1. `` (nested ones indented by two spaces), task
items ``[ ]``/``[x]``, table rows cells joined by `` | ``, code blocks as they are, links
``text (url)`` (the text alone when it is the url), images ``[alt]``, footnote references ``[1]``
and the notes at the end ``[1] text``. Blocks are separated by a blank line.

The HTML is our engines' output after nh3 (well-formed, no scripts), so a tokenizer suffices.
"""
from __future__ import annotations

import html as htmllib
import re

_TOKEN = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>|<!--.*?-->", re.S)
_ATTR = re.compile(r"""([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
_BLOCKS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "div", "section", "table",
                     "dl", "dt", "dd", "figure", "figcaption", "details", "summary", "article", "aside",
                     "header", "footer", "nav", "main", "address"})


_INLINE = frozenset({"strong", "em", "b", "i", "u", "code", "del", "s", "ins", "mark", "span", "small", "sub",
                     "abbr", "cite", "q", "kbd", "samp", "var", "time", "sup"})


def _attrs(raw: str) -> dict[str, str]:
    if not raw.strip():
        return {}
    out = {}
    for m in _ATTR.finditer(raw):
        value = m.group(2) if m.group(2) is not None else m.group(3) if m.group(3) is not None else m.group(4) or ""
        out[m.group(1).lower()] = htmllib.unescape(value)
    return out


class _Text:
    """The walk's state: finished lines, the line being filled, the open lists, links and notes."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.words: list[str] = []      # inline text of the current line
        self.prefix = ""                # list marker or footnote label of the item's first line
        self.hang = ""                  # indent of an item's later lines, under its first line's text
        self.lists: list[list] = []     # [ordered, next number] per open list
        self.links: list[tuple[str, str | None, int]] = []  # (kind, href, index in words of its text)
        self.notes: list[str] = []      # the tags of open footnote sections
        self.cells: list[str] | None = None
        self.pre = False
        self.skip = 0                   # inside a footnote's back-reference: its ↩ is no text

    def flush(self, gap: bool = False) -> None:
        # str.split() and \s agree on what is whitespace (both Py_UNICODE_ISSPACE): each run becomes
        # one space, none at either end, without a regex pass over every word
        if self.words:
            text = " ".join("".join(self.words).split())
            self.words = []
        else:
            text = ""
        if self.cells is not None:
            if text:
                self.cells.append(text)
        elif text:
            indent = "  " * (len(self.lists) - 1) if len(self.lists) > 1 else ""
            lead = self.prefix or self.hang
            self.lines.append(indent + lead + text)
            if self.prefix:
                self.hang, self.prefix = " " * len(self.prefix), ""
        if gap and self.lines and self.lines[-1] != "" and not self.lists:
            self.lines.append("")

    def text(self) -> str:
        self.flush()
        while self.lines and self.lines[-1] == "":
            self.lines.pop()
        return "\n".join(self.lines)


def html_to_text(html: str) -> str:
    """The plain text of a rendered body (see the module's docstring for the rules)."""
    t = _Text()
    pos = 0
    for m in _TOKEN.finditer(html):
        start = m.start()
        if start > pos and not t.skip:
            chunk = html[pos:start]
            t.words.append(htmllib.unescape(chunk) if "&" in chunk else chunk)
        pos = m.end()
        name = m.group(2)
        if name is not None and name not in _INLINE:  # emphasis, code, spans: their text is enough
            _tag(t, name.lower(), m.group(1) == "/", m.group(3))
    if pos < len(html) and not t.skip:
        chunk = html[pos:]
        t.words.append(htmllib.unescape(chunk) if "&" in chunk else chunk)
    return t.text()


def _tag(t: _Text, name: str, closing: bool, raw: str) -> None:  # noqa: C901 - one branch per tag
    if name == "pre":
        if closing:
            code, t.words = "".join(t.words).rstrip("\n"), []
            t.lines.extend(code.split("\n") if code else ())
        t.flush(gap=True)
        t.pre = not closing
        return
    if t.pre:
        return
    if name == "a":
        if not closing:
            attrs = _attrs(raw)
            href, cls = attrs.get("href") or "", attrs.get("class", "")
            if "footnote-backref" in cls or href.startswith(("#fnref-", "#fnref:")):
                t.skip += 1
                t.links.append(("back", href, len(t.words)))
            elif "footnote-ref" in cls or href.startswith(("#fn-", "#fn:")):
                t.words.append("[")
                t.links.append(("ref", href, len(t.words)))
            else:
                t.links.append(("link", href, len(t.words)))
        elif t.links:
            kind, href, start = t.links.pop()
            if kind == "back":
                t.skip -= 1
            elif kind == "ref":
                t.words.append("]")
            else:
                label = " ".join("".join(t.words[start:]).split())
                if href and not href.startswith("#") and label != href and href != f"mailto:{label}":
                    t.words.append(f" ({href})")
        return
    if name == "img":
        alt = _attrs(raw).get("alt", "").strip()
        if alt:
            t.words.append(f"[{alt}]")
    elif name == "br":
        t.flush()
    elif name == "input":
        attrs = _attrs(raw)
        if attrs.get("type") == "checkbox":
            t.words.append("[x] " if "checked" in attrs else "[ ] ")
    elif name in ("ul", "ol"):
        t.flush()
        if closing:
            if t.lists:
                t.lists.pop()
            t.flush(gap=True)
        else:
            start = _attrs(raw).get("start", "1") if name == "ol" else "1"
            t.lists.append([name == "ol", int(start) if start.isdigit() else 1])
        t.prefix = t.hang = ""
    elif name == "li":
        t.flush()
        t.prefix = t.hang = ""
        if not closing and t.lists:
            numbered = t.lists[-1]
            if t.notes:
                t.prefix = f"[{numbered[1]}] "
            elif numbered[0]:
                t.prefix = f"{numbered[1]}. "
            else:
                t.prefix = "- "
            numbered[1] += 1
    elif name == "tr":
        t.flush()
        if closing:
            row, t.cells = t.cells or [], None
            if row:
                t.lines.append(" | ".join(row))
        else:
            t.cells = []
    elif name in ("td", "th"):
        if closing:
            t.flush()
    elif name == "hr":
        t.flush(gap=True)
    elif name in _BLOCKS:
        if t.lists:
            t.flush()  # a list item's paragraphs: each on its own line, under the item's text
            return
        t.flush(gap=True)
        if not closing and name in ("section", "div") and "footnote" in _attrs(raw).get("class", ""):
            t.notes.append(name)
        elif closing and t.notes and name == t.notes[-1]:
            t.notes.pop()
