"""The newsroom's nouns: settings, channels, items and their per-channel overrides.

Plain data, built by ``settings.py`` and ``items.py`` from validated YAML; every other layer reads
these and never the YAML itself.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from .problems import Problem
from .yamlload import Document

STATUSES = ("idea", "draft", "review", "approved", "published", "archived", "withdrawn")
#: The states every workflow has around the team's own (``workflow.states``): where an item starts,
#: and where it ends. Between them, by default, ``DEFAULT_STATES``.
FIRST_STATE = "idea"
END_STATES = ("published", "archived", "withdrawn")


@dataclass(frozen=True)
class State:
    """One state of the team's workflow between ``idea`` and ``published``."""

    name: str
    approval: bool = False  # items wait here for an approver; their approval moves them on
    approvers: tuple[str, ...] = ()  # who may approve here (empty: workflow.approvers)
    line: int | None = field(default=None, compare=False)
    key: str | None = field(default=None, compare=False)  # where publish.yml declares it: workflow.states[2]


DEFAULT_STATES = (State("draft"), State("review", approval=True), State("approved"))


@dataclass(frozen=True)
class Person:
    """Someone notifications reach (``workflow.people``): by name, with their handles."""

    name: str
    slack: str | None = None  # Slack member ID (U024BE7LH), mentioned as <@U024BE7LH>
    discord: str | None = None  # Discord user ID, mentioned as <@id>
    email: str | None = None


@dataclass
class Workflow:
    """publish.yml ``workflow:``: the team's states in order, who approves, who is told of what.

    The last state is the final approval state: an item there is ready to go out, as ``approved`` is by
    default. Every state maps to one of the built-in ``STATUSES`` (``status_of``), which the calendar's
    and the run's rules read; the state's own name is what people see.
    """

    states: tuple[State, ...] = DEFAULT_STATES
    require_second_pair_of_eyes: bool = False
    approvers: tuple[str, ...] = ()
    people: dict[str, Person] = field(default_factory=dict)
    editor: str | None = None
    notify: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """Every state an item may be in, in order."""
        return (FIRST_STATE, *(s.name for s in self.states), *END_STATES)

    @property
    def final(self) -> str:
        return self.states[-1].name

    def state(self, name: str) -> State | None:
        return next((s for s in self.states if s.name == name), None)

    def status_of(self, name: str) -> str:
        """The built-in status a state stands for: the final state is ``approved``, a state that needs
        approval is ``review``, any other state between the ends is ``draft``."""
        if name == FIRST_STATE or name in END_STATES:
            return name
        if name == self.final:
            return "approved"
        found = self.state(name)
        if found is not None and found.approval:
            return "review"
        return "draft" if found is not None else name

    def approvers_of(self, name: str) -> tuple[str, ...]:
        """Who may approve an item waiting in state ``name`` (empty: anyone)."""
        found = self.state(name)
        return (found.approvers or self.approvers) if found is not None else self.approvers

    def approving_state(self) -> State | None:
        """The last state that needs approval: its approvers sign the final state's ``approved_by``."""
        return next((s for s in reversed(self.states[:-1]) if s.approval), None)


@dataclass(frozen=True)
class Slot:
    """A posting slot: on these weekdays (0 = Monday) at this local time."""

    weekdays: frozenset[int]
    at: time


@dataclass(frozen=True)
class Blackout:
    """No entries from ``start`` to ``end`` inclusive (local dates), for ``reason``."""

    start: date
    end: date
    reason: str = ""


@dataclass(frozen=True)
class QuietHours:
    """Local times when nothing should go out; ``start > end`` wraps midnight (22:00-07:00)."""

    start: time
    end: time

    def contains(self, t: time) -> bool:
        if self.start <= self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end


@dataclass(frozen=True)
class Rules:
    """Calendar rules, globally (settings.calendar) or for one channel (channel.rules)."""

    slots: tuple[Slot, ...] = ()
    max_per_day: int | None = None
    min_gap: timedelta | None = None
    quiet_hours: QuietHours | None = None
    blackout: tuple[Blackout, ...] = ()


@dataclass(frozen=True)
class Site:
    title: str
    url: str
    language: str = "en"
    description: str = ""
    author: str = ""


@dataclass
class ChannelConfig:
    """One channel declared in publish.yml: a name, a type, and that type's options."""

    name: str
    type: str
    enabled: bool = True
    template: str | None = None
    grace: timedelta | None = None  # None: no staleness limit
    grace_set: bool = False  # False: the channel type's default applies
    rules: Rules = field(default_factory=Rules)
    utm_source: str | None = None
    utm_medium: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    line: int | None = None
    language: str | None = None  # bound to a language: only items and translations in it go here


@dataclass(frozen=True)
class Group:
    """Rules counted across several channels together (calendar.groups.<name>)."""

    name: str
    channels: tuple[str, ...]
    max_per_day: int | None = None
    min_gap: timedelta | None = None


@dataclass
class CalendarSettings:
    timezone: Any  # ZoneInfo
    lead_time: timedelta
    rules: Rules
    severity: dict[str, str]
    groups: dict[str, Group] = field(default_factory=dict)


#: publish.yml's ``output:`` folders when not set (the schema's defaults; settings built in tests may lack them).
OUTPUT_DEFAULTS = {"site": "public", "outbox": "outbox", "calendar": "public/calendar", "reports": "reports-out"}


@dataclass
class Settings:
    root: Path
    path: str  # relative path of publish.yml, for problems
    site: Site
    timezone: Any  # ZoneInfo: the project's default
    content_dir: str
    require_second_pair_of_eyes: bool
    calendar: CalendarSettings
    channels: dict[str, ChannelConfig]
    segments: dict[str, str]
    state: dict[str, Any]
    output: dict[str, str]
    alerts: dict[str, Any]
    raw: dict[str, Any]  # every validated top-level section, for layers with their own keys
    doc: Document
    segment_rules: dict[str, Any] = field(default_factory=dict)  # name → segments.SegmentRule
    workflow: Workflow = field(default_factory=Workflow)

    def line(self, key: str) -> int | None:
        return self.doc.line(key)

    def output_dir(self, name: str) -> Path:
        """An output folder of publish.yml's ``output:`` (site, outbox, calendar, reports), under the root."""
        return self.root / (self.output.get(name) or OUTPUT_DEFAULTS[name])


@dataclass
class ChannelOverride:
    """``channels.<name>`` in an item's front matter."""

    channel: str
    at: datetime | timedelta | str | None = None  # absolute (UTC), offset from publish_at, or "next"
    text: str | None = None
    template: str | None = None
    thread: bool | None = None
    segment: str | None = None
    enabled: bool = True
    after: tuple[str, ...] = ()  # channels of the same item that must be delivered first
    options: dict[str, Any] = field(default_factory=dict)
    line: int | None = None


def revision_of(text: str) -> str:
    """An item file's revision: a hash of its whole text (a changed item is a new revision)."""
    return digest_of(text.encode("utf-8"))


def digest_of(raw: bytes) -> str:
    """The digest revisions are made of: ``revision_of(text)`` is ``digest_of`` its UTF-8 bytes."""
    return hashlib.blake2b(raw, digest_size=8).hexdigest()


@dataclass
class Item:
    """One Markdown file under content/ with its front matter, validated."""

    path: str  # relative to the project root, POSIX separators
    id: str  # stable identity: front matter `id`, else the slug; the ledger keys entries by it
    slug: str
    title: str
    status: str
    body: str
    body_line: int
    revision: str  # hash of the file's content: a changed item is a new revision
    summary: str = ""
    author: str = ""
    reviewers: list[str] = field(default_factory=list)
    approved_by: str | None = None
    approved_at: datetime | None = None
    publish_at: datetime | None = None
    expires_at: datetime | None = None
    reason: str | None = None  # why a withdrawn item was taken back (status: withdrawn)
    evergreen: dict | None = None  # {every, until, channels, variants}: re-shared (scheduler/evergreen.py)
    timezone: Any = None  # ZoneInfo or None (the project's applies)
    language: str | None = None  # BCP 47; None: site.language applies
    campaign: str | None = None
    tags: list[str] = field(default_factory=list)
    segments: list[str] = field(default_factory=list)
    image: str | None = None
    image_alt: str | None = None
    canonical_url: str | None = None
    priority: int = 0
    channels: dict[str, ChannelOverride] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    doc: Document | None = field(default=None, repr=False)
    translation_of: str | None = None  # the original's id (its path or id as written, until translations.link)
    translated_from: str | None = None  # the original's content_hash this translation was made from
    original_title: str | None = None  # a translation's original's title, for the calendar
    state: str = ""  # the workflow state as written (legal-review); ``status`` is the built-in one it stands for
    images: tuple | None = None  # (body line, src) of the body's images (newsroom/bodyscan.py); None: not read
    recipient_fields: tuple | None = None  # (body line, column, filled): bodyscan.body_fields; None: not read

    def __post_init__(self):
        if not self.state:
            self.state = self.status

    # An item from the item cache comes without its body, which most commands never read: it is read
    # from the cache when first asked for (``newsroom/itemcache.py``), and kept from then on.
    def __getattr__(self, name: str):
        if name == "body":
            source = self.__dict__.get("_body_source")
            if source is not None:
                body = self.__dict__["body"] = source.body_of(self)
                return body
        raise AttributeError(f"'Item' object has no attribute '{name}'")

    def __getstate__(self):
        state = self.__dict__
        if "_body_source" in state:  # a copy or a pickle holds the body itself, never the cache's file
            state = {k: v for k, v in state.items() if k != "_body_source"}
            state["body"] = self.body
        return state

    def __setstate__(self, state: dict) -> None:
        # Said, not left to pickle: without it, unpickling looks the method up, which goes through
        # __getattr__ and raises for each of 10,000 items (a quarter of loading them from the cache).
        self.__dict__.update(state)

    def line(self, key: str) -> int | None:
        return self.doc.line(key, 1) if self.doc else None


@dataclass
class Project:
    """Settings plus every item that loaded, and every problem found on the way."""

    root: Path
    settings: Settings
    items: list[Item]
    problems: list[Problem]

    def item_by_path(self, path: str) -> Item | None:
        for item in self.items:
            if item.path == path:
                return item
        return None
