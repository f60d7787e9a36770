"""The studio's desk: the project as the browser sees it, and every change the browser asks for.

``publish studio`` (``scheduler/studio.py``) serves this over HTTP; nothing here knows about the web.
The desk keeps the loaded project, its plan and its check, and the calendar's data as the static
page reads it (``scheduler/page.py``'s ``data``, plus what the studio adds: each item's revision and
problems). A change is an edit of one line (or two) of one item's front matter:

- a move rewrites ``channels.<name>.at`` with ``plan --write``'s edit (``write.pin_text``), after the
  calendar rules that cannot be right at any time of that day or hour (quiet hours, blackout dates);
- a state change rewrites ``status:``; an approval also writes ``approved_by:`` from git's
  ``user.name``, refused when the workflow (``newsroom.workflow.approval_refusal``) says that person may not.

Every change names the revision of the file the browser showed (``Item.revision``); the file is read
again and a different revision is refused, so an edit made on disk meanwhile is never overwritten.
Only files the project loaded as items are written, and each change may be committed on the
current branch, naming what changed. Expected refusals are ``Answer`` values with an HTTP status.
"""
from __future__ import annotations

import hashlib
import json
import re
import subprocess
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from newsroom.atomic import write_atomic

#: Entry states a move cannot change any more: out already, or being sent now.
OUT = frozenset(("delivered", "published", "withdrawn", "claimed"))


@dataclass
class Answer:
    """What a change did (``status`` 200), or why it was refused (4xx) and that nothing was written."""

    status: int
    message: str
    data: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == 200

    def body(self) -> bytes:
        return json.dumps({"ok": self.ok, "message": self.message, **self.data}, ensure_ascii=False).encode("utf-8")


def refused(status: int, message: str) -> Answer:
    return Answer(status, message)


def revision_of(raw: bytes) -> str | None:
    """The revision ``newsroom.items.load_item`` gives a file's bytes (None: they are not text it loads)."""
    from newsroom import yamlload

    try:
        text = yamlload.decode(raw)
    except Exception:  # undecodable now: certainly not what was shown
        return None
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()


def board_states(settings) -> list[str]:
    """The board's columns: the workflow's states in its order (the team's own, where publish.yml names them)."""
    from newsroom import workflow

    return list(workflow.states(settings))


def state_of(item) -> str:
    """The item's state as its team names it (its built-in status where the workflow has no names)."""
    return item.state


def final_state(settings) -> str:
    """The state where approved items wait to go out (``approved`` by default)."""
    from newsroom import workflow

    return next(s for s in board_states(settings) if workflow.may_go_out(settings, s))


def approval(item, name: str, settings) -> tuple[str, str | None]:
    """Where approving ``item`` as ``name`` puts it, and why the workflow refuses that person (None: it does not)."""
    from newsroom import workflow

    target = workflow.next_state(settings, state_of(item)) or final_state(settings)
    return target, workflow.approval_refusal(item, name, settings)


class Desk:
    """The project at ``root`` as loaded, planned and checked at ``now`` (the clock when None).

    A reload plans first and serves that at once; the check (the slow half: every post rendered
    against its limits) follows on a thread of its own and its problems replace the ones carried
    over from the last check (kept for the files that did not change). ``on_change(paths)`` is told
    after each, from whichever thread made it."""

    def __init__(self, root: Path, now: datetime | None = None):
        self.root = Path(root).resolve()
        self.fixed_now = now
        self.lock = threading.RLock()
        self._checking = threading.Lock()  # one check at a time
        self.generation = 0
        self.error: str | None = None
        self.checking = False
        self.problem_of: dict[str, tuple[str, list[str]]] = {}  # path → (revision checked, problems)
        self.own: dict[str, tuple[int, int]] = {}  # path → (mtime_ns, size) of the desk's own last write
        self.on_change = None
        self.reload(first=True)
        self.check()

    def now(self) -> datetime:
        return self.fixed_now or datetime.now(timezone.utc)

    # -- reading -----------------------------------------------------------------------------------
    def reload(self, first: bool = False, paths=()) -> None:
        """Load and plan again (``check`` follows); settings that became unusable keep the last good
        view (and say so)."""
        from newsroom.problems import UnusableSettings

        from . import page, views
        from .calendar import planned_view
        from .project import load_project

        try:
            project = load_project(self.root)
            entries, tz, when = planned_view(project, self.now().isoformat(), None)
        except UnusableSettings as exc:
            if first:
                raise
            with self.lock:
                self.error = f"{exc.advice}\n{exc}"
                self.generation += 1
            self._changed(list(paths))
            return
        data = page.data(project, views.rows(entries, tz), tzname=getattr(tz, "key", str(tz)), now=when)
        by_path = {i.path: i for i in project.items}
        paths_ = [data["s"][it[1]] + it[2] for it in data["items"]]
        data["revisions"] = [by_path[p].revision if p in by_path else "" for p in paths_]
        data["item_states"] = [state_of(by_path[p]) if p in by_path else "" for p in paths_]
        data["board"] = board_states(project.settings)
        data["final"] = final_state(project.settings)
        data["content"] = project.settings.content_dir
        with self.lock:
            self.project, self.entries, self.tz, self.when = project, entries, tz, when
            self.error = None
            self.checking = True
            self._paths = paths_
            self._base = data
            self._publish()
        self._changed(list(paths))

    def check(self) -> None:
        """``check``'s problems for what is loaded now (nothing when a newer load came meanwhile: its own follows)."""
        from .project import check

        with self._checking:
            with self.lock:
                project, when = self.project, self.when
            verdict = check(project, when, verify=False)
            found: dict[str, list[str]] = {}
            for p in [*verdict.errors, *verdict.warnings]:
                found.setdefault(p.path, []).append(f"{p.severity}: {p.key + ': ' if p.key else ''}{p.message}"
                                                    + (f" (line {p.line})" if p.line else ""))
            with self.lock:
                if self.project is not project:
                    return
                self.problem_of = {i.path: (i.revision, found.get(i.path, [])) for i in project.items}
                self.checking = False
                self._publish()
        self._changed([])

    def check_soon(self) -> None:
        threading.Thread(target=self.check, name="studio-check", daemon=True).start()

    def _publish(self) -> None:
        """The calendar's answer: the planned data, and each item's problems as last checked (a file
        changed since its check shows none until the next check)."""
        data, project = dict(self._base), self.project
        index = {p: n for n, p in enumerate(self._paths)}

        def problems(item) -> list[str]:
            revision, found = self.problem_of.get(item.path, ("", []))
            return found if revision == item.revision else []

        data["problems"] = {str(index[i.path]): problems(i) for i in project.items
                            if i.path in index and problems(i)}
        data["loose"] = [[i.path, i.title, state_of(i), i.author or "", i.revision, problems(i)]
                         for i in project.items if i.path not in index]
        data["checking"] = self.checking
        self.generation += 1
        data["gen"] = self.generation
        self.data = data
        self.body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def _changed(self, paths: list[str]) -> None:
        if self.on_change is not None:
            self.on_change(paths)

    @property
    def tzname(self) -> str:
        return getattr(self.tz, "key", str(self.tz))

    def item(self, rel) -> tuple[object | None, Answer | None]:
        """The loaded item at ``rel`` (a path relative to the project), or why it cannot be touched."""
        if not isinstance(rel, str) or not rel or "\0" in rel or "\\" in rel:
            return None, refused(400, "name the item by its path in the project, e.g. content/2026/launch.md")
        target = (self.root / rel).resolve()
        if rel.startswith("/") or not target.is_relative_to(self.root):
            return None, refused(403, f"'{rel}' is outside the project; the studio writes only the project's items")
        item = self.project.item_by_path(rel)
        if item is None or target != (self.root / item.path).resolve():
            return None, refused(404, f"'{rel}' is not an item of this project (items live under "
                                      f"{self.project.settings.content_dir}/)")
        return item, None

    def preview_html(self, rel) -> Answer:
        """The item's posts side by side, exactly as ``publish render --format html`` shows them."""
        from channels import preview
        from newsroom.problems import UsageError

        with self.lock:
            item, no = self.item(rel)
            if no:
                return no
            try:
                found, posts, units = preview.preview(self.project, item.path, (), None)
            except UsageError as exc:
                return refused(422, str(exc))
            if not posts:
                return Answer(200, f"<p>{item.path} goes to no channel yet.</p>")
            return Answer(200, preview.html_preview(posts, found.title, units))

    # -- changing ----------------------------------------------------------------------------------
    def _current(self, item, revision) -> tuple[str | None, Answer | None]:
        """The file's text when it is still the revision the browser showed."""
        path = self.root / item.path
        try:
            raw = path.read_bytes()
        except OSError as exc:
            return None, refused(409, f"{item.path} cannot be read now ({exc.strerror}); nothing was written")
        if revision_of(raw) != item.revision:
            return None, refused(409, f"{item.path} changed on disk since the studio loaded it; nothing was "
                                      "written. The calendar shows it as it is now: look, then try again.")
        if revision != item.revision:
            return None, refused(409, f"{item.path} changed since this page showed it; nothing was written. "
                                      "The calendar shows it as it is now: look, then try again.")
        from newsroom import yamlload

        return yamlload.decode(raw), None

    def _write(self, item, text: str, message: str, commit: bool) -> Answer:
        path = self.root / item.path
        write_atomic(path, text.encode("utf-8"))
        st = path.stat()
        self.own[item.path] = (st.st_mtime_ns, st.st_size)
        said = message
        data: dict = {"path": item.path}
        if commit:
            done = git_commit(self.root, item.path, message)
            if done.ok:
                said += f" (committed {done.message})"
                data["commit"] = done.message
            else:
                said += f"; written but not committed: {done.message}"
                data["commit"] = None
        self.reload(paths=[item.path])
        self.check_soon()
        data["revision"] = getattr(self.project.item_by_path(item.path), "revision", None)
        return Answer(200, said, data)

    def move(self, rel, channel, revision, date: str, clock: str, *, commit: bool = False,
             key: str | None = None) -> Answer:
        """Move the item's entry on ``channel`` (the one called ``key``, when given) to ``date`` ``clock``
        (the calendar's timezone)."""
        from newsroom.times import TimeError, localize

        from .rules import blackout_for, effective
        from .write import WriteError, _stamp, pin_text

        with self.lock:
            item, no = self.item(rel)
            if no:
                return no
            entry = next((e for e in self.entries if e.item is item and e.channel == channel
                          and (e.key == key if key else not e.share)), None)
            if entry is None:
                return refused(404, f"{item.path} does not go to a channel named '{channel}'")
            if entry.share:
                return refused(409, f"this is re-share {entry.share} of '{item.title}' on {channel}, which follows "
                                    "its evergreen.every; move the item's own entry instead")
            if entry.state in OUT:
                return refused(409, f"'{item.title}' is {entry.state} on {channel} already; moving it changes nothing")
            try:
                naive = datetime.fromisoformat(f"{date}T{clock}")
            except (TypeError, ValueError):
                return refused(400, f"'{date} {clock}' is not a date and time (use 2026-12-01 and 09:00)")
            try:
                at = localize(naive.replace(tzinfo=None), self.tz)
            except TimeError as exc:
                return refused(422, f"{exc}; nothing was written")
            local = at.astimezone(self.tz)
            when = local.strftime("%Y-%m-%d %H:%M")
            rules = effective(self.project.settings, channel)
            q = rules.quiet_hours
            if q and q.contains(local.time()):
                return refused(422, f"{when} is in the quiet hours of '{channel}' ({q.start:%H:%M}-{q.end:%H:%M} "
                                    f"{self.tzname}); nothing was written")
            b = blackout_for(rules, local.date()) if rules.blackout else None
            if b:
                span = str(b.start) if b.start == b.end else f"{b.start}..{b.end}"
                return refused(422, f"{local.date()} is a blackout date on '{channel}' ({span}"
                                    f"{': ' + b.reason if b.reason else ''}); nothing was written")
            text, no = self._current(item, revision)
            if no:
                return no
            try:
                new = pin_text(text, item, {channel: _stamp(at, self.tz)}, replace=True)
            except WriteError as exc:
                return refused(422, f"{item.path}: {exc}; nothing was written")
            was = entry.at.astimezone(self.tz).strftime("%Y-%m-%d %H:%M") if entry.at else "no time"
            return self._write(item, new, f"Move '{item.title}' on {channel} to {when} (was {was})", commit)

    def set_status(self, rel, revision, status, *, commit: bool = False) -> Answer:
        """Put the item in ``status``; ``approved`` is an approval (``approve``)."""
        with self.lock:
            if status == final_state(self.project.settings):  # only an approval leads there
                return self.approve(rel, revision, commit=commit)
            item, no = self.item(rel)
            if no:
                return no
            if status not in board_states(self.project.settings):
                return refused(400, f"'{status}' is not a state of the workflow "
                                    f"({', '.join(board_states(self.project.settings))})")
            was = state_of(item)
            if status == was:
                return Answer(200, f"'{item.title}' is {status} already", {"path": item.path, "revision": item.revision})
            if status == "withdrawn" and not (item.reason or "").strip():
                return refused(422, "a withdrawn item needs reason: why it is taken back; write it in the file")
            text, no = self._current(item, revision)
            if no:
                return no
            new = set_keys(text, item, {"status": status})
            return self._write(item, new, f"Move '{item.title}' from {was} to {status}", commit)

    def approve(self, rel, revision, *, commit: bool = False) -> Answer:
        """The item in the state an approval leads to (``approved`` in the default workflow) with
        ``approved_by:`` git's ``user.name``, when the workflow lets that person approve it."""
        with self.lock:
            item, no = self.item(rel)
            if no:
                return no
            name = git_user(self.root)
            if not name:
                return refused(422, "git has no user.name here, and approved_by takes it: "
                                    "git config user.name 'Your Name'")
            target, refusal = approval(item, name, self.project.settings)
            if refusal:
                return refused(403, f"{refusal}; nothing was written")
            text, no = self._current(item, revision)
            if no:
                return no
            new = set_keys(text, item, {"status": target, "approved_by": name})
            return self._write(item, new, f"Approve '{item.title}' (approved_by: {name})", commit)


# -- the front matter's top-level keys, edited as text (as ``scheduler/write.py`` edits times) ----------
_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9 ._'-]*[A-Za-z0-9.]|[A-Za-z]")
_WORDS = {"yes", "no", "true", "false", "on", "off", "null", "y", "n"}


def yaml_scalar(value: str) -> str:
    """``value`` as YAML reads it back: plain when that is safe, else double-quoted (JSON's quoting is YAML's)."""
    if _PLAIN.fullmatch(value) and value.lower() not in _WORDS and ": " not in value and " #" not in value:
        return value
    return json.dumps(value, ensure_ascii=False)


def set_keys(text: str, item, values: dict[str, str]) -> str:
    """``text`` with each top-level key's value replaced on its line; a key the file lacks is written on a
    new line under ``status:`` (which every item has)."""
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.split(newline)
    doc = item.doc.lines
    for key, value in values.items():
        n = doc.get(key)
        if n is None:
            continue
        m = re.match(r"^(\ufeff?\s*" + re.escape(key) + r"\s*:\s*)(.*?)(\s+#.*)?$", lines[n - 1])
        if not m:
            raise ValueError(f"{item.path}:{n}: expected '{key}:'")
        lines[n - 1] = m.group(1) + yaml_scalar(value) + (m.group(3) or "")
    missing = [k for k in values if k not in doc]
    if missing:
        n = doc["status"]
        indent = re.match(r"^\ufeff?(\s*)", lines[n - 1]).group(1)
        for key in reversed(missing):
            lines.insert(n, f"{indent}{key}: {yaml_scalar(values[key])}")
    return newline.join(lines)


# -- git -----------------------------------------------------------------------------------------------
def _git(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=30)


def git_user(root: Path) -> str:
    """git's ``user.name`` as it applies in ``root`` ("" when none is set)."""
    try:
        return _git(root, "config", "user.name").stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def git_commit(root: Path, rel: str, message: str) -> Answer:
    """Commit ``rel`` alone on the current branch (whatever else is staged stays staged); the short hash."""
    try:
        inside = _git(root, "rev-parse", "--is-inside-work-tree")
        if inside.returncode != 0 or inside.stdout.strip() != "true":
            return refused(409, "the project is not in a git repository")
        added = _git(root, "add", "--", rel)
        done = _git(root, "commit", "-q", "-m", message, "--only", "--", rel) if added.returncode == 0 else added
        if done.returncode != 0:
            return refused(409, (done.stderr or done.stdout).strip() or "git commit failed")
        return Answer(200, _git(root, "rev-parse", "--short", "HEAD").stdout.strip())
    except (OSError, subprocess.SubprocessError) as exc:
        return refused(409, f"git could not run: {exc}")
