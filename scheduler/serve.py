"""``publish.py serve``: the publish run as a long-lived service, for teams without a CI cron.

APScheduler 3 (https://apscheduler.readthedocs.io/en/3.x/userguide.html) holds one ``date`` job per
entry at its time, an ``interval`` job that reloads the content and re-plans (jobs follow edits,
moves and deletions), and a ``cron`` job for the engagement pull (``reports.pull``) when given.

A job's ``misfire_grace_time`` is the channel's grace window: a job that fires late but inside it
runs; one past it is reported by APScheduler as missed (``EVENT_JOB_MISSED``), and the service then
runs the entry at once so the ledger records it as missed. ``max_instances=1`` and one lock keep a
job from running twice at once, but the ledger, not the scheduler, is what guarantees exactly once:
every job goes through the same claim as ``publish``. SIGTERM lets the entry in flight finish.
"""
from __future__ import annotations

import math
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from . import due
from .output import lines
from .plan import plan

ENTRY = "entry:"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Service:
    """``pull_cron`` (crontab, UTC): when the engagement pull runs; None: never."""

    def __init__(self, root: Path, scheduler, *, env, replan_minutes: float = 5, pull_cron: str | None = None,
                 echo: Callable[[str], None] = print, now: Callable[[], datetime] = utcnow):
        self.root, self.scheduler, self.env = root, scheduler, env
        self.replan_minutes, self.pull_cron = replan_minutes, pull_cron
        self.echo, self.now = echo, now
        self.lock = threading.Lock()  # one run at a time in this process
        self.stop = threading.Event()
        self.last_run: datetime | None = None  # when the last run started (it took every entry due then)
        self.pending_lock = threading.Lock()
        self._store = None  # a shared database's store, kept from run to run (it reads only what is new)

    def start(self) -> None:
        from apscheduler.events import EVENT_JOB_MISSED
        from apscheduler.triggers.cron import CronTrigger

        self.scheduler.add_listener(self.on_missed, EVENT_JOB_MISSED)
        self.scheduler.add_job(self.replan, "interval", minutes=self.replan_minutes, id="replan",
                               next_run_time=self.now(), max_instances=1, coalesce=True, replace_existing=True)
        if self.pull_cron is not None:
            self.scheduler.add_job(self.pull, CronTrigger.from_crontab(self.pull_cron, timezone=timezone.utc),
                                   id="pull", max_instances=1, coalesce=True, replace_existing=True)
        self.scheduler.start()

    def shutdown(self) -> None:
        """Start nothing new; the entry in flight finishes, then the scheduler stops."""
        self.stop.set()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)

    # -- jobs ---------------------------------------------------------------------------------
    def _project(self, *, keep: bool = False):
        """The project, and its store; with ``keep`` (runs under ``self.lock``) the postgres store of the
        last run again, so a run reads only the ledger rows appended since."""
        from newsroom.state import open_store

        from .project import load_project

        project = load_project(self.root)
        kept = self._store
        if keep and kept is not None and kept[0] == project.settings.state:
            return project, kept[1]
        store = open_store(self.root, project.settings.state)
        if keep and getattr(store, "backend", "files") == "postgres":
            self._store = (dict(project.settings.state), store)
        return project, store

    def replan(self) -> None:
        """Reload the content and make the date jobs match the plan: add, move and drop them."""
        from channels.registry import Adapters

        if self.stop.is_set():
            return
        with self.lock:
            project, store = self._project(keep=True)
            channels = Adapters(project, self.env)
            ledger = store.entries()
            now = self.now()
            wanted: dict[str, tuple[datetime, int | None]] = {}
            for entry in plan(project, ledger=ledger, now=due.planning_time(project, now, channels.grace)):
                if entry.channel in channels.inactive:
                    continue
                grace = channels.grace(entry.channel)
                d = due.decide(entry, ledger.get(entry.key), now, grace=grace, alive=store.run_alive)
                seconds = None if grace is None else max(1, math.ceil(grace.total_seconds()))
                if d.action in (due.WAIT, due.SEND, due.MISS):
                    wanted[entry.key] = (entry.at, seconds)  # a past time inside grace fires at once
                elif d.action in (due.RECONCILE, due.CHANGED):
                    wanted[entry.key] = (now, None)
        current = {job.id[len(ENTRY):]: job for job in self.scheduler.get_jobs() if job.id.startswith(ENTRY)}
        for key, job in current.items():
            if key not in wanted:
                job.remove()  # deleted, delivered, unapproved or moved off this channel
        for key, (at, grace) in wanted.items():
            job = current.get(key)
            if job is not None and job.trigger.run_date == at and job.misfire_grace_time == grace:
                continue
            self.scheduler.add_job(self.run_entry, "date", run_date=at, args=[key, at, now], id=ENTRY + key,
                                   misfire_grace_time=grace, max_instances=1, replace_existing=True)

    def run_entry(self, key: str, at: datetime | None = None, made: datetime | None = None) -> None:
        """A job's entry is due: run every entry due now, as ``publish`` does. When many fall due
        together (2,000 at once), the first job's run takes them all; the jobs after it, due no later
        than that run's start and made before it (``at``, ``made``), find their entry taken and return.
        Other processes serving the same database share the work through the claims: an entry
        another one claimed is skipped."""
        from .run import RunOptions, publish

        with self.lock:
            if self.stop.is_set():
                return
            if at is not None and self.last_run is not None and self.last_run >= max(at, made or at):
                return  # the last run took it
            now = self.last_run = self.now()
            project, store = self._project(keep=True)
            report = publish(project, store, RunOptions(now=now, env=self.env, stop=self.stop))
        for line in lines(report)[:-1] if report.outcomes or report.notes else []:
            self.echo(line)

    def pull(self) -> None:
        """The engagement pull, as ``publish.py pull`` runs it; its lines go to ``echo``."""
        from reports.pull import pull

        if self.stop.is_set():
            return
        project, store = self._project()
        result = pull(project, store, env=self.env, now=self.now(), clock=self.now)
        for line in result.lines():
            self.echo(line)

    def on_missed(self, event) -> None:
        """APScheduler skipped a job past its grace: run it now so the ledger records the miss."""
        if event.job_id.startswith(ENTRY) and not self.stop.is_set():
            key = event.job_id[len(ENTRY):]
            self.scheduler.add_job(self.run_entry, args=[key], id=f"missed:{key}", replace_existing=True)


def serve(root: Path, env, *, replan_minutes: float, pull_cron: str | None, echo: Callable[[str], None],
          say: Callable[[str], None]) -> None:
    """``publish serve``: the service in this process until SIGTERM or SIGINT; ``say`` tells the
    person what the service is doing, ``echo`` what it ran."""
    import signal

    from apscheduler.schedulers.blocking import BlockingScheduler

    from .project import load_project

    load_project(root)  # unusable settings stop here, before the service starts
    service = Service(root, BlockingScheduler(timezone=timezone.utc), env=env, replan_minutes=replan_minutes,
                      pull_cron=pull_cron, echo=echo)

    def stop(signum, frame):
        say("stopping: the entry in flight finishes first")
        service.shutdown()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    say(f"serving {root}: re-planning every {replan_minutes:g} min; SIGTERM stops")
    service.start()
    say("stopped")
