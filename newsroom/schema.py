"""A declarative schema: each key once, with its kind, default and a line of help.

The same declarations validate front matter and publish.yml, report every problem with its line,
and generate the reference tables in docs/ (a test fails when a key is undocumented).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

from . import times
from .problems import ERROR, WARNING, Problem, did_you_mean
from .yamlload import YAML11_BOOLS, Document


class Invalid(ValueError):
    """A value that does not fit its key; the message is shown after ``path:line: key:``."""


@dataclass
class Context:
    """What a kind may need beyond the value: the file, the timezone in force."""

    path: str
    doc: Document
    problems: list[Problem]
    tz: Any = None
    env: dict | None = None
    states: tuple | None = None  # the workflow's states an item's status may name (None: the built-in ones)

    def add(self, key: str, message: str, severity: str = ERROR, line: int | None = None) -> None:
        self.problems.append(Problem(self.path, line or self.doc.line(key), key, message, severity))


@dataclass
class EditorContext:
    """What a kind needs to describe itself for editors (``json_schema``) beyond its declaration:
    each channel type's options and item overrides, and the project's channels (name → type)."""

    channel_types: dict[str, "Schema"] = field(default_factory=dict)
    channel_overrides: dict[str, "Schema"] = field(default_factory=dict)
    channels: dict[str, str] | None = None  # None: no project, any channel name
    states: tuple | None = None  # the project's workflow states; None: the built-in ones


class Kind:
    """How a value is read. ``name`` is what the docs table shows; ``json_schema`` is the same kind in
    JSON Schema (draft 2020-12) for editors: what ``convert`` refuses as the wrong type, a value
    outside its choices or a missing key, the schema refuses too."""

    name = "value"

    def convert(self, value: Any, ctx: Context, key: str) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def json_schema(self, ctx: EditorContext) -> dict:
        return {}  # any value: a kind that says nothing more is checked by ``check`` alone


def _type_name(value: Any) -> str:
    return {dict: "a mapping", list: "a list", bool: "true/false", int: "a number", float: "a number",
            type(None): "empty"}.get(type(value), "text")


class Text(Kind):
    name = "text"

    def __init__(self, max_len: int | None = None, pattern: str | None = None, hint: str = ""):
        self.max_len, self.hint = max_len, hint
        self.pattern = re.compile(pattern) if pattern else None

    def convert(self, value, ctx, key):
        if isinstance(value, (dict, list)):
            raise Invalid(f"expected text, got {_type_name(value)}")
        if isinstance(value, bool):
            # `title: yes` in YAML 1.2 core is only true/false; say what happened rather than print True.
            raise Invalid(f"expected text, got {str(value).lower()} (quote it: \"{str(value).lower()}\")")
        text = str(value)
        if self.max_len and len(text) > self.max_len:
            raise Invalid(f"is {len(text)} characters long; at most {self.max_len}")
        if self.pattern and not self.pattern.match(text):
            raise Invalid(f"'{text}' {self.hint or 'is not in the expected form'}")
        return text

    def json_schema(self, ctx):
        out: dict = {"type": ["string", "number"]}  # a number is read as its text
        if self.max_len:
            out["maxLength"] = self.max_len
        if self.pattern:  # matched from the start, as re.match does; only text can be held to it
            out["type"] = "string"
            out["pattern"] = self.pattern.pattern if self.pattern.pattern.startswith("^") else f"^{self.pattern.pattern}"
        return out


class Slug(Text):
    name = "slug"
    PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"

    def __init__(self):
        super().__init__(max_len=120, pattern=self.PATTERN,
                         hint="is not a safe path segment (use lowercase letters, digits and dashes, e.g. spring-launch)")


class Url(Text):
    name = "URL"

    def __init__(self, relative_ok: bool = False):
        super().__init__()
        self.relative_ok = relative_ok

    def convert(self, value, ctx, key):
        text = super().convert(value, ctx, key).strip()
        if re.match(r"^https?://[^\s/]+", text) or (self.relative_ok and not re.search(r"\s", text)):
            return text
        raise Invalid(f"'{text}' is not a URL (use https://…)")

    def json_schema(self, ctx):
        return {"type": "string", "pattern": r"^\S*$" if self.relative_ok else r"^\s*https?://[^\s/]+"}


class Choice(Kind):
    def __init__(self, *options: str):
        self.options = options
        self.name = "one of " + ", ".join(options)

    def convert(self, value, ctx, key):
        text = str(value).lower() if value is not None else ""
        if text not in self.options:
            raise Invalid(f"'{value}' is not one of {', '.join(self.options)}{did_you_mean(text, self.options)}")
        return text

    def json_schema(self, ctx):
        return {"enum": list(self.options)}


class Boolean(Kind):
    name = "true/false"

    def convert(self, value, ctx, key):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value in YAML11_BOOLS:
            return YAML11_BOOLS[value]
        raise Invalid(f"expected true or false, got '{value}'")

    def json_schema(self, ctx):
        return {"anyOf": [{"type": "boolean"}, {"enum": list(YAML11_BOOLS)}]}


class Integer(Kind):
    name = "number"

    def __init__(self, minimum: int | None = None, maximum: int | None = None):
        self.minimum, self.maximum = minimum, maximum

    def convert(self, value, ctx, key):
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid(f"expected a whole number, got '{value}'")
        if self.minimum is not None and value < self.minimum:
            raise Invalid(f"must be at least {self.minimum}, got {value}")
        if self.maximum is not None and value > self.maximum:
            raise Invalid(f"must be at most {self.maximum}, got {value}")
        return value

    def json_schema(self, ctx):
        out: dict = {"type": "integer"}
        if self.minimum is not None:
            out["minimum"] = self.minimum
        if self.maximum is not None:
            out["maximum"] = self.maximum
        return out


class Duration(Kind):
    """'6h', '30m', '2d'; ``none`` (when allowed) means no limit."""

    def __init__(self, allow_none: bool = False):
        self.allow_none = allow_none
        self.name = "duration (30m, 6h, 2d" + (", or none)" if allow_none else ")")

    def convert(self, value, ctx, key):
        if self.allow_none and (value is None or str(value).lower() in ("none", "unlimited", "forever")):
            return None
        try:
            return times.parse_duration(value)
        except times.TimeError as exc:
            raise Invalid(str(exc)) from None

    def json_schema(self, ctx):
        forms = [{"type": "string", "pattern": times.DURATION_PATTERN}, {"type": "number"}]  # a number: seconds
        if self.allow_none:
            forms.append({"enum": ["none", "None", "NONE", "unlimited", "forever"]})
        return {"anyOf": forms}


class TimeOfDay(Kind):
    name = "time of day (HH:MM)"

    def convert(self, value, ctx, key):
        try:
            return times.parse_time_of_day(value)
        except times.TimeError as exc:
            raise Invalid(str(exc)) from None

    def json_schema(self, ctx):
        return {"type": "string", "pattern": rf"^\s*{times.TIME_OF_DAY}\s*$"}


class Date(Kind):
    name = "date (YYYY-MM-DD)"

    def convert(self, value, ctx, key):
        try:
            return times.parse_date(value)
        except times.TimeError as exc:
            raise Invalid(str(exc)) from None

    def json_schema(self, ctx):
        return {"type": "string", "pattern": times.DATE_PATTERN}


class DateTime(Kind):
    """A date-time with offset, or naive and read in the timezone in force (``ctx.tz``)."""

    name = "date-time (2026-11-27T09:00, offset optional)"

    def convert(self, value, ctx, key):
        try:
            return times.parse_datetime(value, ctx.tz)
        except times.TimeError as exc:
            raise Invalid(str(exc)) from None

    def json_schema(self, ctx):
        return {"type": "string", "pattern": times.DATETIME_PATTERN}


class Timezone(Kind):
    name = "IANA timezone"

    def convert(self, value, ctx, key):
        try:
            return times.zone(str(value))
        except times.TimeError as exc:
            raise Invalid(str(exc)) from None

    def json_schema(self, ctx):
        return {"type": "string", "examples": ["UTC", "Europe/Berlin", "America/New_York"]}


class Secret(Kind):
    """A secret named by reference, ``env:NAME``; the value itself never appears in a file."""

    name = "env:NAME"
    PATTERN = re.compile(r"^env:([A-Za-z_][A-Za-z0-9_]*)$")

    def convert(self, value, ctx, key):
        m = self.PATTERN.match(str(value)) if isinstance(value, str) else None
        if not m:
            # Never echo the value: it may be the secret itself.
            raise Invalid("a secret must be named, not written: use env:VARIABLE_NAME and set that variable "
                          "in the environment (the value given here was not shown)")
        return SecretRef(m.group(1))

    def json_schema(self, ctx):
        return {"type": "string", "pattern": self.PATTERN.pattern}


@dataclass(frozen=True)
class SecretRef:
    """A reference to an environment variable; ``str()`` never shows the value."""

    env: str

    def __str__(self) -> str:
        return f"env:{self.env}"

    def resolve(self, environ: dict) -> str | None:
        value = environ.get(self.env)
        return value or None


class ListOf(Kind):
    def __init__(self, item: Kind, single_ok: bool = True, max_items: int | None = None):
        self.item, self.single_ok, self.max_items = item, single_ok, max_items
        self.name = f"list of {item.name}"

    def convert(self, value, ctx, key):
        if value is None:
            return []
        if not isinstance(value, list):
            if not self.single_ok or isinstance(value, dict):
                raise Invalid(f"expected a list, got {_type_name(value)}")
            value = [value]
        if self.max_items is not None and len(value) > self.max_items:
            raise Invalid(f"has {len(value)} entries; at most {self.max_items}")
        out = []
        for i, v in enumerate(value):
            sub = f"{key}[{i}]"
            try:
                out.append(self.item.convert(v, ctx, sub))
            except Invalid as exc:
                ctx.add(sub, str(exc), line=ctx.doc.line(sub))
        return out

    def json_schema(self, ctx):
        item = self.item.json_schema(ctx)
        many: dict = {"type": "array", "items": item}
        if self.max_items is not None:
            many["maxItems"] = self.max_items
        return {"anyOf": [item, many]} if self.single_ok and item else many


class Nested(Kind):
    def __init__(self, schema: "Schema"):
        self.schema = schema
        self.name = "mapping"

    def convert(self, value, ctx, key):
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise Invalid(f"expected a mapping of keys, got {_type_name(value)}")
        return self.schema.validate(value, ctx, prefix=key)

    def json_schema(self, ctx):
        return self.schema.json_schema(ctx)


class MapOf(Kind):
    """name → value, e.g. ``channels: {mastodon: {...}}``."""

    def __init__(self, value: Kind, name: str = "mapping of name → settings"):
        self.value = value
        self.name = name

    def convert(self, value, ctx, key):
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise Invalid(f"expected a mapping, got {_type_name(value)}")
        out = {}
        for name, v in value.items():
            sub = f"{key}.{name}"
            try:
                out[name] = self.value.convert(v, ctx, sub)
            except Invalid as exc:
                ctx.add(sub, str(exc))
        return out

    def json_schema(self, ctx):
        return {"type": "object", "additionalProperties": _nullable(self.value.json_schema(ctx))}


class Any_(Kind):
    name = "any"

    def convert(self, value, ctx, key):
        return value


@dataclass(frozen=True)
class Key:
    name: str
    kind: Kind
    help: str
    default: Any = None
    required: bool = False
    example: str = ""


@dataclass
class Schema:
    """An ordered set of keys. ``open`` schemas keep unknown keys (a channel type checks them later)."""

    title: str
    keys: list[Key]
    open: bool = False
    by_name: dict = field(init=False, repr=False)

    def __post_init__(self):
        self.by_name = {k.name: k for k in self.keys}

    def extend(self, title: str, keys: list[Key], open: bool = False) -> "Schema":
        return Schema(title, list(self.keys) + list(keys), open=open)

    def validate(self, data: dict, ctx: Context, prefix: str = "", *, unknown: str = ERROR,
                 on_key: Callable[[str, Any], None] | None = None) -> dict:
        """Converted values for every declared key (defaults filled in); problems go to ``ctx``."""
        out: dict = {}
        for name, raw in data.items():
            dotted = f"{prefix}.{name}" if prefix else name
            key = self.by_name.get(name)
            if key is None:
                if self.open:
                    out[name] = raw
                else:
                    ctx.add(dotted, f"unknown key{did_you_mean(name, self.by_name)}", unknown)
                continue
            if raw is None and not key.required and not isinstance(key.kind, Nested):
                out[name] = key.default() if callable(key.default) else key.default
                continue
            if key.required and (raw is None or (isinstance(raw, str) and not raw.strip())):
                # `title:` reads as null and `title: "  "` as blank: neither may stand for a required value
                ctx.add(dotted, f"is {'empty' if raw is None else 'blank'}; {key.name} is required ({key.help})")
                out[name] = None
                continue
            try:
                out[name] = key.kind.convert(raw, ctx, dotted)
            except Invalid as exc:
                ctx.add(dotted, str(exc))
        for key in self.keys:
            if key.name not in out:
                if key.required and key.name not in data:
                    ctx.add(prefix, f"{key.name} is required ({key.help})",
                            line=ctx.doc.line(prefix, 1) if prefix else 1)
                if isinstance(key.kind, Nested) and not key.required:
                    out[key.name] = key.kind.schema.validate({}, ctx, prefix=f"{prefix}.{key.name}" if prefix else key.name)
                else:
                    out[key.name] = key.default() if callable(key.default) else key.default
        return out

    def json_schema(self, ctx: EditorContext, *, unknown_allowed: bool | None = None) -> dict:
        """The schema's keys as a JSON Schema object: each key's kind, its help as the description,
        its default; unknown keys refused unless the schema is open (or ``unknown_allowed``: where
        ``check`` only warns about them)."""
        out: dict = {"type": "object", "properties": {key.name: key_schema(key, ctx) for key in self.keys}}
        required = [key.name for key in self.keys if key.required]
        if required:
            out["required"] = required
        if not (self.open if unknown_allowed is None else unknown_allowed):
            out["additionalProperties"] = False
        return out

    def reference(self, prefix: str = "") -> list[tuple[str, str, str, str]]:
        """Rows of (dotted key, kind, default, help) for the docs table, nested schemas included."""
        rows = []
        for key in self.keys:
            dotted = f"{prefix}{key.name}"
            default = "" if key.default is None or callable(key.default) else _show(key.default)
            rows.append((dotted, key.kind.name, "required" if key.required else default, key.help))
            kind = key.kind
            if isinstance(kind, MapOf) and isinstance(kind.value, Nested):
                rows += kind.value.schema.reference(f"{dotted}.<name>.")
            elif isinstance(kind, Nested):
                rows += kind.schema.reference(f"{dotted}.")
            elif isinstance(kind, ListOf) and getattr(kind.item, "FIELDS", None) is not None:
                rows += kind.item.FIELDS.reference(f"{dotted}[].")  # a list of mappings (workflow.states)
        return rows


def key_schema(key: Key, ctx: EditorContext) -> dict:
    """One key as JSON Schema: a value that may be left empty unless required, never blank if required."""
    out = key.kind.json_schema(ctx)
    out = dict(out) if key.required else _nullable(out)
    if key.required:
        out["not"] = {"type": "string", "pattern": r"^\s*$"}  # `title: "  "` stands for nothing
    out["description"] = f"{key.help}\n\nKind: {key.kind.name}."
    default = key.default() if callable(key.default) else key.default
    if isinstance(default, tuple):
        default = list(default)
    if isinstance(default, times.timedelta):
        default = times.format_duration(default)
    if isinstance(default, (str, bool, int, float)) or default in ({}, []):
        out["default"] = default
    return out


def _nullable(schema: dict) -> dict:
    """``schema`` or nothing (``key:`` with no value, which reads as the key's default)."""
    if not schema:
        return schema
    out = dict(schema)
    if "anyOf" in out and set(out) == {"anyOf"}:
        out["anyOf"] = [*out["anyOf"], {"type": "null"}]
    elif isinstance(out.get("type"), (str, list)) and "enum" not in out:
        types = [out["type"]] if isinstance(out["type"], str) else list(out["type"])
        out["type"] = [*types, "null"]
    elif "enum" in out and set(out) == {"enum"}:
        out["enum"] = [*out["enum"], None]
    else:
        out = {"anyOf": [out, {"type": "null"}]}
    return out


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, times.timedelta):
        return times.format_duration(value)
    return str(value)


def markdown_table(schema: Schema, prefix: str = "") -> str:
    lines = ["| key | kind | default | what it is |", "|---|---|---|---|"]
    for dotted, kind, default, help_ in schema.reference(prefix):
        cell = lambda s: str(s).replace("|", "\\|")
        lines.append(f"| `{dotted}` | {cell(kind)} | {cell(default)} | {cell(help_)} |")
    return "\n".join(lines) + "\n"


__all__ = ["Schema", "Key", "Context", "EditorContext", "key_schema", "Invalid", "Text", "Slug", "Url", "Choice", "Boolean", "Integer",
           "Duration", "TimeOfDay", "Date", "DateTime", "Timezone", "Secret", "SecretRef", "ListOf", "Nested",
           "MapOf", "Any_", "markdown_table", "WARNING", "ERROR"]
