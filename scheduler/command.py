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
from .shown import EXIT_OK, EXIT_PROBLEMS, Shown, bold, lines, listing


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


def publish(root: Path, *, now: datetime | str | None = None, dry_run: bool = False, only=(), force: bool = False,
            budget: float = 600.0, fmt: str = "text", env=None, sleep=None) -> Shown:
    """``publish``: every due entry sent once, a line each, and the run's exit code. ``now`` is a
    time, or ``--now`` as given (the clock when None)."""
    if not isinstance(now, datetime):
        from newsroom.times import now_option

        now = now_option(now)
    env = dict(os.environ) if env is None else env
    said: list[str] = []
    if force and not only:
        raise UsageError("--force needs --only PATH[:channel]: it overrides the time of the entries you name")
    full = not (dry_run or only or force)
    signatures: dict[str, str] = {}  # content folder → signature, taken once (10,000 stats)
    stats: dict[str, tuple] = {}  # and the stat key of each file it hashed, for the load
    if full:
        cached = noop_cache.quiet(root, now, env, signatures, stats)
        if cached is not None:
            code = _quiet(cached, now, said.append, fmt, env)
            return Shown(lines(said), exit_code=code)
    cached = noop_cache.read(root)
    content_dir = cached["content_dir"] if cached else "content"
    # before loading: an edit during the run is seen next time
    signature = signatures.get(content_dir) or noop_cache.content_signature(root, content_dir, stats)

    from newsroom.state import open_store

    from .project import load_project
    from .run import RunOptions, publish as run_publish

    project = load_project(root, stats=stats)  # the files as the signature saw them
    store = open_store(root, project.settings.state)
    opts = RunOptions(now=now, dry_run=dry_run, only=parse_only(only, project), force=force, budget=budget, env=env,
                      progress=progress_printer() if fmt == "text" else None)
    if sleep is not None:
        opts.sleep = sleep
    report = run_publish(project, store, opts)
    said.extend([output.as_json(report)] if fmt == "json" else output.lines(report))
    step_summary(output.markdown(report), env)
    # The no-op cache reads the files backend's ledger without opening the store; a shared database
    # changes under other machines' runs, so a project on it always runs in full.
    if (full and not report.stopped and not report.fatal and content_dir == project.settings.content_dir
            and project.settings.state.get("backend", "files") == "files"):
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
    return Shown(lines(said), notes=[f"error: {report.fatal}"] if report.fatal else [], exit_code=report.exit_code)


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


# -- the other commands' work: the command line parses options, calls one of these and shows the ``Shown``

def check(root: Path, *, strict: bool = False, fmt: str = "text", now: str | None = None, offline: bool = False,
          paths=()) -> Shown:
    """``check``: every problem of the project; with ``paths`` (files as given on the command line, e.g.
    by the pre-commit hook) only theirs and publish.yml's. Exit 2 when publish.yml has errors, else 1 when
    anything has errors (or with ``strict``, warnings)."""
    from newsroom.times import now_option

    from .project import check as check_project, load_project

    project = load_project(root)
    verdict = check_project(project, None if now is None else now_option(now), verify=not offline,
                            progress=progress_printer() if fmt == "text" else None)
    if paths:
        verdict = verdict.only(os.path.relpath(Path(p).resolve(), root).replace(os.sep, "/") for p in paths)
    # exit 2 when publish.yml has errors (publish would refuse to run), 1 for any other failure
    summary, code = verdict.summary(len(project.items)), verdict.exit_code(strict)
    sizes: list[str] = []
    if not paths:
        from newsroom.audience import segment_report

        sizes = segment_report(project.settings)[1]  # each segment's size, above the summary line
    if fmt == "json":
        return listing(fmt, {"errors": [p.as_dict() for p in verdict.errors],
                             "warnings": [p.as_dict() for p in verdict.warnings], "summary": summary,
                             **({"segments": sizes} if sizes else {})}, exit_code=code)
    rows = [row for title, problems in (("Errors", verdict.errors), ("Warnings", verdict.warnings)) if problems
            for row in (bold(title), *(f"  {p}" for p in problems))]
    return Shown(lines([*rows, *sizes, summary]), exit_code=code)


def new(root: Path, title: str, *, channels=(), at: str | None = None, campaign: str | None = None,
        author: str | None = None, today: str | None = None) -> Shown:
    """``new TITLE``: a new item's file, never over an existing one."""
    from newsroom.scaffold import new_item

    from .project import load_project

    path = new_item(load_project(root), title, channels=channels, at=at, campaign=campaign, author=author, today=today)
    return Shown(f"created {path}\n")


def init(folder: Path | None, *, example: bool = False, title: str | None = None, url: str | None = None,
         timezone: str | None = None, ask: Callable[[str, str], str] | None = None) -> Shown:
    """``init [FOLDER]``: a content repository to start from; ``ask(prompt, default)`` asks a person what
    no option gave (on a terminal), and without it the defaults are taken."""
    from datetime import date

    from newsroom import starter
    from newsroom.scaffold import git_author
    from newsroom.times import TimeError, zone

    root = (folder or Path.cwd()).resolve()
    answers = None
    if not example:
        given = starter.default_answers(root, git_author())

        def answer(value: str | None, prompt: str, default: str) -> str:
            return value or (ask(prompt, default) if ask else default)

        answers = starter.Answers(title=answer(title, "Site title", given.title), url=answer(url, "Site URL", given.url),
                                  timezone=answer(timezone, "Timezone", given.timezone), author=given.author)
        try:
            zone(answers.timezone)
        except TimeError as exc:
            raise UsageError(f"--timezone: {exc}") from None
    result = starter.init(root, answers, date.today())
    editors = starter.write(root, editor_files(root))
    result.written += editors.written
    result.kept += editors.kept
    return Shown(lines([*(f"wrote {rel}" for rel in result.written), *(f"kept {rel} (exists)" for rel in result.kept),
                        f"{len(result.written)} files written, {len(result.kept)} kept in {root}. Next: publish check, "
                        "then set the secrets publish.yml names (see .github/workflows/publish.yml)."]))


def editor_files(root: Path) -> dict[str, str]:
    """The schemas of front matter and publish.yml for the project at ``root`` (any channel names when
    its publish.yml cannot be used yet), and the editor settings that apply them."""
    from newsroom.editor_schemas import VSCODE_SETTINGS, text, vscode_settings
    from newsroom.problems import UnusableSettings

    from .project import editor_schemas

    try:
        documents = editor_schemas(root)
    except UnusableSettings:
        documents = editor_schemas(None)
    return {**{path: text(document) for path, document in documents.items()}, VSCODE_SETTINGS: vscode_settings()}


def import_posts(root: Path, tool: str, path: Path, *, approved_by: str | None = None, dry_run: bool = False,
                 fmt: str = "text") -> Shown:
    """``import TOOL PATH``: another tool's posts as items, never over an existing file."""
    from newsroom.importer import run_import

    from .project import load_project

    project = load_project(root)
    result = run_import(tool, path.resolve(), project.root, project.settings.content_dir, approved_by=approved_by,
                        dry_run=dry_run)
    return listing(fmt, result.as_dict(), result.lines(dry_run, bold))


def reference(root: Path, *, write: bool = False) -> Shown:
    """``reference``: the generated tables; with ``write`` into the project's docs/, never next to the
    installed code."""
    from newsroom.formats import write_file

    from .project import reference_text

    if write:
        return Shown(f"wrote {write_file(root / 'docs' / 'reference.md', reference_text())}\n")
    return Shown(reference_text())


def schema(root: Path, *, name: str | None = None, write: bool = False) -> Shown:
    """``schema [NAME]``: the JSON Schema of front matter (``front-matter``) or of publish.yml
    (``publish``) on standard output; with ``write``, into the project's schemas/ (both, or the one named)."""
    from newsroom.editor_schemas import NAMES, text
    from newsroom.formats import write_file

    from .project import editor_schemas

    documents = editor_schemas(root)
    if write:
        chosen = [NAMES[name]] if name else list(documents)
        return Shown(lines(f"wrote {write_file(root / path, text(documents[path])).relative_to(root)}"
                           for path in chosen))
    if name is None:
        raise UsageError("name the schema to print: publish schema front-matter (items) or publish schema "
                         "publish (publish.yml); --write writes both into schemas/")
    return Shown(text(documents[NAMES[name]]))


def calendar(root: Path, *, now: str | None = None, tz: str | None = None, since: str | None = None,
             until: str | None = None, fmt: str = "text", rev: str | None = None, channels=(), campaigns=(),
             statuses=(), authors=(), span=None, days: int = 14, split=None) -> Shown:
    """``calendar``: the view or format asked for, or the changes since git revision ``rev``."""
    from . import calendar as cal, views
    from .project import load_project

    project = load_project(root)
    entries, view_tz, when = cal.planned_view(project, now, tz)
    filters = views.Filters(channels=channels, campaigns=campaigns, statuses=statuses, authors=authors,
                            since=cal.day_option(since, "--since", view_tz),
                            until=cal.day_option(until, "--until", view_tz))
    view = cal.View(project, entries, view_tz, when, filters, span=span, days=days, split=split)
    return cal.changes_since(view, rev, fmt) if rev is not None else cal.show(view, fmt)


def plan(root: Path, *, now: str | None = None, write: bool = False, fmt: str = "text") -> Shown:
    """``plan``: the queue, and with ``write`` the chosen times written into the items. Exit 1 when an
    entry finds no free slot."""
    from . import calendar as cal, views, write as writer
    from .project import load_project

    project = load_project(root)
    entries, tz, _ = cal.planned_view(project, now, None)
    waiting = cal.queue(entries)
    changed = writer.write_times(project, [e for e in waiting if e.source == "slot"], tz) if write else {}
    rows, wrote = views.rows(waiting, tz), [f"wrote {path} ({n} time{'s' * (n != 1)})" for path, n in changed.items()]
    if fmt == "json":  # the files written go to standard error: standard output stays JSON
        return Shown(views.to_json(rows) + "\n", notes=wrote)
    return Shown(lines(wrote) + cal.queue_text(rows),
                 exit_code=EXIT_PROBLEMS if any(r["local"] is None for r in rows) else EXIT_OK)


def render(root: Path, path: str, *, channels=(), segment: str | None = None, fmt: str = "text",
           open_: bool = False) -> Shown:
    """``render PATH``: what the item would send on each channel (with ``open_``, an HTML page of them
    side by side, by its path). Exit 1 when a post has an error."""
    from channels import preview
    from newsroom.problems import ERROR
    from newsroom.project import typed_path

    from .project import load_project

    project = load_project(root)
    rel = typed_path(root, path)
    item, posts, units = preview.preview(project, rel, channels, segment)
    if not posts:
        return Shown(notes=[f"{rel} goes to no channel; preview one with --channel NAME"])
    text = f"{preview.write_preview(project, item, posts, units)}\n" if open_ else preview.show(posts, item.title,
                                                                                                units, fmt)
    failed = any(p.severity == ERROR for post in posts for p in post.problems)
    return Shown(text, exit_code=EXIT_PROBLEMS if failed else EXIT_OK)


def status(root: Path, *, now: str | None = None, offline: bool = False, fmt: str = "text",
           all_: bool = False) -> Shown:
    """``status``: per channel, what was delivered, failed, missed or is due next, and its credential;
    with ``all_``, every project that keeps its state in the same database (``statecmd.projects``)."""
    from newsroom.state import store_of

    if all_:
        from . import statecmd

        rows = statecmd.projects(root)
        return listing(fmt, rows, statecmd.projects_lines(rows))
    from newsroom.times import now_option

    from .project import load_project
    from .status import status as build, text

    project = load_project(root)
    report = build(project, store_of(project), now_option(now), os.environ, verify=not offline)
    return listing(fmt, report, () if fmt == "json" else text(report))


def resolve(root: Path, target: str, *, outcome: str | None, url: str | None = None,
            parts: int | None = None) -> Shown:
    """``resolve PATH[:CHANNEL]``: settle the entry as ``sent`` or ``not-sent``; what was recorded."""
    import getpass
    from datetime import timezone

    from newsroom.project import split_target
    from newsroom.state import store_of

    from .project import load_project
    from .resolve import resolve as settle

    if outcome is None:
        raise UsageError("say what happened: --sent (it is out) or --not-sent (send it)")
    project = load_project(root)
    path, channel = split_target(target)
    return Shown(lines(settle(project, store_of(project), path, channel, sent=outcome == "sent", url=url,
                              now=datetime.now(timezone.utc), who=getpass.getuser(), env=os.environ, parts=parts)))


def auth(root: Path, channel: str | None, *, say: Callable[[str], None] | None = None, terminal: bool | None = None,
         port: int | None = None,
         show: bool = False, no_browser: bool = False, timeout: float = 300, revoke: bool = False,
         new_key: bool = False) -> Shown:
    """``auth CHANNEL``: connect (or with ``revoke`` disconnect) the channel's account, telling the
    person each step through ``say``; the secret the flow yields is shown only when asked for
    (``show``) or when standard output is not a ``terminal``. ``new_key``: a key for NEWSROOM_KEY."""
    from channels.auth import Person, authorize

    from .project import load_project

    if new_key:
        from newsroom.credentials import NEW_KEY_ADVICE, new_key as make

        return Shown(make() + "\n", notes=[NEW_KEY_ADVICE])
    if not channel:
        raise UsageError("name the channel to connect, e.g. publish auth x")
    if say is None:  # each step as it happens, on standard error: standard output may be a pipe for the secret
        def say(line: str) -> None:
            print(line, file=sys.stderr, flush=True)
    terminal = sys.stdout.isatty() if terminal is None else terminal
    person = Person.at_terminal(say, browser=not no_browser, show=show or not terminal)
    result = authorize(load_project(root), channel, os.environ, person, revoke=revoke, port=port, timeout=timeout)
    return Shown(f"{result.secret}\n" if result.secret is not None and person.show else "", notes=result.lines)


def serve(root: Path, *, replan: float = 5.0, pull_cron: str = "0 6 * * *", watch: float = 2.0,
          log_format: str = "text", health: int | None = None) -> Shown:
    """``serve``: the service in this process until it is stopped (``scheduler.serve``)."""
    from .serve import serve as run_service

    run_service(root, dict(os.environ), replan_minutes=replan, pull_cron=pull_cron, watch=watch or None,
                log_format=log_format, health=health)
    return Shown()


def pull(root: Path, *, only=(), no_feeds: bool = False, fmt: str = "text") -> Shown:
    """``pull``: engagement of delivered entries and the feeds' mentions. Exit 1 when a call failed."""
    from datetime import timezone

    from newsroom.state import store_of
    from reports.pull import pull as run_pull

    from .project import load_project

    project = load_project(root)
    result = run_pull(project, store_of(project), env=dict(os.environ), now=datetime.now(timezone.utc),
                      clock=lambda: datetime.now(timezone.utc), only=only, feeds=not no_feeds,
                      progress=progress_printer("pulling"))
    return listing(fmt, result.as_dict(), result.lines(), exit_code=EXIT_PROBLEMS if result.failures else EXIT_OK)


def inbox(root: Path, *, unanswered: bool = False, fmt: str = "text") -> Shown:
    """``inbox``: the conversations (only unanswered ones with ``unanswered``) in ``fmt``."""
    from datetime import timezone

    from newsroom.state import store_of
    from reports import inbox as inbox_

    from .project import load_project

    project = load_project(root)
    items = [c for c in inbox_.load(store_of(project)) if not (unanswered and c.answered)]
    return Shown(inbox_.render(items, datetime.now(timezone.utc), project.settings.calendar.timezone, fmt))


def report(root: Path, *, since: str | None = None, until: str | None = None, by: str = "channel",
           fmt: str = "table", output: Path | None = None) -> Shown:
    """``report``: the engagement report of the period in ``fmt``, on standard output or into ``output``."""
    from datetime import timezone

    from newsroom.formats import write_file
    from newsroom.gcpause import collector_paused
    from newsroom.state import store_of
    from reports import formats
    from reports.report import for_period

    from .project import load_project

    from reports.sample import recorded_month, sample_of

    with collector_paused():  # hundreds of thousands of rows decoded, none of them in a cycle
        project = load_project(root)
        store = store_of(project)
        sample = sample_of(project, store)
        if sample is not None:  # the example before its first pull: the recorded month, labelled
            project = load_project(sample.folder)
            store = store_of(project)
            if since is None and until is None:
                since, until = recorded_month(store, project.settings.calendar.timezone) or (None, None)
        built = for_period(project, store, since=since, until=until, by=by, now=datetime.now(timezone.utc))
        if sample is not None:
            built.sample = sample.label
        text = formats.render(built, fmt)
    return Shown(f"wrote {write_file(output, text)}\n") if output else Shown(text)
