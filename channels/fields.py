"""Fields per recipient: ``{{ recipient.<column> }}`` in the email templates and in an item's body.

A newsletter is rendered once per item and segment; the recipient's own values are filled in when
each message is built. Rendering leaves a *mark* where a field goes — a private-use character, the
column, the fallback (hex), another private-use character — and ``Filler`` splits a rendered text
at its marks once, so filling a message is a join of strings.

- In templates, ``recipient`` is a read-only namespace (``RecipientFields``): ``recipient.plan``
  or ``recipient["plan"]`` print a mark; ``| default("there")`` (or ``| d(…)``) gives the fallback
  used when the recipient's cell is empty or their list has no such column. A field can be printed,
  not tested: ``{% if recipient.plan %}`` is a template error, since the message is made once for
  everyone. Other filters on a field are not supported (they would change the mark, not the value).
- In the body, which stays data and is never a template, exactly ``{{ recipient.<column> }}`` and
  ``{{ recipient.<column> | default("…") }}`` are filled; any other ``{{ … }}`` is text.
- Values are escaped in the HTML part, written as they are in the text part, and put on one line in
  a header (the subject). Other channels (blog, social) print the fallback, or nothing.
"""
from __future__ import annotations

import html as htmllib
import re
from dataclasses import dataclass

import jinja2

from newsroom.bodyscan import BODY_FIELD, may_hold_fields  # the fields a body holds are found at load (body_fields)

OPEN, SEP, CLOSE = "\ue000", "\ue002", "\ue001"
#: A column as a field name: letters, digits and underscores (the list's header, lowercased).
NAME = re.compile(r"[a-z0-9_]+")
_MARK = re.compile(f"{OPEN}([a-z0-9_]+)(?:{SEP}([0-9a-f]*))?{CLOSE}")
#: What is left of a mark a truncation cut (an excerpt): dropped when a message is filled.
_BROKEN = re.compile(f"{OPEN}[a-z0-9_]*(?:{SEP}[0-9a-f]*)?{CLOSE}?|{SEP}[0-9a-f]*{CLOSE}?|{CLOSE}")


class FieldError(Exception):
    """A recipient field used in a way a message rendered once cannot honour."""


def mark(column: str, fallback: str | None = None) -> str:
    column = column.lower()
    if fallback is None:
        return f"{OPEN}{column}{CLOSE}"
    return f"{OPEN}{column}{SEP}{fallback.encode('utf-8', 'replace').hex()}{CLOSE}"  # a lone surrogate: ?


class Field:
    """One recipient field in a template: prints as its mark (in HTML and in text alike)."""

    __slots__ = ("column", "fallback")

    def __init__(self, column: str, fallback: str | None = None):
        self.column, self.fallback = column, fallback

    def __str__(self) -> str:
        return mark(self.column, self.fallback)

    def __html__(self) -> str:  # the mark holds no HTML; the value is escaped when it is filled
        return str(self)

    def __bool__(self):
        raise FieldError(f"recipient.{self.column} can be printed, not tested (the message is made once for "
                         f"everyone): use {{{{ recipient.{self.column} | default(\"…\") }}}}")


class RecipientFields:
    """``recipient`` in the email templates: every column of the list, read-only."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Field:
        if name.startswith("_") or not NAME.fullmatch(name.lower()):
            raise AttributeError(name)
        return Field(name.lower())

    def __getitem__(self, name) -> Field:
        name = str(name).strip().lower()
        if not NAME.fullmatch(name):
            raise FieldError(f"'{name}' is not a column name (letters, digits and _)")
        return Field(name)

    def __setattr__(self, name, value):
        raise FieldError("recipient is read-only")

    def __bool__(self) -> bool:
        return True


class FallbackFields:
    """``recipient`` on channels that have no recipient (blog, social): every field is undefined, so
    ``| default("there")`` prints the fallback and a bare field prints nothing."""

    __slots__ = ()

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return jinja2.Undefined(name=f"recipient.{name}")

    __getitem__ = __getattr__


RECIPIENT = RecipientFields()
NO_RECIPIENT = FallbackFields()


def default_filter(value, default_value="", boolean=False):
    """Jinja's ``default``, which also gives a recipient field its fallback."""
    if isinstance(value, Field):
        return Field(value.column, str(default_value))
    if isinstance(value, jinja2.Undefined) or (boolean and not value):
        return default_value
    return value


def body_marks(body: str) -> str:
    """A body with its recipient fields turned into marks (for the newsletter)."""
    if not may_hold_fields(body):
        return body
    return BODY_FIELD.sub(lambda m: mark(m.group(1), _fallback(m)), body)


def body_fallbacks(body: str) -> str:
    """A body with its recipient fields turned into their fallbacks (for every other channel)."""
    if not may_hold_fields(body):
        return body
    return BODY_FIELD.sub(lambda m: _fallback(m) or "", body)


def _fallback(m: re.Match) -> str | None:
    if m.group(2) is not None:
        return m.group(2)
    return m.group(3)


def has_marks(text: str) -> bool:
    return OPEN in text


def fields_in(text: str) -> list[str]:
    """The columns a rendered text fills, in order of first use."""
    return list(dict.fromkeys(m.group(1) for m in _MARK.finditer(text)))


def _decode(hexed: str | None) -> str | None:
    if hexed is None:
        return None
    try:
        return bytes.fromhex(hexed).decode("utf-8")
    except ValueError:
        return ""


@dataclass(frozen=True)
class Filler:
    """A rendered text split at its marks once: literal text and (column, fallback) in turn."""

    pieces: tuple  # str | tuple[str, str | None]

    @classmethod
    def of(cls, text: str) -> "Filler":
        if OPEN not in text and SEP not in text and CLOSE not in text:
            return cls((text,))
        pieces: list = []
        at = 0
        for m in _MARK.finditer(text):
            pieces.append(_BROKEN.sub("", text[at:m.start()]))
            pieces.append((m.group(1), _decode(m.group(2))))
            at = m.end()
        pieces.append(_BROKEN.sub("", text[at:]))
        return cls(tuple(p for p in pieces if p != ""))

    @property
    def plain(self) -> bool:
        return all(isinstance(p, str) for p in self.pieces)

    def fill(self, values: dict[str, str], how: str = "text") -> str:
        """``how``: ``text`` (as it is), ``html`` (escaped) or ``header`` (on one line)."""
        if len(self.pieces) == 1 and isinstance(self.pieces[0], str):
            return self.pieces[0]
        out = []
        for p in self.pieces:
            if isinstance(p, str):
                out.append(p)
                continue
            value = values.get(p[0]) or p[1] or ""
            if how == "html":
                value = htmllib.escape(value, quote=True)
            elif how == "header":
                value = " ".join(value.split())
            out.append(value)
        return "".join(out)


def show(text: str) -> str:
    """A rendered text for a person (a preview): each mark written back as the field it stands for."""
    if OPEN not in text:
        return text

    def back(m: re.Match) -> str:
        fallback = _decode(m.group(2))
        if fallback is None:
            return f"{{{{ recipient.{m.group(1)} }}}}"
        return f"{{{{ recipient.{m.group(1)} | default(\"{fallback}\") }}}}"
    return _BROKEN.sub("", _MARK.sub(back, text))
