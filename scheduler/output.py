"""How a publish run reads: a line per entry, a summary, JSON for scripts, Markdown for a CI job summary."""
from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the no-op path prints without importing the run
    from .run import RunReport

LABELS = {"delivered": "delivered", "would-deliver": "would send", "failed": "FAILED", "missed": "MISSED",
          "needs-person": "CHECK", "changed": "changed", "held": "held", "postponed": "postponed",
          "blocked": "blocked", "waiting": "waiting", "held-by-dependency": "HELD", "corrected": "corrected",
          "would-correct": "would fix", "unchanged": "unchanged", "withdrawn": "withdrawn",
          "would-withdraw": "would take", "cannot-withdraw": "CANNOT"}
ORDER = ("delivered", "would-deliver", "corrected", "would-correct", "withdrawn", "would-withdraw", "failed", "missed",
         "needs-person", "cannot-withdraw", "postponed", "changed", "unchanged", "held", "blocked", "waiting",
         "held-by-dependency")


def when(t: datetime | str | None) -> str:
    if t is None:
        return "-"
    if isinstance(t, str):
        t = datetime.fromisoformat(t)
    return t.strftime("%Y-%m-%d %H:%M UTC")


def nothing_due(now: datetime, next_due: dict | None) -> str:
    text = f"Nothing due at {when(now)}"
    if next_due:
        text += f"; next: {next_due['path']} on {next_due['channel']} at {when(next_due['at'])}"
    return text + "."


def summary_line(report: RunReport) -> str:
    counts = report.counts()
    if not counts:
        return nothing_due(report.now, report.next_due)
    words = {"would-deliver": "would be sent", "needs-person": "need a person", "would-correct": "would be corrected",
             "would-withdraw": "would be withdrawn", "cannot-withdraw": "cannot be taken down here",
             "waiting": "waiting for another channel", "held-by-dependency": "held by a dependency"}
    parts = [f"{counts[k]} {words.get(k, k)}" for k in ORDER if counts.get(k)]
    return ("Dry run: " if report.dry_run else "") + ", ".join(parts) + "."


def lines(report: RunReport) -> list[str]:
    out = []
    for o in report.outcomes:
        detail = o.url or o.detail
        if o.url and o.detail:
            detail = f"{o.url} ({o.detail})"
        out.append(f"{LABELS.get(o.result, o.result):<10} {o.path} → {o.channel}" + (f"  {detail}" if detail else ""))
    out.extend(f"note: {n}" for n in report.notes)
    out.append(summary_line(report))
    return out


def as_json(report: RunReport) -> str:
    return json.dumps({"now": report.now.isoformat(), "dry_run": report.dry_run,
                       "entries": [o.as_dict() for o in report.outcomes], "notes": report.notes,
                       "counts": report.counts(), "next": report.next_due, "summary": summary_line(report),
                       "exit_code": report.exit_code}, indent=2, ensure_ascii=False)


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")


def markdown(report: RunReport) -> str:
    out = [f"## Publish run, {when(report.now)}", "", summary_line(report), ""]
    if report.outcomes:
        out += ["| result | item | channel | detail |", "|---|---|---|---|"]
        for o in report.outcomes:
            detail = f"[{o.url}]({o.url})" if o.url else _cell(o.detail)
            out.append(f"| {LABELS.get(o.result, o.result)} | `{_cell(o.path)}` | {o.channel} | {detail} |")
        out.append("")
    if report.notes:
        out += [f"- {_cell(n)}" for n in report.notes] + [""]
    return "\n".join(out) + "\n"
