"""What one publish run shares between its steps: its options, its report, and ``Run``, the state
of the run in flight (the project, the store, the built channels, what was delivered so far).

The steps (``select``, ``claim``, ``render``, ``record``, ``syndication``, ``rebuild`` and
``scheduler/alerts.py``) are functions of a ``Run``; ``flow.py`` calls them in order.
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

from channels.base import Post, Receipt
from channels.registry import Adapters
from newsroom.model import Project
from newsroom.problems import Verdict
from newsroom.state import EntryState, StateStore

from .. import due
from ..deliver import Budget, Retry
from ..plan import Entry, plan

#: How a run waits and tells time unless its options say otherwise (tests replace these).
pause = time.sleep
clock = time.monotonic


@dataclass
class RunOptions:
    now: datetime
    dry_run: bool = False
    only: list[tuple[str, str | None]] = field(default_factory=list)  # (path or id, channel or None)
    force: bool = False
    budget: float = 600.0  # seconds of retrying and waiting for the whole run
    retry: Retry = field(default_factory=Retry)
    sleep: Callable[[float], None] | None = None  # None: ``pause``
    clock: Callable[[], float] | None = None  # None: ``clock``
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    progress: Callable[[int, int, str], None] | None = None
    stop: threading.Event | None = None  # set: finish the entry in flight, start no other
    answered: Callable[[], datetime] | None = None  # the clock a receipt takes when the platform answers
    #                                                  (the service's real time); None: the run's ``now``


@dataclass
class Outcome:
    """One entry's line in the run's report."""

    key: str
    item: str
    path: str
    channel: str
    result: str  # delivered, would-deliver, failed, missed, needs-person, changed, held, postponed, blocked,
    #              waiting (for what it is after), held-by-dependency; after publishing: corrected,
    #              unchanged, withdrawn, cannot-withdraw (scheduler/run/amend.py)
    detail: str = ""
    url: str | None = None
    tries: int = 0
    at: datetime | None = None
    title: str = ""

    def as_dict(self) -> dict:
        return {"entry": self.key, "item": self.item, "path": self.path, "channel": self.channel,
                "result": self.result, "detail": self.detail, "url": self.url, "tries": self.tries,
                "at": self.at.isoformat() if self.at else None}


BAD = ("failed", "missed", "needs-person", "postponed", "held-by-dependency", "cannot-withdraw")


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
    derived: list[str] = field(default_factory=list)  # stamp files of derived outputs (the blog's site)
    fatal: str | None = None  # why the run stopped before its end (the state could not be written)

    @property
    def exit_code(self) -> int:
        if self.unusable or self.fatal:
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


def plan_time(project: Project, now: datetime, lookback: datetime) -> datetime:
    """The time a run plans as of: ``lookback`` (``due.planning_time``: a little before ``now``, so a queue
    slot that passed since the last run is still handed out), or ``now`` itself when planning as of
    either gives the run the same calendar, so that check's verdict (as of ``now``) is given on the
    run's own plan. A plan depends on its time only through the queue slots it hands out (from that
    time on), the next evergreen share of an item that expires between the two, and the lead-time
    rule and waiting notes, which the run does not read (it reads times, states, dependencies and the
    blackout and dependency-cycle rules: ``due.decide``, ``after.Order.gate``)."""
    from ..rules import effective

    settings = project.settings
    if lookback == now or any(effective(settings, name).slots for name in settings.channels):
        return lookback
    if any(item.evergreen and item.expires_at is not None and lookback < item.expires_at <= now
           for item in project.items):
        return lookback
    return now


class Run:
    """One publish run in flight over a loaded project and its ledger."""

    def __init__(self, project: Project, store: StateStore, opts: RunOptions):
        self.project, self.store, self.opts = project, store, opts
        if opts.sleep is None:
            opts.sleep = pause
        if opts.clock is None:
            opts.clock = clock
        self.now = opts.now
        self.report = RunReport(now=opts.now, dry_run=opts.dry_run)
        self.channels = Adapters(project, opts.env, store)
        self.planned_from = plan_time(project, opts.now, due.planning_time(project, opts.now, self.channels.grace))
        self.budget = Budget(opts.budget, opts.clock)
        self.run = run_id(opts.now)
        self.down: dict[str, str] = {}  # channel → why it is skipped for the rest of this run
        self.refused: dict[str, str] = {}  # channel → the secret the platform refused in this run
        self.delivered_now: dict[str, list[tuple[Post, Receipt]]] = {}
        self.withdrawn_now: dict[str, dict[str, str]] = {}  # channel → item id → reason (the blog's finish)
        self.touched: set[str] = set()  # channels whose finish() must run
        self.awaiting: dict[str, list] = {}  # channel → entries whose receipt waits for finish() (the blog)
        self.derived_checked = False  # whether this run checked the derived outputs (the blog's site) yet
        self.judged(Verdict(list(project.problems)))  # loading's problems, until check's verdict is given
        self.by_item_id = {i.id: i for i in project.items}
        self.links: dict[str, list[dict]] | None = None  # syndication links: read once, kept up by deliveries
        self.kept_posts: dict[str, object] = {}  # channel → its PostCache (rendered posts kept between runs)
        self.prerendered: dict[tuple[str, str], object] = {}  # (entry key, revision) → post rendered ahead
        self.waiting = None  # wait.Waiting: entries held back until what they are after is delivered
        self._plan: tuple | None = None  # (ledger version, the ledger, replan.Plan): see ``planned``
        self._decided: dict[int, tuple] = {}  # id(entry) → (entry, ledger state, its events, decision): ``decide``

    def planned(self, ledger: dict[str, EntryState], now: datetime | None = None) -> list[Entry]:
        """The plan as of ``now`` (the run's planning time) on ``ledger``, the store's current entries.
        Planned once: the steps that look at the calendar after the deliveries (the credentials' lapses,
        the look ahead) get the same plan brought up to date with what changed in the ledger since
        (``replan.Plan.after``: exactly what a full plan would give). The entries are read-only to the
        steps (``after.Order.effective`` hands out copies)."""
        from .replan import Plan

        now = now or self.planned_from
        version = self.store.ledger_version()
        if self._plan is not None and self._plan[0] == version and version is not None \
                and self._plan[1] is ledger and self._plan[2].now == now:
            return self._plan[2].entries
        if self._plan is not None and self._plan[2].now == now:
            current = self._plan[2].after(ledger)
        else:
            current = Plan(self.project, ledger, now)
        self._plan = (version, ledger, current)
        return current.entries

    def judged(self, verdict: Verdict) -> None:
        """check's verdict: an item with an error is held on every channel."""
        self.verdict = verdict
        self.bad_files = {p.path for p in verdict.errors}

    def decide(self, entry: Entry, ledger: dict[str, EntryState]) -> due.Decision:
        """``due.decide`` at the run's time. Asked of every entry before the deliveries and again after
        them (the look ahead): an answer is kept for the same entry and the same ledger state (the same
        folded object, as many events folded into it: the store folds every change into it as an
        event), except where it asks whether another run still lives (an open claim)."""
        st = ledger.get(entry.key)
        if st is not None and (st.state == "claimed" or st.correcting is not None or st.withdrawing is not None):
            return self._decide(entry, st)
        events = st.events if st is not None else -1
        kept = self._decided.get(id(entry))
        if kept is not None and kept[0] is entry and kept[1] is st and kept[2] == events:
            return kept[3]
        decision = self._decide(entry, st)
        self._decided[id(entry)] = (entry, st, events, decision)  # (the entry kept: its id is not reused)
        return decision

    def _decide(self, entry: Entry, st: EntryState | None) -> due.Decision:
        return due.decide(entry, st, self.now, grace=self.channels.grace(entry.channel), force=self.opts.force,
                          alive=self.store.run_alive)

    def out(self, entry: Entry, result: str, detail: str = "", *, url: str | None = None, tries: int = 0) -> Outcome:
        """The entry's line in the report."""
        o = Outcome(entry.key, entry.item.id, entry.item.path, entry.channel, result, detail, url, tries, entry.at,
                    entry.item.title)
        self.report.outcomes.append(o)
        return o

    def event(self, kind: str, entry: Entry, **fields) -> dict:
        """A ledger event about ``entry`` by this run."""
        event = {"event": kind, "entry": entry.key, "item": entry.item.id, "channel": entry.channel,
                 "path": entry.item.path, "revision": entry.item.revision, "run": self.run, "at": iso(self.now)}
        if getattr(entry, "share", 0):  # an evergreen re-share: its number and the variant it used
            from ..evergreen import variant

            event["share"], event["variant"] = entry.share, variant(entry.item, entry.share)[0]
        event.update({k: v for k, v in fields.items() if v is not None})
        return event

    def append(self, event: dict, *, durable: bool = True) -> None:
        """Append to the ledger, except in a dry run (``durable``: see ``StateStore.append``)."""
        if not self.opts.dry_run:
            self.store.append([event], durable=durable)
