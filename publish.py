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

    try:
        return load_project(root, channel_types=registry.option_schemas(),
                            channel_overrides=registry.override_schemas())
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
    if root is None:
        from newsroom.project import find_root

        root = find_root()
    ctx.obj = {"root": root.resolve()}


def all_problems(project) -> list:
    """Every problem ``check`` reports: loading and workflow, plus each layer's own checks."""
    problems = list(project.problems)
    # -- calendar rules (scheduler) --

    # -- rendering limits (channels.render) --
    from datetime import timezone

    from channels.preview import render_problems

    problems.extend(render_problems(project, datetime.now(timezone.utc)))

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
@cli.command()
@click.argument("path")
@click.option("--channel", "channel_names", multiple=True, help="Only this channel (repeat for more; default: the item's).")
@click.option("--segment", default=None, help="Render for this audience segment.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "html"]), default="text", show_default=True)
@click.option("--open", "open_", is_flag=True, help="Write an HTML preview of every channel side by side and print its path.")
@click.pass_obj
def render(obj: dict, path: str, channel_names: tuple[str, ...], segment: str | None, fmt: str, open_: bool) -> None:
    """Show exactly what an item would send on each channel, each part's length against its limit."""
    from channels import preview, registry
    from channels.render import render_post
    from channels.text import rule_for
    from newsroom.problems import did_you_mean

    project = load(obj["root"])
    root = obj["root"]
    target = Path(path)
    rel = (target.resolve().relative_to(root) if target.is_absolute() or (Path.cwd() / target).exists()
           and (Path.cwd() / target).resolve().is_relative_to(root) else target).as_posix()
    item = project.item_by_path(rel)
    if item is None:
        near = did_you_mean(rel, [i.path for i in project.items])
        broken = [p for p in project.problems if p.path == rel]
        click.echo(f"error: {rel}: no item loaded from this path{near}", err=True)
        for p in broken:
            click.echo(f"  {p}", err=True)
        sys.exit(EXIT_UNUSABLE)
    settings = project.settings
    names = list(channel_names) or [n for n, o in item.channels.items() if o.enabled]
    for name in names:
        if name not in settings.channels:
            click.echo(f"error: no channel named '{name}' in publish.yml{did_you_mean(name, settings.channels)}", err=True)
            sys.exit(EXIT_UNUSABLE)
    if segment is not None and settings.segments and segment not in settings.segments:
        click.echo(f"error: unknown segment '{segment}'{did_you_mean(segment, settings.segments)}", err=True)
        sys.exit(EXIT_UNUSABLE)
    posts, units = [], {}
    for name in names:
        config = settings.channels[name]
        channel = registry.build(config, {})
        posts.append(render_post(project, item, channel, segment=segment))
        units[name] = rule_for(config.type, config.options).unit
    if open_:
        folder = root / settings.output.get("reports", "reports-out") / "preview"
        folder.mkdir(parents=True, exist_ok=True)
        out = folder / f"{item.id}.html"
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

def _instant(value: str | None, option: str = "--now") -> datetime:
    from datetime import timezone

    from newsroom.times import parse_instant

    if value is None:
        return datetime.now(timezone.utc)
    try:
        return parse_instant(value)
    except ValueError:
        click.echo(f"error: {option} '{value}' is not a date-time (use 2026-11-27T09:00Z or "
                   "2026-11-27T09:00+01:00)", err=True)
        sys.exit(EXIT_UNUSABLE)


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
        code = command.publish(obj["root"], load=load, now=_instant(now), echo=click.echo, dry_run=dry_run,
                               only=only, force=force, budget=budget, fmt=fmt)
    except command.UsageError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_UNUSABLE)
    sys.exit(code)


@cli.command()
@click.option("--now", "now", default=None, metavar="TIME", help="As of this time (default: now).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
def status(obj: dict, now: str | None, fmt: str) -> None:
    """Per channel: delivered, failed, claimed without a receipt, missed, due next."""
    import os

    from newsroom.state import open_store
    from scheduler.status import status as build, text

    project = load(obj["root"])
    report = build(project, open_store(obj["root"], project.settings.state), _instant(now), os.environ)
    if fmt == "json":
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        for line in text(report):
            click.echo(line)


@cli.command()
@click.option("--replan", "replan", type=float, default=5.0, show_default=True, metavar="MINUTES",
              help="How often to reload the content and re-plan.")
@click.option("--pull-cron", default="0 6 * * *", show_default=True,
              help="When the engagement pull runs (crontab, UTC), if this version has the pull command.")
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
    pull = None
    if "pull" in cli.commands:
        def pull():
            try:
                cli.main(["--root", str(root), "pull"], prog_name="publish.py", standalone_mode=False)
            except SystemExit:
                pass
    service = Service(root, load, BlockingScheduler(timezone=timezone.utc), env=dict(os.environ),
                      replan_minutes=replan, pull=pull, pull_cron=pull_cron, echo=click.echo)

    def stop(signum, frame):
        click.echo("stopping: the entry in flight finishes first", err=True)
        service.shutdown()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    click.echo(f"serving {root}: re-planning every {replan:g} min; SIGTERM stops", err=True)
    service.start()
    click.echo("stopped", err=True)


# == engagement: pull, inbox, report ==


def main() -> None:
    cli(prog_name="publish.py")


if __name__ == "__main__":
    main()
