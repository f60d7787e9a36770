"""What a command shows: the one value every command's work returns to the command line.

``publish.py`` prints a ``Shown`` in one way for every command (``show``): ``notes`` to standard
error, then ``text`` and ``data`` to standard output, then ``wrote``; then it exits with
``exit_code``. So a command's work below the command line decides everything a person reads, and
the command line keeps only its options.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

EXIT_OK, EXIT_PROBLEMS, EXIT_UNUSABLE = 0, 1, 2


@dataclass
class Shown:
    text: str = ""  # standard output, as it is (ends with its own newline)
    data: bytes = b""  # standard output as bytes (an .ics feed, whose CRLF line ends must stay)
    wrote: list[str] = field(default_factory=list)  # lines after the output: the files written
    notes: list[str] = field(default_factory=list)  # lines for standard error, said first
    exit_code: int = EXIT_OK


def lines(rows) -> str:
    """Lines as the text of a ``Shown``: each ending in a newline."""
    return "".join(f"{row}\n" for row in rows)


def listing(fmt: str, data, rows=(), *, exit_code: int = EXIT_OK) -> Shown:
    """A listing, shown the same way by every command: ``data`` as JSON with ``--format json``, else ``rows``."""
    if fmt == "json":
        return Shown(json.dumps(data, indent=2, ensure_ascii=False) + "\n", exit_code=exit_code)
    return Shown(lines(rows), exit_code=exit_code)


def refused(exc: Exception) -> Shown:
    """An expected failure (a ``Refusal``, or ``UnusableSettings`` with its problems and advice) as
    the command line says it: ``error: …`` on standard error, and its exit code."""
    from newsroom.problems import UnusableSettings

    if isinstance(exc, UnusableSettings):
        return Shown(notes=[*(f"error: {p}" for p in exc.problems), exc.advice], exit_code=EXIT_UNUSABLE)
    return Shown(notes=[f"error: {exc}"], exit_code=getattr(exc, "exit_code", EXIT_UNUSABLE))


def bold(text: str) -> str:
    """A heading; the command line drops the escape codes when standard output is not a terminal."""
    return f"\033[1m{text}\033[0m"
