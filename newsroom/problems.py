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

    def __init__(self, problems: list[Problem], advice: str = "publish.yml cannot be used; fix the problems above."):
        self.problems, self.advice = problems, advice
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class Verdict:
    """What ``check`` found, as one answer every command shares: what check calls an error, the
    publish run holds. Problems sorted and without repeats, and grouped by where they are."""

    problems: list[Problem]
    settings_path: str = "publish.yml"

    def __post_init__(self) -> None:
        self.problems = sorted(set(self.problems), key=_order)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == WARNING]

    @property
    def settings(self) -> list[Problem]:
        """The problems of publish.yml."""
        return [p for p in self.problems if p.path == self.settings_path]

    def by_path(self) -> dict[str, list[Problem]]:
        """Every file's problems: an item's path, publish.yml, a recipient list, a template."""
        out: dict[str, list[Problem]] = {}
        for p in self.problems:
            out.setdefault(p.path, []).append(p)
        return out

    def errors_in(self, path: str) -> list[Problem]:
        """The errors of one file (an item's path): what holds its entries back."""
        # indexed once: a run asks this of every file it holds back (thousands at 10,000 items)
        index = self.__dict__.get("_errors_by_path")
        if index is None or index[0] is not self.problems or index[1] != len(self.problems):
            by_path: dict[str, list[Problem]] = {}
            for p in self.problems:
                if p.severity == ERROR:
                    by_path.setdefault(p.path, []).append(p)
            index = self.__dict__["_errors_by_path"] = (self.problems, len(self.problems), by_path)
        return list(index[2].get(path, ()))

    def only(self, paths) -> "Verdict":
        """The problems of these files (paths relative to the project) and of publish.yml, which every
        item depends on: what a pre-commit hook shows for the files a commit changes."""
        keep = set(paths) | {self.settings_path}
        return Verdict([p for p in self.problems if p.path in keep], self.settings_path)

    @property
    def unusable(self) -> list[Problem]:
        """The errors of publish.yml: every item depends on it, so nothing may go out (exit 2)."""
        return [p for p in self.settings if p.severity == ERROR]

    def exit_code(self, strict: bool = False) -> int:
        """``check``'s exit code: 2 when publish.yml has errors (``publish`` would refuse to run),
        1 when anything else fails (``failed``), else 0."""
        return 2 if self.unusable else int(self.failed(strict))

    def failed(self, strict: bool = False) -> bool:
        """Whether ``check`` fails: any error, or with ``strict`` any warning too."""
        return bool(self.errors or (strict and self.warnings))

    def summary(self, items: int) -> str:
        """The last line of ``check``: how many items, errors, warnings and files."""
        if not self.problems:
            return f"{items} items checked: no problems"
        errors, warnings, files = len(self.errors), len(self.warnings), len(self.by_path())
        return (f"{items} items checked: {errors} error{'s' * (errors != 1)}, {warnings} "
                f"warning{'s' * (warnings != 1)} in {files} file{'s' * (files != 1)}")


class Refusal(Exception):
    """An expected failure the command line says as ``error: <message>`` and exits with ``exit_code``."""

    exit_code = 1


class UsageError(Refusal):
    """A command line that cannot run as given (exit 2); the message says what to change."""

    exit_code = 2


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' when a close choice exists, else ''."""
    close = difflib.get_close_matches(str(word), sorted(set(choices)), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _order(p: Problem) -> tuple:
    """The fields' order (``Problem``'s own), with a problem of the whole file (no line) before its lines:
    comparing the dataclasses compares None with a number there, and is three times slower (a
    sort key is made once a problem, not once a comparison: 17,000 problems at 10,000 items)."""
    return p.path, -1 if p.line is None else p.line, p.key, p.message, p.severity


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.path, p.line or 0, p.key, p.message))
