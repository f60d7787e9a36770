#!/usr/bin/env python3
"""The command line: ``python publish.py <command>`` (or ``publish <command>`` once installed).

Option parsing and printing only. A command hands its options, by name, to one function of
``scheduler.command``, which returns a ``scheduler.shown.Shown`` (what to print, the exit code) that
``show`` prints. A new command: ``@runs("work")`` over its options and a function whose docstring is
its help. Expected failures (``Refusal``, ``UnusableSettings``) become their message and an exit code
in ``Commands``; a user mistake never shows a traceback.

Exit codes: 0 all good, 1 problems found (or entries failed), 2 unusable settings or input.
"""
from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from newsroom.problems import Refusal, UnusableSettings


class Commands(click.Group):
    """The command group; a command's expected failure becomes its message and exit code here."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (Refusal, UnusableSettings) as exc:
            from scheduler.shown import refused

            show(refused(exc))


def show(shown) -> None:
    """Print what a command's work returned (a ``Shown``) and exit with its code."""
    if shown.text:
        click.echo(shown.text, nl=False)
    if shown.data:
        sys.stdout.buffer.write(shown.data)
        sys.stdout.buffer.flush()
    for line in shown.wrote:
        click.echo(line)
    for line in shown.notes:
        click.echo(line, err=True)
    if shown.exit_code:
        sys.exit(shown.exit_code)


def runs(work: str, name: str | None = None, *, group: click.Group | None = None):
    """Declare a command (of ``group``, default the top) that prints ``scheduler.command.<work>(root,
    **options)`` (or ``scheduler.<module>.<function>`` for ``work="module.function"``); the decorated
    function carries the options (declared below this line) and the help (its docstring)."""
    module, _, function = work.rpartition(".")

    def declare(f):
        def body(**options) -> None:
            from importlib import import_module

            work_of = getattr(import_module(f"scheduler.{module or 'command'}"), function)
            show(work_of(click.get_current_context().obj["root"], **options))
        return (group or cli).command(name)(functools.update_wrapper(body, f))
    return declare


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


@runs("check")
@click.option("--strict", is_flag=True, help="Warnings fail too.")
@format_option("text", "json")
@click.option("--now", "now", default=None, metavar="TIME", help="Check as if it were this time (ISO, UTC unless an offset is given).")
@click.option("--offline", is_flag=True, help="Do not ask the platforms whether the credentials work.")
@click.argument("paths", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
def check() -> None:
    """Validate publish.yml and every item; list every problem as path:line: key: message.

    With PATHS (the pre-commit hook's changed files), only their problems and publish.yml's."""


@runs("new")
@click.argument("title")
@click.option("--channel", "channels", multiple=True, help="A channel it goes to (repeat for more).")
@click.option("--at", "at", default=None, help="Publish time, e.g. 2026-12-01T09:00 (project timezone).")
@click.option("--campaign", default=None, help="Campaign name.")
@click.option("--author", default=None, help="Author (default: git user.name, else $USER).")
@click.option("--today", default=None, help="Date that decides the folder, YYYY-MM-DD (default: today).")
def new() -> None:
    """Scaffold an item at content/YYYY/MM/<slug>.md; never overwrites."""


@cli.command()
@click.argument("folder", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--example", is_flag=True, help="Copy the full example newsroom instead of the small start.")
@click.option("--title", default=None, help="The site's title (asked on a terminal; default: the folder's name).")
@click.option("--url", default=None, help="Where the blog is served (asked on a terminal).")
@click.option("--timezone", default=None, help="The calendar's IANA timezone (asked on a terminal; default: UTC).")
def init(**options) -> None:
    """Start a content repository in FOLDER (default: here): settings, an item, workflows; never overwrites."""
    from scheduler import command

    ask = click.prompt if sys.stdin.isatty() and sys.stdout.isatty() else None  # in CI or a script: ask nothing
    show(command.init(ask=ask, **options))


@runs("import_posts", "import")
@click.argument("tool", type=click.Choice(["jekyll", "hugo", "pelican"]))
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--approved-by", default=None, metavar="NAME",
              help="Approve the posts that were live there (default: they come in for review).")
@click.option("--dry-run", is_flag=True, help="Say what would be imported; write nothing.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def import_command() -> None:
    """Turn another tool's posts (Jekyll, Hugo, Pelican) into items; never overwrites."""


@runs("reference")
@click.option("--write", is_flag=True, help="Write docs/reference.md instead of printing it.")
def reference() -> None:
    """The reference tables (front matter, settings, channel options), generated from the schemas."""


@runs("schema")
@click.argument("name", required=False, type=click.Choice(["front-matter", "publish"]))
@click.option("--write", is_flag=True, help="Write them into schemas/ instead of printing one.")
def schema() -> None:
    """JSON Schema of front matter or publish.yml for editors, generated from the schemas check uses."""


@runs("calendar")
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
def calendar() -> None:
    """What goes out when, where, and whether it is ready: agenda, week, month, json, csv, ics, html, diff."""


@runs("plan")
@click.option("--write", is_flag=True, help="Write the chosen times into the items (channels.<name>.at).")
@format_option("text", "json")
@click.option("--now", default=None, metavar="TIME", help="Plan as if it were this time.")
def plan() -> None:
    """The queue: which slot each waiting entry takes; --write pins those times in the items."""


@runs("render")
@click.argument("path")
@click.option("--channel", "channels", multiple=True, help="Only this channel (repeat for more; default: the item's).")
@click.option("--segment", default=None, help="Render for this audience segment.")
@format_option("text", "json", "html")
@click.option("--open", "open_", is_flag=True, help="Write an HTML preview of every channel side by side and print its path.")
def render() -> None:
    """Show exactly what an item would send on each channel, each part's length against its limit."""


@runs("previews.command", "preview")
@click.option("--changed-since", required=True, metavar="BASE", help="Preview the items changed since where HEAD left this revision (origin/main).")
@click.option("--out", required=True, metavar="DIR", help="Folder of the preview site (index.html, a page per item, summary.md).")
@format_option("text", "json")
def preview() -> None:
    """Render every changed item for each of its channels into a small static site (a pull request's previews)."""


@runs("publish", "publish")
@click.option("--now", "now", default=None, metavar="TIME", help="Act as if it were this time (UTC unless an offset is given).")
@click.option("--dry-run", is_flag=True, help="Do everything but the final request; record nothing.")
@click.option("--only", multiple=True, metavar="PATH[:CHANNEL]", help="Only this item (path or id), optionally on one channel.")
@click.option("--force", is_flag=True, help="Send the --only entries now, whatever their time (never twice).")
@click.option("--budget", type=float, default=600.0, show_default=True, help="Seconds the run may spend retrying.")
@format_option("text", "json")
def publish_command() -> None:
    """Send every entry that is due, exactly once, and record it in the ledger."""


@runs("notify.command", "notify")
@click.option("--now", "now", default=None, metavar="TIME", help="Act as if it were this time (UTC unless an offset is given).")
@click.option("--dry-run", is_flag=True, help="Say who would be told; send and record nothing.")
@format_option("text", "json")
def notify() -> None:
    """Tell approvers, authors and the editor what the workflow needs of them, once per change (git history)."""


@runs("status")
@click.option("--now", "now", default=None, metavar="TIME", help="As of this time (default: now).")
@format_option("text", "json")
@click.option("--offline", is_flag=True, help="Do not ask the platforms whether the credentials work.")
@click.option("--all", "all_", is_flag=True, help="Every project whose state is in the same database (postgres).")
def status() -> None:
    """Per channel: delivered, failed, claimed without a receipt, missed, due next, and its credential."""


@cli.group()
def state() -> None:
    """The state store: migrate its database, export it, import it, clean up after killed runs (docs/scaling.md)."""


@runs("statecmd.migrate", "migrate", group=state)
@format_option("text", "json")
def state_migrate() -> None:
    """Create or update the postgres backend's tables (never done silently by any other command)."""


@runs("statecmd.export", "export", group=state)
@click.argument("folder", type=click.Path(path_type=Path))
@format_option("text", "json")
def state_export() -> None:
    """Write the whole state into FOLDER as JSON Lines (a files backend's folder)."""


@runs("statecmd.import_", "import", group=state)
@click.argument("folder", type=click.Path(path_type=Path))
@format_option("text", "json")
def state_import() -> None:
    """Read FOLDER (a state/ folder or an export) into this project's empty store."""


@runs("statecmd.gc", "gc", group=state)
@format_option("text", "json")
def state_gc() -> None:
    """Remove what runs killed before their end left behind, once their claims are reconciled."""


@runs("auth")
@click.argument("channel", required=False)
@click.option("--port", type=click.IntRange(0, 65535), default=None,
              help="Loopback port for the redirect (default 8976 for X and LinkedIn; any free one for Mastodon).")
@click.option("--show", is_flag=True, help="Print the secret the flow yields (Mastodon's token) on standard output.")
@click.option("--no-browser", is_flag=True, help="Print the authorization URL only; do not open a browser.")
@click.option("--timeout", type=click.FloatRange(1, 3600), default=300, show_default=True,
              help="Seconds to wait for the browser's answer.")
@click.option("--revoke", is_flag=True, help="Revoke the stored tokens with the platform and forget them.")
@click.option("--new-key", is_flag=True, help="Print a new key for NEWSROOM_KEY (encrypts state/credentials).")
def auth() -> None:
    """Connect a channel's account: OAuth with PKCE (X, LinkedIn), app registration (Mastodon), app
    password (Bluesky), a check of the token or key (Threads, Facebook, Instagram, Ghost, WordPress,
    Hashnode; a renewed Threads token or a Facebook Page token with --show); tokens a run renews are
    kept encrypted in state/credentials."""


@runs("resolve")
@click.argument("target", metavar="PATH[:CHANNEL]")
@click.option("--sent", "outcome", flag_value="sent", help="It is out (found on the platform): record it as delivered.")
@click.option("--not-sent", "outcome", flag_value="not-sent", help="It is not out: let the next run send it.")
@click.option("--url", default=None, help="The post's URL, with --sent.")
@click.option("--parts", type=int, default=None, metavar="N",
              help="With --sent, for a thread the platform cannot be asked about: how many parts are out.")
def resolve() -> None:
    """Settle an entry the run could not: did it go out (--sent) or not (--not-sent)?"""


@runs("serve")
@click.option("--replan", "replan", type=float, default=5.0, show_default=True, metavar="MINUTES",
              help="How often to reload the content and re-plan.")
@click.option("--pull-cron", default="0 6 * * *", show_default=True,
              help="When the engagement pull runs (crontab, UTC).")
@click.option("--watch", type=float, default=2.0, show_default=True, metavar="SECONDS",
              help="How often to look for changes to publish.yml and the content (0: only at --replan).")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Log lines on stderr: text, or JSON lines for a log collector.")
@click.option("--health", type=int, default=None, metavar="PORT",
              help="Answer liveness and readiness probes on 127.0.0.1:PORT (/livez, /readyz, /status).")
def serve() -> None:
    """Run as a service: publish each entry at its time (APScheduler), re-plan as content changes."""


@runs("studio.studio", "studio")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Loopback port (default: a free one).")
@click.option("--no-browser", is_flag=True, help="Print the address only; do not open a browser.")
@click.option("--now", "now", default=None, metavar="TIME", help="Plan as if it were this time (default: the clock).")
def studio() -> None:
    """The calendar and board in a browser, on loopback: drag entries and cards, approve, preview each
    channel live; every change is one line of one item, checked against the rules, committed if asked."""


@runs("pull")
@click.option("--channel", "only", multiple=True, help="Only this channel (repeat for more).")
@click.option("--no-feeds", is_flag=True, help="Skip the listening feeds.")
@format_option("text", "json")
def pull() -> None:
    """Fetch engagement numbers and replies of delivered entries, and mentions from feeds."""


@runs("inbox")
@click.option("--unanswered", is_flag=True, help="Only conversations we have not answered.")
@format_option("text", "json")
def inbox() -> None:
    """Replies and mentions from every channel, newest first, with the age of unanswered ones."""


@runs("report")
@click.option("--since", default=None, help="Start: a date, date-time or duration back from now (7d). Default: 30 days.")
@click.option("--until", default=None, help="End: a date (through that day), date-time or duration. Default: now.")
@click.option("--by", type=click.Choice(["item", "channel", "campaign", "tag", "author", "segment", "variant"]),
              default="channel", show_default=True)
@format_option("table", "md", "html", "csv", "json", default="table")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of standard output.")
def report() -> None:
    """Engagement for a period: totals, groups, top posts, best times, campaigns, conversations."""


#: Shell completion reads this variable (``_PUBLISH_COMPLETE=bash_source publish``), whatever the
#: program is called: ``publish`` once installed, ``publish.py`` in a checkout.
COMPLETE_VAR = "_PUBLISH_COMPLETE"


def main() -> None:
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "publish"
    from newsroom.gcpause import one_shot

    one_shot()  # what a command loads lives until it exits (serve and studio say otherwise)
    try:
        cli(prog_name="publish.py" if name == "publish.py" else "publish", complete_var=COMPLETE_VAR)
    finally:
        # The command is done: the interpreter's last collections need not walk all it loaded (half
        # a second of a one-item publish run at 10,000 items); exit handlers still run as usual.
        import gc

        gc.freeze()


if __name__ == "__main__":
    main()
