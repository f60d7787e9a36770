"""Segments defined by a rule over a recipient list's columns, in a small language of its own.

    segments:
      enterprise: {list: all, where: "plan == 'enterprise' and country in ['DE', 'AT']"}

The rule is parsed here, never handed to ``eval``: a column name, compared with a literal.

    rule       := or
    or         := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | "(" or ")" | comparison
    comparison := column (("==" | "!=" | "<" | "<=" | ">" | ">=") literal
                          | "in" list | "not" "in" list)?
    list       := "[" (literal ("," literal)* ","?)? "]"
    literal    := 'text' | "text" | number

- A column alone is true when the person's cell is not empty.
- Text is compared exactly (``country == 'DE'``); ``''`` is the empty cell.
- A number compares numbers: the cell is read as one. An empty cell matches no comparison with a
  number (neither ``==`` nor ``!=``); a cell that is not a number matches none either, and ``check``
  names its line. ``<``, ``<=``, ``>``, ``>=`` take a number only; a list holds text or numbers, not both.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from . import schema as s

MAX_LENGTH = 2000
MAX_DEPTH = 40
_TOKEN = re.compile(r"""\s*(?:(?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")|(?P<num>-?\d+(?:\.\d+)?)(?![A-Za-z_])
                        |(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>==|!=|<=|>=|<|>|\(|\)|\[|\]|,))""", re.X)
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)")
_UNCLOSED = re.compile(r"""\s*['"]""")
KEYWORDS = {"and", "or", "not", "in"}


class RuleError(ValueError):
    """A rule that cannot be read: what is wrong, at which character (1-based)."""

    def __init__(self, message: str, at: int):
        super().__init__(f"at character {at}: {message}")
        self.at = at


class NotANumber(Exception):
    def __init__(self, column: str, value: str):
        super().__init__(column, value)
        self.column, self.value = column, value


@dataclass(frozen=True)
class _Tok:
    kind: str  # str, num, name, op, end
    value: object
    at: int  # 1-based character


def _tokens(text: str) -> list[_Tok]:
    out, pos = [], 0
    while pos < len(text):
        if not text[pos:].strip():
            break
        m = _TOKEN.match(text, pos)
        if m is None:
            start = pos + len(text[pos:]) - len(text[pos:].lstrip())
            if _UNCLOSED.match(text, pos):
                raise RuleError("the text is never closed: end it with the same quote", start + 1)
            raise RuleError(f"'{text[start]}' is not part of a rule (use ==, !=, <, <=, >, >=, in, and, or, not)",
                            start + 1)
        kind = m.lastgroup
        raw = m.group(kind)
        at = m.start(kind) + 1
        if kind == "str":
            value: object = re.sub(r"\\(.)", r"\1", raw[1:-1])
        elif kind == "num":
            value = float(raw)
        else:
            value = raw
        if kind == "name" and raw in KEYWORDS:
            kind = "op"
        out.append(_Tok(kind, value, at))
        pos = m.end()
    out.append(_Tok("end", None, len(text) + 1))
    return out


Test = Callable[[dict], bool]


@dataclass
class Rule:
    """A parsed rule: ``matches(fields)`` for one person's cells; ``columns`` it reads, with where."""

    source: str
    test: Test = field(repr=False)
    columns: dict[str, int] = field(default_factory=dict)  # column → character of its first use

    def matches(self, fields: dict) -> bool:
        """Raises ``NotANumber`` when a cell compared with a number is not one."""
        return self.test(fields)


def _number(column: str, fields: dict) -> float | None:
    raw = (fields.get(column) or "").strip()
    if raw == "":
        return None
    if not _NUMBER.fullmatch(raw):
        raise NotANumber(column, raw)
    return float(raw)


_COMPARE = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
            "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}


class _Parser:
    def __init__(self, text: str):
        self.toks = _tokens(text)
        self.i = 0
        self.columns: dict[str, int] = {}

    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def take(self, value: str | None = None) -> _Tok | None:
        tok = self.tok
        if tok.kind == "op" and (value is None or tok.value == value):
            self.i += 1
            return tok
        return None

    def expect(self, value: str, what: str) -> None:
        if self.take(value) is None:
            raise RuleError(f"expected {what}{self.found()}", self.tok.at)

    def found(self) -> str:
        tok = self.tok
        if tok.kind == "end":
            return ", the rule ends here"
        shown = repr(tok.value) if tok.kind == "str" else _num(tok.value) if tok.kind == "num" else tok.value
        return f", found {shown}"

    def rule(self) -> Test:
        test = self.or_(0)
        if self.tok.kind != "end":
            raise RuleError(f"expected and, or or the end of the rule{self.found()}", self.tok.at)
        return test

    def or_(self, depth: int) -> Test:
        parts = [self.and_(depth)]
        while self.take("or"):
            parts.append(self.and_(depth))
        return parts[0] if len(parts) == 1 else (lambda f, ps=tuple(parts): any(p(f) for p in ps))

    def and_(self, depth: int) -> Test:
        parts = [self.not_(depth)]
        while self.take("and"):
            parts.append(self.not_(depth))
        return parts[0] if len(parts) == 1 else (lambda f, ps=tuple(parts): all(p(f) for p in ps))

    def not_(self, depth: int) -> Test:
        if depth > MAX_DEPTH:
            raise RuleError(f"the rule is nested more than {MAX_DEPTH} deep", self.tok.at)
        if self.take("not"):
            inner = self.not_(depth + 1)
            return lambda f: not inner(f)
        if self.take("("):
            inner = self.or_(depth + 1)
            self.expect(")", "')'")
            return inner
        return self.comparison()

    def comparison(self) -> Test:
        tok = self.tok
        if tok.kind != "name":
            raise RuleError(f"expected a column name{self.found()}", tok.at)
        self.i += 1
        column = str(tok.value).lower()
        self.columns.setdefault(column, tok.at)
        op_tok = self.tok
        if op_tok.kind == "op" and op_tok.value in _COMPARE:
            self.i += 1
            lit = self.literal()
            if isinstance(lit, float):
                return _numeric(column, _COMPARE[str(op_tok.value)], lit)
            if op_tok.value not in ("==", "!="):
                raise RuleError(f"{op_tok.value} compares numbers, and {lit!r} is text (use == or != for text)",
                                op_tok.at)
            if op_tok.value == "==":
                return lambda f: (f.get(column) or "").strip() == lit
            return lambda f: (f.get(column) or "").strip() != lit
        negate = False
        if op_tok.kind == "op" and op_tok.value == "not":
            if self.toks[self.i + 1].kind == "op" and self.toks[self.i + 1].value == "in":
                self.i += 1
                negate = True
            else:
                raise RuleError("expected 'in' after 'not' here (column not in [...])", self.toks[self.i + 1].at)
        if self.take("in"):
            values = self.list_()
            if values and all(isinstance(v, float) for v in values):
                nums = frozenset(values)

                def test(f, nums=nums):
                    n = _number(column, f)
                    return n is not None and n in nums
            else:
                texts = frozenset(values)

                def test(f, texts=texts):
                    return (f.get(column) or "").strip() in texts
            if negate:
                return lambda f, t=test: not t(f)
            return test
        return lambda f: bool((f.get(column) or "").strip())

    def literal(self) -> str | float:
        tok = self.tok
        if tok.kind in ("str", "num"):
            self.i += 1
            return tok.value  # type: ignore[return-value]
        raise RuleError(f"expected 'text' or a number{self.found()}", tok.at)

    def list_(self) -> list:
        start = self.tok
        self.expect("[", "a list in [ ]")
        values: list = []
        while not self.take("]"):
            values.append(self.literal())
            if not self.take(","):
                self.expect("]", "',' or ']'")
                break
        if values and len({isinstance(v, float) for v in values}) > 1:
            raise RuleError("a list holds text or numbers, not both", start.at)
        return values


def _num(value) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _numeric(column: str, compare, number: float) -> Test:
    def test(f: dict) -> bool:
        n = _number(column, f)
        return n is not None and compare(n, number)
    return test


def parse(text: str) -> Rule:
    """The rule in ``text``; raises ``RuleError`` saying what is wrong and where."""
    if not isinstance(text, str) or not text.strip():
        raise RuleError("the rule is empty: write e.g. plan == 'enterprise'", 1)
    if len(text) > MAX_LENGTH:
        raise RuleError(f"the rule is longer than {MAX_LENGTH} characters", MAX_LENGTH)
    parser = _Parser(text)
    test = parser.rule()
    return Rule(text, test, parser.columns)


@dataclass(frozen=True)
class SegmentRule:
    """``segments.<name>`` given as a rule: the list it selects from (a name under an email channel's
    ``lists``) and the rule."""

    name: str
    list: str
    rule: Rule
    description: str = ""
    line: int | None = None


def select(rule: Rule, recipients: list) -> tuple[list, list[tuple[object, NotANumber]]]:
    """The recipients the rule keeps, and those left out because a cell is not a number."""
    kept, odd = [], []
    for r in recipients:
        try:
            if rule.matches(r.fields):
                kept.append(r)
        except NotANumber as exc:
            odd.append((r, exc))
    return kept, odd


class RuleText(s.Text):
    """``where``: a rule in the language above, read when publish.yml is."""

    name = "rule over the list's columns, e.g. plan == 'enterprise' and country in ['DE', 'AT']"

    def convert(self, value, ctx, key):
        text = super().convert(value, ctx, key)
        try:
            return parse(text)
        except RuleError as exc:
            raise s.Invalid(f"{exc} (in: {text})") from None


RULE = s.Schema("segment rule", [
    s.Key("list", s.Text(), "the recipient list it selects from: a name under an email channel's lists", required=True),
    s.Key("where", RuleText(), "the rule, e.g. plan == 'enterprise' and country in ['DE', 'AT']", required=True),
    s.Key("description", s.Text(), "what the segment is, for templates (segment_description)", default=""),
])


class Segment(s.Kind):
    """``segments.<name>``: a description, or a rule over a list's columns."""

    name = "description, or {list, where, description} (a rule over a list's columns)"

    def convert(self, value, ctx, key):
        if isinstance(value, dict):
            v = RULE.validate(value, ctx, prefix=key)
            return v if isinstance(v.get("where"), Rule) and v.get("list") else {"description": v.get("description", "")}
        if value is None:
            return ""
        return s.Text().convert(value, ctx, key)

    def json_schema(self, ctx):
        return {"anyOf": [s.Text().json_schema(ctx), RULE.json_schema(ctx)]}


def split(segments: dict, doc=None) -> tuple[dict[str, str], dict[str, SegmentRule]]:
    """publish.yml's ``segments`` as name → description (every segment) and name → rule (those given as one)."""
    descriptions, rules = {}, {}
    for name, value in (segments or {}).items():
        if isinstance(value, dict):
            descriptions[name] = value.get("description") or ""
            if isinstance(value.get("where"), Rule):
                rules[name] = SegmentRule(name, value["list"], value["where"], value.get("description") or "",
                                          doc.line(f"segments.{name}.where") if doc is not None else None)
        else:
            descriptions[name] = value or ""
    return descriptions, rules
