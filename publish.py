#!/usr/bin/env python3
"""The command line: ``python publish.py <command>`` (or ``publish <command>`` once installed).

Thin on purpose: each command parses its options and calls plain functions in ``newsroom``,
``scheduler``, ``channels`` and ``reports``. Domain errors become a clean message and an exit code
here, at the boundary; a user mistake never shows a traceback.

Exit codes: 0 all good, 1 problems found (or entries failed), 2 unusable settings or input.
"""
from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import click

from newsroom.problems import ERROR, WARNING, UnusableSettings

EXIT_OK, EXIT_PROBLEMS, EXIT_UNUSABLE = 0, 1, 2


def load(root: Path):
    """The project at ``root``, loaded with every channel type's schemas; exit 2 when unusable."""
    from channels import registry
    from newsroom.project import load_project
    from reports.settings import SECTIONS

    try:
        return load_project(root, channel_types=registry.option_schemas(),
                            channel_overrides=registry.override_schemas(), extra_sections=SECTIONS)
    except UnusableSettings as exc:
        for problem in exc.problems:
            click.echo(f"error: {problem}", err=True)
        click.echo("publish.yml cannot be used; fix the problems above.", err=True)
        sys.exit(EXIT_UNUSABLE)


class Root(click.Path):
    """The project folder: the given one, or the nearest one upwards holding publish.yml."""


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Project folder (default: the nearest folder upwards with publish.yml).")
@click.pass_context
def cli(ctx: click.Context, root: Path | None) -> None:
    """Plan, render, publish and measure content kept in git."""
    from newsroom.project import find_root

    ctx.obj = {"root": (root.resolve() if root else find_root())}


def all_problems(project) -> list:
    """Every problem ``check`` reports: loading and workflow, plus each layer's own checks."""
    problems = list(project.problems)
    # -- calendar rules (scheduler) --

    # -- rendering limits (channels.render) --

    # -- engagement settings (reports) --
    from reports.settings import check as check_engagement

    problems.extend(check_engagement(project.settings))
    return problems


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
@click.pass_obj
def check(obj: dict, strict: bool, fmt: str) -> None:
    """Validate publish.yml and every item; list every problem as path:line: key: message."""
    project = load(obj["root"])
    problems = sorted(set(all_problems(project)))
    errors = sum(p.severity == ERROR for p in problems)
    warnings = len(problems) - errors
    files = len({p.path for p in problems})
    summary = (f"{len(project.items)} items checked: "
               + (f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)} in {files} "
                  f"file{'s' * (files != 1)}" if problems else "no problems"))
    print_problems(problems, fmt, summary)
    if errors or (strict and warnings):
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
    from channels.reference import render

    text = render()
    if write:
        target = Path(__file__).resolve().parent / "docs" / "reference.md"
        target.write_text(text, encoding="utf-8")
        click.echo(f"wrote {target}")
    else:
        click.echo(text, nl=False)


# == calendar: calendar, plan ==


# == rendering: render ==


# == the publish run: publish, status, serve ==


# == engagement: pull, inbox, report ==


def _engagement_store(project):
    from reports.store import open_engagement

    return open_engagement(project.root, project.settings.state)


def _tty_progress(label: str):
    """A progress line on stderr, only when stderr is a terminal."""
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        click.echo(f"\r{label}: {done}/{total}", err=True, nl=done >= total)

    return show


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

    project = load(obj["root"])
    store = _engagement_store(project)
    result = run_pull(project, store, env=dict(os.environ), now=datetime.now(timezone.utc),
                      clock=lambda: datetime.now(timezone.utc), only=only, feeds=not no_feeds,
                      progress=_tty_progress("pulling"))
    if fmt == "json":
        click.echo(json.dumps(result.as_dict(), indent=2, ensure_ascii=False))
    else:
        for note in result.notes:
            click.echo(f"note: {note}")
        for failure in result.failures:
            click.echo(f"failed: {failure}")
        click.echo(f"pulled {result.due} entr{'y' if result.due == 1 else 'ies'}: {result.snapshots} snapshots, "
                   f"{result.replies} new replies, {result.mentions} new mentions")
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


def main() -> None:
    cli(prog_name="publish.py")


if __name__ == "__main__":
    main()
