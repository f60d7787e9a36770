"""``publish.py calendar``: the planned entries in a view or a format, and what changed since a revision.

Formats are data (``FORMATS``: name, media type, writer), as the report's are. A writer takes the
``View`` and returns ``Shown``: text for the terminal, bytes for standard output (an ``.ics`` feed,
whose CRLF line ends must reach the file untouched), and the files it wrote. Unusable input raises
``UsageError`` with the message the command line prints.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from newsroom.formats import OutputFormat, media_type
from newsroom.model import Project
from newsroom.problems import ERROR, UnusableSettings, UsageError

from . import views
from .plan import Entry
from .shown import Shown


@dataclass
class View:
    project: Project
    entries: list[Entry]  # everything planned
    tz: object  # ZoneInfo of the view
    when: datetime
    filters: views.Filters
    span: str | None = None  # week, month
    days: int = 14
    split: str | None = None  # channel: one .ics file per channel

    @property
    def tzname(self) -> str:
        return getattr(self.tz, "key", str(self.tz))

    @property
    def today(self) -> date:
        return self.when.astimezone(self.tz).date()

    @property
    def chosen(self) -> list[Entry]:
        return [e for e in self.entries if self.filters.keep(e)]


def planned(project: Project, when: datetime, tz: str | None) -> tuple[list[Entry], object]:
    """The project's planned entries as of ``when``, and the view's timezone (``--tz``, else the
    calendar's)."""
    from newsroom.times import TimeError, zone

    from .plan import plan
    from .project import ledger_of

    try:
        view_tz = zone(tz) if tz else project.settings.calendar.timezone
    except TimeError as exc:
        raise UsageError(f"--tz: {exc}") from None
    return plan(project, ledger=ledger_of(project), now=when), view_tz


def planned_view(project: Project, now: str | None, tz: str | None) -> tuple[list[Entry], object, datetime]:
    """``calendar`` and ``plan``: the planned entries, the view's timezone and ``--now`` (else the
    clock). A calendar planned with half its rules would mislead: the settings' errors come first."""
    from newsroom.times import now_option

    broken = [p for p in project.problems if p.path == project.settings.path and p.severity == ERROR]
    if broken:
        raise UnusableSettings(broken, "publish.yml has errors; fix them first (python publish.py check lists everything).")
    when = now_option(now)
    entries, view_tz = planned(project, when, tz)
    return entries, view_tz, when


def day_option(text: str | None, name: str, tz) -> datetime | None:
    """--since/--until: a date (local midnight in the view's timezone) or a date-time."""
    from newsroom.times import TimeError, parse_date, parse_instant

    if text is None:
        return None
    try:
        return views.day_start(parse_date(text), tz) if len(text.strip()) == 10 else parse_instant(text)
    except (TimeError, ValueError):
        raise UsageError(f"{name}: '{text}' is not a date (use 2026-11-27 or 2026-11-27T09:00)") from None


def _agenda(view: View) -> Shown:
    first, last = views.window(view.filters, view.today, view.tz, span=view.span, days=view.days, agenda=True)
    rows = views.rows(view.chosen, view.tz)
    if view.span == "month":
        return Shown(views.month(rows, first.year, first.month, tzname=view.tzname, today=view.today))
    waiting = [views.row(e, view.tz) for e in view.entries if e.at is None and e.enabled
               and e.state not in ("idea", "archived") and view.filters.keep_untimed(e)]
    return Shown(views.agenda(rows, first, last, tzname=view.tzname, show_empty=view.span == "week",
                              unscheduled=waiting))


def _export(view: View) -> list[dict]:
    views.window(view.filters, view.today, view.tz, span=view.span, days=view.days, agenda=False)
    return views.rows(view.chosen, view.tz)


def _json(view: View) -> Shown:
    return Shown(views.to_json(_export(view)) + "\n")


def _csv(view: View) -> Shown:
    return Shown(views.to_csv(_export(view)))


def _ics(view: View) -> Shown:
    from . import ics

    rows = _export(view)
    lookup = {e.key: e for e in view.chosen}
    site, name = view.project.settings.site, view.project.settings.site.title
    if view.split != "channel":
        return Shown(data=ics.feed(rows, lookup, name=name, tzname=view.tzname, site_url=site.url,
                                   now=view.when).encode("utf-8"))
    folder = view.project.settings.output_dir("calendar")
    folder.mkdir(parents=True, exist_ok=True)
    shown = Shown()
    for channel in sorted({r["channel"] for r in rows} | set(view.project.settings.channels)):
        mine = [r for r in rows if r["channel"] == channel]
        target = folder / f"{channel}.ics"
        target.write_bytes(ics.feed(mine, lookup, name=f"{name} · {channel}", tzname=view.tzname, site_url=site.url,
                                    now=view.when).encode("utf-8"))
        shown.wrote.append(f"wrote {target.relative_to(view.project.root)} ({len(mine)} entries)")
    return shown


def _html(view: View) -> Shown:
    from . import page

    target = view.project.settings.output_dir("calendar") / "index.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page.render(view.project, views.rows(view.entries, view.tz), tzname=view.tzname, now=view.when),
                      encoding="utf-8")
    return Shown(wrote=[f"wrote {target.relative_to(view.project.root)} ({len(view.entries)} entries)"])


def _md(view: View) -> Shown:
    raise UsageError("--format md is the --diff output; add --diff REV")


FORMATS = {f.name: f for f in (
    OutputFormat("text", media_type("text"), _agenda),
    OutputFormat("json", media_type("json"), _json),
    OutputFormat("csv", media_type("csv"), _csv),
    OutputFormat("ics", media_type("ics"), _ics),
    OutputFormat("html", media_type("html"), _html),
    OutputFormat("md", media_type("md"), _md),
)}


def show(view: View, fmt: str) -> Shown:
    return FORMATS[fmt].write(view)


#: What ``--diff`` writes, by format.
DIFF_FORMATS = {"json": lambda changes, rev: json.dumps(changes.as_dict(), indent=2, ensure_ascii=False) + "\n",
                "md": lambda changes, rev: _diff().markdown(changes, rev),
                "text": lambda changes, rev: _diff().table(changes, rev)}


def _diff():
    from . import diff

    return diff


def changes_since(view: View, rev: str, fmt: str) -> Shown:
    """What changed in the plan since git revision ``rev``."""
    from .project import ledger_of

    from .corrections import after_publishing

    diff = _diff()
    ledger = ledger_of(view.project)
    texts: dict[str, str] = {}
    try:
        old = diff.plan_at(view.project.root, rev, ledger=ledger, now=view.when, texts=texts,
                           revisions={e.key: e.item.revision for e in view.chosen})
    except diff.DiffError as exc:
        raise UsageError(str(exc)) from None
    if fmt not in DIFF_FORMATS:
        raise UsageError(f"--diff shows text, md or json, not {fmt}")
    changes = diff.compare([e for e in old if view.filters.keep(e)], view.chosen, view.tz)
    changes.after = after_publishing(texts, view.chosen, view.project, ledger or {}, view.when,
                                     lambda at: at.astimezone(view.tz).isoformat(timespec="minutes"))
    return Shown(DIFF_FORMATS[fmt](changes, rev))


# -- publish.py plan: the queue -----------------------------------------------------------------
def queue(entries: list[Entry]) -> list[Entry]:
    """Approved entries waiting for a slot of their channel's queue (none given, or the next free one)."""
    return [e for e in entries if e.wants_slot and e.enabled and e.item.status == "approved"
            and e.source in ("slot", "none")]


def queue_text(rows: list[dict]) -> str:
    """The queue as lines: the slot (or none free), channel, path and title; then how many have one."""
    if not rows:
        return "no entry is waiting for a slot\n"
    lines = [f"{r['local'] or 'no free slot':<22}  {r['channel']:<12}  {r['path']}  {r['title']}" for r in rows]
    lines.append(f"{sum(r['local'] is not None for r in rows)} of {len(rows)} waiting entries have a slot")
    return "\n".join(lines) + "\n"
