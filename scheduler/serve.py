"""``publish.py serve``: the publish run as a long-lived service, for teams without a CI cron.

APScheduler 3 (https://apscheduler.readthedocs.io/en/3.x/userguide.html) holds one ``date`` job per
entry at its time, an ``interval`` job that reloads the content and re-plans (jobs follow edits,
moves and deletions), a thread that watches publish.yml and the content files and re-plans at
once when one changes, and a ``cron`` job for the engagement pull (``reports.pull``).

A job's ``misfire_grace_time`` is the channel's grace window: a job that fires late but inside it
runs; one past it is reported by APScheduler as missed (``EVENT_JOB_MISSED``), and the service then
runs the entry at once so the ledger records it as missed. ``max_instances=1`` and one lock keep a
job from running twice at once, but the ledger, not the scheduler, is what guarantees exactly once:
every job goes through the same claim as ``publish``. SIGTERM lets the entry in flight finish.

It speaks through ``logging`` (scheduler/servicelog.py). A publish.yml that becomes unusable is one
error line per re-plan (``publish.yml:4: channels.blog: …``): the jobs planned with the last good
settings stay, an entry that comes due meanwhile waits (one line), and once the file is usable again
the service says so and re-plans at once, so what waited goes out within seconds (inside its grace).
A content file with a problem is logged once, at its ``path:line``. ``status()`` is what the health
endpoint (scheduler/servehealth.py) answers: the last successful run and the last error.
"""
from __future__ import annotations

import logging
import math
import os
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from . import due
from .plan import plan
from .servicelog import LOGGER

ENTRY = "entry:"
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
        self.stop = threading.Event()
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
        from apscheduler.events import EVENT_JOB_MISSED
        from apscheduler.triggers.cron import CronTrigger

        self.scheduler.add_listener(self.on_missed, EVENT_JOB_MISSED)
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
        """Start nothing new; the entry in flight finishes, then the scheduler stops."""
        self.stop.set()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)

    # -- what an operator asks --------------------------------------------------------------------
    def status(self) -> dict:
        jobs = [j for j in self.scheduler.get_jobs() if j.id.startswith(ENTRY)] if self.scheduler.running else []
        upcoming = min((j.next_run_time for j in jobs if j.next_run_time), default=None)
        return {"alive": self.scheduler.running and not self.stop.is_set(),
                "ready": self.scheduler.running and not self.stop.is_set() and self.settings_broken is None
                and self.last_replan is not None,
                "started": iso(self.started), "settings": self.settings_broken or "usable",
                "last_replan": iso(self.last_replan), "last_success": self.last_success,
                "last_error": self.last_error, "entries_scheduled": len(jobs), "next_run": iso(upcoming)}

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
        """Reload the content and make the date jobs match the plan: add, move and drop them."""
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
                wanted: dict[str, tuple[datetime, int | None]] = {}
                for entry in plan(project, ledger=ledger, now=due.planning_time(project, now, channels.grace)):
                    if entry.channel in channels.inactive:
                        continue
                    grace = channels.grace(entry.channel)
                    d = due.decide(entry, ledger.get(entry.key), now, grace=grace, alive=store.run_alive)
                    seconds = None if grace is None else max(1, math.ceil(grace.total_seconds()))
                    if d.action in (due.WAIT, due.SEND, due.MISS):
                        wanted[entry.key] = (entry.at, seconds)  # a past time inside grace fires at once
                    elif d.action in (due.RECONCILE, due.CHANGED, due.CORRECT, due.WITHDRAW):
                        wanted[entry.key] = (now, None)
                    elif (d.action == due.DONE and entry.item.expires_at is not None and entry.item.expires_at > now
                          and (st := ledger.get(entry.key)) is not None and st.state == "delivered"):
                        wanted[entry.key] = (entry.item.expires_at, None)  # taken down when it expires
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
            self.last_replan = self.now()
            self._ok("replan")
        except Exception as e:  # noqa: BLE001 -- the service keeps running; the next re-plan tries again
            self._error(f"re-plan: {e}")
            log.exception("re-plan failed: %s", e)

    def run_entry(self, key: str, at: datetime | None = None, made: datetime | None = None) -> None:
        """A job's entry is due: run every entry due now, as ``publish`` does. When many fall due
        together (2,000 at once), the first job's run takes them all; the jobs after it, due no later
        than that run's start and made before it (``at``, ``made``), find their entry taken and return.
        Other processes serving the same database share the work through the claims: an entry
        another one claimed is skipped."""
        from .run import RunOptions, publish

        item, _, channel = key.rpartition("/")
        fields = {"item": item, "channel": channel}
        try:
            with self.lock:
                if self.stop.is_set():
                    return
                if at is not None and self.last_run is not None and self.last_run >= max(at, made or at):
                    return  # the last run took it
                now = self.now()
                loaded = self._project(keep=True)
                if not isinstance(loaded, tuple):
                    self._settings_unusable(loaded, planning=False)
                    log.warning("due, not sent while publish.yml is unusable: goes out once it is fixed",
                                extra={"fields": fields})
                    return
                project, store = loaded
                self.last_run = now
                report = publish(project, store, RunOptions(now=now, env=self.env, stop=self.stop, answered=utcnow))
        except Exception as e:  # noqa: BLE001 -- one entry's crash is logged; the ledger's claim is reconciled later
            self._error(f"{key}: {e}")
            log.exception("run of %s failed: %s", key, e, extra={"fields": fields})
            return
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
            log.info("note: %s", note, extra={"fields": fields})
        if not bad:
            self._ok(f"run {key}")

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

    def on_missed(self, event) -> None:
        """APScheduler skipped a job past its grace: run it now so the ledger records the miss."""
        if event.job_id.startswith(ENTRY) and not self.stop.is_set():
            key = event.job_id[len(ENTRY):]
            self.scheduler.add_job(self.run_entry, args=[key], id=f"missed:{key}", replace_existing=True)


def serve(root: Path, env, *, replan_minutes: float, pull_cron: str | None, log_format: str = "text",
          health: int | None = None, watch: float | None = 2.0, stream=None) -> None:
    """``publish serve``: the service in this process until SIGTERM or SIGINT. Every line goes to
    ``stream`` (stderr) through ``logging``, as text or JSON lines; ``health``: a loopback port for
    the liveness and readiness probes."""
    import signal

    from apscheduler.schedulers.blocking import BlockingScheduler

    from .project import load_project
    from .servicelog import configure

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
        log.info("stopping: the entry in flight finishes first")
        service.shutdown()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("serving %s: re-planning every %g min%s%s; SIGTERM stops", root, replan_minutes,
             f", watching publish.yml and the content every {watch:g} s" if watch else "",
             f"; health on http://127.0.0.1:{probe.port}/livez and /readyz" if probe else "")
    try:
        service.start()
    finally:
        if probe is not None:
            probe.close()
    log.info("stopped")
