"""``plan --write``: the chosen slot times pinned in the items' front matter, and nothing else changed.

The front matter is edited as text, line by line, at the lines the loader recorded for each key
(``item.doc.lines``); it is never dumped again, so comments, quoting and key order survive. Each
form a channel can take gets its own small edit:

- ``at: next``                      → ``at: 2026-11-23T09:00+01:00``
- ``mastodon: {}`` / ``{text: …}``  → ``{at: …}`` / ``{at: …, text: …}``
- ``mastodon:`` (empty, or a block) → a new line ``at: …`` under it
- ``channels: [blog, mastodon]``    → ``channels: {blog: {}, mastodon: {at: …}}``
- a block list ``- mastodon``       → ``mastodon: {at: …}`` (and ``blog: {}`` for its siblings)

``pin_text`` is the edit on a file's text; ``publish studio`` uses it too when an entry is dragged to
another time (``replace=True``: an ``at:`` that holds a time or an offset is rewritten as well).
"""
from __future__ import annotations

import re
from pathlib import Path

_NEXT = re.compile(r"""(\bat:\s*)(["']?)next\2""", re.I)
#: Any value of ``at:`` (quoted, or up to a comma, brace or comment: ``2026-12-01 09:00`` has a space).
_ANY = re.compile(r"""(\bat:\s*)("[^"]*"|'[^']*'|[^,{}#\s][^,{}#]*[^,{}#\s]|[^,{}#\s])""")


class WriteError(Exception):
    """The front matter has a shape the writer does not edit; the message says what to change by hand."""


def _stamp(at, tz) -> str:
    return at.astimezone(tz).isoformat(timespec="minutes")


def _edit(lines: list[str], doc_lines: dict, channel: str, value: str, names: list[str],
          values: dict[str, str], replace: bool = False) -> bool:
    """Pin ``channels.<channel>.at`` in ``lines`` (the whole file, 0-based list; doc lines are 1-based)."""
    key = f"channels.{channel}"
    if f"{key}.at" in doc_lines:
        n = doc_lines[f"{key}.at"] - 1
        # One line may hold several channels' times (`channels: {a: {at: …}, b: {at: …}}`): from this one's name on.
        key_at = re.search(r"(^|[\s{,])[\"']?" + re.escape(channel) + r"[\"']?\s*:", lines[n])
        start = key_at.start() if key_at else 0
        head, tail = lines[n][:start], lines[n][start:]
        new = head + (_ANY if replace else _NEXT).sub(lambda m: m.group(1) + value, tail, count=1)
        if new == lines[n] and not (replace and _ANY.search(tail)):
            raise WriteError(f"line {n + 1}: expected 'at: {'…' if replace else 'next'}'")
        lines[n] = new
        return False
    if key in doc_lines:  # a mapping entry: `mastodon: {}`, `mastodon:`, `mastodon: {text: hi}`, or a block
        n = doc_lines[key] - 1
        line = lines[n]
        m = re.match(r"^(\s*)([\"']?" + re.escape(channel) + r"[\"']?\s*:)(\s*)(.*)$", line)
        inline = None if m else re.search(r"([{,]\s*[\"']?" + re.escape(channel) + r"[\"']?\s*:\s*)\{(\s*\}?)", line)
        if inline:  # one channel of a flow mapping: `channels: {blog: {}, mastodon: {text: hi}}`
            closed = inline.group(2).strip() == "}"
            lines[n] = line[:inline.end(1)] + f"{{at: {value}" + ("}" if closed else ", ") \
                + line[inline.end(2) if closed else inline.end(1) + 1:].lstrip()
            return False
        if not m:
            raise WriteError(f"line {n + 1}: cannot find '{channel}:'")
        indent, head, _, rest = m.groups()
        body, comment = _split_comment(rest)
        if body.startswith("{"):
            inner = body[1:].lstrip()
            lines[n] = f"{indent}{head} {{at: {value}" + (", " + inner if not inner.startswith("}") else "}") \
                + comment
            return False
        if body in ("", "null", "~"):
            child = _child_indent(lines, n, indent)
            if body:
                lines[n] = f"{indent}{head}{comment}"
            lines.insert(n + 1, f"{child}at: {value}")
            return False
        raise WriteError(f"line {n + 1}: channels.{channel} is '{body}'; write at: {value} under it by hand")
    # A list of names: the list becomes a mapping, each name keeping its own line; every pinned
    # channel of the item is written at once (returns True: the list is done).
    flow = doc_lines.get("channels")
    first = doc_lines.get("channels[0]")
    if flow is not None and first == flow:  # `channels: [blog, mastodon]` on one line
        n = flow - 1
        m = re.match(r"^(\s*channels:\s*)\[(.*)\](.*)$", lines[n])
        if not m:
            raise WriteError(f"line {n + 1}: channels spans several lines; write channels.{channel}.at by hand")
        parts = [p.strip() for p in m.group(2).split(",") if p.strip()]
        mapped = [f"{p}: {{at: {values[p.strip(chr(34) + chr(39))]}}}" if p.strip(chr(34) + chr(39)) in values
                  else f"{p}: {{}}" for p in parts]
        lines[n] = m.group(1) + "{" + ", ".join(mapped) + "}" + m.group(3)
        return True
    for i, name in enumerate(names):
        n = doc_lines.get(f"channels[{i}]")
        if n is None:
            raise WriteError(f"cannot find channels[{i}]")
        m = re.match(r"^(\s*)-\s+([\"']?)([^\s#\"']+)\2(\s*#.*)?$", lines[n - 1])
        if not m:
            raise WriteError(f"line {n}: expected '- {name}'")
        tail = f"{{at: {values[m.group(3)]}}}" if m.group(3) in values else "{}"
        lines[n - 1] = f"{m.group(1)}  {m.group(3)}: {tail}{m.group(4) or ''}"
    return True


def _split_comment(text: str) -> tuple[str, str]:
    m = re.search(r"\s+#.*$", text)
    return (text[:m.start()].strip(), text[m.start():]) if m else (text.strip(), "")


def _child_indent(lines: list[str], n: int, indent: str) -> str:
    """The indentation of the block under line ``n`` (two more spaces than the key when it is empty)."""
    for line in lines[n + 1:]:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        lead = line[: len(line) - len(line.lstrip())]
        if len(lead) > len(indent) and not line.strip() == "---":
            return lead
        break
    return indent + "  "


def write_times(project, entries: list, tz) -> dict[str, int]:
    """Pin each entry's slot time in its item; returns path → number of times written."""
    by_path: dict[str, list] = {}
    for e in entries:
        by_path.setdefault(e.item.path, []).append(e)
    written: dict[str, int] = {}
    for path, mine in sorted(by_path.items()):
        file = Path(project.root) / path
        text = file.read_bytes().decode("utf-8")
        file.write_bytes(pin_text(text, mine[0].item, {e.channel: _stamp(e.at, tz) for e in mine}).encode("utf-8"))
        written[path] = len(mine)
    return written


def pin_text(text: str, item, values: dict[str, str], *, replace: bool = False) -> str:
    """``text`` (the item's file as loaded) with ``channels.<channel>.at`` set to each of ``values``
    (channel → time as written, e.g. ``2026-11-23T09:00+01:00``); ``replace``: rewrite a time already
    there too (else only ``at: next`` is). Raises ``WriteError`` for a shape it does not edit."""
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.split(newline)
    bom = lines[0].startswith("\ufeff")
    if bom:
        lines[0] = lines[0][1:]
    # Insertions shift the lines below: edit from the bottom of the file up.
    doc_lines = item.doc.lines
    names = list(item.channels)
    for channel in sorted(values, key=lambda c: -_anchor(doc_lines, c)):
        if _edit(lines, doc_lines, channel, values[channel], names, values, replace):
            break  # the whole list was rewritten with every pinned time
    if bom:
        lines[0] = "\ufeff" + lines[0]
    return newline.join(lines)


def _anchor(doc_lines: dict, channel: str) -> int:
    return doc_lines.get(f"channels.{channel}.at") or doc_lines.get(f"channels.{channel}") or 0
