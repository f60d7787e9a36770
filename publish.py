#!/usr/bin/env python3
"""The command line: ``python publish.py <command>`` (or ``publish <command>`` once installed).

Thin on purpose: each command parses its options and calls plain functions in ``newsroom``,
``scheduler``, ``channels`` and ``reports``. Domain errors become a clean message and an exit code
here, at the boundary; a user mistake never shows a traceback.

Exit codes: 0 all good, 1 problems found (or entries failed), 2 unusable settings or input.
"""
from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from pathlib import Path

import click

from newsroom.gcpause import collector_paused
from newsroom.problems import ERROR, WARNING, UnusableSettings, UsageError

EXIT_OK, EXIT_PROBLEMS, EXIT_UNUSABLE = 0, 1, 2


def unusable(exc: UnusableSettings) -> None:
    """Unusable settings, said at the boundary: every problem, then exit 2."""
    for problem in exc.problems:
        click.echo(f"error: {problem}", err=True)
    click.echo("publish.yml cannot be used; fix the problems above.", err=True)
    sys.exit(EXIT_UNUSABLE)


def load(root: Path):
    """The project at ``root`` (items cached between commands); exit 2 when unusable."""
    from scheduler.project import load_project

    try:
        return load_project(root)
    except UnusableSettings as exc:
        unusable(exc)


def _print_version(ctx: click.Context, _param, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from newsroom.resources import version

    click.echo(f"{ctx.find_root().info_name} {version()}")
    ctx.exit()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
              help="Show the version and exit.")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Project folder (default: the nearest folder upwards with publish.yml).")
@click.pass_context
def cli(ctx: click.Context, root: Path | None) -> None:
    """Plan, render, publish and measure content kept in git."""
    if root is None:
        from newsroom.project import find_root

        root = find_root()
    ctx.obj = {"root": root.resolve()}


def parse_now(text: str | None) -> datetime | None:
    """``--now`` read strictly (None when not given): a clear message and exit 2 when it is not a time."""
    if text is None:
        return None
    from newsroom.times import parse_instant

    try:
        return parse_instant(text)
    except ValueError:
        click.echo(f"error: --now: '{text}' is not a date-time (use 2026-11-27T09:00Z or 2026-11-27T09:00+01:00)",
                   err=True)
        sys.exit(EXIT_UNUSABLE)


def now_or_clock(text: str | None) -> datetime:
    """``--now``, or the clock when it is not given."""
    from datetime import timezone

    return parse_now(text) or datetime.now(timezone.utc)


def usage(fn, *args, **kwargs):
    """``fn(*args, **kwargs)``; a ``UsageError`` becomes its message and exit 2."""
    try:
        return fn(*args, **kwargs)
    except UsageError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_UNUSABLE)


def print_problems(problems, fmt: str, summary: str, out=None) -> None:
    errors = [p for p in problems if p.severity == ERROR]
    warnings = [p for p in problems if p.severity == WARNING]
    if fmt == "json":
        click.echo(json.dumps({"errors": [p.as_dict() for p in errors],
                               "warnings": [p.as_dict() for p in warnings],
                               "summary": summary}, indent=2, ensure_ascii=False))
        return
    if errors:
        click.echo(click.style("Errors", bold=True))
        for p in errors:
            click.echo(f"  {p}")
    if warnings:
        click.echo(click.style("Warnings", bold=True))
        for p in warnings:
            click.echo(f"  {p}")
    click.echo(summary)


@cli.command()
@click.option("--strict", is_flag=True, help="Warnings fail too.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--now", "now", default=None, metavar="TIME", help="Check as if it were this time (ISO, UTC unless an offset is given).")
@click.option("--offline", is_flag=True, help="Do not ask the platforms whether the credentials work.")
@click.pass_obj
def check(obj: dict, strict: bool, fmt: str, now: str | None, offline: bool) -> None:
    """Validate publish.yml and every item; list every problem as path:line: key: message."""
    from scheduler.project import check as check_project

    project = load(obj["root"])
    verdict = check_project(project, parse_now(now), verify=not offline)
    errors, warnings = len(verdict.errors), len(verdict.warnings)
    files = len(verdict.by_path())
    summary = (f"{len(project.items)} items checked: "
               + (f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)} in {files} "
                  f"file{'s' * (files != 1)}" if verdict.problems else "no problems"))
    print_problems(verdict.problems, fmt, summary)
    if verdict.failed(strict):
        sys.exit(EXIT_PROBLEMS)


@cli.command()
@click.argument("title")
@click.option("--channel", "channels", multiple=True, help="A channel it goes to (repeat for more).")
@click.option("--at", "at", default=None, help="Publish time, e.g. 2026-12-01T09:00 (project timezone).")
@click.option("--campaign", default=None, help="Campaign name.")
@click.option("--author", default=None, help="Author (default: git user.name, else $USER).")
@click.option("--today", default=None, help="Date that decides the folder, YYYY-MM-DD (default: today).")
@click.pass_obj
def new(obj: dict, title: str, channels: tuple[str, ...], at: str | None, campaign: str | None,
        author: str | None, today: str | None) -> None:
    """Scaffold an item at content/YYYY/MM/<slug>.md; never overwrites."""
    from newsroom import scaffold

    project = load(obj["root"])
    try:
        path = scaffold.new_item(project, title, channels=channels, at=at, campaign=campaign, author=author,
                                 today=today)
    except scaffold.ScaffoldError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_UNUSABLE if exc.unusable else EXIT_PROBLEMS)
    click.echo(f"created {path}")


@cli.command()
@click.option("--write", is_flag=True, help="Write docs/reference.md instead of printing it.")
@click.pass_obj
def reference(obj: dict, write: bool) -> None:
    """The reference tables (front matter, settings, channel options), generated from the schemas."""
    from scheduler.project import reference_text

    text = reference_text()
    if write:  # into the project's docs/, never next to the installed code
        target = obj["root"] / "docs" / "reference.md"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        click.echo(f"wrote {target}")
    else:
        click.echo(text, nl=False)


# == calendar: calendar, plan ==

def _calendar_inputs(obj: dict, now: str | None, tz: str | None):
    """The project, its planned entries, the view's timezone and ``now``; exit 2 on unusable input."""
    from scheduler.calendar import planned

    project = load(obj["root"])
    broken = [p for p in project.problems if p.path == project.settings.path and p.severity == ERROR]
    if broken:
        # A calendar planned with half its rules would mislead: the settings come first.
        for problem in broken:
            click.echo(f"error: {problem}", err=True)
        click.echo("publish.yml has errors; fix them first (python publish.py check lists everything).", err=True)
        sys.exit(EXIT_UNUSABLE)
    when = now_or_clock(now)
    entries, view_tz = usage(planned, project, when, tz)
    return project, entries, view_tz, when


@cli.command()
@click.option("--week", "span", flag_value="week", help="This week, Monday to Sunday.")
@click.option("--month", "span", flag_value="month", help="This month as a grid.")
@click.option("--days", type=click.IntRange(1, 3660), default=14, show_default=True,
              help="Days after today the agenda shows.")
@click.option("--channel", "channels", multiple=True, help="Only this channel (repeat for more).")
@click.option("--campaign", "campaigns", multiple=True, help="Only this campaign (repeat for more).")
@click.option("--status", "statuses", multiple=True, help="Only this status or ledger state (repeat for more).")
@click.option("--author", "authors", multiple=True, help="Only items by this author (repeat for more).")
@click.option("--since", default=None, help="From this date or date-time (calendar timezone).")
@click.option("--until", default=None, help="Up to (not including) this date or date-time.")
@click.option("--tz", default=None, help="Show times in this timezone (default: calendar.timezone).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "csv", "ics", "html", "md"]), default="text",
              show_default=True, help="md is for --diff.")
@click.option("--split", type=click.Choice(["channel"]), default=None,
              help="With --format ics: one feed per channel, written to output.calendar.")
@click.option("--diff", "rev", default=None, metavar="REV", help="What changed since this git revision.")
@click.option("--now", default=None, metavar="TIME", help="Plan as if it were this time (ISO; UTC unless an offset is given).")
@click.pass_obj
def calendar(obj: dict, span, days, channels, campaigns, statuses, authors, since, until, tz, fmt, split, rev,
             now) -> None:
    """What goes out when, where, and whether it is ready: agenda, week, month, json, csv, ics, html, diff."""
    from scheduler import calendar as cal, views

    project, entries, view_tz, when = _calendar_inputs(obj, now, tz)
    filters = views.Filters(channels=channels, campaigns=campaigns, statuses=statuses, authors=authors,
                            since=usage(cal.day_option, since, "--since", view_tz),
                            until=usage(cal.day_option, until, "--until", view_tz))
    view = cal.View(project, entries, view_tz, when, filters, span=span, days=days, split=split)
    shown = usage(cal.changes_since, view, rev, fmt) if rev is not None else usage(cal.show, view, fmt)
    if shown.text:
        click.echo(shown.text, nl=False)
    if shown.data:
        sys.stdout.buffer.write(shown.data)
        sys.stdout.buffer.flush()
    for line in shown.wrote:
        click.echo(line)


@cli.command()
@click.option("--write", is_flag=True, help="Write the chosen times into the items (channels.<name>.at).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--now", default=None, metavar="TIME", help="Plan as if it were this time.")
@click.pass_obj
def plan(obj: dict, write: bool, fmt: str, now: str | None) -> None:
    """The queue: which slot each waiting entry takes; --write pins those times in the items."""
    from scheduler import calendar as cal, views, write as writer

    project, entries, tz, when = _calendar_inputs(obj, now, None)
    waiting = cal.queue(entries)
    rows = views.rows(waiting, tz)
    if write:
        changed = writer.write_times(project, [e for e in waiting if e.source == "slot"], tz)
        for path, n in changed.items():
            click.echo(f"wrote {path} ({n} time{'s' * (n != 1)})", err=fmt == "json")
    click.echo(views.to_json(rows) if fmt == "json" else cal.queue_text(rows), nl=fmt == "json")
    if fmt != "json" and any(r["local"] is None for r in rows):
        sys.exit(EXIT_PROBLEMS)



# == rendering: render ==
@cli.command()
@click.argument("path")
@click.option("--channel", "channel_names", multiple=True, help="Only this channel (repeat for more; default: the item's).")
@click.option("--segment", default=None, help="Render for this audience segment.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "html"]), default="text", show_default=True)
@click.option("--open", "open_", is_flag=True, help="Write an HTML preview of every channel side by side and print its path.")
@click.pass_obj
def render(obj: dict, path: str, channel_names: tuple[str, ...], segment: str | None, fmt: str, open_: bool) -> None:
    """Show exactly what an item would send on each channel, each part's length against its limit."""
    from channels import preview
    from newsroom.project import typed_path

    project = load(obj["root"])
    rel = typed_path(obj["root"], path)
    item, posts, units = usage(preview.preview, project, rel, channel_names, segment)
    if not posts:
        click.echo(f"{rel} goes to no channel; preview one with --channel NAME", err=True)
        return
    if open_:
        out = project.settings.output_dir("reports") / "preview" / f"{item.id}.html"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(preview.html_preview(posts, item.title, units), encoding="utf-8")
        click.echo(str(out))
    elif fmt == "json":
        click.echo(preview.dumps(posts))
    elif fmt == "html":
        click.echo(preview.html_preview(posts, item.title, units), nl=False)
    else:
        click.echo(preview.text_report(posts, units), nl=False)
    if any(p.severity == ERROR for post in posts for p in post.problems):
        sys.exit(EXIT_PROBLEMS)


# == the publish run: publish, status, serve ==

@cli.command("publish")
@click.option("--now", "now", default=None, metavar="TIME", help="Act as if it were this time (UTC unless an offset is given).")
@click.option("--dry-run", is_flag=True, help="Do everything but the final request; record nothing.")
@click.option("--only", multiple=True, metavar="PATH[:CHANNEL]", help="Only this item (path or id), optionally on one channel.")
@click.option("--force", is_flag=True, help="Send the --only entries now, whatever their time (never twice).")
@click.option("--budget", type=float, default=600.0, show_default=True, help="Seconds the run may spend retrying.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
def publish_command(obj: dict, now: str | None, dry_run: bool, only: tuple[str, ...], force: bool, budget: float,
                    fmt: str) -> None:
    """Send every entry that is due, exactly once, and record it in the ledger."""
    from scheduler import command

    try:
        code = command.publish(obj["root"], now=now_or_clock(now), echo=click.echo, dry_run=dry_run,
                               only=only, force=force, budget=budget, fmt=fmt)
    except UnusableSettings as exc:
        unusable(exc)
    except UsageError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_UNUSABLE)
    sys.exit(code)


@cli.command()
@click.option("--now", "now", default=None, metavar="TIME", help="As of this time (default: now).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--offline", is_flag=True, help="Do not ask the platforms whether the credentials work.")
@click.pass_obj
def status(obj: dict, now: str | None, fmt: str, offline: bool) -> None:
    """Per channel: delivered, failed, claimed without a receipt, missed, due next, and its credential."""
    import os

    from newsroom.state import open_store
    from scheduler.status import status as build, text

    project = load(obj["root"])
    report = build(project, open_store(obj["root"], project.settings.state), now_or_clock(now), os.environ,
                   verify=not offline)
    if fmt == "json":
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        for line in text(report):
            click.echo(line)


@cli.command()
@click.argument("channel", required=False)
@click.option("--port", type=click.IntRange(0, 65535), default=None,
              help="Loopback port for the redirect (default 8976 for X and LinkedIn; any free one for Mastodon).")
@click.option("--show", is_flag=True, help="Print the secret the flow yields (Mastodon's token) on standard output.")
@click.option("--no-browser", is_flag=True, help="Print the authorization URL only; do not open a browser.")
@click.option("--timeout", type=click.FloatRange(1, 3600), default=300, show_default=True,
              help="Seconds to wait for the browser's answer.")
@click.option("--revoke", is_flag=True, help="Revoke the stored tokens with the platform and forget them.")
@click.option("--new-key", is_flag=True, help="Print a new key for NEWSROOM_KEY (encrypts state/credentials).")
@click.pass_obj
def auth(obj: dict, channel: str | None, port: int | None, show: bool, no_browser: bool, timeout: float,
         revoke: bool, new_key: bool) -> None:
    """Connect a channel's account: OAuth with PKCE (X, LinkedIn), app registration (Mastodon), app
    password (Bluesky); tokens a run renews are kept encrypted in state/credentials."""
    import getpass
    import webbrowser

    from channels import auth as flows

    if new_key:
        from newsroom.credentials import KEY_VARIABLE, new_key as make

        click.echo(make())
        click.echo(f"Keep it as {KEY_VARIABLE} in your shell and as a CI secret (gh secret set {KEY_VARIABLE}); "
                   "whoever has it can read state/credentials.", err=True)
        return
    if not channel:
        click.echo("error: name the channel to connect, e.g. publish auth x", err=True)
        sys.exit(EXIT_UNUSABLE)
    project = load(obj["root"])
    person = flows.Person(say=lambda line: click.echo(line, err=True),
                          open_browser=(lambda url: False) if no_browser else webbrowser.open,
                          ask_secret=lambda prompt: getpass.getpass(f"{prompt}: "),
                          show=show or not sys.stdout.isatty())
    try:
        adapter = flows.adapter_for(project, channel, os.environ)
        result = flows.disconnect(adapter) if revoke else flows.connect(adapter, person, port=port, timeout=timeout)
    except flows.AuthError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_PROBLEMS)
    for line in result.lines:
        click.echo(line, err=True)
    if result.secret is not None and person.show:
        click.echo(result.secret)


@cli.command()
@click.argument("target", metavar="PATH[:CHANNEL]")
@click.option("--sent", "outcome", flag_value="sent", help="It is out (found on the platform): record it as delivered.")
@click.option("--not-sent", "outcome", flag_value="not-sent", help="It is not out: let the next run send it.")
@click.option("--url", default=None, help="The post's URL, with --sent.")
@click.option("--parts", type=int, default=None, metavar="N",
              help="With --sent, for a thread the platform cannot be asked about: how many parts are out.")
@click.pass_obj
def resolve(obj: dict, target: str, outcome: str | None, url: str | None, parts: int | None) -> None:
    """Settle an entry the run could not: did it go out (--sent) or not (--not-sent)?"""
    import getpass
    from datetime import timezone

    from newsroom.state import open_store
    from scheduler.resolve import ResolveError, resolve as settle

    if outcome is None:
        click.echo("error: say what happened: --sent (it is out) or --not-sent (send it)", err=True)
        sys.exit(EXIT_UNUSABLE)
    from newsroom.project import split_target

    project = load(obj["root"])
    path, channel = split_target(target)
    try:
        lines = settle(project, open_store(obj["root"], project.settings.state), path, channel,
                       sent=outcome == "sent", url=url, now=datetime.now(timezone.utc), who=getpass.getuser(),
                       env=os.environ, parts=parts)
    except ResolveError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_UNUSABLE)
    for line in lines:
        click.echo(line)


@cli.command()
@click.option("--replan", "replan", type=float, default=5.0, show_default=True, metavar="MINUTES",
              help="How often to reload the content and re-plan.")
@click.option("--pull-cron", default="0 6 * * *", show_default=True,
              help="When the engagement pull runs (crontab, UTC).")
@click.pass_obj
def serve(obj: dict, replan: float, pull_cron: str) -> None:
    """Run as a service: publish each entry at its time (APScheduler), re-plan as content changes."""
    import os
    import signal
    from datetime import timezone

    from apscheduler.schedulers.blocking import BlockingScheduler

    from scheduler.serve import Service

    root = obj["root"]
    load(root)  # unusable settings stop here, with exit 2
    service = Service(root, BlockingScheduler(timezone=timezone.utc), env=dict(os.environ),
                      replan_minutes=replan, pull_cron=pull_cron, echo=click.echo)

    def stop(signum, frame):
        click.echo("stopping: the entry in flight finishes first", err=True)
        service.shutdown()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    click.echo(f"serving {root}: re-planning every {replan:g} min; SIGTERM stops", err=True)
    service.start()
    click.echo("stopped", err=True)


# == engagement: pull, inbox, report ==


def _engagement_store(project):
    from newsroom.state import open_store

    return open_store(project.root, project.settings.state)


@cli.command()
@click.option("--channel", "only", multiple=True, help="Only this channel (repeat for more).")
@click.option("--no-feeds", is_flag=True, help="Skip the listening feeds.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
def pull(obj: dict, only: tuple[str, ...], no_feeds: bool, fmt: str) -> None:
    """Fetch engagement numbers and replies of delivered entries, and mentions from feeds."""
    import os
    from datetime import timezone

    from reports.pull import pull as run_pull
    from scheduler.command import progress_printer

    project = load(obj["root"])
    store = _engagement_store(project)
    result = run_pull(project, store, env=dict(os.environ), now=datetime.now(timezone.utc),
                      clock=lambda: datetime.now(timezone.utc), only=only, feeds=not no_feeds,
                      progress=progress_printer("pulling"))
    if fmt == "json":
        click.echo(json.dumps(result.as_dict(), indent=2, ensure_ascii=False))
    else:
        for line in result.lines():
            click.echo(line)
    if result.failures:
        sys.exit(EXIT_PROBLEMS)


@cli.command()
@click.option("--unanswered", is_flag=True, help="Only conversations we have not answered.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
def inbox(obj: dict, unanswered: bool, fmt: str) -> None:
    """Replies and mentions from every channel, newest first, with the age of unanswered ones."""
    from datetime import timezone

    from reports import inbox as inbox_

    project = load(obj["root"])
    items = inbox_.load(_engagement_store(project))
    if unanswered:
        items = [c for c in items if not c.answered]
    click.echo(inbox_.render(items, datetime.now(timezone.utc), project.settings.calendar.timezone, fmt), nl=False)


@cli.command()
@click.option("--since", default=None, help="Start: a date, date-time or duration back from now (7d). Default: 30 days.")
@click.option("--until", default=None, help="End: a date (through that day), date-time or duration. Default: now.")
@click.option("--by", type=click.Choice(["item", "channel", "campaign", "tag", "author", "segment"]),
              default="channel", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "md", "html", "csv", "json"]), default="table",
              show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of standard output.")
@click.pass_obj
def report(obj: dict, since: str | None, until: str | None, by: str, fmt: str, output: Path | None) -> None:
    """Engagement for a period: totals, groups, top posts, best times, campaigns, conversations."""
    from datetime import timezone

    from reports import formats
    from reports.report import PeriodError, build, period_bounds

    with collector_paused():  # hundreds of thousands of rows decoded, none of them in a cycle
        project = load(obj["root"])
        try:
            start, end = period_bounds(since, until, now=datetime.now(timezone.utc),
                                       tz=project.settings.calendar.timezone)
        except PeriodError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_UNUSABLE)
        text = formats.render(build(project, _engagement_store(project), since=start, until=end, by=by), fmt)
    if output:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}")
    else:
        click.echo(text, nl=False)


#: Shell completion reads this variable (``_PUBLISH_COMPLETE=bash_source publish``), whatever the
#: program is called: ``publish`` once installed, ``publish.py`` in a checkout.
COMPLETE_VAR = "_PUBLISH_COMPLETE"


def main() -> None:
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "publish"
    cli(prog_name="publish.py" if name == "publish.py" else "publish", complete_var=COMPLETE_VAR)


if __name__ == "__main__":
    main()
