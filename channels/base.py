"""The channel interface: one small class per channel type around this base (granary's ``source.py``).

A channel adapter is handed everything it needs (its settings, the environment's secrets, a rendered
``Post``, a ``DeliveryContext``); it never reads files or the clock itself. Expected failures are
values (``Failure``), not exceptions: exceptions are for bugs and for stopping the whole run.

Preview and delivery share one code path: ``deliver`` with ``ctx.dry_run`` does everything but the
final request (granary's ``_create(preview=…)``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from datetime import datetime, timedelta
from typing import Any, Callable, ClassVar, Mapping

from newsroom import schema as s
from newsroom.model import ChannelConfig
from newsroom.problems import Problem

from .text import LengthRule, code_points

USER_AGENT = "newsroom-publish/0.1 (+https://github.com/newsroom-publish)"
DEFAULT_TIMEOUT = (5, 30)  # (connect, read) seconds for every request


@dataclass(frozen=True)
class Media:
    """An image to attach: a URL or a local path (relative to the project), with its alt text."""

    src: str
    alt: str
    path: str | None = None  # local file, when the image lives in the repo


@dataclass
class Post:
    """What one entry sends: rendered through the channel's templates and checked against its limits.

    ``parts`` holds the text messages in order (more than one for a thread). HTML channels (blog,
    email) also fill ``html`` and ``text``. ``data`` carries a type's own payload (Slack blocks,
    dev.to's article fields …).
    """

    channel: str  # channel name from publish.yml
    type: str  # channel type
    item_id: str
    item_path: str
    revision: str
    title: str
    url: str  # the item's canonical URL
    parts: list[str] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)  # each part's length by the channel's own rule
    limit: int | None = None
    subject: str | None = None
    html: str | None = None
    text: str | None = None
    segment: str | None = None
    media: list[Media] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    language: str | None = None  # BCP 47 tag of the text: site.language (Bluesky ``langs``, Mastodon ``language``)
    template: str = ""  # which template produced it, for problems
    data: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


#: Every field of a ``Post`` a platform may show (``Channel.SHOWS`` names those its type does).
POST_FIELDS = ("title", "url", "parts", "subject", "html", "text", "tags", "language", "media", "data")


def fingerprint(post: Post, fields: tuple[str, ...] = POST_FIELDS) -> str:
    """What a post shows on its platform, as one value: a correction is due only when it changes (an
    edit of the item that leaves a channel's post as it was asks nothing of that platform)."""
    import hashlib
    import json

    said = [[(m.src, m.alt) for m in post.media] if name == "media" else getattr(post, name) for name in fields]
    return hashlib.sha256(json.dumps(said, sort_keys=True, default=str, ensure_ascii=False).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Receipt:
    """Proof that an entry went out: the remote id and URL of the (first) post, and every part's."""

    remote_id: str
    url: str | None
    at: datetime
    parts: tuple[dict, ...] = ()  # [{"id": …, "url": …}] per thread part, in order
    data: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"remote_id": self.remote_id, "url": self.url, "at": self.at.isoformat(),
                "parts": list(self.parts), "data": dict(self.data)}


@dataclass(frozen=True)
class Failure:
    """A delivery that did not succeed.

    ``retryable``: trying again may work (timeout, 5xx, 429). ``retry_after``: seconds the platform
    asked us to wait. ``ambiguous``: the request may have gone through (a dropped connection after
    sending), so a retry must reconcile first. ``unresolved``: only a person can settle it (``publish.py
resolve``). ``message`` carries the platform's own words.
    """

    message: str
    retryable: bool = False
    retry_after: float | None = None
    status: int | None = None
    ambiguous: bool = False
    partial: tuple[dict, ...] = ()  # parts that did go out before the failure
    unresolved: bool = False  # only a person can settle what is left (e.g. email recipients uncertain)
    #: the secret the platform refused (its environment variable): the entry waits until it works
    credential: str | None = None
    #: a limit of the platform's is reached for now (posts a day): nothing was sent, the entry waits for a
    #: later run without counting as failing
    waits: bool = False


DeliveryResult = Receipt | Failure


@dataclass(frozen=True)
class Removal:
    """Proof that a post that was out is gone (``Channel.delete``): ``already`` when the platform
    said it was not there any more (deleted by hand, or by a run that died before recording it)."""

    at: datetime
    already: bool = False
    data: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"at": self.at.isoformat(), "already": self.already, "data": dict(self.data)}


class Journal:
    """Progress inside one delivery that survives a crash (email batches, thread parts).

    The publish run backs it with the ledger; tests and previews use the in-memory default.
    """

    def __init__(self, initial: Mapping[str, Any] | None = None, on_write: Callable[[str, Any], None] | None = None):
        self._data = dict(initial or {})
        self._on_write = on_write

    def get(self, key: str, default: Any = None) -> Any:
        return self._data.get(key, default)

    def put(self, key: str, value: Any) -> None:
        self._data[key] = value
        if self._on_write:
            self._on_write(key, value)


@dataclass
class DeliveryContext:
    """What a delivery is handed. ``key`` is stable for (item id, channel, revision): idempotency
    keys and record keys derive from it, so a retry of the same entry reuses them."""

    key: str
    now: datetime
    dry_run: bool = False
    journal: Journal = field(default_factory=Journal)
    sleep: Callable[[float], None] | None = None  # how to wait (tests pass a fake); None: time.sleep
    progress: Callable[[str], None] | None = None
    #: item id → where else it went: [{"channel": name, "type": type, "url": url}] (the blog's "also on")
    syndication: dict[str, list[dict]] = field(default_factory=dict)
    #: the moment of sending, for what a receiver checks against its own clock (a webhook signature's
    #: timestamp); ``now`` is the run's time (``--now``), which may be hours before. None: ``now``.
    clock: Callable[[], datetime] | None = None
    #: an edit or delete asked again after a run died before recording the answer: the earlier one may
    #: have reached the platform (an adapter that can look first does, rather than write twice)
    again: bool = False
    #: the blog's finish: item id → {"path", "reason"} of its pages withdrawn (a notice, or removed)
    withdrawn: dict[str, dict] = field(default_factory=dict)

    def sending_time(self) -> datetime:
        return self.clock() if self.clock is not None else self.now


@dataclass(frozen=True)
class Reply:
    """A reply or mention: who said what where, and whether it is our own account speaking."""

    channel: str
    remote_id: str
    in_reply_to: str  # remote id of the post it answers
    author: str
    text: str
    url: str | None
    at: datetime
    ours: bool = False


#: The shared vocabulary for engagement numbers.
METRICS = ("views", "impressions", "likes", "shares", "replies", "quotes", "bookmarks", "clicks", "opens",
           # the channels we own: a page's visitors, the visits a post's links drove (web analytics),
           # a newsletter's recipients and what they did
           "visitors", "visits", "sent", "unique_opens", "bounces", "unsubscribes")


class Channel:
    """Base class. Subclasses declare constants and implement what their platform offers."""

    TYPE: ClassVar[str] = ""
    MEDIUM: ClassVar[str] = "social"  # utm_medium default: social, email, blog, chat, webhook
    RENDER_AS: ClassVar[str | None] = None  # posts rendered as this type's (templates, renderer); None: TYPE
    COUNTS_CLICKS: ClassVar[bool] = False  # the platform counts clicks itself (web analytics then leave them)
    OPTIONS: ClassVar[s.Schema] = s.Schema("options", [])  # the type's own keys in publish.yml
    OVERRIDES: ClassVar[s.Schema | None] = None  # extra keys allowed in an item's channels.<name>
    SECRETS: ClassVar[tuple[str, ...]] = ()  # option names holding env:NAME references that must be set
    #: The platform's length limit, how it counts a text against it (a counting rule of
    #: ``channels/text.py``), the unit it counts in, and where the limit is documented.
    MAX_CHARS: ClassVar[int | None] = None
    LENGTH: ClassVar[Callable[[str], int]] = staticmethod(code_points)
    LENGTH_UNIT: ClassVar[str] = "characters"
    LENGTH_SOURCE: ClassVar[str] = ""
    MAX_BYTES: ClassVar[int | None] = None  # a second limit in UTF-8 bytes (Bluesky: 3,000), or None
    URL_WEIGHT: ClassVar[int | None] = None
    SUPPORTS_THREADS: ClassVar[bool] = False
    SUPPORTS_MEDIA: ClassVar[bool] = False
    METRICS_BATCH: ClassVar[int] = 0  # ids per metrics call; 0: no metrics
    DEFAULT_GRACE: ClassVar[timedelta | None] = timedelta(hours=6)
    SHOWS_SYNDICATION: ClassVar[bool] = False  # finish() runs again when the item goes out elsewhere
    #: deliver() acts on nothing outside the project (the blog: the page goes out when finish() builds
    #: and deploys the site, and a second deliver() does no harm): its claim guards nothing sent, so the
    #: run does not make it durable on its own (the ledger's next fsync covers it; ``scheduler/run/claim.py``)
    DELIVERS_IN_FINISH: ClassVar[bool] = False
    #: After publishing (corrections and withdrawals, docs/publishing.md): whether the platform lets us
    #: change a post that is out in place (``edit``) and take it down (``delete``). A type that
    #: cannot says why once, in ``CANNOT_EDIT`` / ``CANNOT_DELETE`` (the run prints it; nothing
    #: automatic is offered). Both methods are repeated after a crash, so each must be safe to repeat.
    EDITS: ClassVar[bool] = False
    DELETES: ClassVar[bool] = False
    #: the fields of a ``Post`` that reach the platform (``fingerprint``): a social type that sends only
    #: its text and image says ("parts", "media", "language"), so a new tag on the blog asks it nothing
    SHOWS: ClassVar[tuple[str, ...]] = POST_FIELDS
    CANNOT_EDIT: ClassVar[str] = "this channel type cannot change a post once it is out"
    CANNOT_DELETE: ClassVar[str] = "this channel type cannot take a post down once it is out"
    #: OAuth scopes each thing the channel does needs: {"posting": (...), "media": (...), "metrics": (...)}
    SCOPES: ClassVar[dict[str, tuple[str, ...]]] = {}

    def __init__(self, config: ChannelConfig, env: Mapping[str, str], *, base_url: str | None = None):
        self.config = config
        self.name = config.name
        self.env = env
        self.base_url = base_url
        self._session = None
        #: the encrypted credentials and the clock, handed over by whoever runs the adapter
        #: (``use_credentials``); only channels whose tokens are refreshed use them (``channels/oauth.py``)
        self.vault = None
        self.clock: Callable[[], datetime] | None = None

    # -- setup --------------------------------------------------------------------------------
    def prepare(self, settings) -> None:
        """Take what the adapter needs from the loaded settings (folders, the site, list readers).

        Called once by whoever runs deliveries, before the first one. The adapter keeps paths and
        callables, never reads publish.yml or the clock itself."""

    def use_credentials(self, vault, clock: Callable[[], datetime]) -> None:
        """Hand the adapter the state store's credential vault and a clock (for token expiry)."""
        self.vault, self.clock = vault, clock

    def credential_problem(self) -> str | None:
        """Why this channel cannot sign in before anything is sent (no stored credential, no key), or None."""
        return None

    def scopes_for(self) -> dict[str, tuple[str, ...]]:
        """``SCOPES`` for this channel's settings (LinkedIn: a person or an organization author)."""
        return self.SCOPES

    def credential_facts(self) -> dict:
        """What is known without asking the platform: ``source``, ``expires_at``, ``lapses_at`` (when a
        person must connect again), ``scopes`` granted (None: unknown), ``account``."""
        return {}

    def verify(self) -> dict | Failure | None:
        """The platform's cheap "who am I" call: {"account", "scopes"?} when the credential works, a
        Failure when it does not, None when the platform has no such call (or it would cost too much)."""
        return None

    @property
    def grace(self) -> timedelta | None:
        return self.config.grace if self.config.grace_set else self.DEFAULT_GRACE

    def secret(self, option: str) -> str | None:
        ref = self.config.options.get(option)
        return ref.resolve(self.env) if isinstance(ref, s.SecretRef) else None

    def refused(self, failure: Failure, option: str) -> Failure:
        """``failure`` as a refused credential: the secret behind ``option`` must be fixed by a person;
        the entry waits for it, as for a secret not set, rather than failing for good."""
        from dataclasses import replace

        ref = self.config.options.get(option)
        return replace(failure, credential=ref.env if isinstance(ref, s.SecretRef) else f"{self.name}.{option}")

    def missing_secrets(self) -> list[str]:
        """Environment variables this channel needs that are not set (never their values)."""
        out = []
        for option in self.SECRETS:
            ref = self.config.options.get(option)
            if isinstance(ref, s.SecretRef) and not ref.resolve(self.env):
                out.append(ref.env)
        return out

    @property
    def session(self):
        """One ``requests.Session`` per adapter, with our User-Agent; created on first use."""
        if self._session is None:
            import requests

            self._session = requests.Session()
            self._session.headers["User-Agent"] = USER_AGENT
        return self._session

    # -- limits -------------------------------------------------------------------------------
    @classmethod
    def length_rule(cls, options: Mapping | None = None) -> LengthRule:
        """How this type measures a text and its limit, with a channel's options (Mastodon's
        ``max_chars``); declared by the class constants above."""
        return length_rule_for(cls, cls.MAX_CHARS)

    def count(self, text: str) -> int:
        """Length of ``text`` by this platform's own rule (Mastodon's 23 per URL, Bluesky's graphemes,
        X's weights …); plain code points for types without a rule."""
        return self.length_rule(self.config.options).measure(text)

    @property
    def limit(self) -> int | None:
        """The most one post may measure by ``count`` (Mastodon: the ``max_chars`` option), or None."""
        return self.length_rule(self.config.options).limit

    # -- delivery -----------------------------------------------------------------------------
    def deliver(self, post: Post, ctx: DeliveryContext) -> DeliveryResult:
        raise NotImplementedError(f"{type(self).__name__} cannot deliver")

    def reconcile(self, post: Post, ctx: DeliveryContext) -> Receipt | Failure | None:
        """After a run died between claim and receipt: the receipt if the post is already out, None
        if it is surely not, a ``Failure`` when the platform could tell but did not answer now (the
        next run asks again); raise ``CannotReconcile`` when the platform cannot tell at all."""
        raise CannotReconcile(f"{self.TYPE} has no way to find out whether the entry went out")

    def unusable_in_ci(self) -> str | None:
        """Why this channel cannot deliver on a CI runner (whose files are thrown away), or None."""
        return None

    # -- after publishing ---------------------------------------------------------------------
    def edit(self, post: Post, receipt: Receipt, ctx: DeliveryContext) -> Receipt | Failure:
        """Make the post that is out (``receipt``, as the ledger holds it) say what ``post`` says now,
        in place, with ``EDITS = True``. Returns the receipt of the post as it stands (usually the same
        remote id and URL). Repeatable: the run repeats it when it died before recording the answer.
        The platform's "not found", "too old to edit" and "not yours" are non-retryable ``Failure``s
        in its own words; ``ctx.dry_run`` does everything but the request."""
        return Failure(f"{self.name}: {self.CANNOT_EDIT}")

    def delete(self, receipt: Receipt, ctx: DeliveryContext) -> Removal | Failure:
        """Take the post that is out down (every part of a thread), with ``DELETES = True``. A post
        already gone (404) is a ``Removal(already=True)``, so a repeat after a crash succeeds."""
        return Failure(f"{self.name}: {self.CANNOT_DELETE}")

    def finish(self, delivered: list[tuple[Post, Receipt]], ctx: DeliveryContext) -> None:
        """Called once per run after this channel's deliveries (the blog rebuilds here)."""

    # -- engagement ---------------------------------------------------------------------------
    def fetch_metrics(self, receipts: list[Receipt]) -> dict[str, dict[str, int]]:
        """remote id → {metric: value} in the shared vocabulary (``METRICS``)."""
        return {}

    def fetch_replies(self, receipts: list[Receipt]) -> list[Reply]:
        return []


class CannotReconcile(Exception):
    """The platform offers no way to tell whether an earlier attempt went out: a person decides."""


@lru_cache(maxsize=None)
def length_rule_for(cls: type[Channel], limit: int | None) -> LengthRule:
    """The rule of a channel type with ``limit``; a type that declares no limit counts plain characters."""
    name = cls.TYPE if cls.MAX_CHARS is not None else "plain"
    return LengthRule(name, limit, cls.LENGTH_UNIT, cls.LENGTH, cls.LENGTH_SOURCE)
