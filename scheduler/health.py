"""Credential health before the due date: per channel, whether its credential works, when it lapses,
which scopes are missing for what the channel is asked to do; and the warning (``check``) or the
alert (the publish run, once) when a credential lapses within ``warn_before`` of an entry due on it.

A working credential is asked of the platform by its cheapest "who am I" call (``Channel.verify``:
X ``GET /2/users/me``, Mastodon ``verify_credentials``, LinkedIn token introspection), once per
adapter and so once per command; Bluesky is not asked (a sign-in spends from 30 per 5 minutes).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from channels.base import Channel, DeliveryContext, Failure, Post, Receipt
from newsroom.problems import WARNING, Problem

from .plan import Entry, plan

SETTINGS_FILE = "publish.yml"
WARN_BEFORE = timedelta(days=7)
#: LinkedIn supports a version for at least a year, then sunsets it (learn.microsoft.com
#: linkedin/marketing/versioning): a version older than this is about to stop working.
LINKEDIN_VERSION_AGE = 11  # months


def utc(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


@dataclass
class Health:
    channel: str
    type: str
    state: str  # works, failing, missing, unchecked
    detail: str = ""
    source: str | None = None  # env:NAME, or state/credentials
    account: str | None = None
    expires_at: datetime | None = None  # the access token
    lapses_at: datetime | None = None  # when a person must connect again (None: not known to lapse)
    refreshable: bool = False
    missing_scopes: dict[str, list[str]] = field(default_factory=dict)  # what the channel does → scopes
    #: the credential works, but publish.yml names what the platform does not have: (key under the channel, message)
    problems: list[tuple[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict:
        t = lambda v: v.isoformat() if v else None  # noqa: E731
        return {"state": self.state, "detail": self.detail, "source": self.source, "account": self.account,
                "expires_at": t(self.expires_at), "lapses_at": t(self.lapses_at), "refreshable": self.refreshable,
                "missing_scopes": self.missing_scopes}

    def line(self) -> str:
        head = {"works": "works", "failing": "FAILING", "missing": "missing", "unchecked": "not checked"}[self.state]
        parts = [head + (f" ({self.account})" if self.account and self.state == "works" else "")]
        if self.detail:
            parts[0] += f": {self.detail}"
        if self.expires_at:
            parts.append(f"access token lapses {utc(self.expires_at)}" +
                         (", renewed by each run" if self.refreshable else ""))
        if self.refreshable and self.lapses_at:
            parts.append(f"connect again before {utc(self.lapses_at)}")
        for what, scopes in self.missing_scopes.items():
            parts.append(f"lacks {', '.join(scopes)} for {what}")
        return "; ".join(parts)


def granted(have: tuple[str, ...], scope: str) -> bool:
    """Mastodon's "read"/"write" cover every "read:…"/"write:…" scope; elsewhere scopes are exact."""
    return scope in have or (":" in scope and scope.split(":", 1)[0] in have)


def features(adapter: Channel, entries: list[Entry]) -> list[str]:
    """What the channel is asked to do: posting (entries ahead), media (an image among them), metrics."""
    mine = [e for e in entries if e.channel == adapter.name]
    out = ["posting"] if mine else []
    if mine and adapter.SUPPORTS_MEDIA and any(e.item.image for e in mine):
        out.append("media")
    if adapter.METRICS_BATCH:
        out.append("metrics")
    if "renewal" in adapter.scopes_for():
        out.append("renewal")
    return out


def health_of(adapter: Channel, inactive: str | None, *, verify: bool, wanted: list[str]) -> Health:
    cache = getattr(adapter, "_health", None)
    if cache is not None and cache[0] == (verify, tuple(wanted)):
        return cache[1]
    facts = adapter.credential_facts()
    h = Health(adapter.name, adapter.TYPE, "unchecked", source=facts.get("source"), account=facts.get("account"),
               expires_at=facts.get("expires_at"), lapses_at=facts.get("lapses_at"),
               refreshable=bool(facts.get("refreshable")))
    scopes = facts.get("scopes")
    if inactive:
        h.state, h.detail = "missing", inactive
    elif verify:
        got = adapter.verify()
        if isinstance(got, Failure):
            h.state, h.detail = "failing", got.message.removeprefix(f"{adapter.name}: ")
        elif got is None:
            h.detail = "the platform has no cheap check; the publish run finds out"
        else:
            h.state = "works"
            h.account = got.get("account") or h.account
            h.problems = list(got.get("problems") or ())
            scopes = got.get("scopes") or scopes
            if got.get("expires_at") and not h.expires_at:
                h.expires_at = got["expires_at"]
                h.lapses_at = h.lapses_at or got["expires_at"]
    needed = adapter.scopes_for()
    if scopes:
        for what in wanted:
            lacking = [s for s in needed.get(what, ()) if not granted(tuple(scopes), s)]
            if lacking:
                h.missing_scopes[what] = lacking
    adapter._health = ((verify, tuple(wanted)), h)
    return h


def channel_health(adapters, entries: list[Entry], *, verify: bool) -> dict[str, Health]:
    """Every channel that holds a credential; the platforms are asked at once, in parallel."""
    from channels.social import run_concurrently

    chosen = [a for a in adapters.adapters.values() if a.SECRETS or a.SCOPES]

    def one(adapter):
        return health_of(adapter, adapters.inactive.get(adapter.name), verify=verify,
                         wanted=features(adapter, entries))

    # only asking the platforms (verify) waits on the network: otherwise no threads are worth starting
    return {a.name: h for a, h in zip(chosen, run_concurrently(one, chosen, 4 if verify else 1))}


def upcoming(entries: list[Entry], ledger: dict, now: datetime) -> list[Entry]:
    out = []
    for e in entries:
        st = ledger.get(e.key)
        if e.at is None or e.at < now or not e.enabled or (st is not None and st.state == "delivered"):
            continue
        out.append(e)
    return sorted(out, key=lambda e: e.at)


@dataclass(frozen=True)
class Lapse:
    channel: str
    lapses_at: datetime
    entry: Entry
    warn_before: timedelta

    @property
    def problem(self) -> str:
        return f"lapses@{self.lapses_at.isoformat(timespec='minutes')}"

    def message(self, now: datetime) -> str:
        e = self.entry
        if self.lapses_at <= now:
            when = f"lapsed {utc(self.lapses_at)}"
        else:
            when = f"lapses {utc(self.lapses_at)}"
        relation = "before" if self.lapses_at <= e.at else f"within {_days(self.warn_before)} of when"
        return (f"{self.channel}: the credential {when}, {relation} {e.item.path} is due on {self.channel} "
                f"({utc(e.at)}): connect again with `publish auth {self.channel}`")


def _days(d: timedelta) -> str:
    return f"{d.days} days" if d.days and not d.seconds else f"{int(d.total_seconds() // 3600)} hours"


def lapses(adapters, health: dict[str, Health], entries: list[Entry]) -> list[Lapse]:
    """The first entry per channel that falls within ``warn_before`` of (or after) its credential's lapse."""
    out = []
    for name, h in health.items():
        if h.lapses_at is None:
            continue
        adapter = adapters.adapters[name]
        warn = adapter.config.options.get("warn_before") or WARN_BEFORE
        for e in entries:
            if e.channel == name and h.lapses_at < e.at + warn:
                out.append(Lapse(name, h.lapses_at, e, warn))
                break
    return out


def _months_old(version: str, now: datetime) -> int:
    year, month = int(version[:4]), int(version[4:6])
    return (now.year - year) * 12 + now.month - month


def check_problems(project, env, now: datetime, *, verify: bool = True, store=None, ledger=None,
                   entries=None) -> list[Problem]:
    """``check``'s credential warnings: not working, lapsing before a due entry, missing scopes, and a
    LinkedIn-Version about to be retired. A channel whose secrets are not set here is left alone (CI's
    check of a pull request has none): the publish run reports it as inactive."""
    from channels.registry import Adapters
    from newsroom.state import open_store

    problems: list[Problem] = []

    def warn(name: str, message: str, key: str = "") -> None:
        config = project.settings.channels[name]
        problems.append(Problem(SETTINGS_FILE, config.line, f"channels.{name}{key}", message, WARNING))

    for name, config in project.settings.channels.items():
        version = str(config.options.get("version") or "") if config.type == "linkedin" else ""
        if version:  # only a project with a LinkedIn channel imports its adapter
            from channels.linkedin import DEFAULT_VERSION
        if version and version != DEFAULT_VERSION and version[:6].isdigit():
            age = _months_old(version, now)
            if age > LINKEDIN_VERSION_AGE:
                warn(name, f"LinkedIn-Version {version} is {age} months old; LinkedIn retires a version about a "
                           f"year after its release (then every call fails): use {DEFAULT_VERSION}", ".version")
    if store is None:
        try:
            store = open_store(project.root, project.settings.state, cache=False)
        except NotImplementedError:
            store = None
    adapters = Adapters(project, env, store)
    live = [a for a in adapters.adapters.values() if (a.SECRETS or a.SCOPES) and a.name not in adapters.inactive]
    if not live or not (verify or any(a.credential_facts().get("lapses_at") or a.credential_facts().get("scopes")
                                      for a in live)):
        return problems  # nothing to ask and nothing known: no need to plan
    adapters.adapters = {a.name: a for a in live}
    if ledger is None:
        ledger = store.entries() if store is not None else {}
    ahead = upcoming(entries if entries is not None else plan(project, ledger=ledger, now=now), ledger, now)
    health = channel_health(adapters, ahead, verify=verify)
    for name, h in health.items():
        if h.state == "failing":
            warn(name, f"the credential does not work: {h.detail} (connect again with `publish auth {name}`)")
        for key, problem in h.problems:
            warn(name, problem, key)
        for what, scopes in h.missing_scopes.items():
            warn(name, f"the credential lacks {', '.join(scopes)}, needed for {what} (connect again with "
                       f"`publish auth {name}` and grant it)")
    for lapse in lapses(adapters, health, ahead):
        warn(lapse.channel, lapse.message(now).split(": ", 1)[1])
    return problems


# -- the publish run ----------------------------------------------------------------------------
def alert_lapses(run) -> None:
    """Once per lapse: a note in the run's report and an alert on the alert channel."""
    from .deliver import Retry, deliver

    ledger = run.store.entries()
    ahead = upcoming(run.planned(ledger), ledger, run.now)
    health = channel_health(run.channels, ahead, verify=False)
    via = run.project.settings.alerts.get("channel")
    for lapse in lapses(run.channels, health, ahead):
        key = f"credentials/{lapse.channel}"
        st = ledger.get(key)
        if st is not None and lapse.problem in st.alerted:
            continue
        text = lapse.message(run.now)
        run.report.notes.append(text)
        sent = True
        if via and via in run.channels.adapters and via not in run.channels.inactive and not run.opts.dry_run:
            channel = run.channels.adapters[via]
            body = f"Credential problem: {text}"
            post = Post(channel=via, type=channel.TYPE, item_id=key, item_path=SETTINGS_FILE, revision="",
                        title=f"Credential problem: {lapse.channel}", url=run.project.settings.site.url,
                        parts=[body], lengths=[channel.count(body)], subject=f"Credential problem: {lapse.channel}",
                        text=body)
            ctx = DeliveryContext(key=f"alert/{key}/{lapse.problem}", now=run.now, sleep=run.opts.sleep)
            attempt = deliver(channel, post, ctx, budget=run.budget,
                              retry=Retry(max_attempts=2, rng=run.opts.retry.rng), sleep=run.opts.sleep)
            sent = isinstance(attempt.result, Receipt)
            run.report.notes.append(f"alert sent to {via}: {lapse.channel} credential lapses" if sent else
                                    f"alert to {via} failed ({attempt.result.message}); the next run tries again")
        if sent and not run.opts.dry_run:
            run.store.append([{"event": "alerted", "entry": key, "problem": lapse.problem, "via": via,
                               "run": run.run, "at": run.now.isoformat(timespec="seconds")}])
