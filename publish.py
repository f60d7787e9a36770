#!/usr/bin/env python3
"""The command line: ``python publish.py <command>`` (or ``publish <command>`` once installed).

Option parsing and printing only: each command reads its options, calls one function of
``scheduler``, ``reports``, ``channels`` or ``newsroom`` and prints what it gives back. Expected
failures (a ``Refusal`` such as a ``UsageError``, and ``UnusableSettings``) become their message and
an exit code in ``Commands``, here at the boundary; a user mistake never shows a traceback.

Exit codes: 0 all good, 1 problems found (or entries failed), 2 unusable settings or input.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from newsroom.problems import ERROR, Refusal, UnusableSettings

EXIT_OK, EXIT_PROBLEMS, EXIT_UNUSABLE = 0, 1, 2


def fail(message: str, code: int = EXIT_UNUSABLE) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def emit(fmt: str, data, lines=()) -> None:
    """A listing, printed once for every command: ``data`` as JSON with ``--format json``, else ``lines``."""
    if fmt == "json":
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        for line in lines:
            click.echo(line)


class Commands(click.Group):
    """The command group; a command's expected failure becomes its message and exit code here."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except UnusableSettings as exc:
            for problem in exc.problems:
                click.echo(f"error: {problem}", err=True)
            click.echo(exc.advice, err=True)
            sys.exit(EXIT_UNUSABLE)
        except Refusal as exc:
            fail(str(exc), exc.exit_code)


def load(root: Path):
    """The project at ``root``; ``UnusableSettings`` when publish.yml cannot be used."""
    from scheduler.project import load_project

    return load_project(root)


def _print_version(ctx: click.Context, _param, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from newsroom.resources import version

    click.echo(f"{ctx.find_root().info_name} {version()}")
    ctx.exit()


def format_option(*choices: str, default: str = "text", **kwargs):
    return click.option("--format", "fmt", type=click.Choice(list(choices)), default=default, show_default=True,
                        **kwargs)


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]})
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


@cli.command()
@click.option("--strict", is_flag=True, help="Warnings fail too.")
@format_option("text", "json")
@click.option("--now", "now", default=None, metavar="TIME", help="Check as if it were this time (ISO, UTC unless an offset is given).")
@click.option("--offline", is_flag=True, help="Do not ask the platforms whether the credentials work.")
@click.argument("paths", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def check(obj: dict, strict: bool, fmt: str, now: str | None, offline: bool, paths: tuple[Path, ...]) -> None:
    """Validate publish.yml and every item; list every problem as path:line: key: message.

    With PATHS (the pre-commit hook's changed files), only their problems and publish.yml's."""
    from scheduler import command

    verdict, summary = command.check(obj["root"], now=now, offline=offline, paths=paths)
    if fmt == "json":
        emit(fmt, {"errors": [p.as_dict() for p in verdict.errors],
                   "warnings": [p.as_dict() for p in verdict.warnings], "summary": summary})
    else:
        for title, problems in (("Errors", verdict.errors), ("Warnings", verdict.warnings)):
            if problems:
                click.echo(click.style(title, bold=True))
                emit(fmt, None, (f"  {p}" for p in problems))
        click.echo(summary)
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

    path = scaffold.new_item(load(obj["root"]), title, channels=channels, at=at, campaign=campaign, author=author,
                             today=today)
    click.echo(f"created {path}")


@cli.command()
@click.argument("folder", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--example", is_flag=True, help="Copy the full example newsroom instead of the small start.")
@click.option("--title", default=None, help="The site's title (asked on a terminal; default: the folder's name).")
@click.option("--url", default=None, help="Where the blog is served (asked on a terminal).")
@click.option("--timezone", default=None, help="The calendar's IANA timezone (asked on a terminal; default: UTC).")
def init(folder: Path | None, example: bool, title: str | None, url: str | None, timezone: str | None) -> None:
    """Start a content repository in FOLDER (default: here): settings, an item, workflows; never overwrites."""
    from datetime import date

    from newsroom import starter
    from newsroom.scaffold import git_author
    from newsroom.times import TimeError, zone

    root = (folder or Path.cwd()).resolve()
    answers = None
    if not example:
        given = starter.default_answers(root, git_author())
        ask = sys.stdin.isatty() and sys.stdout.isatty()  # in CI or a script: take the defaults, ask nothing
        answers = starter.Answers(
            title=title or (click.prompt("Site title", default=given.title) if ask else given.title),
            url=url or (click.prompt("Site URL", default=given.url) if ask else given.url),
            timezone=timezone or (click.prompt("Timezone", default=given.timezone) if ask else given.timezone),
            author=given.author)
        try:
            zone(answers.timezone)
        except TimeError as exc:
            click.echo(f"error: --timezone: {exc}", err=True)
            sys.exit(EXIT_UNUSABLE)
    result = starter.init(root, answers, date.today())
    for rel in result.written:
        click.echo(f"wrote {rel}")
    for rel in result.kept:
        click.echo(f"kept {rel} (exists)")
    click.echo(f"{len(result.written)} files written, {len(result.kept)} kept in {root}. "
               "Next: publish check, then set the secrets publish.yml names (see .github/workflows/publish.yml).")


@cli.command("import")
@click.argument("tool", type=click.Choice(["jekyll", "hugo", "pelican"]))
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--approved-by", default=None, metavar="NAME",
              help="Approve the posts that were live there (default: they come in for review).")
@click.option("--dry-run", is_flag=True, help="Say what would be imported; write nothing.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
def import_command(obj: dict, tool: str, path: Path, approved_by: str | None, dry_run: bool, fmt: str) -> None:
    """Turn another tool's posts (Jekyll, Hugo, Pelican) into items; never overwrites."""
    from newsroom.importer import run_import

    project = load(obj["root"])
    result = run_import(tool, path.resolve(), project.root, project.settings.content_dir, approved_by=approved_by,
                        dry_run=dry_run)
    if fmt == "json":
        click.echo(json.dumps(result.as_dict(), indent=2, ensure_ascii=False))
        return
    verb = "would import" if dry_run else "imported"
    for c in result.imported:
        click.echo(f"{verb} {c.source} → {c.target}")
    for image in result.images:
        click.echo(f"copied {image}")
    for target in result.kept:
        click.echo(f"kept {target} (exists)")
    for source, why in result.skipped:
        click.echo(f"skipped {source}: {why}")
    if result.needs_person:
        click.echo(click.style("Needs a person", bold=True))
        for source, line, what in result.needs_person:
            click.echo(f"  {source}{f':{line}' if line else ''}: {what}")
    click.echo(f"{len(result.imported)} {verb}, {len(result.kept)} kept, {len(result.skipped)} skipped; "
               f"{len(result.needs_person)} to look at. Then: publish check")


@cli.command()
@click.option("--write", is_flag=True, help="Write docs/reference.md instead of printing it.")
@click.pass_obj
def reference(obj: dict, write: bool) -> None:
    """The reference tables (front matter, settings, channel options), generated from the schemas."""
    from newsroom.formats import write_file
    from scheduler.project import reference_text

    if write:  # into the project's docs/, never next to the installed code
        click.echo(f"wrote {write_file(obj['root'] / 'docs' / 'reference.md', reference_text())}")
    else:
        click.echo(reference_text(), nl=False)


# == calendar: calendar, plan ==

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
@format_option("text", "json", "csv", "ics", "html", "md", help="md is for --diff.")
@click.option("--split", type=click.Choice(["channel"]), default=None,
              help="With --format ics: one feed per channel, written to output.calendar.")
@click.option("--diff", "rev", default=None, metavar="REV", help="What changed since this git revision.")
@click.option("--now", default=None, metavar="TIME", help="Plan as if it were this time (ISO; UTC unless an offset is given).")
@click.pass_obj
def calendar(obj: dict, span, days, channels, campaigns, statuses, authors, since, until, tz, fmt, split, rev,
             now) -> None:
    """What goes out when, where, and whether it is ready: agenda, week, month, json, csv, ics, html, diff."""
    from scheduler import command

    shown = command.calendar(obj["root"], now=now, tz=tz, since=since, until=until, fmt=fmt, rev=rev,
                             channels=channels, campaigns=campaigns, statuses=statuses, authors=authors, span=span,
                             days=days, split=split)
    if shown.text:
        click.echo(shown.text, nl=False)
    if shown.data:
        sys.stdout.buffer.write(shown.data)
        sys.stdout.buffer.flush()
    emit("text", None, shown.wrote)


@cli.command()
@click.option("--write", is_flag=True, help="Write the chosen times into the items (channels.<name>.at).")
@format_option("text", "json")
@click.option("--now", default=None, metavar="TIME", help="Plan as if it were this time.")
@click.pass_obj
def plan(obj: dict, write: bool, fmt: str, now: str | None) -> None:
    """The queue: which slot each waiting entry takes; --write pins those times in the items."""
    from scheduler import calendar as cal, command, views

    rows, changed = command.plan(obj["root"], now=now, write=write)
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
@format_option("text", "json", "html")
@click.option("--open", "open_", is_flag=True, help="Write an HTML preview of every channel side by side and print its path.")
@click.pass_obj
def render(obj: dict, path: str, channel_names: tuple[str, ...], segment: str | None, fmt: str, open_: bool) -> None:
    """Show exactly what an item would send on each channel, each part's length against its limit."""
    from channels import preview
    from scheduler import command

    project, rel, item, posts, units = command.render(obj["root"], path, channels=channel_names, segment=segment)
    if not posts:
        click.echo(f"{rel} goes to no channel; preview one with --channel NAME", err=True)
        return
    if open_:
        click.echo(str(preview.write_preview(project, item, posts, units)))
    else:
        click.echo(preview.show(posts, item.title, units, fmt), nl=False)
    if any(p.severity == ERROR for post in posts for p in post.problems):
        sys.exit(EXIT_PROBLEMS)


# == the publish run: publish, status, auth, resolve, serve ==

@cli.command("publish")
@click.option("--now", "now", default=None, metavar="TIME", help="Act as if it were this time (UTC unless an offset is given).")
@click.option("--dry-run", is_flag=True, help="Do everything but the final request; record nothing.")
@click.option("--only", multiple=True, metavar="PATH[:CHANNEL]", help="Only this item (path or id), optionally on one channel.")
@click.option("--force", is_flag=True, help="Send the --only entries now, whatever their time (never twice).")
@click.option("--budget", type=float, default=600.0, show_default=True, help="Seconds the run may spend retrying.")
@format_option("text", "json")
@click.pass_obj
def publish_command(obj: dict, now: str | None, dry_run: bool, only: tuple[str, ...], force: bool, budget: float,
                    fmt: str) -> None:
    """Send every entry that is due, exactly once, and record it in the ledger."""
    from newsroom.times import now_option
    from scheduler import command

    sys.exit(command.publish(obj["root"], now=now_option(now), echo=click.echo, dry_run=dry_run, only=only,
                             force=force, budget=budget, fmt=fmt))


@cli.command()
@click.option("--now", "now", default=None, metavar="TIME", help="As of this time (default: now).")
@format_option("text", "json")
@click.option("--offline", is_flag=True, help="Do not ask the platforms whether the credentials work.")
@click.option("--all", "all_", is_flag=True, help="Every project whose state is in the same database (postgres).")
@click.pass_obj
def status(obj: dict, now: str | None, fmt: str, offline: bool, all_: bool) -> None:
    """Per channel: delivered, failed, claimed without a receipt, missed, due next, and its credential."""
    from scheduler import command
    from scheduler.status import text

    if all_:
        from scheduler import statecmd

        rows = statecmd.projects(obj["root"])
        emit(fmt, rows, statecmd.projects_lines(rows))
        return
    report = command.status(obj["root"], now=now, offline=offline)
    emit(fmt, report, () if fmt == "json" else text(report))


@cli.group()
def state() -> None:
    """The state store: migrate its database, export it, import it (docs/scaling.md)."""


@state.command("migrate")
@format_option("text", "json")
@click.pass_obj
def state_migrate(obj: dict, fmt: str) -> None:
    """Create or update the postgres backend's tables (never done silently by any other command)."""
    from scheduler import statecmd

    result = statecmd.migrate(obj["root"])
    emit(fmt, result, statecmd.migrate_lines(result))


@state.command("export")
@click.argument("folder", type=click.Path(path_type=Path))
@format_option("text", "json")
@click.pass_obj
def state_export(obj: dict, folder: Path, fmt: str) -> None:
    """Write the whole state into FOLDER as JSON Lines (a files backend's folder)."""
    from scheduler import statecmd

    result = statecmd.export(obj["root"], folder)
    emit(fmt, result, statecmd.moved_lines(result))


@state.command("import")
@click.argument("folder", type=click.Path(path_type=Path))
@format_option("text", "json")
@click.pass_obj
def state_import(obj: dict, folder: Path, fmt: str) -> None:
    """Read FOLDER (a state/ folder or an export) into this project's empty store."""
    from scheduler import statecmd

    result = statecmd.import_(obj["root"], folder)
    emit(fmt, result, statecmd.moved_lines(result))


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
    from channels import auth as flows
    from scheduler import command

    if new_key:
        from newsroom.credentials import NEW_KEY_ADVICE, new_key as make

        click.echo(make())
        click.echo(NEW_KEY_ADVICE, err=True)
        return
    if not channel:
        fail("name the channel to connect, e.g. publish auth x")
    person = flows.Person.at_terminal(lambda line: click.echo(line, err=True), browser=not no_browser,
                                      show=show or not sys.stdout.isatty())
    result = command.auth(obj["root"], channel, person, revoke=revoke, port=port, timeout=timeout)
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
    from scheduler import command

    if outcome is None:
        fail("say what happened: --sent (it is out) or --not-sent (send it)")
    emit("text", None, command.resolve(obj["root"], target, sent=outcome == "sent", url=url, parts=parts))

@cli.command()
@click.option("--replan", "replan", type=float, default=5.0, show_default=True, metavar="MINUTES",
              help="How often to reload the content and re-plan.")
@click.option("--pull-cron", default="0 6 * * *", show_default=True,
              help="When the engagement pull runs (crontab, UTC).")
@click.pass_obj
def serve(obj: dict, replan: float, pull_cron: str) -> None:
    """Run as a service: publish each entry at its time (APScheduler), re-plan as content changes."""
    from scheduler.serve import serve as run_service

    run_service(obj["root"], dict(os.environ), replan_minutes=replan, pull_cron=pull_cron, echo=click.echo,
                say=lambda line: click.echo(line, err=True))


# == engagement: pull, inbox, report ==

@cli.command()
@click.option("--channel", "only", multiple=True, help="Only this channel (repeat for more).")
@click.option("--no-feeds", is_flag=True, help="Skip the listening feeds.")
@format_option("text", "json")
@click.pass_obj
def pull(obj: dict, only: tuple[str, ...], no_feeds: bool, fmt: str) -> None:
    """Fetch engagement numbers and replies of delivered entries, and mentions from feeds."""
    from scheduler import command

    result = command.pull(obj["root"], only=only, feeds=not no_feeds)
    emit(fmt, result.as_dict(), result.lines())
    if result.failures:
        sys.exit(EXIT_PROBLEMS)


@cli.command()
@click.option("--unanswered", is_flag=True, help="Only conversations we have not answered.")
@format_option("text", "json")
@click.pass_obj
def inbox(obj: dict, unanswered: bool, fmt: str) -> None:
    """Replies and mentions from every channel, newest first, with the age of unanswered ones."""
    from scheduler import command

    click.echo(command.inbox(obj["root"], unanswered=unanswered, fmt=fmt), nl=False)

@cli.command()
@click.option("--since", default=None, help="Start: a date, date-time or duration back from now (7d). Default: 30 days.")
@click.option("--until", default=None, help="End: a date (through that day), date-time or duration. Default: now.")
@click.option("--by", type=click.Choice(["item", "channel", "campaign", "tag", "author", "segment"]),
              default="channel", show_default=True)
@format_option("table", "md", "html", "csv", "json", default="table")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of standard output.")
@click.pass_obj
def report(obj: dict, since: str | None, until: str | None, by: str, fmt: str, output: Path | None) -> None:
    """Engagement for a period: totals, groups, top posts, best times, campaigns, conversations."""
    from newsroom.formats import write_file
    from scheduler import command

    text = command.report(obj["root"], since=since, until=until, by=by, fmt=fmt)
    if output:
        click.echo(f"wrote {write_file(output, text)}")
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
