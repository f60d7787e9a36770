"""The state store: the ledger of what was claimed, delivered, failed or missed, and metric snapshots.

An interface (``StateStore``) with the ``files`` backend as the embedded default: append-only JSON
Lines under ``state/``, one event a line with sorted keys, appended under an exclusive lock
(``flock`` on ``state/.lock``) and fsynced, so two runs on one machine never interleave and a killed
run never leaves half a line that matters (a torn last line is skipped on read). ``state/.gitattributes``
marks the files ``merge=union`` so two branches' events merge without conflict; ``state/.gitignore``
keeps the lock files out of commits.

Event kinds (every ledger event names its ``entry``, ``at`` and usually ``revision`` and ``run``):

- ``claimed``: a run takes an entry before sending (``reconcile: true`` when it takes over a claim
  left by a run that died);
- ``delivered``: the receipt (remote id, url, at); ``reconciled: true`` when found after a crash;
- ``failed``: ``error``, ``retryable``, ``ambiguous`` (the request may have gone out), ``unresolved``
  (the platform cannot tell whether it went out: a person decides);
- ``missed`` / ``skipped``: ``reason``; ``released``: a claim given back without sending;
- ``progress``: one key of a delivery's journal (email batches, thread parts);
- ``alerted``: a ``problem`` announced on the alert channel (once per problem);
- ``changed``: an item noticed edited after it went out (``revision`` is the new one);
- ``forced``: a person allowed an entry past a failure or its window (``--force``);
- ``live``: a delivered blog entry's page answered at its public ``url`` (its dependents may go);
- ``held``: an entry not sent because what it waits for (``after:``) will not be delivered: ``reason``.

Beside the ledger, ``state/credentials`` holds the OAuth tokens a run may rotate, encrypted with the key
in ``NEWSROOM_KEY`` and changed under the same lock (``newsroom/credentials.py``).

The compact reader keeps the fold of every entry (``EntryState``) in a cache file keyed by the
ledger's identity and a hash of the bytes it covers; a later read folds only the new lines, and
anything that is not a pure append (a git merge, a checkout) folds the whole file again.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import marshal
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Protocol

if TYPE_CHECKING:
    from .credentials import Vault

LEDGER = "ledger.jsonl"
SNAPSHOTS = "snapshots.jsonl"
GITATTRIBUTES = "*.jsonl merge=union\n"
GITIGNORE = ".lock\n.runs/\n"
FOLD_VERSION = 5
TAIL = 4096


def entry_key(item_id: str, channel: str) -> str:
    """The ledger's key for an entry: the item's stable identity and the channel name, never a path."""
    return f"{item_id}/{channel}"


def dumps(event: dict) -> str:
    return json.dumps(event, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


@dataclass(slots=True)
class EntryState:
    """Everything the ledger knows about one entry, folded from its events in order."""

    key: str
    state: str = "pending"  # pending, claimed, delivered, failed, missed, skipped, held
    revision: str | None = None  # revision of the last claim, delivery, failure or miss
    delivered_revision: str | None = None
    receipt: dict | None = None
    error: str | None = None
    retryable: bool = False
    ambiguous: bool = False  # the last attempt may have gone out: reconcile before sending again
    unresolved: bool = False  # nobody can tell whether it went out: a person decides
    attempts: int = 0
    claimed_by: str | None = None
    claimed_at: str | None = None
    reconciled: bool = False
    channel: str | None = None
    item: str | None = None
    path: str | None = None
    journal: dict = field(default_factory=dict)
    journal_revision: str | None = None
    journal_closed: bool = False  # a delivery completed: the next revision's progress starts afresh
    alerted: set = field(default_factory=set)
    changed_revision: str | None = None  # newest revision noticed after delivery
    forced_revision: str | None = None
    last_at: str | None = None
    live_at: str | None = None  # when the page of a delivered blog entry was seen answering
    events: int = 0

    def apply(self, e: dict) -> None:
        kind = e.get("event")
        self.events += 1
        self.last_at = e.get("at", self.last_at)
        self.channel = e.get("channel", self.channel)
        self.item = e.get("item", self.item)
        self.path = e.get("path", self.path)
        revision = e.get("revision")
        if kind == "claimed":
            if self.state == "delivered":
                return  # a claim after a receipt (merged from another branch) changes nothing
            self.state, self.revision = "claimed", revision
            self.claimed_by, self.claimed_at = e.get("run"), e.get("at")
            self.attempts += 1
            self.forced_revision = None  # a person's release covers the next attempt, not every later one
        elif kind == "delivered":
            self.state, self.receipt, self.error = "delivered", e.get("receipt"), None
            self.revision = self.delivered_revision = revision
            self.ambiguous = self.unresolved = False
            self.reconciled = bool(e.get("reconciled"))
            self.journal_closed = True
        elif kind == "failed":
            if self.state == "delivered":
                return
            self.state, self.revision = "failed", revision or self.revision
            self.error, self.retryable = e.get("error"), bool(e.get("retryable"))
            self.ambiguous, self.unresolved = bool(e.get("ambiguous")), bool(e.get("unresolved"))
        elif kind in ("missed", "skipped", "held"):
            if self.state == "delivered":
                return
            self.state, self.revision = kind, revision or self.revision
            self.error = e.get("reason") or e.get("error")
        elif kind == "released":
            if self.state == "claimed":
                self.state = "failed" if self.error else "pending"
        elif kind == "progress":
            # Progress of an attempt that never completed carries over to the next revision: an edit
            # between a half-sent newsletter and its retry must not mail the first half again.
            if revision != self.journal_revision and self.journal_closed:
                self.journal, self.journal_closed = {}, False
            self.journal_revision = revision
            self.journal[e.get("name", "")] = e.get("value")
        elif kind == "alerted":
            self.alerted.add(e.get("problem"))
        elif kind == "changed":
            self.changed_revision = revision
        elif kind == "forced":
            self.forced_revision = revision
            self.unresolved = False
        elif kind == "live":
            self.live_at = e.get("at")

    # -- questions the publish run asks --------------------------------------------------------
    @property
    def open_claim(self) -> bool:
        """Claimed with no receipt and no outcome: a run is sending it, or died while it did."""
        return self.state == "claimed"

    def journal_for(self, revision: str) -> dict:
        """The progress a delivery of ``revision`` continues from: everything since the last
        completed delivery, whichever revision wrote it."""
        return dict(self.journal) if self.journal_revision == revision or not self.journal_closed else {}


class StateStore(Protocol):
    def append(self, events: Iterable[dict]) -> None: ...
    def events(self) -> Iterator[dict]: ...
    def entries(self) -> dict[str, EntryState]: ...
    def claim(self, key: str, event: dict, may_claim: Callable[[EntryState], bool]) -> bool: ...
    def run_lock(self, run: str): ...
    def run_alive(self, run: str | None) -> bool: ...
    def add_snapshots(self, rows: Iterable[dict]) -> None: ...
    def snapshots(self) -> Iterator[dict]: ...
    def credentials(self, env) -> Vault: ...


class FileStore:
    """The ``files`` backend. ``cache_dir`` (e.g. ``.cache/``) keeps the compact fold between runs."""

    def __init__(self, folder: Path, *, cache_dir: Path | None = None):
        self.folder = Path(folder)
        self.ledger_path = self.folder / LEDGER
        self.snapshots_path = self.folder / SNAPSHOTS
        self.cache_path = Path(cache_dir) / "ledger-fold.marshal" if cache_dir else None
        self._entries: dict[str, EntryState] = {}
        self._offset = 0  # bytes of the ledger already folded into _entries
        self._ident: tuple | None = None  # (inode, size, mtime) when the fold was last known current
        self._cache_loaded = False
        self._cache_dirty = False
        self._saved = False
        self._ino: int | None = None
        self._tail = ""  # digest of the last TAIL bytes folded
        self._hash, self._hash_offset = "", -1  # digest of every byte folded, and up to where it is valid

    # -- writing ------------------------------------------------------------------------------
    def _prepare(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        for name, text in ((".gitattributes", GITATTRIBUTES), (".gitignore", GITIGNORE)):
            path = self.folder / name
            if not path.exists():
                path.write_text(text, encoding="utf-8")

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
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            # A previous writer killed mid-line leaves no newline at the end: start on a fresh line.
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                data = b"\n" + data
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)

    def append(self, events: Iterable[dict]) -> None:
        lines = [dumps(e) for e in events]
        if not lines:
            return
        with self.locked():
            self._write(self.ledger_path, lines)

    def claim(self, key: str, event: dict, may_claim: Callable[[EntryState], bool]) -> bool:
        """Append ``event`` (a claim) only if ``may_claim(entry_state)`` holds on the freshest ledger.

        The check and the append happen under one lock, so of two runs racing for an entry only
        one claims it; the other sees the claim and moves on.
        """
        with self.locked():
            state = self.entries().get(key) or EntryState(key)
            if not may_claim(state):
                return False
            self._write(self.ledger_path, [dumps(event)])
            return True

    # -- runs in flight -----------------------------------------------------------------------
    @contextlib.contextmanager
    def run_lock(self, run: str):
        """Held for as long as a run lives: a claim whose run holds no lock was left by a run that died."""
        self._prepare()
        runs = self.folder / ".runs"
        runs.mkdir(exist_ok=True)
        path = runs / f"{run}.lock"
        with open(path, "a+") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                with contextlib.suppress(OSError):
                    path.unlink()
                fcntl.flock(f, fcntl.LOCK_UN)

    def run_alive(self, run: str | None) -> bool:
        """Whether the run that made a claim is still running on this machine (it holds its lock)."""
        if not run:
            return False
        path = self.folder / ".runs" / f"{run}.lock"
        try:
            f = open(path, "r")
        except OSError:
            return False  # no lock file: gone, or a run on another machine whose claim came by git
        with f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(f, fcntl.LOCK_UN)
            return False

    # -- reading ------------------------------------------------------------------------------
    @staticmethod
    def _read_lines(path: Path, offset: int = 0) -> tuple[list[dict], int, bytes]:
        try:
            with open(path, "rb") as f:
                f.seek(offset)
                data = f.read()
        except FileNotFoundError:
            return [], offset, b""
        end = data.rfind(b"\n") + 1  # an unterminated last line is a write in progress or torn
        raw = data[:end]
        lines = [line for line in raw.decode("utf-8", errors="replace").split("\n") if line.strip()]
        try:
            # One parse for the whole file is several times faster than one per line.
            out = json.loads("[" + ",".join(lines) + "]")
        except ValueError:
            out = []
            for line in lines:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    continue  # a torn line from a killed writer; the events around it stand
        return [e for e in out if isinstance(e, dict)], offset + end, raw

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

    def _load_cache(self) -> None:
        self._cache_loaded = True
        if self.cache_path is None:
            return
        try:
            cached = marshal.loads(self.cache_path.read_bytes())
            if cached.get("version") != FOLD_VERSION or cached.get("ledger") != str(self.ledger_path.resolve()):
                return
            if cached["fields"] != [f.name for f in fields(EntryState)]:
                return
            entries = {row[0]: EntryState(*row) for row in cached["rows"]}
        except Exception:  # a missing, torn or foreign cache is simply rebuilt
            return
        self._entries, self._offset = entries, cached["offset"]
        self._ident = tuple(cached["ident"]) if cached["ident"] else None
        self._ino, self._tail, self._hash = cached["ino"], cached["tail"], cached["hash"]
        self._hash_offset = self._offset

    def _prefix_hash(self, upto: int) -> str:
        h = hashlib.blake2b(digest_size=16)
        with open(self.ledger_path, "rb") as f:
            remaining = upto
            while remaining > 0:
                chunk = f.read(min(remaining, 1 << 20))
                if not chunk:
                    break
                h.update(chunk)
                remaining -= len(chunk)
        return h.hexdigest()

    def _tail_digest(self, upto: int) -> str:
        """A hash of the last 4 KiB before ``upto``: cheap proof that a file only grew past it."""
        start = max(0, upto - TAIL)
        with open(self.ledger_path, "rb") as f:
            f.seek(start)
            return hashlib.blake2b(f.read(upto - start), digest_size=16).hexdigest()

    def _still_prefix(self, ino: int, size: int) -> bool:
        """Whether the bytes folded so far are still the start of the ledger (it was only appended to)."""
        if size < self._offset:
            return False
        if ino == self._ino:  # the same file, grown: its last folded bytes are enough to tell
            return self._tail_digest(self._offset) == self._tail
        # Another file (a checkout, a merge, a cache restored in CI): the whole prefix must match.
        return self._hash_offset == self._offset and self._prefix_hash(self._offset) == self._hash

    def entries(self) -> dict[str, EntryState]:
        """Every entry's folded state; only new lines are read on later calls (and later runs)."""
        if not self._cache_loaded:
            self._load_cache()
        try:
            st = self.ledger_path.stat()
            ident = (st.st_ino, st.st_size, st.st_mtime_ns)
        except FileNotFoundError:
            ident = None
        if ident == self._ident:
            return self._entries
        ino, size = (ident[0], ident[1]) if ident else (None, 0)
        if self._offset and not self._still_prefix(ino, size):
            # Not a pure append (a git merge rewrote it, an older checkout): fold everything again.
            self._entries, self._offset, self._hash, self._hash_offset = {}, 0, "", -1
        if size > self._offset:
            new, end, raw = self._read_lines(self.ledger_path, self._offset)
            self._fold(new)
            if self._offset == 0:
                self._hash, self._hash_offset = hashlib.blake2b(raw, digest_size=16).hexdigest(), end
            self._offset = end
            self._tail = (hashlib.blake2b(raw[-TAIL:], digest_size=16).hexdigest() if len(raw) >= TAIL
                          else self._tail_digest(end))
            self._ino = ino
            self._cache_dirty = True
        self._ident = ident if ident and self._offset == size else None
        if self._cache_dirty and not self._saved:
            self.save()  # once per store: later appends of this run are saved by save() at its end
        return self._entries

    def save(self) -> None:
        """Write the fold to the cache (a run calls this once at its end)."""
        self._saved = True
        if self.cache_path is None or not self._cache_dirty:
            return
        self._cache_dirty = False
        try:
            if self._hash_offset != self._offset:
                self._hash, self._hash_offset = self._prefix_hash(self._offset), self._offset
            self.cache_path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.cache_path.with_name(f"{self.cache_path.name}.{os.getpid()}.tmp")
            names = [f.name for f in fields(EntryState)]
            rows = [tuple(getattr(st, n) for n in names) for st in self._entries.values()]
            # marshal: builtin types only, and far faster than pickle for many small records.
            tmp.write_bytes(marshal.dumps({"version": FOLD_VERSION, "ledger": str(self.ledger_path.resolve()),
                                           "fields": names, "rows": rows, "offset": self._offset,
                                           "ident": self._ident, "ino": self._ino, "tail": self._tail,
                                           "hash": self._hash}))
            os.replace(tmp, self.cache_path)  # atomic: a reader sees the old cache or the new one
        except (OSError, ValueError):
            pass  # a cache that cannot be written only costs time

    def add_snapshots(self, rows: Iterable[dict]) -> None:
        lines = [dumps(r) for r in rows]
        with self.locked():
            self._write(self.snapshots_path, lines)

    def snapshots(self) -> Iterator[dict]:
        return iter(self._read_lines(self.snapshots_path)[0])

    def credentials(self, env) -> Vault:
        """The encrypted credentials (``state/credentials``), changed under this store's lock."""
        from .credentials import open_vault

        return open_vault(self.folder, env, self.locked)


def open_store(root: Path, state_settings: dict, *, cache: bool = True) -> StateStore:
    backend = state_settings.get("backend", "files")
    if backend == "files":
        return FileStore(root / state_settings.get("path", "state"), cache_dir=(root / ".cache") if cache else None)
    raise NotImplementedError(f"state backend '{backend}' is not available in this version")
