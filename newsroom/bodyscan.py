"""What the core reads of a Markdown body without rendering it: its images, outside fenced code.

Loading an item records them (``Item.images``), so ``check`` looks at every item's images without
holding every body: an item from the item cache reads its body only when something asks for it.
``channels/markup.py`` renders bodies and uses the same fences.
"""
from __future__ import annotations

import re

_FENCE = re.compile(r"^(`{3,}|~{3,})")
_MD_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)")


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


def image_sources(text: str) -> list[tuple[int, str]]:
    """(line, src) of every Markdown image in ``text`` outside fenced code; lines count from 1."""
    out: list[tuple[int, str]] = []
    if "![" not in text:
        return out
    fence = None
    for n, line in enumerate(text.splitlines(), 1):
        after = fence_after(fence, line.strip())
        in_code = fence is not None or after is not None  # inside, opening or closing a fence
        fence = after
        if not in_code and "![" in line:
            out.extend((n, m.group(1)) for m in _MD_IMAGE.finditer(line))
    return out
