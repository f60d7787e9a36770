"""``publish.py serve``: the publish run as a long-lived service, for teams without a CI cron.

APScheduler 3 (https://apscheduler.readthedocs.io/en/3.x/userguide.html) holds one ``date`` job at
the earliest time an entry waits for (``due``), an ``interval`` job that reloads the content and
re-plans (the schedule follows edits, moves and deletions), a thread that watches publish.yml and the
content files and re-plans at once when one changes, and a ``cron`` job for the engagement pull
(``reports.pull``). The schedule itself (entry → time) is a dict the service keeps: the ``due`` job
runs every entry due then, as ``publish`` does, and arms itself again for the next time. So the
scheduler holds three jobs whether 10 or 30,000 entries are planned (one job per entry cost seconds
and hundreds of MB per re-plan at 10,000 items: bench/serve_scale.py).

The ``due`` job runs however late it fires (``misfire_grace_time=None``): the run, not the
scheduler, decides what is inside its channel's grace window (sent) and what is past it (recorded as
missed). One lock keeps two runs from overlapping, but the ledger, not the scheduler, is what
guarantees exactly once: every run goes through the same claim as ``publish``. SIGTERM lets the
entry in flight finish.

Lock order: ``lock`` (a run or a re-plan's reading of the content) before ``jobs_lock`` (the schedule
and every call into the scheduler). ``shutdown`` sets ``stop``, waits for ``jobs_lock`` once and only
then stops the scheduler, so no job is inside a scheduler call while APScheduler's shutdown holds
its own locks and waits for the jobs (that wait deadlocked a re-plan in ``get_jobs``); a job that
takes ``jobs_lock`` after that sees ``stop`` and leaves the scheduler alone.

It speaks through ``logging`` (scheduler/servicelog.py). A publish.yml that becomes unusable is one
error line per re-plan (``publish.yml:4: channels.blog: …``): the schedule planned with the last good
settings stays, an entry that comes due meanwhile waits (one line), and once the file is usable again
the service says so and re-plans at once, so what waited goes out within seconds (inside its grace).
A content file with a problem is logged once, at its ``path:line``. ``status()`` is what the health
endpoint (scheduler/servehealth.py) answers: the last successful run and the last error.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from . import due
from .plan import plan
from .servicelog import LOGGER

DUE = "due"  # the one job that runs what is due and arms itself for the next time
RUNS_QUEUED = 64  # ``due`` jobs that may wait on the run lock at once (each returns at once if a run took its time)
FULL_LOOK = 60.0  # seconds between looks at every content file (an edit in place changes no folder)
log = logging.getLogger(LOGGER)
#: Outcomes of a run worth more than an info line.
LEVELS = {"failed": logging.ERROR, "missed": logging.ERROR, "needs-person": logging.WARNING,
          "held-by-dependency": logging.WARNING}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def iso(t: datetime | None) -> str | None:
    return t.astimezone(timezone.utc).isoformat(timespec="seconds") if t else None


class Service:
    """``pull_cron`` (crontab, UTC): when the engagement pull runs; None: never. ``watch``: seconds
    between looks at publish.yml and the content files (None: only the ``replan_minutes`` re-plan)."""

    def __init__(self, root: Path, scheduler, *, env, replan_minutes: float = 5, pull_cron: str | None = None,
                 watch: float | None = 2.0, now: Callable[[], datetime] = utcnow):
        self.root, self.scheduler, self.env = root, scheduler, env
        self.replan_minutes, self.pull_cron, self.watch = replan_minutes, pull_cron, watch
        self.now = now
        self.lock = threading.Lock()  # one run at a time in this process
        self.jobs_lock = threading.Lock()  # the schedule and every call into the scheduler (after ``lock``)
        self.stop = threading.Event()
        self.stopped = threading.Event()  # set once ``shutdown`` is over
        self.schedule: dict[str, datetime] = {}  # entry key → when it runs; replaced whole, never changed
        self.schedule_made: datetime | None = None  # when the re-plan that made ``schedule`` started
        self.started = now()
        self.last_run: datetime | None = None  # when the last run started (it took every entry due then)
        self._store = None  # a shared database's store, kept from run to run (it reads only what is new)
        self.settings_broken: str | None = None  # the problem line while publish.yml is unusable
        self.seen_problems: set[str] = set()  # content problems already logged
        self.last_success: dict | None = None
        self.last_error: dict | None = None
        self.last_replan: datetime | None = None
        self._signature = self._quick = None
        self._folders: list[str] = []
        self._full_at = 0.0
        self.content_dir = "content"  # the last good settings' content folder, which the watch scans

    def start(self) -> None:
        from apscheduler.triggers.cron import CronTrigger

        self._signature = self.signature()
        self._quick = self.quick()
        self.scheduler.add_job(self.replan, "interval", minutes=self.replan_minutes, id="replan",
                               next_run_time=self.now(), max_instances=1, coalesce=True, replace_existing=True)
        if self.watch:  # a thread of its own: a slow look is never queued or reported as skipped
            threading.Thread(target=self._watching, name="watch", daemon=True).start()
        if self.pull_cron is not None:
            self.scheduler.add_job(self.pull, CronTrigger.from_crontab(self.pull_cron, timezone=timezone.utc),
                                   id="pull", max_instances=1, coalesce=True, replace_existing=True)
        self.scheduler.start()

    def shutdown(self) -> None:
        """Start nothing new; the entry in flight finishes, then the scheduler stops. APScheduler's
        shutdown holds its job store's lock while it waits for the jobs, so no job may be inside a
        scheduler call then: once ``stop`` is set, ``jobs_lock`` is taken once (a call under way
        finishes), and every job that takes it later sees ``stop`` and makes none."""
        self.stop.set()
        with self.jobs_lock:
            pass
        try:
            if self.scheduler.running:
                self.scheduler.shutdown(wait=True)
        finally:
            self.stopped.set()

    # -- what an operator asks --------------------------------------------------------------------
    def status(self) -> dict:
        schedule = self.schedule if self.scheduler.running else {}  # a dict replaced whole: no lock needed
        upcoming = min(schedule.values(), default=None)
        return {"alive": self.scheduler.running and not self.stop.is_set(),
                "ready": self.scheduler.running and not self.stop.is_set() and self.settings_broken is None
                and self.last_replan is not None,
                "started": iso(self.started), "settings": self.settings_broken or "usable",
                "last_replan": iso(self.last_replan), "last_success": self.last_success,
                "last_error": self.last_error, "entries_scheduled": len(schedule), "next_run": iso(upcoming)}

    def _ok(self, what: str) -> None:
        self.last_success = {"at": iso(self.now()), "what": what}

    def _error(self, message: str) -> None:
        self.last_error = {"at": iso(self.now()), "message": message}

    # -- watching publish.yml and the content ---------------------------------------------------
    def signature(self) -> tuple:
        """What changes when publish.yml or a content file is saved: names, sizes, modification times.
        Also notes the content's folders, for ``quick``."""
        from newsroom.items import content_files

        files = content_files(self.root, self.content_dir)
        folders = {self.content_dir}
        for rel in files:
            folder = rel.rpartition("/")[0]
            while folder not in folders and folder.startswith(self.content_dir + "/"):
                folders.add(folder)
                folder = folder.rpartition("/")[0]
        self._folders = sorted(folders)
        self._full_at = time.monotonic()
        return (self._stat("publish.yml"),) + tuple(self._stat(rel) for rel in files)

    def quick(self) -> tuple:
        """publish.yml and the content's folders only: a file added, removed or saved by renaming
        (as editors and git do) changes its folder; a dozen stats, not one per item."""
        return (self._stat("publish.yml"),) + tuple(self._stat(rel) for rel in self._folders)

    def _stat(self, rel: str):
        try:
            s = os.stat(self.root / rel)
            return rel, s.st_mtime_ns, s.st_size
        except OSError:
            return rel, None, None

    def _watching(self) -> None:
        while not self.stop.wait(self.watch):
            try:
                self.look()
            except Exception as e:  # noqa: BLE001 -- the watch goes on; the periodic re-plan still runs
                log.warning("watch: %s", e)

    def look(self) -> None:
        """The watch job: re-plan at once when publish.yml or a content file changed. Every look
        checks publish.yml and the folders; every file is looked at when a folder changed, or once a
        minute (``FULL_LOOK``) for a file edited in place."""
        if self.stop.is_set() or self.lock.locked():  # a re-plan or a run is reading the files now
            return
        quick = self.quick()
        if quick == self._quick and time.monotonic() - self._full_at < FULL_LOOK:
            return
        now = self.signature()
        self._quick = self.quick()
        if now != self._signature:
            self._signature = now
            self.replan()

    # -- jobs ---------------------------------------------------------------------------------
    def _project(self, *, keep: bool = False):
        """(project, store), or None while publish.yml is unusable (said once per call, by replan).
        With ``keep`` (runs under ``self.lock``): the postgres store of the last run again, so a run
        reads only the ledger rows appended since."""
        from newsroom.problems import ERROR, UnusableSettings
        from newsroom.state import open_store

        from .project import load_project

        try:
            project = load_project(self.root)
        except UnusableSettings as e:
            return e
        wrong = [p for p in project.problems if p.path == "publish.yml" and p.severity == ERROR]
        if wrong:  # loaded, but a run would refuse it: as unusable as a file that does not parse
            return UnusableSettings(wrong)
        for problem in project.problems:  # a broken content file: said once, at its path:line
            line = str(problem)
            if line not in self.seen_problems and problem.path != "publish.yml":
                log.warning("%s", line, extra={"fields": {"path": problem.path, "line": problem.line}})
        self.seen_problems = {str(p) for p in project.problems}
        self.content_dir = project.settings.content_dir
        kept = self._store
        if keep and kept is not None and kept[0] == project.settings.state:
            return project, kept[1]
        store = open_store(self.root, project.settings.state)
        if keep and getattr(store, "backend", "files") == "postgres":
            self._store = (dict(project.settings.state), store)
        return project, store

    def _settings_unusable(self, error, planning: bool) -> None:
        line = "; ".join(str(p) for p in error.problems) or str(error)
        self._error(line)
        if planning:
            log.error("%s; keeping the last good settings: entries due meanwhile wait until the file is usable",
                      line, extra={"fields": {"path": "publish.yml"}})
        self.settings_broken = line

    def replan(self) -> None:
        """Reload the content and make the schedule match the plan: entries added, moved and dropped."""
        from channels.registry import Adapters

        if self.stop.is_set():
            return
        try:
            with self.lock:
                loaded = self._project(keep=True)
                if not isinstance(loaded, tuple):
                    self._settings_unusable(loaded, planning=True)
                    return
                project, store = loaded
                if self.settings_broken is not None:
                    log.info("publish.yml is usable again: re-planned with it", extra={"fields": {"path": "publish.yml"}})
                    self.settings_broken = None
                channels = Adapters(project, self.env)
                ledger = store.entries()
                now = self.now()
                wanted: dict[str, datetime] = {}
                for entry in plan(project, ledger=ledger, now=due.planning_time(project, now, channels.grace)):
                    if entry.channel in channels.inactive:
                        continue
                    d = due.decide(entry, ledger.get(entry.key), now, grace=channels.grace(entry.channel),
                                   alive=store.run_alive)
                    if d.action in (due.WAIT, due.SEND, due.MISS):
                        wanted[entry.key] = entry.at  # a past time runs at once; the run tells sent from missed
                    elif d.action in (due.RECONCILE, due.CHANGED, due.CORRECT, due.WITHDRAW):
                        wanted[entry.key] = now
                    elif (d.action == due.DONE and entry.item.expires_at is not None and entry.item.expires_at > now
                          and (st := ledger.get(entry.key)) is not None and st.state == "delivered"):
                        wanted[entry.key] = entry.item.expires_at  # taken down when it expires
                with self.jobs_lock:
                    if self.stop.is_set():
                        return
                    self.schedule, self.schedule_made = wanted, now
                    self._arm()
            self.last_replan = self.now()
            self._ok("replan")
        except Exception as e:  # noqa: BLE001 -- the service keeps running; the next re-plan tries again
            self._error(f"re-plan: {e}")
            log.exception("re-plan failed: %s", e)

    def _arm(self) -> None:
        """Point the ``due`` job at the schedule's earliest time (under ``jobs_lock``, ``stop`` not set)."""
        from apscheduler.jobstores.base import JobLookupError

        at = min(self.schedule.values(), default=None)
        if at is None:
            try:
                self.scheduler.remove_job(DUE)
            except JobLookupError:  # it fired and is gone, or nothing was planned yet
                pass
            return
        # However late it fires it runs: the run decides what is still inside its grace and what is missed.
        # Several may wait on the run lock (a re-plan arms it while a run is on); each returns at once
        # when a run since took its time (``run_due``).
        self.scheduler.add_job(self.run_due, "date", run_date=at, args=[at, self.schedule_made], id=DUE,
                               misfire_grace_time=None, max_instances=RUNS_QUEUED, replace_existing=True)

    def _ran(self, started: datetime) -> None:
        """A run that started at ``started`` took every entry due then (under ``lock``): they leave the
        schedule (one still wanted comes back with the next re-plan, as ``publish`` run again would
        take it), and the ``due`` job is armed for the next time."""
        with self.jobs_lock:
            if self.stop.is_set():
                return
            if self.schedule_made is not None and self.schedule_made <= started:
                self.schedule = {key: at for key, at in self.schedule.items() if at > started}
            self._arm()

    def run_due(self, at: datetime, made: datetime | None = None) -> None:
        """The ``due`` job: run every entry due now, as ``publish`` does (2,000 due at once are one run).
        A job armed for a time (``at``) by a schedule made at ``made`` returns at once when a run that
        started after both already took it. Other processes serving the same database share the work
        through the claims: an entry another one claimed is skipped."""
        from newsroom.problems import UnusableSettings

        from .run import RunOptions, publish

        report = None
        try:
            with self.lock:
                if self.stop.is_set():
                    return
                if self.last_run is not None and self.last_run >= max(at, made or at):
                    self._ran(self.last_run)  # the last run took it
                    return
                now = self.now()
                loaded = self._project(keep=True)
                if isinstance(loaded, tuple):
                    project, store = loaded
                    self.last_run = now
                    try:
                        report = publish(project, store, RunOptions(now=now, env=self.env, stop=self.stop,
                                                                    answered=utcnow))
                    except UnusableSettings as e:  # check's verdict found publish.yml errors loading does not
                        loaded = e  # nothing claimed
                if not isinstance(loaded, tuple):
                    self._settings_unusable(loaded, planning=False)
                    for key, when in sorted(self.schedule.items(), key=lambda kv: kv[1]):
                        if when <= now:
                            item, _, channel = key.rpartition("/")
                            log.warning("due, not sent while publish.yml is unusable: goes out once it is fixed",
                                        extra={"fields": {"item": item, "channel": channel}})
                self._ran(now)
        except Exception as e:  # noqa: BLE001 -- one run's crash is logged; the ledger's claims are reconciled later
            self._error(f"run: {e}")
            log.exception("run failed: %s", e)
            self._ran(self.now())  # what it was running comes back with the next re-plan; the next time is armed
            return
        if report is not None:
            self._log_report(report)

    def _log_report(self, report) -> None:
        from .output import LABELS

        bad = False
        for o in report.outcomes:
            detail = o.url or o.detail
            if o.url and o.detail:
                detail = f"{o.url} ({o.detail})"
            level = LEVELS.get(o.result, logging.INFO)
            bad = bad or level >= logging.ERROR
            log.log(level, "%s %s → %s%s", LABELS.get(o.result, o.result), o.path, o.channel,
                    f"  {detail}" if detail else "",
                    extra={"fields": {"item": o.item, "channel": o.channel, "result": o.result, "url": o.url}})
            if level >= logging.ERROR:
                self._error(f"{o.path} → {o.channel}: {o.result} {o.detail}".rstrip())
        for note in report.notes:
            log.info("note: %s", note)
        if not bad:
            self._ok("run")

    def pull(self) -> None:
        """The engagement pull, as ``publish.py pull`` runs it; a line for each of its lines."""
        from reports.pull import pull

        if self.stop.is_set():
            return
        try:
            loaded = self._project()
            if not isinstance(loaded, tuple):
                self._settings_unusable(loaded, planning=False)
                log.warning("engagement pull skipped while publish.yml is unusable")
                return
            project, store = loaded
            result = pull(project, store, env=self.env, now=self.now(), clock=self.now)
        except Exception as e:  # noqa: BLE001
            self._error(f"pull: {e}")
            log.exception("engagement pull failed: %s", e)
            return
        for line in result.lines():
            log.info("pull: %s", line)
        self._ok("pull")


def serve(root: Path, env, *, replan_minutes: float, pull_cron: str | None, log_format: str = "text",
          health: int | None = None, watch: float | None = 2.0, stream=None) -> None:
    """``publish serve``: the service in this process until SIGTERM or SIGINT. Every line goes to
    ``stream`` (stderr) through ``logging``, as text or JSON lines; ``health``: a loopback port for
    the liveness and readiness probes."""
    import signal

    from apscheduler.schedulers.blocking import BlockingScheduler

    from newsroom.gcpause import one_shot

    from .project import load_project
    from .servicelog import configure

    one_shot(False)  # the project is loaded again and again: nothing may be frozen (newsroom/gcpause.py)
    configure(log_format, stream)
    load_project(root)  # unusable settings stop here, before the service starts
    service = Service(root, BlockingScheduler(timezone=timezone.utc), env=env, replan_minutes=replan_minutes,
                      pull_cron=pull_cron, watch=watch)
    probe = None
    if health is not None:
        from .servehealth import HealthServer

        probe = HealthServer(service, health)
        probe.start()

    def stop(signum, frame):
        # Not in the handler itself: it runs on the main thread, which may be inside the scheduler
        # holding its job store's lock, and shutdown waits for jobs that may need that lock.
        if not service.stop.is_set():
            log.info("stopping: the entry in flight finishes first")
            threading.Thread(target=service.shutdown, name="shutdown").start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("serving %s: re-planning every %g min%s%s; SIGTERM stops", root, replan_minutes,
             f", watching publish.yml and the content every {watch:g} s" if watch else "",
             f"; health on http://127.0.0.1:{probe.port}/livez and /readyz" if probe else "")
    try:
        service.start()
        if service.stop.is_set():
            service.stopped.wait()  # the scheduler's loop ends before the entry in flight does
    finally:
        if probe is not None:
            probe.close()
    log.info("stopped")
