"""Engagement storage on top of the state store's files: snapshots, replies, mentions, feed caches.

Everything is append-only JSON Lines under ``state/``, written through ``FileStore``'s lock and
atomic append, so the files merge with ``merge=union`` like the ledger and a killed writer leaves at
most one torn line that readers skip.

Snapshot rows (one per entry per fetch, keys sorted)::

    {"at": "2026-11-23T17:00:00Z", "channel": "mastodon", "entry": "launch/mastodon",
     "item": "launch", "metrics": {"likes": 3, "shares": 1}, "pull": "<run id>",
     "slot": "2026-11-23T16:30:00Z"}

``at`` is always UTC with a ``Z`` and whole seconds, so times compare as strings without parsing
(that keeps a 300,000-row report fast). ``slot`` is the start of the pull window slot the row
belongs to: a pull that was killed and runs again sees the slot filled and does not fetch again.
Rows are sharded by month of ``at`` (``state/snapshots/2026-11.jsonl``) so a report reads only the
months it needs; rows in the older single file ``state/snapshots.jsonl`` are read too.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator

from newsroom.state import FileStore, dumps

import msgspec  # a decoder about five times faster than json's for the report's 300,000 rows

SNAPSHOT_DIR = "snapshots"
REPLIES = "replies.jsonl"
MENTIONS = "mentions.jsonl"
FEEDS = "feeds.jsonl"
PULLS = "pulls.jsonl"


def stamp(when: datetime) -> str:
    """The stored form of a time: UTC, whole seconds, ``Z``."""
    if when.tzinfo is None:
        raise ValueError("naive datetime")
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_stamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def _month(at: str) -> str:
    return at[:7]


def _months_between(since: str | None, until: str | None, available: list[str]) -> list[str]:
    return [m for m in available if (since is None or m >= since[:7]) and (until is None or m <= until[:7])]


class Row:
    """A snapshot row read line by line, when a shard holds a torn or odd line (``FastRow`` otherwise)."""

    __slots__ = ("at", "entry", "metrics", "slot")

    def __init__(self, at: str, entry: str, metrics: dict, slot: str = ""):
        self.at, self.entry, self.metrics, self.slot = at, entry, metrics, slot


class FastRow(msgspec.Struct, gc=False):
    at: str
    entry: str
    metrics: dict[str, int] = {}
    slot: str = ""


class ReportRow(msgspec.Struct, gc=False):  # without the slot: a report reads 300,000 rows
    at: str
    entry: str
    metrics: dict[str, int] = {}


_DECODERS = {True: msgspec.json.Decoder(FastRow), False: msgspec.json.Decoder(ReportRow)}


def decode_rows(data: bytes, slots: bool = True) -> list:
    """Rows (with ``at``, ``entry``, ``metrics``, and ``slot`` if asked) from complete JSON lines;
    torn or odd lines skipped."""
    try:
        return _DECODERS[slots].decode_lines(data)
    except (msgspec.DecodeError, msgspec.ValidationError):
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


class EngagementStore:
    """Snapshots, replies, mentions and feed caches of one project's ``files`` state store."""

    def __init__(self, files: FileStore):
        self.files = files
        self.folder = files.folder
        self.snapshot_dir = self.folder / SNAPSHOT_DIR

    def _append(self, path: Path, rows: Iterable[dict]) -> int:
        lines = [dumps(r) for r in rows]
        if lines:
            with self.files.locked():
                path.parent.mkdir(parents=True, exist_ok=True)
                self.files._write(path, lines)
        return len(lines)

    def _rows(self, path: Path) -> list[dict]:
        return self.files._read_lines(path)[0]

    # -- snapshots ------------------------------------------------------------------------------
    def add_snapshots(self, rows: Iterable[dict]) -> int:
        by_month: dict[str, list[str]] = {}
        for r in rows:
            by_month.setdefault(_month(r["at"]), []).append(dumps(r))
        if not by_month:
            return 0
        with self.files.locked():
            self.snapshot_dir.mkdir(parents=True, exist_ok=True)
            for month, lines in sorted(by_month.items()):
                self.files._write(self.snapshot_dir / f"{month}.jsonl", lines)
        return sum(map(len, by_month.values()))

    def snapshot_files(self, since: str | None = None, until: str | None = None) -> list[Path]:
        """Shard files that may hold rows with ``since <= at < until`` (stamps), oldest first."""
        months = sorted(p.stem for p in self.snapshot_dir.glob("*.jsonl")) if self.snapshot_dir.is_dir() else []
        out = [self.snapshot_dir / f"{m}.jsonl" for m in _months_between(since, until, months)]
        if self.files.snapshots_path.exists():
            out.insert(0, self.files.snapshots_path)
        return out

    def snapshot_lines(self, since: str | None = None, until: str | None = None) -> Iterator[bytes]:
        """Raw complete lines of the shards in range (a torn last line is left out)."""
        for path in self.snapshot_files(since, until):
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                continue
            end = data.rfind(b"\n") + 1
            yield from data[:end].splitlines()

    def snapshot_batches(self, since: str | None = None, until: str | None = None, *,
                         slots: bool = True) -> Iterator[list]:
        """Per shard file, its rows as light objects (``at``, ``entry``, ``metrics``, ``slot``
        unless ``slots`` is false), unfiltered: the report reads 300,000 rows this way without
        building a dict per row."""
        for path in self.snapshot_files(since, until):
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                continue
            yield decode_rows(data[:data.rfind(b"\n") + 1], slots)

    def snapshots(self, since: str | None = None, until: str | None = None) -> Iterator[dict]:
        """Snapshot rows with ``since <= at < until`` (stamps; None: open)."""
        loads = json.loads
        for raw in self.snapshot_lines(since, until):
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
        """(entry, slot) pairs already stored: the pull's resumable record."""
        return {(r.entry, r.slot) for rows in self.snapshot_batches(since=since) for r in rows}

    # -- replies ------------------------------------------------------------------------------
    def replies(self) -> list[dict]:
        seen, out = set(), []
        for r in self._rows(self.folder / REPLIES):
            key = (r.get("channel"), r.get("remote_id"))
            if key not in seen:
                seen.add(key)
                out.append(r)
        return out

    def add_replies(self, rows: Iterable[dict]) -> int:
        """Append replies not stored yet (by channel and remote id); the number added."""
        path = self.folder / REPLIES
        with self.files.locked():
            seen = {(r.get("channel"), r.get("remote_id")) for r in self._rows(path)}
            fresh = []
            for r in rows:
                key = (r["channel"], r["remote_id"])
                if key not in seen:
                    seen.add(key)
                    fresh.append(dumps(r))
            self.files._write(path, fresh)
        return len(fresh)

    # -- mentions -----------------------------------------------------------------------------
    def mentions(self) -> list[dict]:
        """One row per (feed, id): first seen time kept, engagement numbers from the latest row."""
        folded: dict[tuple, dict] = {}
        for r in self._rows(self.folder / MENTIONS):
            key = (r.get("feed"), r.get("id"))
            if key in folded:
                first = folded[key]
                folded[key] = {**r, "fetched": first.get("fetched")}
            else:
                folded[key] = r
        return list(folded.values())

    def add_mentions(self, rows: Iterable[dict]) -> tuple[int, int]:
        """Append new mentions, and a new row when a known one's numbers changed: (added, updated)."""
        path = self.folder / MENTIONS
        added = updated = 0
        with self.files.locked():
            known = {(r.get("feed"), r.get("id")): r for r in self._rows(path)}
            links = {(r.get("feed"), r.get("link")) for r in known.values() if r.get("link")}
            fresh = []
            for r in rows:
                key = (r["feed"], r["id"])
                old = known.get(key)
                if old is None and (r["feed"], r.get("link")) in links and r.get("link"):
                    continue  # the same post under another id (a feed that changed its guids)
                if old is None:
                    added += 1
                elif all(old.get(k) == r.get(k) for k in ("views", "comments", "title")):
                    continue
                else:
                    updated += 1
                known[key] = r
                if r.get("link"):
                    links.add((r["feed"], r["link"]))
                fresh.append(dumps(r))
            self.files._write(path, fresh)
        return added, updated

    # -- feed caches (conditional GET) ----------------------------------------------------------
    def feed_cache(self) -> dict[str, dict]:
        out: dict[str, dict] = {}
        for r in self._rows(self.folder / FEEDS):
            out[r.get("feed")] = r
        return out

    def set_feed_cache(self, rows: Iterable[dict]) -> None:
        self._append(self.folder / FEEDS, rows)

    # -- pull runs ----------------------------------------------------------------------------
    def record_pull(self, event: dict) -> None:
        self._append(self.folder / PULLS, [event])

    def pulls(self) -> list[dict]:
        return self._rows(self.folder / PULLS)


def open_engagement(root: Path, state_settings: dict) -> EngagementStore:
    from newsroom.state import open_store

    store = open_store(root, state_settings)
    if not isinstance(store, FileStore):  # pragma: no cover - only files exists so far
        raise NotImplementedError("engagement data needs the files state backend")
    return EngagementStore(store)
