"""Output formats as data (Hugo's output formats): a name, its media type, and the writer that
makes it. The calendar's views (``scheduler/views.py``) and the report (``reports/formats.py``)
each keep a table of ``OutputFormat``; the media types are named once, here."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

MEDIA_TYPES = {
    "text": "text/plain; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "ics": "text/calendar; charset=utf-8",
}


def media_type(name: str) -> str:
    return MEDIA_TYPES[name]


@dataclass(frozen=True)
class OutputFormat:
    name: str  # as --format names it
    media_type: str
    write: Callable[..., str]


def write_file(path, text: str):
    """``text`` written to ``path`` (UTF-8), its folders made first; the path back, to be said."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
