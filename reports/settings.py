"""The ``pull:`` and ``listen:`` sections of publish.yml, declared like every other setting.

``publish.py`` hands ``SECTIONS`` to ``load_project(..., extra_sections=...)`` so ``check`` validates
them and ``docs/reference.md`` documents them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from newsroom import schema as s

WINDOW = s.Schema("pull window", [
    s.Key("until", s.Duration(), "how long after delivery this window lasts, e.g. 1d", required=True),
    s.Key("every", s.Duration(), "how often an entry is pulled inside the window, e.g. 1h", required=True),
])

#: hourly for the first day, daily to 30 days, weekly to 90 days (the issue's default)
DEFAULT_WINDOWS = ((timedelta(days=1), timedelta(hours=1)), (timedelta(days=30), timedelta(days=1)),
                   (timedelta(days=90), timedelta(days=7)))

PULL = s.Schema("pull", [
    s.Key("windows", s.ListOf(s.Nested(WINDOW), single_ok=False),
          "how often delivered entries are pulled, by age: [{until: 1d, every: 1h}, …]; default hourly for a "
          "day, daily to 30 days, weekly to 90", default=()),
    s.Key("workers", s.Integer(minimum=1, maximum=32), "channels pulled at the same time", default=4),
    s.Key("replies", s.Boolean(), "also fetch replies to our posts", default=True),
    s.Key("pause", s.MapOf(s.Duration(), "mapping of channel → duration"),
          "extra wait between two calls to a channel (channel name → duration, e.g. devto: 1s)", default=dict),
])

FEED = s.Schema("feed", [
    s.Key("name", s.Text(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", hint="is not a feed name (letters, digits, . _ -)"),
          "short name shown in the inbox and reports", required=True),
    s.Key("url", s.Url(), "the RSS or Atom feed's address", required=True),
    s.Key("keywords", s.ListOf(s.Text()),
          "only entries mentioning one of these (default: the section's keywords; none: every entry)"),
    s.Key("all", s.Boolean(), "keep every entry of this feed (your own YouTube channel, a comments feed)",
          default=False),
])

LISTEN = s.Schema("listen", [
    s.Key("keywords", s.ListOf(s.Text()), "words that make a feed entry a mention (case-insensitive)", default=()),
    s.Key("feeds", s.ListOf(s.Nested(FEED), single_ok=False), "RSS/Atom feeds read by `pull`", default=()),
    s.Key("timeout", s.Duration(), "how long one feed's whole fetch may take (a feed is read up to 10 MB)",
          default=timedelta(seconds=20)),
])

#: The analytics services ``pull`` reads (``reports/analytics/``), by type.
ANALYTICS_TYPES = ("plausible", "umami", "matomo", "ga4")

ANALYTICS_SOURCE = s.Schema("analytics source", [
    s.Key("type", s.Choice(*ANALYTICS_TYPES), "the service: plausible, umami, matomo or ga4", required=True),
    s.Key("site_id", s.Text(), "which site: Plausible's domain, Umami's website id, Matomo's idSite, GA4's "
          "property id", required=True),
    s.Key("token", s.Secret(), "the API key (Plausible), API key or login token (Umami), token_auth (Matomo), or "
          "the service account's JSON key file contents (GA4), from the environment", required=True),
    s.Key("url", s.Url(), "the service's base URL when self-hosted (default: the hosted service; required "
          "for Matomo)"),
    s.Key("timeout", s.Duration(), "how long to wait for one answer", default=timedelta(seconds=30)),
])

REPORT = s.Schema("report", [
    s.Key("sample", s.Text(pattern=r"^[^/\\][^\\]*$", hint="is not a folder of this repository (a relative path)"),
          "a folder holding a recorded sample newsroom (its own publish.yml, content/ and state/): `report` shows "
          "it, labelled SAMPLE DATA, until this project has pulled engagement of its own (the shipped example's "
          "sample/; ignored when the folder is missing)"),
])

SECTIONS = s.Schema("engagement", [
    s.Key("pull", s.Nested(PULL), "the engagement pull: windows, concurrency, pacing", default=dict),
    s.Key("listen", s.Nested(LISTEN), "feeds read for mentions (industry news, competitors, forums, YouTube)",
          default=dict),
    s.Key("analytics", s.MapOf(s.Nested(ANALYTICS_SOURCE), "mapping of name → source"),
          "web analytics read by `pull`: page views of blog items and the visits each post drove (name → "
          "source); see docs/reports.md", default=dict),
    s.Key("report", s.Nested(REPORT), "what `report` shows before this project has engagement of its own",
          default=dict),
])


@dataclass(frozen=True)
class PullSettings:
    windows: tuple[tuple[timedelta, timedelta], ...] = DEFAULT_WINDOWS
    workers: int = 4
    replies: bool = True
    pause: dict | None = None


@dataclass(frozen=True)
class Feed:
    name: str
    url: str
    keywords: tuple[str, ...]
    all: bool = False


def pull_settings(raw: dict) -> PullSettings:
    """From ``settings.raw``; windows sorted by how long they last."""
    p = raw.get("pull") or {}
    windows = tuple(sorted((w["until"], w["every"]) for w in p.get("windows") or () if w and w.get("until")
                           and w.get("every")))
    return PullSettings(windows or DEFAULT_WINDOWS, p.get("workers") or 4, p.get("replies", True) is not False,
                        dict(p.get("pause") or {}))


def feeds(raw: dict) -> tuple[list[Feed], timedelta]:
    listen = raw.get("listen") or {}
    common = tuple(listen.get("keywords") or ())
    out = []
    for f in listen.get("feeds") or ():
        if not f or not f.get("name") or not f.get("url"):
            continue
        kw = f.get("keywords")
        out.append(Feed(f["name"], f["url"], tuple(kw) if kw is not None else common, bool(f.get("all"))))
    return out, listen.get("timeout") or timedelta(seconds=20)


def check(settings) -> list:
    """Problems across keys the schema cannot see: feed names used twice, pauses for no channel."""
    from newsroom.problems import Problem, did_you_mean

    problems = []
    seen: set[str] = set()
    for i, f in enumerate((settings.raw.get("listen") or {}).get("feeds") or ()):
        name = (f or {}).get("name")
        if name and name in seen:
            key = f"listen.feeds[{i}].name"
            problems.append(Problem(settings.path, settings.line(key), key,
                                    f"another feed is already called '{name}'; give each feed its own name"))
        seen.add(name)
    for name, source in (settings.raw.get("analytics") or {}).items():
        if (source or {}).get("type") == "matomo" and not source.get("url"):
            key = f"analytics.{name}"
            problems.append(Problem(settings.path, settings.line(key), key,
                                    "a Matomo source needs url: (where your Matomo answers, e.g. "
                                    "https://analytics.example.com)"))
    for channel in ((settings.raw.get("pull") or {}).get("pause") or {}):
        if channel not in settings.channels:
            key = f"pull.pause.{channel}"
            problems.append(Problem(settings.path, settings.line(key), key,
                                    f"no channel named '{channel}'{did_you_mean(channel, settings.channels)}"))
    return problems
