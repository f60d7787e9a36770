"""Recipient lists: a segment's subscribers read from a CSV file in the repository.

A list is a CSV file with a header row and the columns ``email``, ``name`` (optional) and
``unsubscribed`` (optional: any value but empty, ``no``, ``false`` or ``0`` means the person left
the list). Every other column is kept with the person (``Recipient.fields``): the newsletter fills
``recipient.<column>`` with it, and segment rules select on it. A header's name becomes the field's
name lowercased, with anything but letters, digits and ``_`` turned into ``_`` (``First name``:
``first_name``). Every line is checked; a bad address is a ``Problem`` naming the file and line, and the
line is left out: it is never sent to.

``parse_audience`` reads text (no file access, so adapters and tests can use it);
``load_audience`` reads the file for the publish run and ``check``.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from .problems import ERROR, WARNING, Problem, did_you_mean

# The WHATWG "valid email address" grammar (https://html.spec.whatwg.org/multipage/input.html#valid-e-mail-address),
# plus a dot in the domain: a newsletter address without one cannot be reached from the internet.
_ADDRESS = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
_STAYS = ("", "no", "false", "0", "n")


@dataclass(frozen=True)
class Recipient:
    address: str
    name: str = ""
    line: int = 0
    #: every column of the person's line (the header lowercased → the cell): ``recipient.<column>``
    fields: dict = field(default_factory=dict, compare=False, hash=False)


@dataclass
class Audience:
    """One segment's list: who gets the mail, and what was left out and why (counts, no addresses)."""

    source: str  # the CSV path relative to the project, for messages
    recipients: list[Recipient] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)  # the header, lowercased
    problems: list[Problem] = field(default_factory=list)
    unsubscribed: int = 0
    duplicates: int = 0

    @property
    def invalid(self) -> list[str]:
        """``path:line`` of every line left out for a bad address."""
        return [f"{p.path}:{p.line}" for p in self.problems if p.key == "email"]


def address_problem(address: str) -> str | None:
    """Why ``address`` cannot be sent to, or None when it can."""
    if not address:
        return "no address on this line"
    if len(address) > 254:  # RFC 5321 §4.5.3.1.3: a path is at most 256 octets including the brackets
        return f"'{address[:40]}…' is longer than 254 characters"
    if not _ADDRESS.match(address):
        return f"'{address}' is not an email address (expected name@example.com)"
    return None


def parse_audience(text: str, source: str) -> Audience:
    """The list in ``text`` (CSV with a header row); ``source`` names it in problems."""
    audience = Audience(source)
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        audience.problems.append(Problem(source, 1, "", "the list is empty (expected a header row: email,name,unsubscribed)", ERROR))
        return audience
    # a column's name as a field: lowercased, anything but letters, digits and _ made _ ("First name": first_name)
    columns = [re.sub(r"[^a-z0-9_]+", "_", h.strip().lower()).strip("_") for h in header]
    audience.columns = [c for c in columns if c]
    if "email" not in columns:
        audience.problems.append(Problem(source, 1, "", "no 'email' column in the header row "
                                         "(expected: email,name,unsubscribed)", ERROR))
        return audience
    at = {name: columns.index(name) for name in ("email", "name", "unsubscribed") if name in columns}
    seen: set[str] = set()

    def cell(row, name):
        i = at.get(name)
        return row[i].strip() if i is not None and i < len(row) else ""

    for row in reader:
        line = reader.line_num
        if not any(c.strip() for c in row):
            continue
        address = cell(row, "email")
        if cell(row, "unsubscribed").lower() not in _STAYS:
            audience.unsubscribed += 1
            continue
        why = address_problem(address)
        if why:
            audience.problems.append(Problem(source, line, "email", f"{why}; the line is skipped until it is fixed", ERROR))
            continue
        folded = address.lower()
        if folded in seen:
            audience.duplicates += 1
            audience.problems.append(Problem(source, line, "email", "the address is listed twice; it gets one message",
                                             WARNING))
            continue
        seen.add(folded)
        values = {c: row[i].strip() for i, c in enumerate(columns) if c and i < len(row)}
        audience.recipients.append(Recipient(address, cell(row, "name"), line, values))
    return audience


def load_audience(root: Path, rel: str) -> Audience:
    """Read the list at ``rel`` (relative to the project ``root``)."""
    path = Path(root) / rel
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return Audience(rel, problems=[Problem(rel, None, "", "the recipient list does not exist "
                                               "(check channels.<name>.lists in publish.yml)", ERROR)])
    except (OSError, UnicodeDecodeError) as exc:
        return Audience(rel, problems=[Problem(rel, None, "", f"cannot read the recipient list: {exc}", ERROR)])
    return parse_audience(text, rel)


def audience_problems(settings) -> list[Problem]:
    """Every problem in the recipient lists of the project's email channels, for ``check``.

    A list named by two channels is read once. Bad lines are errors: they would be skipped when sending."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for channel in settings.channels.values():
        if channel.type != "email":
            continue
        for rel in (channel.options.get("lists") or {}).values():
            if rel in seen:
                continue
            seen.add(rel)
            problems.extend(load_audience(settings.root, rel).problems)
    return problems + segment_report(settings)[0]


def segment_report(settings) -> tuple[list[Problem], list[str]]:
    """Segments by rule checked against their list's header, and, when there are any, every segment's
    size: (problems, lines like ``segment enterprise: 2 of 4 recipients of audience/all.csv (where …)``)."""
    from .segments import select

    problems: list[Problem] = []
    lines: list[str] = []
    emails = [c for c in settings.channels.values() if c.type == "email"]
    read: dict[str, Audience] = {}

    def audience(rel: str) -> Audience:
        if rel not in read:
            read[rel] = load_audience(settings.root, rel)
        return read[rel]

    rules = getattr(settings, "segment_rules", None) or {}
    # the lists' sizes beside the rules' (a project without rules has no segment to size up)
    for rel in dict.fromkeys(rel for c in emails for rel in (c.options.get("lists") or {}).values() if rules):
        names = sorted({n for c in emails for n, r in (c.options.get("lists") or {}).items() if r == rel})
        count = len(audience(rel).recipients)
        lines.append(f"segment {', '.join(names)}: {count} recipient{'s' * (count != 1)} ({rel})")
    for name, rule in rules.items():
        key = f"segments.{name}"
        rels = list(dict.fromkeys(c.options["lists"][rule.list] for c in emails
                                  if rule.list in (c.options.get("lists") or {})))
        if not rels:
            known = sorted({n for c in emails for n in (c.options.get("lists") or {})})
            problems.append(Problem(settings.path, settings.line(f"{key}.list"), f"{key}.list",
                                    f"no email channel has a list named '{rule.list}'{did_you_mean(rule.list, known)} "
                                    f"(lists: {', '.join(known) or 'none'})"))
            continue
        for rel in rels:
            found = audience(rel)
            if not found.columns:
                continue  # the list itself is reported above
            unknown = [c for c in rule.rule.columns if c not in found.columns]
            for column in unknown:
                problems.append(Problem(settings.path, rule.line, f"{key}.where",
                                        f"no column '{column}' in {rel}{did_you_mean(column, found.columns)} "
                                        f"(its columns: {', '.join(found.columns)})"))
            if unknown:
                continue
            kept, odd = select(rule.rule, found.recipients)
            for r, exc in odd:
                problems.append(Problem(rel, r.line, exc.column, f"'{exc.value}' is not a number, and segment "
                                        f"'{name}' compares {exc.column} with one; the person is left out of it",
                                        WARNING))
            lines.append(f"segment {name}: {len(kept)} of {len(found.recipients)} recipients of {rel} "
                         f"(where {rule.rule.source})")
    return problems, lines
