"""Front matter and YAML, read strictly and fast, with a line number for every key.

PyYAML's C parser (libyaml) builds the node tree when it is installed; the pure-Python parser
otherwise. Values are then built from the nodes here rather than by PyYAML's constructor, because
YAML 1.1 (what PyYAML implements) has traps a content team falls into:

- ``09:00`` is the base-60 integer 540, ``no``/``yes``/``on``/``off`` are booleans (Norway's code
  ``NO`` becomes False), and ``2026-11-27`` becomes a date object. Plain scalars here follow the
  YAML 1.2 core schema instead: only ``true``/``false`` are booleans, only decimal numbers are
  numbers; times and dates stay text for the schema to read with the key's own rules.
- A repeated key silently keeps the last value in PyYAML; here it is a problem.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml

from yaml.composer import Composer
from yaml.constructor import BaseConstructor
from yaml.nodes import MappingNode, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.scanner import Scanner


class _NoResolver:
    """Tags by node kind only. Values are read by ``_build`` below, so PyYAML's implicit resolver
    (a regex per scalar, in Python) would be work thrown away; skipping it halves parse time."""

    _TAGS = {ScalarNode: "tag:yaml.org,2002:str", SequenceNode: "tag:yaml.org,2002:seq",
             MappingNode: "tag:yaml.org,2002:map"}

    def descend_resolver(self, current_node, current_index):
        pass

    def ascend_resolver(self):
        pass

    def resolve(self, kind, value, implicit):
        return self._TAGS[kind]


class _PureLoader(Reader, Scanner, Parser, Composer, BaseConstructor, _NoResolver):
    """The pure-Python parser with the same resolver, for installs without libyaml."""

    def __init__(self, stream):
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        BaseConstructor.__init__(self)


try:  # libyaml, when PyYAML was built with it
    from yaml._yaml import CParser

    class _Loader(CParser, BaseConstructor, _NoResolver):
        def __init__(self, stream):
            CParser.__init__(self, stream)
            BaseConstructor.__init__(self)

    FAST = True
except ImportError:  # pragma: no cover - depends on the install
    _Loader = _PureLoader  # type: ignore[misc]
    FAST = False

_INT = re.compile(r"^[-+]?[0-9]+$")
_FLOAT = re.compile(r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$|^[-+]?[0-9]+[eE][-+]?[0-9]+$")
_NULL = frozenset(("", "~", "null", "Null", "NULL"))
_TRUE = frozenset(("true", "True", "TRUE"))
_FALSE = frozenset(("false", "False", "FALSE"))
#: Words YAML 1.1 reads as booleans; kept as text here, read as booleans only by boolean keys.
YAML11_BOOLS = {w: v for v, words in ((True, "y Y yes Yes YES on On ON"), (False, "n N no No NO off Off OFF"))
                for w in words.split()}


#: libyaml's words for the usual mistakes, and what to do about them.
_HINTS = {
    "mapping values are not allowed": "a value holds ': '; put the whole value in quotes",
    "found character '\\t'": "a tab is not allowed here; use spaces",
    "could not find expected ':'": "a line is missing its 'key: value' colon, or a quote is not closed",
    "found undefined alias": "'*' starts an alias in YAML; put the value in quotes",
    "expected <block end>, but found": "the indentation does not line up with the lines above",
    "did not find expected key": "the indentation does not line up with the lines above",
    "found unexpected end of stream": "a quote or bracket is not closed",
}


class YamlError(ValueError):
    """YAML that cannot be read; ``line`` is 1-based, within the text that was parsed."""

    def __init__(self, message: str, line: int | None):
        super().__init__(message)
        self.message = message
        self.line = line


#: At most this many values in one document, counted as built: aliases (``*name``) repeat what an
#: anchor holds, and nine levels of nine aliases ("billion laughs") are 387 million values from 236 bytes.
MAX_VALUES = 100_000
#: At most this much YAML in one document (front matter, publish.yml).
MAX_BYTES = 1 << 20


@dataclass
class Document:
    """Parsed YAML: plain Python ``data`` and ``lines``, a map from dotted key to its 1-based line."""

    data: object
    lines: dict[str, int] = field(default_factory=dict)
    duplicates: list[tuple[str, int]] = field(default_factory=list)
    budget: int = MAX_VALUES  # values still allowed (see MAX_VALUES)

    def line(self, key: str, default: int | None = None) -> int | None:
        """The line of ``key``, or of its nearest parent that has one."""
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key.rpartition(".")[0]
        return default


_MISSING = object()
_WORDS = {**{w: None for w in _NULL}, **{w: True for w in _TRUE}, **{w: False for w in _FALSE}}
_NUMBER_START = frozenset("0123456789+-.")


def _build(node, path: str, doc: Document, offset: int):
    """Plain Python values from a node tree, recording each key's line. Hot: keep it lean."""
    cls = node.__class__
    if cls is ScalarNode:
        value = node.value
        if node.style:  # quoted or block scalar: always text (plain is None, or "" from libyaml)
            return value
        word = _WORDS.get(value, _MISSING)
        if word is not _MISSING:
            return word
        if value[0] in _NUMBER_START:
            if _INT.match(value):
                return int(value)
            if _FLOAT.match(value):
                return float(value)
        return value
    doc.budget -= len(node.value)
    if doc.budget < 0:
        raise YamlError(f"YAML: holds more than {MAX_VALUES:,} values once its aliases (*name) are expanded; "
                        "write the values out instead of repeating anchors", node.start_mark.line + 1 + offset)
    if cls is MappingNode:
        out: dict = {}
        lines = doc.lines
        prefix = path + "." if path else ""
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1 + offset
            if key_node.__class__ is not ScalarNode:
                raise YamlError("a key must be a plain word, not a list or mapping", line)
            key = key_node.value
            if key == "<<" and not key_node.style:
                raise YamlError("merge keys (<<) are not supported; write the keys out", line)
            dotted = prefix + key
            if key in out:
                doc.duplicates.append((dotted, line))
            lines[dotted] = line
            out[key] = _build(value_node, dotted, doc, offset)
        return out
    if cls is SequenceNode:
        items = []
        lines = doc.lines
        for i, child in enumerate(node.value):
            dotted = f"{path}[{i}]"
            lines[dotted] = child.start_mark.line + 1 + offset
            items.append(_build(child, dotted, doc, offset))
        return items
    raise YamlError(f"unsupported YAML node {node!r}", None)  # pragma: no cover


def parse(text: str, *, line_offset: int = 0) -> Document:
    """Parse one YAML document. ``line_offset`` is added to every line (front matter starts at 2)."""
    doc = Document(None)
    if not text.strip():
        return doc
    if len(text) > MAX_BYTES:
        raise YamlError(f"YAML: is {len(text) / (1 << 20):.1f} MB; at most {MAX_BYTES >> 20} MB of YAML is read "
                        "(keep long text in the body)", 1 + line_offset)
    if "\t" in text:
        # libyaml's message for a tab in indentation is cryptic; say what it is.
        for n, raw in enumerate(text.split("\n"), start=1):
            stripped = raw.lstrip(" ")
            if stripped.startswith("\t"):
                raise YamlError("a tab is used for indentation; YAML needs spaces", n + line_offset)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = (exc.problem or exc.context or "is not valid YAML").strip()
        for known, hint in _HINTS.items():
            if known in problem:
                problem += f" ({hint})"
                break
        raise YamlError(f"YAML: {problem}", (mark.line + 1 + line_offset) if mark else None) from None
    except yaml.YAMLError as exc:
        raise YamlError(f"YAML: {exc}", None) from None
    finally:
        loader.dispose()
    if node is None:
        return doc
    doc.data = _build(node, "", doc, line_offset)
    return doc


@dataclass
class Source:
    """A Markdown file split into its front matter and body."""

    front: str | None  # None when the file has no front matter block
    body: str
    body_line: int  # 1-based line where the body starts
    front_closed: bool = True


def decode(raw: bytes) -> str:
    """UTF-8 text with a BOM removed and CRLF/CR line ends made LF. UnicodeDecodeError when not UTF-8."""
    text = raw.decode("utf-8")
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def split_front_matter(text: str) -> Source:
    """``---`` YAML ``---`` then the Markdown body. ``...`` also closes the block (YAML's own end marker)."""
    if not text.startswith("---") or text[3:4] not in ("\n", "", " "):
        return Source(None, text, 1)
    start = text.find("\n") + 1 if "\n" in text else len(text)
    pos = start - 1  # the newline before the line being looked at
    while True:
        dashes = text.find("\n---", pos)
        # a "\n..." that starts before the "\n---" ends before it too (that "\n" is no "."): a body
        # with no "..." line is not read to its end for one
        dots = text.find("\n...", pos, dashes if dashes != -1 else len(text))
        candidates = [i for i in (dashes, dots) if i != -1]
        if not candidates:
            return Source(text[start:], "", text.count("\n") + 2, front_closed=False)
        nl = min(candidates)
        line_end = text.find("\n", nl + 1)
        line = text[nl + 1: line_end if line_end != -1 else len(text)]
        if line.rstrip() in ("---", "..."):
            break
        pos = nl + 1
    front = text[start: nl + 1] if nl + 1 > start else ""
    body = text[line_end + 1:] if line_end != -1 else ""
    return Source(front, body, front.count("\n") + 3)
