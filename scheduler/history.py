"""Items' workflow states across git history: which item changed state in which commit.

The notifications (``scheduler/notify.py``) read this: from the last commit they told people about to
the checkout's ``HEAD``, each commit that touched the content folder is compared with its first
parent (``git log --first-parent``: on a branch that takes pull requests by merge, a merge is one
step, as the branch saw it), and every item whose ``status:`` differs is a ``Transition``. Only the
front matter's few keys are read (status, id, slug, title, author, approved_by); a file whose front
matter cannot be read on one side gives no transition (``check`` says what is wrong with it).

Git is run as a command (``git log``, ``git cat-file --batch``): the project is a git repository by
design, and the command is on every CI runner.
"""
from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from newsroom import yamlload
from newsroom.items import ITEM_SUFFIXES, default_slug

#: A side of a comparison where the file does not exist (the item was added or removed).
ABSENT = None
#: A side whose front matter cannot be read: no transition is made from it.
UNREADABLE = "?"


class HistoryError(Exception):
    """Git cannot answer (not a repository, a commit that is not there): the message says what to do."""


@dataclass(frozen=True)
class Transition:
    """An item's state changed in ``commit``: from ``before`` (None: the item was new) to ``after``."""

    commit: str
    path: str
    item_id: str
    title: str
    author: str
    approved_by: str | None
    before: str | None
    after: str


def git(root: Path, *args: str, stdin: bytes | None = None) -> bytes:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], input=stdin, capture_output=True, timeout=120)
    except FileNotFoundError:
        raise HistoryError("git is not installed here: notifications read the content's history from git") from None
    except subprocess.TimeoutExpired:
        raise HistoryError(f"git {args[0]} took more than 2 minutes; nothing was read") from None
    if done.returncode != 0:
        words = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise HistoryError(f"git {args[0]}: {words[-1] if words else f'exit {done.returncode}'}")
    return done.stdout


def head(root: Path) -> str | None:
    """The checkout's commit; None in a repository without commits or outside one."""
    try:
        return git(root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}").decode().strip() or None
    except HistoryError:
        return None


def is_ancestor(root: Path, older: str, newer: str) -> bool:
    """Whether ``older`` is in ``newer``'s history (False too when ``older`` is not in this clone: a
    shallow checkout, or history rewritten)."""
    done = subprocess.run(["git", "-C", str(root), "merge-base", "--is-ancestor", older, newer],
                          capture_output=True, timeout=120)
    return done.returncode == 0


def _commits(root: Path, since: str, until: str, content_dir: str) -> list[tuple[str, str | None, list[str]]]:
    """(commit, first parent, item paths it changed) for each commit after ``since`` up to ``until``
    that touched ``content_dir``, oldest first."""
    out = git(root, "log", "--first-parent", "--reverse", "--diff-merges=first-parent", "--no-renames",
              "--name-only", "-z", "--format=%x01%H %P", f"{since}..{until}", "--", content_dir)
    commits: list[tuple[str, str | None, list[str]]] = []
    for block in out.decode("utf-8", "surrogateescape").split("\x01")[1:]:
        # "<commit> <parents>\0\n<path>\0<path>\0": -z ends the header and each name with NUL
        header, *names = block.split("\x00")
        ids = header.split()
        paths = [p.strip("\n") for p in names if p.strip("\n")]
        commits.append((ids[0], ids[1] if len(ids) > 1 else None,
                        [p for p in paths if p.endswith(ITEM_SUFFIXES) and not p.rsplit("/", 1)[-1].startswith(("_", "."))]))
    return commits


class _Blobs:
    """Files at commits through one ``git cat-file --batch`` per lookup round."""

    def __init__(self, root: Path):
        self.root = root

    def read(self, wanted: list[tuple[str, str]]) -> dict[tuple[str, str], bytes | None]:
        if not wanted:
            return {}
        out = git(self.root, "cat-file", "--batch", stdin="".join(f"{c}:{p}\n" for c, p in wanted).encode())
        found: dict[tuple[str, str], bytes | None] = {}
        pos = 0
        for key in wanted:
            end = out.index(b"\n", pos)
            header = out[pos:end].split()
            pos = end + 1
            if len(header) == 3 and header[1] == b"blob":
                size = int(header[2])
                found[key] = out[pos:pos + size]
                pos += size + 1
            else:  # "<name> missing": the file is not there at that commit
                found[key] = None
        return found


def front(raw: bytes | None, path: str) -> dict | None | str:
    """The few keys notifications need from a file's front matter; ABSENT, or UNREADABLE."""
    if raw is None:
        return ABSENT
    try:
        src = yamlload.split_front_matter(yamlload.decode(raw))
        if src.front is None or not src.front_closed:
            return UNREADABLE
        data = yamlload.parse(src.front, line_offset=1).data
    except (UnicodeDecodeError, yamlload.YamlError):
        return UNREADABLE
    if not isinstance(data, dict) or not isinstance(data.get("status"), str):
        return UNREADABLE
    text = lambda key: str(data[key]).strip() if isinstance(data.get(key), (str, int, float)) else ""
    return {"status": data["status"].strip().lower(), "id": text("id") or text("slug") or default_slug(path),
            "title": text("title") or path, "author": text("author"), "approved_by": text("approved_by") or None}


def transitions(root: Path, content_dir: str, since: str, until: str) -> list[tuple[str, list[Transition]]]:
    """Per commit after ``since`` up to ``until`` that touched the content (oldest first), the items
    whose state it changed. Raises ``HistoryError`` when git cannot answer."""
    commits = _commits(root, since, until, content_dir)
    blobs = _Blobs(root)
    wanted = [(rev, p) for commit, parent, paths in commits for p in paths
              for rev in ((parent, commit) if parent else (commit,))]
    files = blobs.read(wanted)
    out: list[tuple[str, list[Transition]]] = []
    for commit, parent, paths in commits:
        changed = []
        sides = {p: (front(files.get((parent, p)), p) if parent else ABSENT, front(files.get((commit, p)), p))
                 for p in paths}
        # A file moved (or renamed) in the commit is the same item: its state before is the removed
        # file's with the same identity, not "new".
        gone = {b["id"]: b for b, a in sides.values() if isinstance(b, dict) and a is ABSENT}
        for p, (before, after) in sides.items():
            if after in (ABSENT, UNREADABLE) or before == UNREADABLE:
                continue
            if before is ABSENT and after["id"] in gone:
                before = gone[after["id"]]
            if before is not ABSENT and before["status"] == after["status"]:
                continue
            changed.append(Transition(commit, p, after["id"], after["title"], after["author"], after["approved_by"],
                                      before["status"] if before is not ABSENT else None, after["status"]))
        out.append((commit, changed))
    return out
