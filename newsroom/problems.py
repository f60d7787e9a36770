"""Problems found in settings and content, reported together, never one at a time.

A problem names the file, the line and the dotted key so a marketer can fix it without
reading code: ``content/2026/11/launch.md:4: publish_at: '27/11' is not a date (use 2026-11-27T09:00)``.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, asdict
from typing import Iterable

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    line: int | None
    key: str
    message: str
    severity: str = ERROR

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        key = f" {self.key}:" if self.key else ""
        return f"{where}:{key} {self.message}"

    def as_dict(self) -> dict:
        return asdict(self)


class UnusableSettings(Exception):
    """publish.yml cannot be used at all; the run stops (exit 2)."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' when a close choice exists, else ''."""
    close = difflib.get_close_matches(str(word), sorted(set(choices)), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.path, p.line or 0, p.key, p.message))
