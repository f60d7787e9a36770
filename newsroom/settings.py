"""publish.yml: the project's settings, one declarative schema with a line of help per key."""
from __future__ import annotations

import os
import re
from pathlib import Path

from . import schema as s
from . import times, yamlload
from .model import (DEFAULT_STATES, Blackout, CalendarSettings, ChannelConfig, Group, QuietHours, Rules, Settings,
                    Site, Slot, State)
from .problems import ERROR, WARNING, Problem, UnusableSettings
from .segments import Segment, split as split_segments
from .workflow import build_workflow

SETTINGS_FILE = "publish.yml"
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_WORDS = {"daily": range(7), "everyday": range(7), "weekdays": range(5), "weekends": range(5, 7)}
RULES = ("slots", "max_per_day", "min_gap", "quiet_hours", "blackout", "lead_time", "conflict", "expires",
         "platform_limit")
DEFAULT_SEVERITY = {"conflict": ERROR, "max_per_day": ERROR, "min_gap": WARNING, "quiet_hours": WARNING,
                    "blackout": ERROR, "lead_time": WARNING, "slots": WARNING, "expires": ERROR,
                    # more posts a day than the platform's API publishes (Threads 250, Instagram 100): the
                    # rest wait for a later run
                    "platform_limit": WARNING,
                    # an item's channels waiting for each other (after:); never sent if left as they are
                    "dependency_cycle": ERROR, "before_dependency": ERROR}


class Days(s.Kind):
    """'weekdays', 'daily', 'mon-fri', 'mon,wed,fri' → weekday numbers (Monday 0)."""

    name = "days (weekdays, weekends, daily, mon-fri, mon,wed,fri)"

    def convert(self, value, ctx, key):
        text = str(value).strip().lower()
        if text in _DAY_WORDS:
            return frozenset(_DAY_WORDS[text])
        days: set[int] = set()
        for part in re.split(r"\s*,\s*", text):
            a, _, b = part.partition("-")
            try:
                i = DAY_NAMES.index(a[:3]) if a else -1
                j = DAY_NAMES.index(b[:3]) if b else i
            except ValueError:
                i = j = -1
            if i < 0 or j < 0:
                raise s.Invalid(f"'{value}' is not a set of days (use weekdays, daily, mon-fri or mon,wed,fri)")
            days.update(range(i, j + 1) if i <= j else [*range(i, 7), *range(0, j + 1)])
        return frozenset(days)

    def json_schema(self, ctx):
        return {"type": "string", "examples": ["weekdays", "weekends", "daily", "mon-fri", "mon,wed,fri"]}


class QuietHoursKind(s.Kind):
    name = "HH:MM-HH:MM"

    def convert(self, value, ctx, key):
        a, sep, b = str(value).partition("-")
        try:
            if not sep:
                raise times.TimeError("")
            return QuietHours(times.parse_time_of_day(a), times.parse_time_of_day(b))
        except times.TimeError:
            raise s.Invalid(f"'{value}' is not a time range (use 22:00-07:00)") from None

    def json_schema(self, ctx):
        return {"type": "string", "pattern": rf"^\s*{times.TIME_OF_DAY}\s*-\s*{times.TIME_OF_DAY}\s*$"}


class BlackoutKind(s.Kind):
    """A date, 'YYYY-MM-DD..YYYY-MM-DD', or {date|from, to, reason}."""

    name = "date, date range (2026-12-24..2026-12-26) or {from, to, reason}"

    def convert(self, value, ctx, key):
        reason = ""
        if isinstance(value, dict):
            reason = str(value.get("reason") or "")
            start = value.get("from", value.get("date"))
            end = value.get("to", start)
            unknown = set(value) - {"from", "to", "date", "reason"}
            if unknown:
                raise s.Invalid(f"unknown key '{sorted(unknown)[0]}' (use from, to, date, reason)")
        else:
            start, _, end = str(value).partition("..")
            end = end or start
        try:
            a, b = times.parse_date(start), times.parse_date(end)
        except times.TimeError as exc:
            raise s.Invalid(f"blackout {exc}") from None
        if b < a:
            raise s.Invalid(f"ends ({b}) before it starts ({a})")
        return Blackout(a, b, reason)

    def json_schema(self, ctx):
        day = {"type": "string", "pattern": times.DATE_PATTERN}
        return {"anyOf": [{"type": "string", "pattern": r"^\s*\d{4}-\d{2}-\d{2}\s*(\.\.\s*\d{4}-\d{2}-\d{2}\s*)?$"},
                          {"type": "object", "properties": {"date": day, "from": day, "to": day,
                                                            "reason": {"type": ["string", "number"]}},
                           "additionalProperties": False}]}


class MarkdownExtension(s.Kind):
    """A python-markdown extension: a registered name (tables, toc …) or an importable module path."""

    name = "python-markdown extension (tables, pymdownx.tasklist …)"

    def convert(self, value, ctx, key):
        from importlib.metadata import entry_points
        from importlib.util import find_spec

        name = str(value).strip() if value is not None else ""
        known = sorted(e.name for e in entry_points(group="markdown.extensions"))
        if name in known:
            return name
        module = name.partition(":")[0]
        try:
            found = bool(module) and "." in module and find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            from .problems import did_you_mean
            raise s.Invalid(f"'{value}' is no python-markdown extension installed here{did_you_mean(name, known)} "
                            f"(built in: {', '.join(known)}; or a module path such as pymdownx.tasklist)")
        return name

    def json_schema(self, ctx):
        return {"type": "string", "examples": ["tables", "toc", "pymdownx.tasklist"]}


class ChannelSettings(s.Nested):
    """A channel in publish.yml: the keys every channel has, and its type's own options."""

    def json_schema(self, ctx):
        out = self.schema.json_schema(ctx)
        if ctx.channel_types:
            out["properties"] = {**out["properties"], "type": {**out["properties"]["type"],
                                                               "enum": sorted(ctx.channel_types)}}
            out["allOf"] = [{"if": {"properties": {"type": {"const": name}}, "required": ["type"]},
                             "then": options.json_schema(ctx, unknown_allowed=True)}
                            for name, options in sorted(ctx.channel_types.items()) if options.keys]
            out["unevaluatedProperties"] = False  # a key neither every channel's nor its type's
        return out


PERSON = s.Schema("person", [
    s.Key("slack", s.Text(pattern=r"^[UW][A-Z0-9]{2,}$", hint="is not a Slack member ID (copy it from the "
          "person's Slack profile: Copy member ID, e.g. U024BE7LH)"), "Slack member ID, mentioned as <@ID>"),
    s.Key("discord", s.Text(pattern=r"^\d{5,25}$", hint="is not a Discord user ID (a number: Copy User ID in "
          "Discord's developer mode)"), "Discord user ID, mentioned as <@ID>"),
    s.Key("email", s.Text(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", hint="is not an email address (use "
          "name@example.com)"), "email address, for notifications sent by an email channel"),
])


class WorkflowState(s.Kind):
    """A state of ``workflow.states``: its name, or {name, approval, approvers}."""

    name = "state name, or {name, approval, approvers}"
    FIELDS = s.Schema("state", [
        s.Key("name", s.Slug(), "the state's name, as front matter's status writes it", required=True),
        s.Key("approval", s.Boolean(), "items wait here for an approver, whose approval moves them on (and "
              "who is told when one arrives)", default=False),
        s.Key("approvers", s.ListOf(s.Text()), "who may approve here (default: workflow.approvers)", default=list),
    ])

    def convert(self, value, ctx, key):
        if isinstance(value, dict):
            v = self.FIELDS.validate(value, ctx, prefix=key)
            if not v.get("name"):
                return None  # said by the schema: the name is missing or not a slug
            return State(v["name"], bool(v["approval"]), tuple(v["approvers"] or ()), ctx.doc.line(key), key)
        name = s.Slug().convert(value, ctx, key)
        # the built-in review keeps its meaning when named alone: items wait there for approval
        return State(name, name == "review", (), ctx.doc.line(key), key)

    def json_schema(self, ctx):
        slug = {"type": "string", "pattern": s.Slug.PATTERN}
        return {"anyOf": [slug, self.FIELDS.json_schema(ctx)]}


MARKDOWN_ENGINES = ("cmark-gfm", "python-markdown")
MARKDOWN = s.Schema("markdown", [
    s.Key("engine", s.Choice(*MARKDOWN_ENGINES),
          "cmark-gfm: GitHub-flavoured Markdown, read as GitHub's and GitLab's previews show it (tables, "
          "strikethrough, autolinks, task lists, footnotes, smart punctuation, header ids); python-markdown: "
          "for teams coming from Pelican or MkDocs", default="cmark-gfm"),
    s.Key("extensions", s.ListOf(MarkdownExtension()),
          "python-markdown only: its extensions (default: tables, fenced_code, footnotes, smarty, toc, "
          "sane_lists)"),
])

SLOT = s.Schema("slot", [
    s.Key("days", Days(), "on which days the slot exists", default=frozenset(range(7))),
    s.Key("times", s.ListOf(s.TimeOfDay()), "local times of day (calendar timezone)", required=True),
])

RULE_KEYS = [
    s.Key("slots", s.ListOf(s.Nested(SLOT), single_ok=False),
          "posting slots like Buffer's queue: [{days: weekdays, times: ['09:00', '13:00']}]", default=()),
    s.Key("max_per_day", s.Integer(minimum=1), "at most this many entries a day"),
    s.Key("min_gap", s.Duration(), "at least this long between two entries"),
    s.Key("quiet_hours", QuietHoursKind(), "local times when nothing goes out, e.g. 22:00-07:00"),
    s.Key("blackout", s.ListOf(BlackoutKind()), "dates with nothing out (holidays, embargoes)", default=()),
]

CHANNEL = s.Schema("channel", [
    s.Key("type", s.Text(), "the channel type (blog, email, mastodon, bluesky, …)", required=True),
    s.Key("enabled", s.Boolean(), "false keeps the channel declared but sends nothing", default=True),
    s.Key("template", s.Text(), "template name to use instead of the type's post.j2"),
    s.Key("grace", s.Duration(allow_none=True),
          "how late an entry may still go out before it is missed (none: no limit); default per type"),
    s.Key("utm_source", s.Text(), "utm_source for links in this channel's posts (default: the channel name)"),
    s.Key("utm_medium", s.Text(), "utm_medium for links (default: social, email, or blog by type)"),
    s.Key("language", s.Text(), "binds the channel to a language (e.g. de): only items and translations in it go "
                                "here (docs/templates.md, Translations)"),
    *RULE_KEYS,
], open=True)

GROUP = s.Schema("group", [
    s.Key("channels", s.ListOf(s.Text(), single_ok=False), "the channels the group's rules count together",
          required=True),
    s.Key("max_per_day", s.Integer(minimum=1), "at most this many entries a day across the group"),
    s.Key("min_gap", s.Duration(), "at least this long between two entries anywhere in the group"),
])

CALENDAR = s.Schema("calendar", [
    s.Key("timezone", s.Timezone(), "timezone the calendar is shown and slotted in (default: timezone)"),
    s.Key("lead_time", s.Duration(), "an item still in idea/draft/review this close to its time is flagged",
          default=times.timedelta(hours=48)),
    *RULE_KEYS,
    s.Key("groups", s.MapOf(s.Nested(GROUP), "mapping of group name → channels and rules"),
          "rules across several channels: {social: {channels: [mastodon, bluesky], max_per_day: 4}}",
          default=dict),
    s.Key("severity", s.MapOf(s.Choice(ERROR, WARNING), "mapping of rule → error|warning"),
          "per rule (" + ", ".join(RULES) + "): error or warning", default=dict),
])

DEPENDENCIES = s.Schema("dependencies", [
    s.Key("links_wait_for_blog", s.Boolean(), "an entry whose post links to the item's own blog page waits for "
          "the item's blog entry, as if it said after: blog", default=True),
    s.Key("live_check", s.Boolean(), "before entries waiting for the blog go out, its page's public URL must "
          "answer 200; false for a site that is not public yet", default=True),
    s.Key("live_within", s.Duration(), "how long after the blog entry was delivered its page may take to "
          "answer, across runs; past it the waiting entries are held and reported", default=times.timedelta(minutes=30)),
    s.Key("live_wait", s.Duration(), "how long one run keeps asking the page before it leaves the waiting "
          "entries to the next run", default=times.timedelta(minutes=2)),
])

WORKFLOW = s.Schema("workflow", [
    s.Key("require_second_pair_of_eyes", s.Boolean(),
          "an approved item needs an approver who is not its author", default=False),
    s.Key("states", s.ListOf(WorkflowState(), single_ok=False),
          "the team's states between idea and published, in order; the last one is the final approval state "
          "(what may go out), e.g. [draft, review, {name: legal-review, approval: true, approvers: [Lee]}, "
          "approved]", default=lambda: [state.name for state in DEFAULT_STATES]),
    s.Key("approvers", s.ListOf(s.Text()), "who may approve in a state that names no approvers of its own "
          "(names as in workflow.people; empty: anyone)", default=list),
    s.Key("people", s.MapOf(s.Nested(PERSON), "mapping of name → handles"),
          "everyone notifications reach, by the name items use (author, approved_by): name → "
          "{slack, discord, email}", default=dict),
    s.Key("editor", s.Text(), "who is told when a due entry is still not approved lead_time before its time "
          "(a name in workflow.people)"),
    s.Key("notify", s.ListOf(s.Text()), "channels (slack, discord, email, webhook) that carry the workflow's "
          "notifications; none: nobody is told", default=list),
])

SETTINGS = s.Schema("publish.yml", [
    s.Key("site", s.Nested(s.Schema("site", [
        s.Key("title", s.Text(), "the publication's name", required=True),
        s.Key("url", s.Url(), "public base URL of the blog; links and canonical URLs start here", required=True),
        s.Key("language", s.Text(), "BCP 47 language tag", default="en"),
        s.Key("description", s.Text(), "one line shown in feeds and the blog header", default=""),
        s.Key("author", s.Text(), "default author name for feeds", default=""),
    ])), "the publication", required=True),
    s.Key("timezone", s.Timezone(), "default timezone for naive times in front matter", default=None),
    s.Key("content", s.Text(), "folder of Markdown items", default="content"),
    s.Key("workflow", s.Nested(WORKFLOW), "editorial workflow: the states, who approves, who is told "
          "(docs/workflow.md)", default=dict),
    s.Key("calendar", s.Nested(CALENDAR), "calendar rules that apply to every channel", default=dict),
    s.Key("markdown", s.Nested(MARKDOWN), "the Markdown engine that reads item bodies", default=dict),
    s.Key("channels", s.MapOf(ChannelSettings(CHANNEL)), "channel name → type and options", default=dict),
    s.Key("segments", s.MapOf(Segment(), "mapping of segment → description or rule"),
          "audience segments items may address: name → description, or name → {list, where, description}, a rule "
          "over a recipient list's columns (docs/email-and-webhooks.md)", default=dict),
    s.Key("state", s.Nested(s.Schema("state", [
        s.Key("backend", s.Choice("files", "postgres"), "where the ledger and snapshots live (files: JSON Lines "
              "under path; postgres: tables in the database at url, see docs/scaling.md)", default="files"),
        s.Key("path", s.Text(), "folder of the files backend", default="state"),
        s.Key("url", s.Secret(), "the postgres backend's connection URL, from the environment "
              "(env:DATABASE_URL)", default=None),
        s.Key("project", s.Text(max_len=200), "the postgres backend's key for this project: one database holds "
              "many projects (brands), each under its own key (default: site.url)", default=None),
    ])), "the state store", default=dict),
    s.Key("output", s.Nested(s.Schema("output", [
        s.Key("site", s.Text(), "where the blog is built", default="public"),
        s.Key("outbox", s.Text(), "where email goes when no SMTP server is set", default="outbox"),
        s.Key("calendar", s.Text(), "where calendar pages and feeds are written", default="public/calendar"),
        s.Key("reports", s.Text(), "where reports are written", default="reports-out"),
    ])), "output folders, relative to the project", default=dict),
    s.Key("dependencies", s.Nested(DEPENDENCIES), "the order of one item's channels (after:) and the live "
          "check of its blog page", default=dict),
    s.Key("alerts", s.Nested(s.Schema("alerts", [
        s.Key("channel", s.Text(), "channel name that gets a message when an entry fails or is missed"),
    ])), "where failures are announced", default=dict),
])


def _rules(d: dict) -> Rules:
    slots = tuple(Slot(day_set, t) for slot in d.get("slots") or () if slot
                  for day_set in [slot.get("days") or frozenset(range(7))] for t in slot.get("times") or ())
    return Rules(slots=slots, max_per_day=d.get("max_per_day"), min_gap=d.get("min_gap"),
                 quiet_hours=d.get("quiet_hours"), blackout=tuple(d.get("blackout") or ()))


def load_settings(root: Path, *, extra_sections: s.Schema | None = None,
                  channel_types: dict[str, s.Schema] | None = None) -> tuple[Settings, list[Problem]]:
    """Read ``root/publish.yml``. Raises UnusableSettings when nothing can be built from it.

    ``channel_types`` maps each known type to the schema of its options (from the channels layer);
    ``extra_sections`` declares top-level sections other layers own (listen, pull …).
    """
    path = root / SETTINGS_FILE
    problems: list[Problem] = []
    try:
        text = yamlload.decode(path.read_bytes())
    except FileNotFoundError:
        raise UnusableSettings([Problem(SETTINGS_FILE, None, "", "not found: create publish.yml at the project root "
                                        "(see README)")]) from None
    except UnicodeDecodeError as exc:
        raise UnusableSettings([Problem(SETTINGS_FILE, None, "", f"is not UTF-8 ({exc.reason}); save it as UTF-8")]) from None
    try:
        doc = yamlload.parse(text)
    except yamlload.YamlError as exc:
        raise UnusableSettings([Problem(SETTINGS_FILE, exc.line, "", exc.message)]) from None
    if not isinstance(doc.data, dict):
        raise UnusableSettings([Problem(SETTINGS_FILE, 1, "", "expected a mapping of settings (site:, channels: …)")])
    for dotted, line in doc.duplicates:
        problems.append(Problem(SETTINGS_FILE, line, dotted, "appears twice; the first one would be ignored"))
    ctx = s.Context(SETTINGS_FILE, doc, problems, env=dict(os.environ))
    schema = SETTINGS if extra_sections is None else SETTINGS.extend("publish.yml", extra_sections.keys)
    data = schema.validate(doc.data, ctx, unknown=WARNING)
    if data.get("site") is None or not data["site"].get("title") or not data["site"].get("url"):
        raise UnusableSettings(problems or [Problem(SETTINGS_FILE, 1, "site", "site.title and site.url are required")])

    default_tz = data.get("timezone") or times.zone("UTC")
    cal = data.get("calendar") or {}
    severity = dict(DEFAULT_SEVERITY)
    for rule, level in (cal.get("severity") or {}).items():
        if rule not in RULES:
            from .problems import did_you_mean
            problems.append(Problem(SETTINGS_FILE, doc.line(f"calendar.severity.{rule}"), f"calendar.severity.{rule}",
                                    f"unknown rule{did_you_mean(rule, RULES)} (rules: {', '.join(RULES)})"))
        else:
            severity[rule] = level
    calendar = CalendarSettings(cal.get("timezone") or default_tz, cal.get("lead_time"), _rules(cal), severity)

    channels: dict[str, ChannelConfig] = {}
    known = set(CHANNEL.by_name)
    for name, c in (data.get("channels") or {}).items():
        if not c or not c.get("type"):
            continue
        key = f"channels.{name}"
        if not re.match(r"^[a-z0-9][a-z0-9_-]*$", name):
            problems.append(Problem(SETTINGS_FILE, doc.line(key), key,
                                    "a channel name uses lowercase letters, digits, - and _"))
        options = {k: v for k, v in c.items() if k not in known}
        ctype = c["type"]
        if c.get("language") and channel_types is not None and ctype in channel_types \
                and "language" in channel_types[ctype].by_name:
            options["language"] = c["language"]  # the type's own option too (Mastodon, Bluesky)
        if channel_types is not None:
            if ctype not in channel_types:
                from .problems import did_you_mean
                problems.append(Problem(SETTINGS_FILE, doc.line(f"{key}.type"), f"{key}.type",
                                        f"unknown channel type '{ctype}'{did_you_mean(ctype, channel_types)} "
                                        f"(types: {', '.join(sorted(channel_types))})"))
            else:
                options = channel_types[ctype].validate(options, ctx, prefix=key)
        channels[name] = ChannelConfig(
            name=name, type=ctype, enabled=c.get("enabled", True), template=c.get("template"),
            grace=c.get("grace"), grace_set="grace" in doc.data.get("channels", {}).get(name, {}),
            rules=_rules(c), utm_source=c.get("utm_source"), utm_medium=c.get("utm_medium"),
            options=options, line=doc.line(key), language=c.get("language"))
    for group, g in (cal.get("groups") or {}).items():
        names = tuple(g.get("channels") or ())
        for i, name in enumerate(names):
            if name not in channels:
                from .problems import did_you_mean
                key = f"calendar.groups.{group}.channels[{i}]"
                problems.append(Problem(SETTINGS_FILE, doc.line(key), key,
                                        f"no channel named '{name}'{did_you_mean(name, channels)} "
                                        f"(channels: {', '.join(channels) or 'none declared'})"))
        calendar.groups[group] = Group(group, tuple(n for n in names if n in channels), g.get("max_per_day"),
                                       g.get("min_gap"))
    md = data.get("markdown") or {}
    if md.get("extensions") and md.get("engine", "cmark-gfm") != "python-markdown":
        problems.append(Problem(SETTINGS_FILE, doc.line("markdown.extensions"), "markdown.extensions",
                                "extensions apply to python-markdown only; cmark-gfm has its own built in "
                                "(add engine: python-markdown, or remove extensions)", WARNING))
    state = dict(data.get("state") or {"backend": "files", "path": "state"})
    if state.get("backend") == "postgres":
        if not state.get("url") and not ((doc.data.get("state") or {}) if isinstance(doc.data, dict) else {}).get("url"):
            problems.append(Problem(SETTINGS_FILE, doc.line("state.backend"), "state.url",
                                    "the postgres backend needs the database's URL from the environment: add "
                                    "url: env:DATABASE_URL under state and set DATABASE_URL"))
        state.setdefault("project", None)
        state["project"] = state["project"] or str((data.get("site") or {}).get("url") or "").rstrip("/")
    alert_channel = (data.get("alerts") or {}).get("channel")
    if alert_channel and alert_channel not in channels:
        from .problems import did_you_mean
        problems.append(Problem(SETTINGS_FILE, doc.line("alerts.channel"), "alerts.channel",
                                f"no channel named '{alert_channel}'{did_you_mean(alert_channel, channels)}"))
    site = data["site"]
    segment_descriptions, segment_rules = split_segments(data.get("segments"), doc)
    settings = Settings(
        root=root, path=SETTINGS_FILE,
        site=Site(site["title"], site["url"].rstrip("/"), site["language"], site["description"], site["author"]),
        timezone=default_tz, content_dir=data["content"],
        require_second_pair_of_eyes=(data.get("workflow") or {}).get("require_second_pair_of_eyes", False),
        calendar=calendar, channels=channels, segments=segment_descriptions,
        state=state,
        output=data.get("output") or {}, alerts=data.get("alerts") or {}, raw=data, doc=doc,
        segment_rules=segment_rules,
        workflow=build_workflow(data.get("workflow") or {}, doc, channels, problems, SETTINGS_FILE))
    return settings, problems
