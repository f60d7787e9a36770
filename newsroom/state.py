"""The state store: the ledger of what was claimed, delivered, failed or missed, and metric snapshots.

An interface (``StateStore``) with the ``files`` backend as the embedded default: append-only JSON
Lines under ``state/``, one event a line with sorted keys, appended under an exclusive lock and
fsynced, so two runs on one machine never interleave and a killed run never leaves half a line
that matters (a torn last line is skipped on read). ``state/.gitattributes`` marks the files
``merge=union`` so two branches' events merge without conflict.

Event kinds: ``claimed``, ``delivered`` (receipt: remote id, url, at), ``failed`` (error,
retryable), ``missed``, ``skipped``, ``progress`` (a delivery's journal), ``alerted``.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Protocol

LEDGER = "ledger.jsonl"
SNAPSHOTS = "snapshots.jsonl"
GITATTRIBUTES = "*.jsonl merge=union\n"


def entry_key(item_id: str, channel: str) -> str:
    """The ledger's key for an entry: the item's stable identity and the channel name, never a path."""
    return f"{item_id}/{channel}"


def dumps(event: dict) -> str:
    return json.dumps(event, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


@dataclass
class EntryState:
    """Everything the ledger knows about one entry, folded from its events in order."""

    key: str
    state: str = "pending"  # claimed, delivered, failed, missed, skipped
    revision: str | None = None  # revision of the last claim or delivery
    delivered_revision: str | None = None
    receipt: dict | None = None
    error: str | None = None
    retryable: bool = False
    attempts: int = 0
    claimed_by: str | None = None
    claimed_at: str | None = None
    journal: dict = field(default_factory=dict)
    last_at: str | None = None
    events: int = 0

    def apply(self, e: dict) -> None:
        kind = e.get("event")
        self.events += 1
        self.last_at = e.get("at", self.last_at)
        if kind == "claimed":
            self.state, self.revision = "claimed", e.get("revision")
            self.claimed_by, self.claimed_at = e.get("run"), e.get("at")
            self.attempts += 1
        elif kind == "delivered":
            self.state, self.receipt, self.error = "delivered", e.get("receipt"), None
            self.revision = self.delivered_revision = e.get("revision")
        elif kind == "failed":
            if self.state != "delivered":
                self.state = "failed"
            self.error, self.retryable = e.get("error"), bool(e.get("retryable"))
        elif kind in ("missed", "skipped"):
            if self.state != "delivered":
                self.state = kind
            self.error = e.get("reason") or e.get("error")
        elif kind == "progress":
            self.journal[e.get("name", "")] = e.get("value")
        elif kind == "released":  # a claim given back without sending (dry run of a person, reconcile=no)
            if self.state == "claimed":
                self.state = "pending"


class StateStore(Protocol):
    def append(self, events: Iterable[dict]) -> None: ...
    def events(self) -> Iterator[dict]: ...
    def entries(self) -> dict[str, EntryState]: ...
    def claim(self, key: str, event: dict, may_claim) -> bool: ...
    def add_snapshots(self, rows: Iterable[dict]) -> None: ...
    def snapshots(self) -> Iterator[dict]: ...


class FileStore:
    """The ``files`` backend."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.ledger_path = self.folder / LEDGER
        self.snapshots_path = self.folder / SNAPSHOTS
        self._entries: dict[str, EntryState] = {}
        self._offset = 0  # bytes of the ledger already folded into _entries

    # -- writing ------------------------------------------------------------------------------
    def _prepare(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        attrs = self.folder / ".gitattributes"
        if not attrs.exists():
            attrs.write_text(GITATTRIBUTES, encoding="utf-8")

    @contextlib.contextmanager
    def locked(self):
        """An exclusive lock on the store across processes (flock on state/.lock)."""
        self._prepare()
        with open(self.folder / ".lock", "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    @staticmethod
    def _write(path: Path, lines: list[str]) -> None:
        if not lines:
            return
        data = ("\n".join(lines) + "\n").encode("utf-8")
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            # A previous writer killed mid-line leaves no newline at the end: start on a fresh line.
            if os.fstat(fd).st_size:
                with open(path, "rb") as f:
                    f.seek(-1, os.SEEK_END)
                    if f.read(1) != b"\n":
                        data = b"\n" + data
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)

    def append(self, events: Iterable[dict]) -> None:
        lines = [dumps(e) for e in events]
        with self.locked():
            self._write(self.ledger_path, lines)

    def claim(self, key: str, event: dict, may_claim) -> bool:
        """Append ``event`` (a claim) only if ``may_claim(entry_state)`` holds on the freshest ledger.

        The check and the append happen under one lock, so of two runs racing for an entry only
        one claims it; the other sees the claim and moves on.
        """
        with self.locked():
            state = self.entries().get(key) or EntryState(key)
            if not may_claim(state):
                return False
            self._write(self.ledger_path, [dumps(event)])
            self._fold([event])
            self._offset = self.ledger_path.stat().st_size
            return True

    # -- reading ------------------------------------------------------------------------------
    def _read_lines(self, path: Path, offset: int = 0) -> tuple[list[dict], int]:
        try:
            with open(path, "rb") as f:
                f.seek(offset)
                data = f.read()
        except FileNotFoundError:
            return [], offset
        end = data.rfind(b"\n") + 1  # an unterminated last line is a write in progress or torn
        out = []
        loads = json.loads
        for raw in data[:end].splitlines():
            if raw.strip():
                try:
                    out.append(loads(raw))
                except ValueError:
                    continue  # a torn line from a killed writer; the events around it stand
        return out, offset + end

    def events(self) -> Iterator[dict]:
        return iter(self._read_lines(self.ledger_path)[0])

    def _fold(self, events: Iterable[dict]) -> None:
        entries = self._entries
        for e in events:
            key = e.get("entry")
            if not key:
                continue
            st = entries.get(key)
            if st is None:
                st = entries[key] = EntryState(key)
            st.apply(e)

    def entries(self) -> dict[str, EntryState]:
        """Every entry's folded state; only new lines are read on later calls."""
        try:
            size = self.ledger_path.stat().st_size
        except FileNotFoundError:
            size = 0
        if size < self._offset:  # replaced (a git checkout): read again from the start
            self._entries, self._offset = {}, 0
        if size > self._offset:
            new, self._offset = self._read_lines(self.ledger_path, self._offset)
            self._fold(new)
        return self._entries

    def add_snapshots(self, rows: Iterable[dict]) -> None:
        lines = [dumps(r) for r in rows]
        with self.locked():
            self._write(self.snapshots_path, lines)

    def snapshots(self) -> Iterator[dict]:
        return iter(self._read_lines(self.snapshots_path)[0])


def open_store(root: Path, state_settings: dict) -> StateStore:
    backend = state_settings.get("backend", "files")
    if backend == "files":
        return FileStore(root / state_settings.get("path", "state"))
    raise NotImplementedError(f"state backend '{backend}' is not available in this version")
