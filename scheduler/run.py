"""The publish run: every due entry claimed → rendered → delivered → recorded, exactly once.

Ordering is what makes it safe:

1. **Claim before sending.** The claim is appended under the ledger's lock only if the entry, read
   fresh under that lock, still needs the same action, so of two runs racing for an entry exactly
   one sends it. A run holds a lock file for as long as it lives; a claim whose run holds none was
   left by a run that died.
2. **Reconcile before sending again.** A claim with no receipt (a run killed between the request and
   the receipt), or a failure that may have gone through, is first put to the channel
   (``Channel.reconcile``: Mastodon's Idempotency-Key, a fixed Bluesky record key, a read-back by
   canonical URL). Found: recorded as delivered. Surely not sent: sent now. Nobody can tell:
   recorded for a person, never re-sent blindly.
3. **Record after.** The receipt (or the failure, with the platform's message) is appended at once.

Identity is the item's ``id`` (slug), never its path: a renamed file is the same entry.
"""
from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Mapping

from channels.base import Channel, DeliveryContext, Failure, Journal, Post, Receipt
from channels.postcache import PostCache
from channels.registry import Adapters
from newsroom.model import Project
from newsroom.problems import ERROR
from newsroom.state import EntryState, StateStore

from . import due
from .deliver import Attempt, Budget, Retry, deliver, reconcile
from .plan import Entry, plan

#: How a run waits and tells time unless its options say otherwise (tests replace these).
pause = time.sleep
clock = time.monotonic

#: A retryable failure is announced once it has failed this many runs in a row (earlier ones are noise).
ALERT_AFTER_ATTEMPTS = 3


@dataclass
class RunOptions:
    now: datetime
    dry_run: bool = False
    only: list[tuple[str, str | None]] = field(default_factory=list)  # (path or id, channel or None)
    keys: set[str] | None = None  # only these entry keys (the service's date jobs)
    force: bool = False
    budget: float = 600.0  # seconds of retrying and waiting for the whole run
    retry: Retry = field(default_factory=Retry)
    sleep: Callable[[float], None] | None = None  # None: ``pause``
    clock: Callable[[], float] | None = None  # None: ``clock``
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    progress: Callable[[int, int, str], None] | None = None
    stop: threading.Event | None = None  # set: finish the entry in flight, start no other


@dataclass
class Outcome:
    """One entry's line in the run's report."""

    key: str
    item: str
    path: str
    channel: str
    result: str  # delivered, would-deliver, failed, missed, needs-person, changed, held, postponed, blocked
    detail: str = ""
    url: str | None = None
    tries: int = 0
    at: datetime | None = None
    title: str = ""

    def as_dict(self) -> dict:
        return {"entry": self.key, "item": self.item, "path": self.path, "channel": self.channel,
                "result": self.result, "detail": self.detail, "url": self.url, "tries": self.tries,
                "at": self.at.isoformat() if self.at else None}


BAD = ("failed", "missed", "needs-person", "postponed")


@dataclass
class RunReport:
    now: datetime
    dry_run: bool = False
    outcomes: list[Outcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    next_due: dict | None = None  # {"item", "path", "channel", "at"}
    unusable: bool = False  # items with errors kept entries from going out
    quiet_until: datetime | None = None  # nothing to do before this time (no-op cache)
    stopped: bool = False
    ledger_ident: list | None = None
    standing: list[str] = field(default_factory=list)  # notes that hold until settings or content change

    @property
    def exit_code(self) -> int:
        if self.unusable:
            return 2
        return 1 if any(o.result in BAD for o in self.outcomes) else 0

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for o in self.outcomes:
            out[o.result] = out.get(o.result, 0) + 1
        return out


def run_id(now: datetime) -> str:
    host = "".join(c if c.isalnum() or c in "-_" else "-" for c in socket.gethostname())[:40] or "host"
    return f"{host}-{os.getpid()}-{now:%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"


def iso(t: datetime) -> str:
    return t.astimezone(timezone.utc).isoformat(timespec="seconds")


class Run:
    """One publish run over a loaded project and its ledger."""

    def __init__(self, project: Project, store: StateStore, opts: RunOptions):
        self.project, self.store, self.opts = project, store, opts
        if opts.sleep is None:
            opts.sleep = pause
        if opts.clock is None:
            opts.clock = clock
        self.now = opts.now
        self.report = RunReport(now=opts.now, dry_run=opts.dry_run)
        self.channels = Adapters(project, opts.env, store)
        self.planned_from = due.planning_time(project, opts.now, self.channels.grace)
        self.budget = Budget(opts.budget, opts.clock)
        self.run = run_id(opts.now)
        self.down: dict[str, str] = {}  # channel → why it is skipped for the rest of this run
        self.delivered_now: dict[str, list[tuple[Post, Receipt]]] = {}
        self.touched: set[str] = set()  # channels whose finish() must run
        self.bad_files = {p.path for p in project.problems if p.severity == ERROR}
        self.by_item_id = {i.id: i for i in project.items}
        self._syndication: tuple[int, dict] | None = None  # rebuilt when an entry's outcome is added

    # -- selection ----------------------------------------------------------------------------
    def _wanted(self, entry: Entry) -> bool:
        if self.opts.keys is not None and entry.key not in self.opts.keys:
            return False
        if not self.opts.only:
            return True
        for target, channel in self.opts.only:
            if target in (entry.item.path, entry.item.id) and channel in (None, entry.channel):
                return True
        return False

    def decide(self, entry: Entry, ledger: dict[str, EntryState]) -> due.Decision:
        return due.decide(entry, ledger.get(entry.key), self.now, grace=self.channels.grace(entry.channel),
                          force=self.opts.force, alive=self.store.run_alive)

    def execute(self) -> RunReport:
        if self.opts.dry_run:
            self._execute()
        else:
            with self.store.run_lock(self.run):
                self._execute()
        self.store.save()  # what makes the next run's reading fast (the files backend: the ledger's fold)
        return self.report

    def _execute(self) -> None:
        ledger = self.store.entries()
        entries = [e for e in plan(self.project, ledger=ledger, now=self.planned_from) if self._wanted(e)]
        work: list[tuple[Entry, due.Decision]] = []
        waiting: dict[str, int] = {}
        for entry in entries:
            decision = self.decide(entry, ledger)
            if decision.action == due.DONE and not entry.enabled:
                self._skipped(entry, ledger.get(entry.key))
            if decision.action in (due.WAIT, due.DONE):
                continue
            if entry.channel in self.channels.inactive and decision.action != due.CHANGED:
                waiting[entry.channel] = waiting.get(entry.channel, 0) + 1
                continue
            if entry.item.path in self.bad_files and decision.action != due.CHANGED:
                self.report.unusable = True
                self._out(entry, "blocked", f"{entry.item.path} has errors; fix them (publish.py check) and it goes "
                                            "out on the next run")
                continue
            work.append((entry, decision))
        for name, count in sorted(waiting.items()):
            self.report.standing.append(f"{name}: inactive, {self.channels.inactive[name]} "
                                        f"({count} entr{'y' if count == 1 else 'ies'} waiting)")
        blocked = sum(o.result == "blocked" for o in self.report.outcomes)
        if blocked:
            self.report.standing.append(f"{blocked} entr{'y' if blocked == 1 else 'ies'} held back by files with "
                                        "errors (run publish.py check)")
        self.report.notes.extend(self.report.standing)
        work.sort(key=lambda w: (w[0].at or self.now, w[0].channel, w[0].item.path))
        for n, (entry, decision) in enumerate(work, 1):
            if self.opts.stop is not None and self.opts.stop.is_set():
                self.report.stopped = True
                self.report.notes.append(f"stopped before {len(work) - n + 1} entries; the next run takes them")
                break
            if self.opts.progress:
                self.opts.progress(n, len(work), f"{entry.item.path} → {entry.channel}")
            self.entry(entry, decision)
        self.finish()
        if not self.opts.dry_run:
            from .alerts import send_alerts
            from .health import alert_lapses

            send_alerts(self)
            alert_lapses(self)  # a credential that lapses before an entry is due: said once
        self.look_ahead()

    # -- one entry ----------------------------------------------------------------------------
    def _out(self, entry: Entry, result: str, detail: str = "", *, url: str | None = None, tries: int = 0) -> Outcome:
        o = Outcome(entry.key, entry.item.id, entry.item.path, entry.channel, result, detail, url, tries, entry.at,
                    entry.item.title)
        self.report.outcomes.append(o)
        return o

    def _event(self, kind: str, entry: Entry, **fields) -> dict:
        event = {"event": kind, "entry": entry.key, "item": entry.item.id, "channel": entry.channel,
                 "path": entry.item.path, "revision": entry.item.revision, "run": self.run, "at": iso(self.now)}
        event.update({k: v for k, v in fields.items() if v is not None})
        return event

    def _claim(self, entry: Entry, decision: due.Decision, **fields) -> bool:
        """Claim under the lock if the entry, read fresh, still needs ``decision``'s action."""
        if self.opts.dry_run:
            return True
        before = self.store.entries().get(entry.key)
        claimed_by = before.claimed_by if before else None

        def may_claim(fresh: EntryState) -> bool:
            again = self.decide(entry, {entry.key: fresh})
            return again.action == decision.action and fresh.claimed_by == claimed_by

        return self.store.claim(entry.key, self._event("claimed", entry, **fields), may_claim)

    def _append(self, event: dict) -> None:
        if not self.opts.dry_run:
            self.store.append([event])

    def context(self, entry: Entry) -> DeliveryContext:
        st = self.store.entries().get(entry.key)
        revision = entry.item.revision
        on_write = None
        if not self.opts.dry_run:
            def on_write(name, value, entry=entry):
                self.store.append([self._event("progress", entry, name=name, value=value)])
        journal = Journal(st.journal_for(revision) if st else {}, on_write)
        # The entry's own key, stable across edits: idempotency keys, Bluesky record keys and
        # recipient hashes derive from it, so an edit between two attempts never sends twice.
        return DeliveryContext(key=entry.key, now=self.now, dry_run=self.opts.dry_run,
                               journal=journal, sleep=self.opts.sleep, syndication=self.syndication())

    def render(self, entry: Entry, channel: Channel) -> Post | str:
        from channels.render import render_post

        try:
            post = render_post(self.project, entry.item, channel, segment=entry.segment)
        except Exception as exc:  # noqa: BLE001 - a template error fails this entry, not the run
            return f"cannot render: {type(exc).__name__}: {exc}"
        errors = [p for p in post.problems if getattr(p, "severity", ERROR) == ERROR]
        if errors:
            return "cannot render: " + "; ".join(str(p) for p in errors)
        return post

    def entry(self, entry: Entry, decision: due.Decision) -> None:
        name = entry.channel
        if decision.action == due.CHANGED:
            st = self.store.entries().get(entry.key)
            if st is None or st.changed_revision != entry.item.revision:
                self._append(self._event("changed", entry))
                self.touched.add(name)
            self._out(entry, "changed", "edited after it went out; not posted again")
            return
        if decision.action == due.HELD:
            self._out(entry, "held", decision.reason)
            return
        if decision.action == due.BLOCKED:
            return
        if decision.action == due.BLACKOUT:
            self._out(entry, "held", decision.reason)
            return
        if decision.action == due.MISS:
            if self._claim_miss(entry, decision):
                self._out(entry, "missed", decision.reason)
            return
        if name in self.down:
            self._out(entry, "postponed", f"not tried: {self.down[name]}")
            return
        channel = self.channels.adapters[name]
        if not self._claim(entry, decision, reconcile=True if decision.action == due.RECONCILE else None):
            self._out(entry, "held", "another run took it first")
            return
        post = self.render(entry, channel)
        if isinstance(post, str):
            self._fail(entry, Attempt(Failure(post)), tries=0)
            return
        ctx = self.context(entry)
        if decision.action == due.RECONCILE:
            receipt, cannot, failure = reconcile(channel, post, ctx)
            if receipt is not None:
                self._delivered(entry, post, receipt, reconciled=True, tries=0)
                return
            if cannot is not None:
                self._unresolved(entry, cannot)
                return
            if failure is not None:
                self._fail(entry, Attempt(failure), tries=0)
                return
            # Surely not sent: it is due like any other entry, if it still may go out.
            timing = due.decide(entry, None, self.now, grace=channel.grace, force=self.opts.force)
            if timing.action == due.MISS:
                self._append(self._event("missed", entry, reason=timing.reason))
                self._out(entry, "missed", timing.reason)
                return
            if timing.action == due.WAIT:
                self._append(self._event("released", entry))
                return
        attempt = deliver(channel, post, ctx, budget=self.budget, retry=self.opts.retry, sleep=self.opts.sleep)
        if isinstance(attempt.result, Receipt):
            self._delivered(entry, post, attempt.result, reconciled=attempt.reconciled, tries=attempt.tries)
        elif attempt.unresolved is not None:
            self._unresolved(entry, attempt.unresolved)
        else:
            self._fail(entry, attempt, tries=attempt.tries)

    def _claim_miss(self, entry: Entry, decision: due.Decision) -> bool:
        if self.opts.dry_run:
            return True
        event = self._event("missed", entry, reason=decision.reason)
        return self.store.claim(entry.key, event, lambda fresh: self.decide(entry, {entry.key: fresh}).action == due.MISS)

    def _skipped(self, entry: Entry, st: EntryState | None) -> None:
        """An approved entry switched off (``enabled: false``) is recorded once its time comes, so the
        ledger says why it never went out; once per revision."""
        if (self.opts.dry_run or entry.item.status != "approved" or entry.at is None or entry.at > self.now
                or (st is not None and st.state == "skipped" and st.revision == entry.item.revision)
                or (st is not None and st.state == "delivered")):
            return
        where = "the channel is disabled in publish.yml" if not self.project.settings.channels[entry.channel].enabled \
            else f"channels.{entry.channel}.enabled is false in the item"
        self._append(self._event("skipped", entry, reason=where))

    def _delivered(self, entry: Entry, post: Post, receipt: Receipt, *, reconciled: bool, tries: int) -> None:
        self._append(self._event("delivered", entry, receipt=receipt.as_dict(), reconciled=reconciled or None))
        self.delivered_now.setdefault(entry.channel, []).append((post, receipt))
        self.touched.add(entry.channel)
        if receipt.url:  # a new "also on" link for the channels that show where an item went
            self.touched.update(name for name, adapter in self.channels.adapters.items()
                                if adapter.SHOWS_SYNDICATION)
        if self.opts.dry_run:
            self._out(entry, "would-deliver", "dry run: everything but the final request", url=receipt.url, tries=tries)
        else:
            detail = "found already sent by an interrupted run; not sent again" if reconciled else ""
            self._out(entry, "delivered", detail, url=receipt.url, tries=tries)

    def _fail(self, entry: Entry, attempt: Attempt, *, tries: int) -> None:
        f = attempt.result
        assert isinstance(f, Failure)
        message = f.message + (f" ({attempt.note})" if attempt.note else "")
        self._append(self._event("failed", entry, error=message, retryable=f.retryable, ambiguous=f.ambiguous or None,
                                 status=f.status))
        if f.retryable and not self.opts.dry_run:
            self.down[entry.channel] = f"{entry.channel} is failing ({f.message})"
        self._out(entry, "failed", message + ("; a later run tries again" if f.retryable else ""), tries=tries)

    def _unresolved(self, entry: Entry, why: str) -> None:
        message = (f"an earlier attempt may have gone out and {why}: check {entry.channel} by hand, then run "
                   f"publish.py resolve {entry.item.path}:{entry.channel} --sent (it is there) or --not-sent "
                   "(send it)")
        self._append(self._event("failed", entry, error=message, retryable=False, ambiguous=True, unresolved=True))
        self._out(entry, "needs-person", message)

    # -- after the deliveries -----------------------------------------------------------------
    def syndication(self) -> dict[str, list[dict]]:
        """item id → where it went: [{channel, type, url}] from every receipt in the ledger."""
        if self._syndication is None or self._syndication[0] != len(self.report.outcomes):
            self._syndication = (len(self.report.outcomes), self._build_syndication())
        return self._syndication[1]

    def _build_syndication(self) -> dict[str, list[dict]]:
        out: dict[str, list[dict]] = {}
        for st in self.store.entries().values():
            if st.state == "delivered" and st.item and st.channel and st.receipt and st.receipt.get("url"):
                config = self.project.settings.channels.get(st.channel)
                out.setdefault(st.item, []).append({"channel": st.channel, "type": config.type if config else None,
                                                    "url": st.receipt["url"]})
        for posts in self.delivered_now.values():  # a dry run's receipts are not in the ledger
            for post, receipt in posts:
                links = out.setdefault(post.item_id, [])
                if receipt.url and not any(x["channel"] == post.channel for x in links):
                    links.append({"channel": post.channel, "type": post.type, "url": receipt.url})
        return out

    def finish(self) -> None:
        """Each channel that changed gets every entry delivered on it (the blog rebuilds its site)."""
        if not self.touched:
            return
        syndication = self.syndication()
        ledger = self.store.entries()
        for name in sorted(self.touched):
            channel = self.channels.adapters.get(name)
            if channel is None or name in self.channels.inactive:
                continue
            delivered: list[tuple[Post, Receipt]] = []
            seen = set()
            posts = PostCache(self.project, name)
            for post, receipt in self.delivered_now.get(name, []):
                delivered.append((post, receipt))
                seen.add(post.item_id)
                item = self.by_item_id.get(post.item_id)
                if item is not None and item.revision == post.revision:
                    posts.put(item, post)
            for st in ledger.values():
                if st.channel != name or st.state != "delivered" or st.item in seen or not st.receipt:
                    continue
                item = self.by_item_id.get(st.item)
                if item is None:
                    continue  # deleted since it went out
                post = posts.get(item)
                if post is None:
                    post = self.render(_entry_for(item, name, channel.TYPE), channel)
                    if isinstance(post, str):
                        self.report.notes.append(f"{name}: {item.path}: {post}")
                        continue
                    posts.put(item, post)
                delivered.append((post, receipt_from(st.receipt)))
            if not self.opts.dry_run:
                posts.save()
            ctx = DeliveryContext(key=f"finish/{name}", now=self.now, dry_run=self.opts.dry_run,
                                  sleep=self.opts.sleep, syndication=syndication)
            try:
                done = channel.finish(delivered, ctx)
            except Exception as exc:  # noqa: BLE001 - the deliveries are recorded; say what did not follow
                self.report.notes.append(f"{name}: finishing failed: {type(exc).__name__}: {exc}")
                continue
            # what the finish left out, such as a blog page whose path was taken, or a static file
            # that could not be read: said in the run's output, not only in the object returned
            self.report.notes.extend(f"{name}: {problem}" for problem in getattr(done, "problems", None) or ())

    def _alert_pending(self, st: EntryState | None) -> bool:
        from .alerts import problem_of

        via = self.project.settings.alerts.get("channel")
        if st is None or not via or via not in self.channels.adapters or via in self.channels.inactive:
            return False
        problem = problem_of(st)
        return problem is not None and problem not in st.alerted

    def look_ahead(self) -> None:
        """The next entry due, and until when nothing needs doing (for the no-op cache)."""
        # The ledger's identity is read before the ledger itself: anything appended after this
        # point makes the cached answer invalid rather than silently included.
        self.report.ledger_ident = self.store.ledger_version()
        ledger = self.store.entries()
        quiet_until: datetime | None = datetime.max.replace(tzinfo=timezone.utc)
        best = None
        for entry in plan(self.project, ledger=ledger, now=self.planned_from):
            decision = self.decide(entry, ledger)
            if decision.action == due.WAIT:
                if best is None or decision.until < best.at:
                    best = entry
                if quiet_until is not None and decision.until < quiet_until:
                    quiet_until = decision.until
            elif decision.action in (due.DONE, due.BLOCKED):
                if decision.action == due.DONE and self._alert_pending(ledger.get(entry.key)):
                    quiet_until = None
            elif entry.channel in self.channels.inactive and decision.action != due.CHANGED:
                continue
            elif entry.item.path in self.bad_files and decision.action != due.CHANGED:
                continue
            else:
                quiet_until = None
        self.report.quiet_until = quiet_until
        if best is not None:
            self.report.next_due = {"item": best.item.id, "path": best.item.path, "channel": best.channel,
                                    "at": iso(best.at)}


def _entry_for(item, channel: str, ctype: str) -> Entry:
    override = item.channels.get(channel)
    return Entry(item=item, channel=channel, type=ctype, at=None, source="ledger", state="delivered",
                 segment=override.segment if override else None)


def receipt_from(d: dict) -> Receipt:
    at = d.get("at")
    try:
        when = datetime.fromisoformat(at) if at else datetime.now(timezone.utc)
    except ValueError:
        when = datetime.now(timezone.utc)
    return Receipt(remote_id=str(d.get("remote_id", "")), url=d.get("url"), at=when,
                   parts=tuple(d.get("parts") or ()), data=dict(d.get("data") or {}))


def publish(project: Project, store: StateStore, opts: RunOptions) -> RunReport:
    """Run every due entry of ``project`` once; the report says what happened to each."""
    return Run(project, store, opts).execute()
