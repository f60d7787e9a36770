"""The no-op cache: when nothing can be due before a known time, a publish run need not load anything.

A full run ends by writing ``.cache/publish-index.json``: until when nothing needs doing
(``quiet_until``: the next entry's time, or no time at all when something is waiting for action),
the next entry due, and the notes and exit code of that quiet state. It is valid while everything
the answer was computed from is unchanged:

- every content file (path, mtime, size) and publish.yml;
- the ledger (inode, size, mtime): any run that appended anything invalidates it;
- ``state/credentials`` beside it (``publish auth`` connecting a channel activates it);
- which of the channels' secret variables are set (a newly set token activates a channel);
- the code of the pipeline itself (its modules' mtimes and sizes);
- the stamps of derived outputs (the blog's site says which ledger state it was built from), so a
  site removed or left half-built is noticed by the next run.

Anything else, or a time past ``quiet_until``, and the run loads the project as usual.
"""
from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime
from pathlib import Path

from newsroom import fingerprint
from newsroom.itemcache import stat_key
from newsroom.items import ITEM_SUFFIXES
from newsroom.state.files import file_version
from newsroom.atomic import write_atomic

VERSION = 1
INDEX = Path(".cache") / "publish-index.json"
PACKAGES = ("newsroom", "scheduler", "channels")


def code_signature() -> str:
    return fingerprint.code_signature(PACKAGES)


def content_signature(root: Path, content_dir: str, stats: dict | None = None) -> str:
    """A hash of every item file's path, mtime and size (the files ``load_items`` reads), and publish.yml.
    ``stats``: filled with each file's stat key by its path in the project, for the load that follows
    (``load_items``), so 10,000 files are not asked twice."""
    rows: list = []
    prefix = len(str(root)) + 1
    try:
        st = os.stat(root / "publish.yml")
        rows.append(("publish.yml", st.st_mtime_ns, st.st_size))
    except FileNotFoundError:
        rows.append(("no settings",))
    stack = [str(root / content_dir)]
    while stack:
        folder = stack.pop()
        try:
            entries = os.scandir(folder)
        except OSError:
            continue
        for e in entries:
            name = e.name
            if name.startswith((".", "_")):
                continue
            try:
                if e.is_dir(follow_symlinks=False):  # as the loader: links to folders are not followed
                    stack.append(e.path)
                    continue
            except OSError:
                continue
            if name.endswith(ITEM_SUFFIXES):
                try:
                    st = e.stat()
                except OSError:
                    continue
                rows.append((e.path, st.st_mtime_ns, st.st_size))
                if stats is not None:
                    stats[e.path[prefix:].replace(os.sep, "/")] = stat_key(st)
    rows.sort()
    return hashlib.blake2b(repr(rows).encode(), digest_size=16).hexdigest()


def credentials_path(root: Path, ledger: str) -> Path:
    """The encrypted credentials kept beside the ledger (newsroom/credentials.py)."""
    return (root / ledger).parent / "credentials"


def secrets_present(names: list[str], env) -> dict[str, bool]:
    return {name: bool(env.get(name)) for name in names}


def read(root: Path) -> dict | None:
    try:
        data = json.loads((root / INDEX).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("version") == VERSION else None


def quiet(root: Path, now: datetime, env, signatures: dict | None = None, stats: dict | None = None) -> dict | None:
    """The cached quiet state when it still holds at ``now``; None: do the full run. The content
    signature it takes is left in ``signatures`` (content folder → signature), and the files' stat keys
    in ``stats`` (``content_signature``), for the run to reuse."""
    data = read(root)
    if data is None or not data.get("quiet_until"):
        return None
    if now >= datetime.fromisoformat(data["quiet_until"]):
        return None
    if secrets_present(data["secrets"], env) != data["secrets_present"]:
        return None
    # The files backend's ledger version, read without opening the store (publish.yml is not read here).
    if file_version(root / data["ledger"]) != data["ledger_ident"]:
        return None
    if file_version(credentials_path(root, data["ledger"])) != data.get("credentials_ident"):
        return None
    if data["code"] != code_signature():
        return None
    signature = content_signature(root, data["content_dir"], stats)
    if signatures is not None:
        signatures[data["content_dir"]] = signature
    if signature != data["content"]:
        return None
    if any(_stamp(path) != digest for path, digest in (data.get("derived") or {}).items()):
        return None  # a derived output (the blog's site) was removed or rebuilt since: check it again
    return data


def _stamp(path: str) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def write(root: Path, *, content_dir: str, content: str, ledger: str, ident: list | None, quiet_until: datetime | None,
          next_due: dict | None, notes: list[str], exit_code: int, secrets: list[str], env,
          derived: list[str] = ()) -> None:
    data = {"version": VERSION, "content_dir": content_dir, "content": content, "ledger": ledger,
            "ledger_ident": ident, "credentials_ident": file_version(credentials_path(root, ledger)),
            "quiet_until": quiet_until.isoformat() if quiet_until else None,
            "derived": {path: _stamp(path) for path in derived},
            "next": next_due, "notes": notes, "exit_code": exit_code, "secrets": secrets,
            "secrets_present": secrets_present(secrets, env), "code": code_signature()}
    target = root / INDEX
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, json.dumps(data, indent=1).encode("utf-8"))
    except OSError:
        pass  # without a cache the next run is only slower


def forget(root: Path) -> None:
    try:
        (root / INDEX).unlink()
    except FileNotFoundError:
        pass
