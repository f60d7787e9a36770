"""The sample month: a recorded newsroom that ``report`` shows, labelled, until a project has pulled
engagement of its own.

The shipped example's publish.yml says ``report: {sample: sample}``: ``sample/`` is a small newsroom
of its own (publish.yml, content/, state/) whose state holds one month of engagement captured from
the loopback stand-ins of its services (``tests/sample_month.py``). While the project's own state
has recorded no pull (``publish pull`` never ran), ``publish report`` reports that folder instead,
over its recorded month unless ``--since``/``--until`` say otherwise, and says so on the first line
of every format (``sample`` in JSON). The project's own state is never read for it nor written: once
a pull is recorded, the report is the project's own, zeros and all.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from newsroom.settings import SETTINGS_FILE


@dataclass(frozen=True)
class Sample:
    folder: Path
    label: str


def sample_of(project, store) -> Sample | None:
    """The sample folder to report instead of ``project``, or None: no ``report.sample`` setting,
    no newsroom in that folder (a copy of the example without it), or the project has pulled already."""
    rel = ((project.settings.raw.get("report") or {}).get("sample") or "").strip()
    if not rel:
        return None
    folder = (project.root / rel).resolve()
    if folder == project.root.resolve() or not (folder / SETTINGS_FILE).is_file():
        return None
    if store.pulls():
        return None
    label = (f"SAMPLE DATA: a recorded month from {rel.rstrip('/')}/, not this project's. This project has "
             "pulled no engagement yet; after `publish pull` the report shows its own.")
    return Sample(folder, label)


def recorded_month(store, tz) -> tuple[str, str] | None:
    """(--since, --until) covering the sample's month: from the first day of the month of its last
    finished pull through that pull's day, in the calendar's timezone."""
    finished = [p["at"] for p in store.pulls() if p.get("event") == "finished" and p.get("at")]
    if not finished:
        return None
    last = datetime.fromisoformat(max(finished).replace("Z", "+00:00")).astimezone(tz).date()
    return last.replace(day=1).isoformat(), last.isoformat()
