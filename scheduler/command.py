"""``publish.py publish`` end to end: the no-op shortcut, loading, the run, and its report.

The CLI hands in how to print; unusable settings raise ``UnusableSettings`` (the CLI makes that
exit 2). Everything else happens here so the command stays thin.
"""
from __future__ import annotations

import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Callable

from newsroom.problems import UsageError  # noqa: F401 - raised here, caught by the command line

from . import noop_cache, output


def parse_only(values, project) -> list[tuple[str, str | None]]:
    """``--only PATH[:CHANNEL]`` values, checked against the project."""
    from newsroom.problems import did_you_mean
    from newsroom.project import split_target

    out = []
    channels = project.settings.channels
    known = {i.path for i in project.items} | {i.id for i in project.items}
    for value in values:
        target, channel = split_target(value)
        if channel is not None and channel not in channels:
            raise UsageError(f"--only {value}: no channel named '{channel}'{did_you_mean(channel, channels)}")
        target = target.removeprefix("./")
        if target not in known:
            raise UsageError(f"--only {value}: no item '{target}'{did_you_mean(target, known)} "
                             "(give its path under content/ or its id)")
        out.append((target, channel))
    return out


def progress_printer(label: str | None = None, stream=None) -> Callable[..., None] | None:
    """A progress line for long work, ``[n/total] label``, only when ``stream`` (stderr) is a terminal;
    ``label`` is fixed (the pull) or given with each step (the run's entry)."""
    stream = stream or sys.stderr
    if not stream.isatty():
        return None

    def show(n: int, total: int, step: str | None = None) -> None:
        label_ = step if step is not None else label
        stream.write(f"\r\033[K[{n}/{total}] {label_}")
        if n == total:
            stream.write("\r\033[K")
        stream.flush()

    return show


def step_summary(text: str, env) -> None:
    target = env.get("GITHUB_STEP_SUMMARY")
    if target:
        with open(target, "a", encoding="utf-8") as f:
            f.write(text)


def publish(root: Path, *, now: datetime, echo: Callable[[str], None], dry_run: bool = False,
            only=(), force: bool = False, budget: float = 600.0, fmt: str = "text", env=None,
            sleep=None) -> int:
    env = dict(os.environ) if env is None else env
    if force and not only:
        raise UsageError("--force needs --only PATH[:channel]: it overrides the time of the entries you name")
    full = not (dry_run or only or force)
    if full:
        cached = noop_cache.quiet(root, now, env)
        if cached is not None:
            return _quiet(cached, now, echo, fmt, env)
    cached = noop_cache.read(root)
    content_dir = cached["content_dir"] if cached else "content"
    signature = noop_cache.content_signature(root, content_dir)  # before loading: an edit during the run is seen next time

    from newsroom.state import open_store

    from .project import load_project
    from .run import RunOptions, publish as run_publish

    project = load_project(root)
    store = open_store(root, project.settings.state)
    opts = RunOptions(now=now, dry_run=dry_run, only=parse_only(only, project), force=force, budget=budget, env=env,
                      progress=progress_printer() if fmt == "text" else None)
    if sleep is not None:
        opts.sleep = sleep
    report = run_publish(project, store, opts)
    if fmt == "json":
        echo(output.as_json(report))
    else:
        for line in output.lines(report):
            echo(line)
    if report.fatal:
        print(f"error: {report.fatal}", file=sys.stderr)
    step_summary(output.markdown(report), env)
    if full and not report.stopped and not report.fatal and content_dir == project.settings.content_dir:
        from channels.registry import Adapters

        from newsroom.credentials import KEY_VARIABLE

        # NEWSROOM_KEY too: set or changed, it may open state/credentials and activate a channel.
        names = sorted({ref for ch in Adapters(project, env).adapters.values() for ref in _secret_names(ch)}
                       | {KEY_VARIABLE})
        noop_cache.write(root, content_dir=content_dir, content=signature,
                    ledger=str(Path(project.settings.state.get("path", "state")) / "ledger.jsonl"),
                    ident=report.ledger_ident, quiet_until=report.quiet_until, next_due=report.next_due,
                    notes=report.standing, exit_code=2 if report.unusable else 0,
                    secrets=names + ["CI"], env=env, derived=report.derived)
    return report.exit_code


def _secret_names(channel) -> list[str]:
    from newsroom.schema import SecretRef

    return [ref.env for option in channel.SECRETS
            if isinstance(ref := channel.config.options.get(option), SecretRef)]


def _quiet(cached: dict, now: datetime, echo, fmt: str, env) -> int:
    import json

    text = output.nothing_due(now, cached.get("next"))
    if fmt == "json":
        echo(json.dumps({"now": now.isoformat(), "dry_run": False, "entries": [], "notes": cached["notes"],
                         "counts": {}, "next": cached.get("next"), "summary": text,
                         "exit_code": cached["exit_code"]}, indent=2, ensure_ascii=False))
    else:
        for note in cached["notes"]:
            echo(f"note: {note}")
        echo(text)
    step_summary(f"## Publish run, {output.when(now)}\n\n{text}\n\n", env)
    return cached["exit_code"]


# -- the other commands' work: the command line parses options, calls one of these and prints ----

def check(root: Path, *, now: str | None, offline: bool, paths=()):
    """``check``: the project's ``Verdict`` and its summary line; with ``paths`` (files as given on the
    command line, e.g. by the pre-commit hook) only their problems and publish.yml's."""
    import os

    from newsroom.times import now_option

    from .project import check as check_project, load_project

    project = load_project(root)
    verdict = check_project(project, None if now is None else now_option(now), verify=not offline)
    if paths:
        verdict = verdict.only(os.path.relpath(Path(p).resolve(), root).replace(os.sep, "/") for p in paths)
        return verdict, verdict.summary(len(project.items))
    from newsroom.audience import segment_report

    sizes = segment_report(project.settings)[1]  # each segment's size, above the summary line
    return verdict, "\n".join([*sizes, verdict.summary(len(project.items))])


def calendar(root: Path, *, now: str | None, tz: str | None, since: str | None, until: str | None, fmt: str,
             rev: str | None, channels=(), campaigns=(), statuses=(), authors=(), span=None, days: int = 14,
             split=None):
    """``calendar``: what to show (``Shown``), or the changes since git revision ``rev``."""
    from . import calendar as cal, views
    from .project import load_project

    project = load_project(root)
    entries, view_tz, when = cal.planned_view(project, now, tz)
    filters = views.Filters(channels=channels, campaigns=campaigns, statuses=statuses, authors=authors,
                            since=cal.day_option(since, "--since", view_tz),
                            until=cal.day_option(until, "--until", view_tz))
    view = cal.View(project, entries, view_tz, when, filters, span=span, days=days, split=split)
    return cal.changes_since(view, rev, fmt) if rev is not None else cal.show(view, fmt)


def plan(root: Path, *, now: str | None, write: bool) -> tuple[list[dict], dict]:
    """``plan``: the queue's rows, and with ``write`` the times written per file."""
    from . import calendar as cal, views, write as writer
    from .project import load_project

    project = load_project(root)
    entries, tz, _ = cal.planned_view(project, now, None)
    waiting = cal.queue(entries)
    changed = writer.write_times(project, [e for e in waiting if e.source == "slot"], tz) if write else {}
    return views.rows(waiting, tz), changed


def render(root: Path, typed: str, *, channels=(), segment: str | None = None):
    """``render``: the item's path, the item, its posts and the length units of their channels."""
    from channels import preview
    from newsroom.project import typed_path

    from .project import load_project

    project = load_project(root)
    rel = typed_path(root, typed)
    return (project, rel, *preview.preview(project, rel, channels, segment))


def status(root: Path, *, now: str | None, offline: bool) -> dict:
    from newsroom.state import store_of
    from newsroom.times import now_option

    from .project import load_project
    from .status import status as build

    project = load_project(root)
    return build(project, store_of(project), now_option(now), os.environ, verify=not offline)


def resolve(root: Path, target: str, *, sent: bool, url: str | None, parts: int | None) -> list[str]:
    """``resolve PATH[:CHANNEL]``: settle the entry; the lines that say what was recorded."""
    import getpass
    from datetime import timezone

    from newsroom.project import split_target
    from newsroom.state import store_of

    from .project import load_project
    from .resolve import resolve as settle

    project = load_project(root)
    path, channel = split_target(target)
    return settle(project, store_of(project), path, channel, sent=sent, url=url, now=datetime.now(timezone.utc),
                  who=getpass.getuser(), env=os.environ, parts=parts)


def auth(root: Path, channel: str, person, *, revoke: bool, port: int | None, timeout: float):
    """``auth CHANNEL``: connect (or with ``revoke`` disconnect) the channel's account."""
    from channels.auth import authorize

    from .project import load_project

    return authorize(load_project(root), channel, os.environ, person, revoke=revoke, port=port, timeout=timeout)


def pull(root: Path, *, only=(), feeds: bool = True):
    """``pull``: engagement of delivered entries and the feeds' mentions (a ``PullResult``)."""
    from datetime import timezone

    from newsroom.state import store_of
    from reports.pull import pull as run_pull

    from .project import load_project

    project = load_project(root)
    return run_pull(project, store_of(project), env=dict(os.environ), now=datetime.now(timezone.utc),
                    clock=lambda: datetime.now(timezone.utc), only=only, feeds=feeds,
                    progress=progress_printer("pulling"))


def inbox(root: Path, *, unanswered: bool, fmt: str) -> str:
    """``inbox``: the conversations (only unanswered ones with ``unanswered``) in ``fmt``."""
    from datetime import timezone

    from newsroom.state import store_of
    from reports import inbox as inbox_

    from .project import load_project

    project = load_project(root)
    items = [c for c in inbox_.load(store_of(project)) if not (unanswered and c.answered)]
    return inbox_.render(items, datetime.now(timezone.utc), project.settings.calendar.timezone, fmt)


def report(root: Path, *, since: str | None, until: str | None, by: str, fmt: str) -> str:
    """``report``: the engagement report of the period in ``fmt``."""
    from datetime import timezone

    from newsroom.gcpause import collector_paused
    from newsroom.state import store_of
    from reports import formats
    from reports.report import for_period

    from .project import load_project

    with collector_paused():  # hundreds of thousands of rows decoded, none of them in a cycle
        project = load_project(root)
        built = for_period(project, store_of(project), since=since, until=until, by=by, now=datetime.now(timezone.utc))
        return formats.render(built, fmt)
