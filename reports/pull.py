"""``publish.py pull``: engagement numbers and replies of delivered entries, and mentions from feeds.

Each delivered entry is pulled once per slot of its pull window (by default hourly for the first
day after delivery, daily to 30 days, weekly to 90). A slot is recorded in the snapshot rows
themselves, written as soon as each batch comes back: a pull killed halfway and started again finds
the slots it already filled and fetches only the rest, so nothing is counted twice.

Channels are pulled at the same time (one thread each, ``pull.workers`` at most); inside a channel
the calls are sequential, in the adapter's batch size (``METRICS_BATCH``), with the pause the
settings ask for and the wait a platform names when it answers 429.
"""
from __future__ import annotations

import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable, Mapping

from channels import registry
from channels.base import METRICS, Channel, Failure, Receipt, Reply
from newsroom.state import StateStore
from newsroom.times import stamp

from .settings import pull_settings

MAX_ATTEMPTS = 3
MAX_WAIT = 120.0  # seconds: a platform asking for longer is left for the next pull


@dataclass(frozen=True)
class Delivered:
    """A delivered entry with its receipt, as the ledger has it."""

    key: str
    item_id: str
    channel: str
    receipt: Receipt

    @property
    def at(self) -> datetime:
        return self.receipt.at


@dataclass
class PullResult:
    due: int = 0
    snapshots: int = 0
    replies: int = 0
    mentions: int = 0
    mentions_updated: int = 0
    notes: list[str] = field(default_factory=list)  # skipped channels, omitted posts
    failures: list[str] = field(default_factory=list)  # calls that did not succeed

    def as_dict(self) -> dict:
        return dict(self.__dict__)

    def lines(self) -> list[str]:
        """What the pull says: its notes, its failures, and what it stored."""
        return ([f"note: {note}" for note in self.notes] + [f"failed: {failure}" for failure in self.failures]
                + [f"pulled {self.due} entr{'y' if self.due == 1 else 'ies'}: {self.snapshots} snapshots, "
                   f"{self.replies} new replies, {self.mentions} new mentions"])


def receipt_from(d: dict) -> Receipt | None:
    try:
        at = datetime.fromisoformat(str(d["at"]).replace("Z", "+00:00"))
        return Receipt(str(d["remote_id"]), d.get("url"), at, tuple(d.get("parts") or ()), dict(d.get("data") or {}))
    except (KeyError, TypeError, ValueError):
        return None


def delivered_entries(store: StateStore) -> list[Delivered]:
    out = []
    for key, st in store.entries().items():
        if st.state != "delivered" or not st.receipt or "/" not in key:
            continue
        receipt = receipt_from(st.receipt)
        if receipt is None or receipt.at.tzinfo is None:
            continue
        # an evergreen share (``<item>/<channel>~<n>``) names its channel in the ledger like any entry
        item_id, channel = (st.item, st.channel) if st.item and st.channel else key.rsplit("/", 1)
        out.append(Delivered(key, item_id, channel, receipt))
    return out


def slot_of(delivered_at: datetime, now: datetime, windows) -> datetime | None:
    """Start of the pull slot ``now`` falls in for an entry delivered at ``delivered_at``; None when
    the entry is older than the last window (or not out yet)."""
    age = now - delivered_at
    if age < timedelta(0):
        return None
    start = timedelta(0)
    for until, every in windows:
        if age < until:
            k = (age - start) // every
            return delivered_at + start + k * every
        start = until
    return None


def slot_stamps(entries: list[Delivered], now: datetime, windows) -> list[str | None]:
    """Each entry's slot (``slot_of``) as a stamp, in the entries' order: worked out once a pull, for
    the platforms' metrics and the analytics alike."""
    out = []
    for e in entries:
        slot = slot_of(e.at, now, windows)
        out.append(stamp(slot) if slot is not None else None)
    return out


def due_entries(entries: list[Delivered], now: datetime, windows, filled: set,
                slots: list[str | None] | None = None) -> list[tuple[Delivered, str]]:
    """The entries whose slot now is not filled yet, with it (``slots``: ``slot_stamps``, when known)."""
    if slots is None:
        slots = slot_stamps(entries, now, windows)
    return [(e, s) for e, s in zip(entries, slots) if s is not None and (e.key, s) not in filled]


def _chunks(seq: list, size: int) -> list[list]:
    size = size if size and size > 0 else max(1, len(seq))
    return [seq[i:i + size] for i in range(0, len(seq), size)]


class _ChannelPull:
    """One channel's share of a pull, run in its own thread."""

    def __init__(self, adapter: Channel, work: list[tuple[Delivered, str]], store: StateStore, *,
                 run: str, now: datetime, clock: Callable[[], datetime], replies: bool, pause: float,
                 sleep: Callable[[float], None], progress: Callable[[int], None], result: PullResult,
                 lock: threading.Lock):
        self.adapter, self.work, self.store = adapter, work, store
        self.run, self.now, self.clock, self.replies, self.pause = run, now, clock, replies, pause
        self.sleep, self.progress, self.result, self.lock = sleep, progress, result, lock
        self._calls = 0

    def _call(self, what: str, fn, arg):
        """``fn(arg)`` with retries for failures a platform marks retryable; None when it gave up."""
        name = self.adapter.name
        for attempt in range(1, MAX_ATTEMPTS + 1):
            if self._calls and self.pause:
                self.sleep(self.pause)
            self._calls += 1
            try:
                out = fn(arg)
            except Exception as exc:  # an adapter's bug must not stop the other channels
                self._fail(f"{name}: {what} failed: {type(exc).__name__}: {exc}")
                return None
            if not isinstance(out, Failure):
                return out
            wait = out.retry_after if out.retry_after is not None else min(30.0, random.uniform(0, 2 ** attempt))
            if not out.retryable or attempt == MAX_ATTEMPTS or wait > MAX_WAIT:
                self._fail(f"{name}: {what} failed: {out.message}")
                return None
            self.sleep(wait)
        return None  # pragma: no cover

    def _fail(self, message: str) -> None:
        with self.lock:
            self.result.failures.append(message)

    def __call__(self) -> None:
        a = self.adapter
        for batch in _chunks(self.work, a.METRICS_BATCH):
            receipts = [d.receipt for d, _ in batch]
            if a.METRICS_BATCH:
                metrics = self._call("metrics", a.fetch_metrics, receipts)
                if metrics is not None:
                    self._store_metrics(batch, metrics)
            if self.replies:
                got = self._call("replies", a.fetch_replies, receipts)
                if got:
                    self._store_replies(batch, got)
            self.progress(len(batch))

    def _store_metrics(self, batch, metrics: Mapping[str, Mapping[str, int]]) -> None:
        at = stamp(self.clock())
        rows, omitted = [], 0
        for d, slot in batch:
            values = metrics.get(d.receipt.remote_id)
            if values is None:
                omitted += 1  # deleted or hidden on the platform: nothing to record, tried again next slot
                continue
            clean = {}
            for k, v in values.items():
                # ``sent@smb``: a figure of one segment's campaign of a newsletter (``reports/owned.py``)
                if (k in METRICS or k.partition("@")[0] in METRICS) and v is not None:
                    try:
                        clean[k] = int(v)
                    except (TypeError, ValueError):
                        continue
            rows.append({"at": at, "entry": d.key, "item": d.item_id, "channel": d.channel, "metrics": clean,
                         "pull": self.run, "slot": slot})
        n = self.store.add_snapshots(rows)
        with self.lock:
            self.result.snapshots += n
            if omitted:
                self.result.notes.append(f"{self.adapter.name}: {omitted} post{'s' * (omitted != 1)} not returned "
                                         "by the platform (deleted or hidden?)")

    def _store_replies(self, batch, replies: list[Reply]) -> None:
        by_id = {}
        for d, _ in batch:
            by_id[d.receipt.remote_id] = d.key
            for part in d.receipt.parts:
                if isinstance(part, dict) and part.get("id"):
                    by_id[str(part["id"])] = d.key
        fetched = stamp(self.clock())
        rows = [{"channel": self.adapter.name, "remote_id": str(r.remote_id),
                 "in_reply_to": str(r.in_reply_to), "author": r.author, "text": r.text, "url": r.url,
                 "at": stamp(r.at), "ours": bool(r.ours), "entry": by_id.get(str(r.in_reply_to)),
                 "fetched": fetched} for r in replies]
        n = self.store.add_replies(rows)
        with self.lock:
            self.result.replies += n


def pull(project, store: StateStore, *, env: Mapping[str, str], now: datetime,
         clock: Callable[[], datetime] | None = None, base_urls: Mapping[str, str] | None = None,
         only: tuple[str, ...] = (), feeds: bool = True, progress: Callable[[int, int], None] | None = None,
         sleep: Callable[[float], None] = time.sleep, session=None) -> PullResult:
    """Pull every due entry of every channel (or those in ``only``), then the listening feeds."""
    settings = pull_settings(project.settings.raw)
    clock = clock or (lambda: now)
    result = PullResult()
    run = uuid.uuid4().hex[:12]
    entries = delivered_entries(store)
    longest = max(u for u, _ in settings.windows)
    filled = store.filled_slots(since=stamp(now - longest - max(e for _, e in settings.windows)))
    slots = slot_stamps(entries, now, settings.windows)
    due = due_entries(entries, now, settings.windows, filled, slots)
    by_channel: dict[str, list] = {}
    for d, slot in due:
        by_channel.setdefault(d.channel, []).append((d, slot))
    lock = threading.Lock()
    jobs = []
    vault = registry.credential_vault(project, env)  # tokens from `publish auth`, renewed as the run does
    for name in sorted(by_channel):
        if only and name not in only:
            continue
        config = project.settings.channels.get(name)
        if config is None or config.type not in registry.TYPES:
            result.notes.append(f"{name}: skipped, no such channel in publish.yml any more")
            continue
        adapter = registry.build(config, env, base_url=(base_urls or {}).get(name))
        adapter.use_credentials(vault, lambda: datetime.now(timezone.utc))  # token expiry is real time
        work = by_channel[name]
        if not adapter.METRICS_BATCH and type(adapter).fetch_replies is Channel.fetch_replies:
            continue  # the platform gives nothing back (a webhook, the blog)
        missing = adapter.missing_secrets()
        if missing:
            result.notes.append(f"{name}: skipped, {', '.join(missing)} not set")
            continue
        problem = adapter.credential_problem()
        if problem:
            result.notes.append(f"{name}: skipped, {problem}")
            continue
        pause = settings.pause.get(name)
        jobs.append(_ChannelPull(adapter, work, store, run=run, now=now, clock=clock, replies=settings.replies,
                                 pause=pause.total_seconds() if pause else 0.0, sleep=sleep,
                                 progress=lambda n: None, result=result, lock=lock))
    result.due = sum(len(j.work) for j in jobs)
    done = [0]

    def step(n: int) -> None:
        with lock:
            done[0] += n
            if progress:
                progress(done[0], result.due)

    for j in jobs:
        j.progress = step
    store.record_pull({"event": "started", "pull": run, "at": stamp(now), "due": result.due})
    if jobs:
        with ThreadPoolExecutor(max_workers=min(settings.workers, len(jobs))) as pool:
            for f in [pool.submit(j) for j in jobs]:
                f.result()
    if project.settings.raw.get("analytics"):
        from .analytics import pull_analytics

        ar = pull_analytics(project, store, entries=entries, env=env, now=now, clock=clock,
                            filled=filled, run=run, slots=slots, sleep=sleep, base_urls=base_urls, session=session, only=only)
        result.snapshots += ar.snapshots
        result.notes.extend(ar.notes)
        result.failures.extend(ar.failures)
    if feeds:
        from .feeds import read_feeds

        fr = read_feeds(project, store, now=now, session=session)
        result.mentions, result.mentions_updated = fr.added, fr.updated
        result.notes.extend(fr.notes)
        result.failures.extend(fr.failures)
    store.record_pull({"event": "finished", "pull": run, "at": stamp(clock()), "snapshots": result.snapshots,
                       "replies": result.replies, "mentions": result.mentions, "failures": len(result.failures)})
    result.notes.sort()
    result.failures.sort()
    return result
