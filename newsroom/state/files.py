"""The ``files`` state backend (``FileStore``), the embedded default: append-only JSON
Lines under ``state/``, one event a line with sorted keys, appended under an exclusive lock
(``flock`` on ``state/.lock``) and fsynced, so two runs on one machine never interleave and a killed
run never leaves half a line that matters (a torn last line is skipped on read). ``state/.gitattributes``
marks the files ``merge=union`` so two branches' events merge without conflict; ``state/.gitignore``
keeps the lock files out of commits.

Beside the ledger (``state/``): metric snapshots sharded by month (``snapshots/2026-11.jsonl``; rows of the
older single ``snapshots.jsonl`` are read too), ``replies.jsonl``, ``mentions.jsonl``, ``feeds.jsonl``
(conditional-GET caches) and ``pulls.jsonl``; every stored time is a ``newsroom.times.stamp`` (UTC,
whole seconds, ``Z``) so times compare as strings. Snapshot rows (one per entry per fetch)::

    {"at": "2026-11-23T17:00:00Z", "channel": "mastodon", "entry": "launch/mastodon",
     "item": "launch", "metrics": {"likes": 3, "shares": 1}, "pull": "<run id>",
     "slot": "2026-11-23T16:30:00Z"}

``slot`` is the start of the pull window the row belongs to: a pull that was killed and runs again
sees the slot filled and does not fetch again.

``state/credentials`` holds the OAuth tokens a run may rotate, encrypted with the key
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
from dataclasses import fields
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator

from .fold import (EntryState, StateUnwritable, dumps, fold_mentions, fold_replies, fresh_mentions,
                   fresh_replies)
from .interchange import FileLines
from .periods import fold_period
from ..atomic import write_atomic

if TYPE_CHECKING:
    from newsroom.credentials import Vault

LEDGER = "ledger.jsonl"
SNAPSHOTS = "snapshots.jsonl"  # the older single file; new rows go to SNAPSHOT_DIR/<month>.jsonl
SNAPSHOT_DIR = "snapshots"
REPLIES = "replies.jsonl"
MENTIONS = "mentions.jsonl"
FEEDS = "feeds.jsonl"
PULLS = "pulls.jsonl"
GITATTRIBUTES = "*.jsonl merge=union\n"
GITIGNORE = ".lock\n.runs/\n"
FOLD_VERSION = 6
TAIL = 4096


class FileStore(FileLines):
    """The ``files`` backend. ``cache_dir`` (e.g. ``.cache/``) keeps the compact fold between runs."""

    backend = "files"
    FILES = {"replies": REPLIES, "mentions": MENTIONS, "feeds": FEEDS, "pulls": PULLS}

    def __init__(self, folder: Path, *, cache_dir: Path | None = None):
        self.folder = Path(folder)
        self.ledger_path = self.folder / LEDGER
        self.snapshots_path = self.folder / SNAPSHOTS
        self.snapshot_dir = self.folder / SNAPSHOT_DIR
        self.cache_path = Path(cache_dir) / "ledger-fold.marshal" if cache_dir else None
        self._entries: dict[str, EntryState] = {}
        self._offset = 0  # bytes of the ledger already folded into _entries
        self._ident: tuple | None = None  # (inode, size, mtime) when the fold was last known current
        self._cache_loaded = False
        self._cache_dirty = False
        self._saved = False
        self._ino: int | None = None
        self._tail = ""  # digest of the last TAIL bytes folded
        self._tail_bytes: bytes | None = b""  # those bytes, when this store knows them (None: not yet)
        self._hash, self._hash_offset = "", -1  # digest of every byte folded, and up to where it is valid
        self._hasher = None  # a running digest of the bytes folded, when this store saw all of them
        self._unsynced = False  # events appended without fsync (``durable=False``), not yet on disk
        self._prepared = False  # the folder and its git files were made (once per store: a claim each entry)
        self._lock_path = os.path.join(self.folder, ".lock")

    # -- writing ------------------------------------------------------------------------------
    def _prepare(self) -> None:
        path = self.folder
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            for name, text in ((".gitattributes", GITATTRIBUTES), (".gitignore", GITIGNORE)):
                path = self.folder / name
                if not path.exists():
                    write_atomic(path, text.encode("utf-8"))
        except OSError as exc:
            raise StateUnwritable(self.folder, exc) from None
        self._prepared = True

    @contextlib.contextmanager
    def locked(self):
        """An exclusive lock on the store across processes (flock on state/.lock)."""
        if not self._prepared:
            self._prepare()
        try:
            try:
                lock = os.open(self._lock_path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o666)
            except FileNotFoundError:  # the folder was removed since this store made it: made again
                self._prepare()
                lock = os.open(self._lock_path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o666)
        except OSError as exc:
            raise StateUnwritable(self.folder, exc) from None
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
        finally:
            os.close(lock)

    @staticmethod
    def _write(path: Path, lines: list[str]) -> None:
        if not lines:
            return
        data = ("\n".join(lines) + "\n").encode("utf-8")
        try:
            fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StateUnwritable(path.parent, exc) from None
        try:
            # A previous writer killed mid-line leaves no newline at the end: start on a fresh line.
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                data = b"\n" + data
            written = os.write(fd, data)
            if written != len(data):  # a full disk may take part of it: the torn line is skipped on read
                raise OSError(28, os.strerror(28))
            os.fsync(fd)
        except OSError as exc:
            raise StateUnwritable(path.parent, exc) from None
        finally:
            os.close(fd)

    def _write_ledger(self, lines: list[str], *, durable: bool = True) -> None:
        """Append to the ledger (the caller holds the lock). When this store's fold reached the end of
        the file before the write (nobody else appended since it last looked), the new lines are
        folded from memory: a run reads the ledger once, not its own events back after each write.

        ``durable=False`` leaves the fsync to the next durable append (a claim) or ``save()`` at the
        run's end: one fsync flushes every earlier write of the file. What needs no fsync of its own
        is an event after which nothing is sent until the next claim (a receipt, a failure). A killed
        process loses nothing written (the data is in the kernel's page cache); only a crash of the
        machine can lose such an event before the next fsync, and a lost receipt is what a claim
        without a receipt already covers: the next run reconciles before it sends again."""
        data = ("\n".join(lines) + "\n").encode("utf-8")
        try:
            fd = os.open(self.ledger_path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as exc:  # a read-only folder: one clear message, not a traceback
            raise StateUnwritable(self.folder, exc) from None
        try:
            self._append_to(fd, data, lines, durable)
        except OSError as exc:  # a full disk: the torn line it may leave is skipped on read
            raise StateUnwritable(self.folder, exc) from None
        finally:
            os.close(fd)

    def _append_to(self, fd: int, data: bytes, lines: list[str], durable: bool) -> None:
        st = os.fstat(fd)
        current = self._ident is not None and (st.st_ino, st.st_size, st.st_mtime_ns) == self._ident
        # A previous writer killed mid-line leaves no newline at the end: start on a fresh line.
        if st.st_size and os.pread(fd, 1, st.st_size - 1) != b"\n":
            data = b"\n" + data
            current = False
        if os.write(fd, data) != len(data):  # the disk took only part of it
            raise OSError(28, os.strerror(28))
        if durable:
            os.fsync(fd)
            self._unsynced = False
        else:
            self._unsynced = True
        if current:
            after = os.fstat(fd)
            self._fold(json.loads(line) for line in lines)
            self._offset = after.st_size
            self._ident = (after.st_ino, after.st_size, after.st_mtime_ns)
            self._tail_bytes = _tail_after(self._tail_bytes, data)
            if self._hasher is not None:
                self._hasher.update(data)
            self._cache_dirty = True

    def append(self, events: Iterable[dict], *, durable: bool = True) -> None:
        lines = [dumps(e) for e in events]
        if not lines:
            return
        with self.locked():
            self._write_ledger(lines, durable=durable)

    def sync(self) -> None:
        """Make every appended event durable (an fsync, when some were appended without one)."""
        if not self._unsynced:
            return
        with contextlib.suppress(OSError):
            fd = os.open(self.ledger_path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        self._unsynced = False

    def claim(self, key: str, event: dict, may_claim: Callable[[EntryState], bool], *,
              durable: bool = True) -> bool:
        """Append ``event`` (a claim) only if ``may_claim(entry_state)`` holds on the freshest ledger.

        The check and the append happen under one lock, so of two runs racing for an entry only
        one claims it; the other sees the claim and moves on. ``durable=False`` (a claim that guards
        nothing sent): fsynced with the next durable append or ``save()``, as ``append`` does.
        """
        with self.locked():
            state = self.entries().get(key) or EntryState(key)
            if not may_claim(state):
                return False
            self._write_ledger([dumps(event)], durable=durable)  # durable before anything is sent
            return True

    # -- runs in flight -----------------------------------------------------------------------
    @contextlib.contextmanager
    def run_lock(self, run: str):
        """Held for as long as a run lives: a claim whose run holds no lock was left by a run that died."""
        self._prepare()
        runs = self.folder / ".runs"
        path = runs / f"{run}.lock"
        try:
            runs.mkdir(exist_ok=True)
            f = open(path, "a+")
        except OSError as exc:
            raise StateUnwritable(self.folder, exc) from None
        # ``forget_run`` may remove an unlocked file between our open and our lock: lock the file the
        # path names, or open it again.
        while True:
            fcntl.flock(f, fcntl.LOCK_EX)
            if _same_file(path, f):
                break
            f.close()
            try:
                f = open(path, "a+")
            except OSError as exc:
                raise StateUnwritable(self.folder, exc) from None
        with f:
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

    def ended_runs(self) -> list[str]:
        """The lock files under ``.runs/`` no run holds (a killed run cannot remove its own)."""
        try:
            names = sorted(p.name[:-len(".lock")] for p in (self.folder / ".runs").iterdir() if p.suffix == ".lock")
        except (FileNotFoundError, NotADirectoryError):
            return []
        return [run for run in names if not self.run_alive(run)]

    def forget_run(self, run: str) -> bool:
        """Remove ``.runs/<run>.lock`` while holding its lock, so no run holds it meanwhile."""
        path = self.folder / ".runs" / f"{run}.lock"
        try:
            f = open(path, "r")
        except OSError:
            return False
        with f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False  # its run holds it: alive
            try:
                if not _same_file(path, f):
                    return False
                path.unlink()
                return True
            except OSError:
                return False
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

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
        self._hash_offset = cached["hash_offset"]
        self._tail_bytes = None  # only its digest is in the cache

    def _prefix_hash(self, upto: int):
        """A running digest of the ledger's first ``upto`` bytes (its last TAIL bytes kept too)."""
        h = hashlib.blake2b(digest_size=16)
        last = b""
        with open(self.ledger_path, "rb") as f:
            remaining = upto
            while remaining > 0:
                chunk = f.read(min(remaining, 1 << 20))
                if not chunk:
                    break
                h.update(chunk)
                last = (last + chunk)[-TAIL:]
                remaining -= len(chunk)
        self._tail_bytes = last
        return h

    def _tail_digest(self, upto: int) -> str:
        """A hash of the last 4 KiB before ``upto``: cheap proof that a file only grew past it."""
        start = max(0, upto - TAIL)
        with open(self.ledger_path, "rb") as f:
            f.seek(start)
            self._tail_bytes = f.read(upto - start)
        return hashlib.blake2b(self._tail_bytes, digest_size=16).hexdigest()

    def _still_prefix(self, ino: int, size: int) -> bool:
        """Whether the bytes folded so far are still the start of the ledger (it was only appended to)."""
        if size < self._offset:
            return False
        if ino == self._ino:  # the same file, grown: its last folded bytes are enough to tell
            expected = self._tail if self._tail_bytes is None else hashlib.blake2b(
                self._tail_bytes, digest_size=16).hexdigest()
            return self._tail_digest(self._offset) == expected
        # Another file (a checkout, a merge, a cache restored in CI): the whole prefix must match.
        if self._hash_offset != self._offset:
            return False
        hasher = self._prefix_hash(self._offset)
        if hasher.hexdigest() != self._hash:
            return False
        self._hasher = hasher  # kept up from here, so save() need not read the ledger again
        return True

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
            start = self._offset
            new, end, raw = self._read_lines(self.ledger_path, start)
            self._fold(new)
            if start == 0:
                self._hasher = hashlib.blake2b(raw, digest_size=16)
            elif self._hasher is not None:
                self._hasher.update(raw)
            self._offset = end
            self._tail_bytes = raw[-TAIL:] if start == 0 else _tail_after(self._tail_bytes, raw)
            self._ino = ino
            self._cache_dirty = True
        self._ident = ident if ident and self._offset == size else None
        if self._cache_dirty and not self._saved:
            self.save()  # once per store: later appends of this run are saved by save() at its end
        return self._entries

    def save(self) -> None:
        """Make the run's appends durable and write the fold to the cache (a run calls this once at
        its end). The digest of the whole ledger is kept up as it is read and appended to; when this
        store did not see every byte (it started from the cache on the same file), the older digest
        stays with its offset, and a later reader on another file folds the ledger afresh."""
        self.sync()
        self._saved = True
        if self.cache_path is None or not self._cache_dirty:
            return
        self._cache_dirty = False
        try:
            if self._hasher is not None:
                self._hash, self._hash_offset = self._hasher.hexdigest(), self._offset
            self._tail = (self._tail_digest(self._offset) if self._tail_bytes is None
                          else hashlib.blake2b(self._tail_bytes, digest_size=16).hexdigest())
            self.cache_path.parent.mkdir(parents=True, exist_ok=True)
            names = [f.name for f in fields(EntryState)]
            rows = [tuple(getattr(st, n) for n in names) for st in self._entries.values()]
            # marshal: builtin types only, and far faster than pickle for many small records.
            write_atomic(self.cache_path, marshal.dumps({"version": FOLD_VERSION, "ledger": str(self.ledger_path.resolve()),
                                           "fields": names, "rows": rows, "offset": self._offset,
                                           "ident": self._ident, "ino": self._ino, "tail": self._tail,
                                           "hash": self._hash, "hash_offset": self._hash_offset}))
        except (OSError, ValueError):
            pass  # a cache that cannot be written only costs time

    def ledger_version(self) -> list | None:
        """The ledger file's (inode, size, mtime): any append changes it."""
        return file_version(self.ledger_path)

    # -- what pulls found ---------------------------------------------------------------------
    def _append_rows(self, path: Path, rows: Iterable[dict]) -> int:
        lines = [dumps(r) for r in rows]
        if lines:
            with self.locked():
                self._write(path, lines)
        return len(lines)

    def _rows(self, path: Path) -> list[dict]:
        return self._read_lines(path)[0]

    def add_snapshots(self, rows: Iterable[dict]) -> int:
        by_month: dict[str, list[str]] = {}
        for r in rows:
            by_month.setdefault(r["at"][:7], []).append(dumps(r))
        if not by_month:
            return 0
        with self.locked():
            self.snapshot_dir.mkdir(parents=True, exist_ok=True)
            for month, lines in sorted(by_month.items()):
                self._write(self.snapshot_dir / f"{month}.jsonl", lines)
        return sum(map(len, by_month.values()))

    def snapshot_files(self, since: str | None = None, until: str | None = None) -> list[Path]:
        """Shard files that may hold rows with ``since <= at < until`` (stamps), oldest first."""
        months = sorted(p.stem for p in self.snapshot_dir.glob("*.jsonl")) if self.snapshot_dir.is_dir() else []
        out = [self.snapshot_dir / f"{m}.jsonl" for m in months
               if (since is None or m >= since[:7]) and (until is None or m <= until[:7])]
        if self.snapshots_path.exists():
            out.insert(0, self.snapshots_path)
        return out

    def _snapshot_data(self, since: str | None, until: str | None) -> Iterator[bytes]:
        """Per shard in range, its complete lines (a torn last line is left out)."""
        for path in self.snapshot_files(since, until):
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                continue
            yield data[:data.rfind(b"\n") + 1]

    def snapshot_batches(self, since: str | None = None, until: str | None = None, *,
                         slots: bool = True) -> Iterator[list]:
        for data in self._snapshot_data(since, until):
            yield decode_rows(data, slots)

    def period_metrics(self, since: str, until: str, prev_since: str, bounds: list[str]) -> tuple[dict, dict]:
        """Folded in Python while the month shards are read (``periods.fold_period``)."""
        return fold_period(self.snapshot_batches(prev_since, until, slots=False), since, until, prev_since, bounds)

    def snapshots(self, since: str | None = None, until: str | None = None) -> Iterator[dict]:
        loads = json.loads
        for data in self._snapshot_data(since, until):
            for raw in data.splitlines():
                if not raw.strip():
                    continue
                try:
                    row = loads(raw)
                except ValueError:
                    continue  # torn by a killed writer
                at = row.get("at") or ""
                if (since is None or at >= since) and (until is None or at < until):
                    yield row

    def filled_slots(self, since: str | None = None) -> set[tuple[str, str]]:
        return {(r.entry, r.slot) for rows in self.snapshot_batches(since=since) for r in rows}

    def replies(self) -> list[dict]:
        return fold_replies(self._rows(self.folder / REPLIES))

    def add_replies(self, rows: Iterable[dict]) -> int:
        path = self.folder / REPLIES
        with self.locked():
            fresh = fresh_replies(self._rows(path), rows)
            self._write(path, [dumps(r) for r in fresh])
        return len(fresh)

    def mentions(self) -> list[dict]:
        return fold_mentions(self._rows(self.folder / MENTIONS))

    def add_mentions(self, rows: Iterable[dict]) -> tuple[int, int]:
        path = self.folder / MENTIONS
        with self.locked():
            fresh, added, updated = fresh_mentions(self._rows(path), rows)
            self._write(path, [dumps(r) for r in fresh])
        return added, updated

    def feed_cache(self) -> dict[str, dict]:
        return {r.get("feed"): r for r in self._rows(self.folder / FEEDS)}

    def set_feed_cache(self, rows: Iterable[dict]) -> None:
        self._append_rows(self.folder / FEEDS, rows)

    def record_pull(self, event: dict) -> None:
        self._append_rows(self.folder / PULLS, [event])

    def pulls(self) -> list[dict]:
        return self._rows(self.folder / PULLS)

    def credentials(self, env) -> Vault:
        """The encrypted credentials (``state/credentials``), changed under this store's lock."""
        from newsroom.credentials import open_vault

        return open_vault(self.folder, env, self.locked)


def _tail_after(tail: bytes | None, data: bytes) -> bytes | None:
    """The last TAIL bytes once ``data`` follows ``tail`` (None: not known)."""
    if len(data) >= TAIL:
        return data[-TAIL:]
    return None if tail is None else (tail + data)[-TAIL:]


def _same_file(path: Path, f) -> bool:
    """Whether ``path`` still names the open file ``f`` (it was not removed or replaced meanwhile)."""
    try:
        return os.stat(path).st_ino == os.fstat(f.fileno()).st_ino
    except OSError:
        return False


def file_version(path: Path) -> list | None:
    """A file's (inode, size, mtime in ns), None when it does not exist."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return [st.st_ino, st.st_size, st.st_mtime_ns]


class Row:
    """A snapshot row read line by line, when a shard holds a torn or odd line (``msgspec`` decodes
    the rest into lighter structs)."""

    __slots__ = ("at", "entry", "metrics", "slot")

    def __init__(self, at: str, entry: str, metrics: dict, slot: str = ""):
        self.at, self.entry, self.metrics, self.slot = at, entry, metrics, slot


@lru_cache(maxsize=None)
def _decoders():
    """msgspec's decoders, about five times faster than json's for the report's 300,000 rows
    (built on first use: a run that reads no snapshot never imports msgspec)."""
    import msgspec

    class FastRow(msgspec.Struct, gc=False):
        at: str
        entry: str
        metrics: dict[str, int] = {}
        slot: str = ""

    class ReportRow(msgspec.Struct, gc=False):  # without the slot: a report reads 300,000 rows
        at: str
        entry: str
        metrics: dict[str, int] = {}

    return ({True: msgspec.json.Decoder(FastRow), False: msgspec.json.Decoder(ReportRow)},
            (msgspec.DecodeError, msgspec.ValidationError))


def decode_rows(data: bytes, slots: bool = True) -> list:
    """Rows (with ``at``, ``entry``, ``metrics``, and ``slot`` if asked) from complete JSON lines;
    torn or odd lines skipped."""
    decoders, errors = _decoders()
    try:
        return decoders[slots].decode_lines(data)
    except errors:
        pass  # a torn line or an unexpected value somewhere: go line by line
    out = []
    for raw in data.splitlines():
        try:
            d = json.loads(raw)
            out.append(Row(str(d["at"]), str(d["entry"]),
                           {k: v for k, v in (d.get("metrics") or {}).items() if isinstance(v, int)},
                           str(d.get("slot") or "")))
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
    return out



