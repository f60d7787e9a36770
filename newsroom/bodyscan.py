"""What the core reads of a Markdown body without rendering it: its images, outside fenced code, and
the recipient fields written in it (``{{ recipient.first_name }}``, filled per newsletter recipient).

Loading an item records them (``Item.images``, ``Item.recipient_fields``), so ``check`` looks at every item's
images and fields without holding every body: an item from the item cache reads its body only when
something asks for it. ``channels/markup.py`` renders bodies and uses the same fences;
``channels/fields.py`` fills the fields.
"""
from __future__ import annotations

import re

_FENCE = re.compile(r"^(`{3,}|~{3,})")
_MD_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)")

#: A field in a body: ``{{ recipient.first_name }}`` or ``{{ recipient.first_name | default("there") }}``.
BODY_FIELD = re.compile(r"\{\{\s*recipient\.([A-Za-z0-9_]+)\s*"
                        r"(?:\|\s*(?:default|d)\s*\(\s*(?:\"([^\"\\\n]*)\"|'([^'\\\n]*)')\s*\)\s*)?\}\}")
#: Anything else that looks like a field in a body: not filled, and check says so.
BODY_NEAR = re.compile(r"\{\{\s*recipient\b[^\n]*?\}\}")

#: Places where ``has_mark`` compares the whole mark before it leaves the rest to ``str.find``.
_MARK_TRIES = 16


def has_mark(text: str, mark: str) -> bool:
    """``mark in text``, for a mark whose first character prose seldom holds (``![``, ``:::``, ``]:``,
    ``{{``). Python 3.11 looks for a needle of two or more characters a few positions at a time (7 µs
    in a body of 8 KB, for each of the marks every post is scanned for) and for one character with
    ``memchr`` (0.3 µs): so the first character is found first, and the mark compared only there.
    A text full of that character goes back to ``str.find`` after a few places."""
    first = mark[0]
    at = text.find(first)
    for _ in range(_MARK_TRIES):
        if at < 0:
            return False
        if text.startswith(mark, at):
            return True
        at = text.find(first, at + 1)
    return at >= 0 and text.find(mark, at) >= 0


def fence_after(fence: str | None, stripped: str) -> str | None:
    """The open code fence (its marker) after a line, given the one open before it (None: none)."""
    m = _FENCE.match(stripped)
    if m:
        marker = m.group(1)
        if fence is None:
            return marker
        if marker[0] == fence[0] and len(marker) >= len(fence):
            return None
    return fence


def may_hold_fields(body: str) -> bool:
    """False when ``body`` surely holds no recipient field: ``BODY_FIELD`` and ``BODY_NEAR`` both begin
    with ``{{`` and name ``recipient``."""
    return has_mark(body, "{{") and "recipient" in body


def image_sources(text: str) -> list[tuple[int, str]]:
    """(line, src) of every Markdown image in ``text`` outside fenced code; lines count from 1."""
    out: list[tuple[int, str]] = []
    if not has_mark(text, "!["):
        return out
    fence = None
    for n, line in enumerate(text.splitlines(), 1):
        after = fence_after(fence, line.strip())
        in_code = fence is not None or after is not None  # inside, opening or closing a fence
        fence = after
        if not in_code and "![" in line:
            out.extend((n, m.group(1)) for m in _MD_IMAGE.finditer(line))
    return out


def body_fields(body: str) -> list[tuple[int, str, bool]]:
    """(line in the body, column, whether it is filled) of every field written in a body; a field
    not filled is one written another way (``{{ recipient.name | upper }}``), left as text."""
    out = []
    if not may_hold_fields(body):
        return out
    for m in BODY_NEAR.finditer(body):
        full = BODY_FIELD.fullmatch(m.group(0))
        line = body.count("\n", 0, m.start()) + 1
        out.append((line, full.group(1).lower() if full else m.group(0), full is not None))
    return out
