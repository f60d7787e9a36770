"""The schedule diff: the calendar at a git revision against the working tree, for pull requests.

The old project is taken out of git with ``git archive`` into a temporary folder and planned with
the same ``now`` and ledger as the new one, so only the change in the files shows: entries added,
removed, moved (old → new time), whose state changed, and rules newly broken (conflicts first); and
for entries already out, each **correction** (the post's text before and after, as a diff) and each
**withdrawal** (``scheduler/corrections.py``).
"""
from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from newsroom.problems import UnusableSettings

from .plan import plan
from .project import load_project
from .views import ALARMS, entry_title


class DiffError(Exception):
    """The revision cannot be compared (not a git checkout, unknown revision, broken settings there)."""


def _git(root: Path, *args: str) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, timeout=60)
    except FileNotFoundError:
        raise DiffError("git is not installed; --diff needs it") from None


def plan_at(root: Path, rev: str, *, ledger, now, texts: dict | None = None, revisions: dict | None = None):
    """The entries the project at ``root`` planned at revision ``rev``.

    A revision without the project (a content repository's first pull request adds publish.yml and
    the folder) planned nothing: everything is added, nothing fails. ``texts``: filled with entry key
    → the post's text at ``rev``, for the delivered entries whose item revision is not the one in
    ``revisions`` (entry key → the item's revision now): what a correction changes."""
    top = _git(root, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise DiffError(f"{root} is not in a git checkout; --diff compares with a git revision")
    commit = _git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    if commit.returncode != 0:
        raise DiffError(f"'{rev}' is not a revision in this repository (try main, HEAD~1 or a commit hash)")
    sha = commit.stdout.decode().strip()
    # Run in a subfolder of the repository, git archive takes that folder only, paths relative to it.
    archive = _git(root, "archive", "--format=tar", sha)
    if archive.returncode != 0:  # the project folder does not exist at rev
        return []
    with tempfile.TemporaryDirectory(prefix="calendar-diff-") as tmp:
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(tmp, filter="data")
        old_root = Path(tmp)
        if not (old_root / "publish.yml").exists():
            return []
        try:
            project = load_project(old_root, cache=False)
        except UnusableSettings as exc:
            raise DiffError(f"publish.yml at {rev} cannot be used: {exc.problems[0]}") from None
        entries = plan(project, ledger=ledger, now=now)
        if texts is not None and revisions:
            from .corrections import delivered, renderer

            render = renderer(project)
            for e in entries:
                if e.key in revisions and revisions[e.key] != e.item.revision and delivered(ledger or {}, e.key):
                    text = render(e)
                    if text is not None:
                        texts[e.key] = text
        return entries


@dataclass
class Changes:
    added: list[dict] = field(default_factory=list)
    removed: list[dict] = field(default_factory=list)
    moved: list[dict] = field(default_factory=list)
    state: list[dict] = field(default_factory=list)
    broken: list[dict] = field(default_factory=list)  # rules newly broken; conflicts first
    after: list[dict] = field(default_factory=list)  # corrections and withdrawals of entries already out

    def __bool__(self) -> bool:
        return any((self.added, self.removed, self.moved, self.state, self.broken, self.after))

    def as_dict(self) -> dict:
        return {"added": self.added, "removed": self.removed, "moved": self.moved, "state_changed": self.state,
                "new_problems": self.broken, "after_publishing": self.after,
                "summary": {"corrections": sum(r["change"] == "correction" for r in self.after),
                            "withdrawals": sum(r["change"] == "withdrawal" for r in self.after),"added": len(self.added), "removed": len(self.removed), "moved": len(self.moved),
                            "state_changed": len(self.state), "new_problems": len(self.broken),
                            "new_conflicts": sum("conflict" in b["flags"] for b in self.broken)}}


def _local(at, tz) -> str | None:
    return at.astimezone(tz).isoformat(timespec="minutes") if at else None


def _base(e, tz) -> dict:
    return {"key": e.key, "path": e.item.path, "title": entry_title(e.item), "channel": e.channel,
            "at": _local(e.at, tz), "state": e.state}


def compare(old: list, new: list, tz) -> Changes:
    before = {e.key: e for e in old}
    after = {e.key: e for e in new}
    out = Changes()
    for key, e in after.items():
        was = before.get(key)
        if was is None:
            out.added.append(_base(e, tz))
            continue
        if was.at != e.at:
            out.moved.append({**_base(e, tz), "from": _local(was.at, tz), "to": _local(e.at, tz)})
        if was.state != e.state:
            out.state.append({**_base(e, tz), "from": was.state, "to": e.state})
    for key, e in before.items():
        if key not in after:
            out.removed.append(_base(e, tz))
    for key, e in after.items():
        had = set(before[key].flags) if key in before else set()
        fresh = [f for f in e.flags if f in ALARMS and f not in had]
        if fresh:
            notes = [n for n in e.notes if n.split(":")[0] in fresh]
            out.broken.append({**_base(e, tz), "flags": fresh, "notes": notes})
    out.broken.sort(key=lambda b: ("conflict" not in b["flags"], b["at"] or "", b["path"]))
    for part in (out.added, out.removed, out.moved, out.state):
        part.sort(key=lambda r: (r["at"] or "", r["path"], r["channel"]))
    return out


def _when(text: str | None) -> str:
    return text.replace("T", " ")[:16] if text else "no time"


def table(changes: Changes, rev: str) -> str:
    if not changes:
        return f"No change to the calendar since {rev}.\n"
    lines = [f"Calendar changes since {rev}", ""]
    rows = [("added", _when(r["at"]), r["channel"], r["title"], r["state"]) for r in changes.added]
    rows += [("removed", _when(r["at"]), r["channel"], r["title"], r["state"]) for r in changes.removed]
    rows += [("moved", f"{_when(r['from'])} → {_when(r['to'])}", r["channel"], r["title"], r["state"])
             for r in changes.moved]
    rows += [("state", _when(r["at"]), r["channel"], r["title"], f"{r['from']} → {r['to']}") for r in changes.state]
    rows += [("PROBLEM", _when(r["at"]), r["channel"], r["title"], "; ".join(r["notes"] or r["flags"]))
             for r in changes.broken]
    rows += [(r["change"], _when(r["at"]), r["channel"], r["title"], r["how"]) for r in changes.after]
    widths = [max(len(r[i]) for r in rows + [("change", "when", "channel", "item", "state")]) for i in range(4)]
    header = ("change", "when", "channel", "item", "state")
    for r in [header] + rows:
        lines.append("  ".join(r[i].ljust(widths[i]) for i in range(4)) + "  " + r[4])
    for r in changes.after:
        if r.get("diff"):
            lines += ["", f"correction on {r['channel']}: {r['path']}", *(f"  {line}" for line in r["diff"])]
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown(changes: Changes, rev: str) -> str:
    """A pull-request comment (or $GITHUB_STEP_SUMMARY): a summary line, then one table per kind of change."""
    s = changes.as_dict()["summary"]
    if not changes:
        return f"### Calendar\n\nNo change to the calendar since `{rev}`.\n"
    parts = [f"### Calendar changes since `{rev}`", "",
             f"**{s['added']}** added · **{s['removed']}** removed · **{s['moved']}** moved · "
             f"**{s['state_changed']}** state changed · **{s['new_problems']}** new problems"
             + (f" (**{s['new_conflicts']}** conflicts)" if s["new_conflicts"] else ""), ""]
    if changes.broken:
        parts += ["#### ⚠️ New problems", "", "| when | channel | item | problem |", "|---|---|---|---|"]
        parts += [f"| {_when(r['at'])} | {r['channel']} | {_md(r['title'])} (`{r['path']}`) | "
                  f"{_md('; '.join(r['notes'] or r['flags']))} |" for r in changes.broken]
        parts.append("")
    if changes.moved:
        parts += ["#### Moved", "", "| channel | item | from | to |", "|---|---|---|---|"]
        parts += [f"| {r['channel']} | {_md(r['title'])} | {_when(r['from'])} | **{_when(r['to'])}** |"
                  for r in changes.moved]
        parts.append("")
    for title, rows in (("Added", changes.added), ("Removed", changes.removed)):
        if rows:
            parts += [f"#### {title}", "", "| when | channel | item | state |", "|---|---|---|---|"]
            parts += [f"| {_when(r['at'])} | {r['channel']} | {_md(r['title'])} (`{r['path']}`) | {r['state']} |"
                      for r in rows]
            parts.append("")
    if changes.after:
        parts += ["#### After publishing", "", "| change | channel | item | what happens |", "|---|---|---|---|"]
        parts += [f"| {r['change']} | {r['channel']} | {_md(r['title'])} (`{r['path']}`) | {_md(r['how'])} |"
                  for r in changes.after]
        parts.append("")
        for r in changes.after:
            if r.get("diff"):
                parts += [f"Correction on **{r['channel']}**:", "", "```diff", *r["diff"], "```", ""]
    if changes.state:
        parts += ["#### State changed", "", "| when | channel | item | state |", "|---|---|---|---|"]
        parts += [f"| {_when(r['at'])} | {r['channel']} | {_md(r['title'])} | {r['from']} → **{r['to']}** |"
                  for r in changes.state]
        parts.append("")
    return "\n".join(parts)
