"""The no-op cache: when nothing can be due before a known time, a publish run need not load anything.

A full run ends by writing ``.cache/publish-index.json``: until when nothing needs doing
(``quiet_until``: the next entry's time, or no time at all when something is waiting for action),
the next entry due, and the notes and exit code of that quiet state. It is valid while everything
the answer was computed from is unchanged:

- every content file (path, mtime, size) and publish.yml;
- the ledger (inode, size, mtime): any run that appended anything invalidates it;
- ``state/credentials`` beside it (``publish auth`` connecting a channel activates it);
- which of the channels' secret variables are set (a newly set token activates a channel);
- the code of the pipeline itself (its modules' mtimes and sizes).

Anything else, or a time past ``quiet_until``, and the run loads the project as usual.
"""
from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime
from pathlib import Path

from newsroom import fingerprint
from newsroom.items import ITEM_SUFFIXES
from newsroom.state.files import file_version

VERSION = 1
INDEX = Path(".cache") / "publish-index.json"
PACKAGES = ("newsroom", "scheduler", "channels")


def code_signature() -> str:
    return fingerprint.code_signature(PACKAGES)


def content_signature(root: Path, content_dir: str) -> str:
    """A hash of every item file's path, mtime and size (the files ``load_items`` reads), and publish.yml."""
    rows: list = []
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
            if e.is_dir():
                stack.append(e.path)
            elif name.endswith(ITEM_SUFFIXES):
                try:
                    st = e.stat()
                except OSError:
                    continue
                rows.append((e.path, st.st_mtime_ns, st.st_size))
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


def quiet(root: Path, now: datetime, env) -> dict | None:
    """The cached quiet state when it still holds at ``now``; None: do the full run."""
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
    if content_signature(root, data["content_dir"]) != data["content"]:
        return None
    return data


def write(root: Path, *, content_dir: str, content: str, ledger: str, ident: list | None, quiet_until: datetime | None,
          next_due: dict | None, notes: list[str], exit_code: int, secrets: list[str], env) -> None:
    data = {"version": VERSION, "content_dir": content_dir, "content": content, "ledger": ledger,
            "ledger_ident": ident, "credentials_ident": file_version(credentials_path(root, ledger)),
            "quiet_until": quiet_until.isoformat() if quiet_until else None,
            "next": next_due, "notes": notes, "exit_code": exit_code, "secrets": secrets,
            "secrets_present": secrets_present(secrets, env), "code": code_signature()}
    target = root / INDEX
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
        os.replace(tmp, target)
    except OSError:
        pass  # without a cache the next run is only slower


def forget(root: Path) -> None:
    try:
        (root / INDEX).unlink()
    except FileNotFoundError:
        pass
