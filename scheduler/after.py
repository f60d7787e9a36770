"""The order of one item's channels: ``after:`` and the wait for the item's blog page.

An entry may wait for other channels of the same item (``mastodon: {after: blog}``), and, unless
publish.yml says ``dependencies: {links_wait_for_blog: false}``, every entry whose post links to the
item's own blog page waits for the item's blog entry as if it said ``after: blog``. A waiting entry
goes out no earlier than its own time, and never before every entry it waits for is delivered; a
blog entry counts as delivered for its dependents once its page's public URL answers (the live
check, recorded in the ledger as a ``live`` event). With an offset, ``{after: blog, at: +30m}``
counts from the blog entry's delivery, not from its planned time.

The plan attaches each entry's dependencies and flags what can never work (a cycle, an entry
planned before what it waits for); the run asks ``Order.gate`` before sending, so the calendar,
``status`` and the run read the same answer from the same ledger.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime, timedelta

from newsroom import times
from newsroom.state import EntryState, entry_key

#: What a dependency's state means for the entries waiting for it.
READY, WAIT, LIVE, HELD = "ready", "wait", "live", "held"
#: Ledger states a dependency never leaves for the same revision: its dependents are held.
FINAL = ("missed", "skipped", "held")


@dataclass(frozen=True)
class Dependency:
    channel: str
    implicit: bool = False  # from links_wait_for_blog: the post links to the item's blog page

    def label(self) -> str:
        return f"{self.channel} (links to its page)" if self.implicit else self.channel


@dataclass(frozen=True)
class Options:
    links_wait_for_blog: bool = True
    live_check: bool = True
    live_within: timedelta = timedelta(minutes=30)
    live_wait: timedelta = timedelta(minutes=2)


def options(settings) -> Options:
    raw = (getattr(settings, "raw", None) or {}).get("dependencies") or {}
    base = Options()
    return Options(*(raw.get(k) if raw.get(k) is not None else getattr(base, k)
                     for k in ("links_wait_for_blog", "live_check", "live_within", "live_wait")))


def blog_channel(item, settings) -> str | None:
    """The item's blog entry: its first enabled channel of type blog."""
    for name, override in item.channels.items():
        config = settings.channels.get(name)
        if config is not None and config.type == "blog" and config.enabled and override.enabled:
            return name
    return None


def page_url(item, settings) -> str:
    """The item's own blog page (what the blog's receipt names, before it is delivered)."""
    return f"{settings.site.url.rstrip('/')}/{item.slug}/"


def own_page(item, settings) -> bool:
    """Does the item's link lead to its own blog page (no canonical URL elsewhere)?"""
    return not item.canonical_url or item.canonical_url.rstrip("/") == page_url(item, settings).rstrip("/")


#: One ``Dependency`` for each (channel, implicit): they are values, and a plan of 10,000 items on
#: three channels would otherwise make 20,000 of the same few
_DEPENDENCIES: dict[tuple[str, bool], Dependency] = {}


def _dependency(channel: str, implicit: bool = False) -> Dependency:
    found = _DEPENDENCIES.get((channel, implicit))
    if found is None:
        found = _DEPENDENCIES[(channel, implicit)] = Dependency(channel, implicit)
    return found


def dependencies(item, channel: str, settings, opts: Options | None = None,
                 blogs: dict | None = None) -> tuple[Dependency, ...]:
    """What the entry of ``item`` on ``channel`` waits for: its ``after:``, then the implicit blog.

    The implicit one is assumed for every non-blog entry of an item with a blog entry whose link is
    its own page (every shipped template links to it); the run confirms it from the rendered post
    (``links_to``) and drops it for a post that does not link there. ``blogs``: the caller's record
    of what was found for the item's other entries (``id(item)`` → that blog entry's channel, or
    None when its posts do not wait for one).
    """
    override = item.channels.get(channel)
    deps = [_dependency(name) for name in override.after] if override is not None and override.after else []
    opts = opts or options(settings)
    config = settings.channels.get(channel)
    if opts.links_wait_for_blog and config is not None and config.type != "blog":
        blog = blogs.get(id(item), "") if blogs is not None else ""
        if blog == "":  # not looked for yet
            blog = blog_channel(item, settings)
            if blog and not own_page(item, settings):
                blog = None
            if blogs is not None:
                blogs[id(item)] = blog
        if blog and blog != channel and all(d.channel != blog for d in deps):
            deps.append(_dependency(blog, implicit=True))
    return tuple(deps)


def links_to(post, url: str) -> bool:
    """Does a rendered post link to ``url`` (with or without its trailing slash, query or fragment)?"""
    import re

    base = re.escape(url.rstrip("/"))
    pattern = re.compile(base + r"(?:/|(?=[?#\s\"'<>)\]]|$))")
    texts = [*post.parts, post.text or "", post.html or "", post.subject or ""]
    if post.data:
        import json

        texts.append(json.dumps(post.data, ensure_ascii=False, default=str))
    return any(pattern.search(t) for t in texts if t)


def delivered_at(st: EntryState | None) -> datetime | None:
    if st is None or st.state != "delivered":
        return None
    text = (st.receipt or {}).get("at") or st.last_at
    try:
        return times.parse_instant(text) if text else None
    except ValueError:
        return None


def live_at(st: EntryState | None) -> datetime | None:
    text = getattr(st, "live_at", None) if st is not None else None
    try:
        return times.parse_instant(text) if text else None
    except ValueError:
        return None


# -- the plan ---------------------------------------------------------------------------------
def attach(entries: list, settings, ledger: dict[str, EntryState]) -> None:
    """Give each entry its dependencies, and resolve ``{after: …, at: +30m}`` against the times of
    what it waits for (their delivery once the ledger knows it, else their planned time)."""
    opts = options(settings)
    by_key = {e.key: e for e in entries}
    blogs: dict[int, str | None] = {}  # each item's blog entry, looked for once (``dependencies``)
    for e in entries:
        e.after = dependencies(e.item, e.channel, settings, opts, blogs)
    resolving: set[str] = set()

    def resolve(e) -> datetime | None:
        override = e.item.channels.get(e.channel)
        offset = override.at if override is not None else None
        if not override or not override.after or not isinstance(offset, timedelta) or e.source == "after":
            return e.at
        if e.key in resolving:
            return e.at  # a cycle: reported by ``violations``
        resolving.add(e.key)
        bases = []
        for dep in override.after:
            d = by_key.get(entry_key(e.item.id, dep))
            when = delivered_at(ledger.get(d.key)) if d is not None else None
            if when is None and d is not None:
                when = resolve(d)
            if when is None:
                resolving.discard(e.key)
                return e.at
            bases.append(when)
        resolving.discard(e.key)
        e.at, e.source = max(bases) + offset, "after"
        return e.at

    for e in entries:
        resolve(e)


def _cycle(start, by_key) -> list | None:
    """The entries of a cycle through ``start`` (in order), or None."""
    return _walk(start, start, by_key, [start], {start.key})


def _walk(e, start, by_key, path: list, seen: set) -> list | None:
    # a function of its own, not a closure that calls itself: that closure would be a reference cycle
    # per entry, left for the collector (20,000 of them in a plan of 10,000 items)
    for dep in getattr(e, "after", ()):
        d = by_key.get(entry_key(e.item.id, dep.channel))
        if d is None:
            continue
        if d is start:
            return list(path)
        if d.key in seen:
            continue
        seen.add(d.key)
        path.append(d)
        found = _walk(d, start, by_key, path, seen)
        if found:
            return found
        path.pop()
    return None


def violations(entries: list, local, done=("delivered", "published")) -> list:
    """Dependency problems as calendar rule violations: a cycle (nothing in it ever goes out), and an
    entry planned before what it waits for (it would go out late, or be held)."""
    from .rules import Violation

    out: list[Violation] = []
    by_key = {e.key: e for e in entries}
    in_cycle: set[str] = set()
    for e in entries:
        if not getattr(e, "after", ()) or e.key in in_cycle or not e.enabled:
            continue
        if not any(getattr(by_key.get(entry_key(e.item.id, dep.channel)), "after", ()) for dep in e.after):
            continue  # what it waits for waits for nothing (a post and its blog page, mostly): no cycle
        cycle = _cycle(e, by_key)
        if cycle:
            in_cycle.update(x.key for x in cycle)
            names = [x.channel for x in cycle] + [cycle[0].channel]
            chain = ", which waits for ".join(names)
            why = "" if not any(x.after and any(d.implicit and by_key.get(entry_key(x.item.id, d.channel)) is
                                                 cycle[(i + 1) % len(cycle)] for d in x.after)
                                for i, x in enumerate(cycle)) else " (a post that links to the blog page waits for it)"
            out.append(Violation("dependency_cycle", f"{chain}: none of them can ever go out{why}; "
                                 "take one of them out of the after: of the other", cycle))
    for e in entries:
        if not getattr(e, "after", ()) or e.key in in_cycle or e.at is None or not e.enabled or e.state in done:
            continue
        for dep in e.after:
            d = by_key.get(entry_key(e.item.id, dep.channel))
            if d is None or d.at is None or not d.enabled or e.at >= d.at:
                continue
            how = "its post links to the blog page" if dep.implicit else f"after: {dep.channel}"
            out.append(Violation("before_dependency",
                                 f"planned on '{e.channel}' at {local(e.at):%Y-%m-%d %H:%M}, before '{d.channel}' "
                                 f"({local(d.at):%Y-%m-%d %H:%M}) that it waits for ({how}); give it a later time, "
                                 f"or an offset from it (at: +30m)", [e]))
    return out


# -- the run ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Gate:
    """Whether an entry's dependencies let it go: ``ready`` (not before ``until``), ``wait`` (one is
    not delivered yet), ``live`` (delivered; its page must answer first: ``pages``), ``held`` (one will
    not be delivered: the entry is held and reported)."""

    state: str
    reason: str = ""
    until: datetime | None = None
    pages: tuple[tuple[str, str, datetime], ...] = ()  # (dependency key, page URL, delivered at)
    dependency: str | None = None  # the channel it waits for or is held by


class Order:
    """Dependencies of the planned entries, read against the ledger."""

    def __init__(self, entries: list, settings):
        self.settings = settings
        self.opts = options(settings)
        self.by_key = {e.key: e for e in entries}

    def gate(self, entry, ledger: dict[str, EntryState], now: datetime, *, skip: frozenset = frozenset()) -> Gate:
        """``skip``: implicit dependencies found not to apply (the rendered post does not link to the page)."""
        deps = [d for d in getattr(entry, "after", ()) if not (d.implicit and entry.key in skip)]
        if not deps:
            return Gate(READY)
        if "dependency_cycle" in entry.flags:  # nothing in a cycle can go first: held, as check says
            why = next((v.message for v in entry.violations if v.rule == "dependency_cycle"), "a cycle")
            return Gate(HELD, f"held by a cycle: {why.split(':')[0]} (publish.py check)", dependency=deps[0].channel)
        override = entry.item.channels.get(entry.channel)
        offset = override.at if override is not None and override.after and isinstance(override.at, timedelta) \
            else None
        held = wait = None
        pages: list[tuple[str, str, datetime]] = []
        bases: list[datetime] = []
        for dep in deps:
            d = self.by_key.get(entry_key(entry.item.id, dep.channel))
            name = dep.channel
            if d is None or not d.enabled:
                held = held or Gate(HELD, f"held by {name}: it is switched off for this item", dependency=name)
                continue
            st = ledger.get(d.key)
            when = delivered_at(st)
            if when is None:
                if st is not None and st.state in FINAL and st.revision == d.item.revision:
                    held = held or Gate(HELD, f"held by {name}: it was {st.state}"
                                        + (f" ({st.error})" if st.error else ""), dependency=name)
                elif (st is not None and st.state == "failed" and not st.retryable and not st.unresolved
                      and st.revision == d.item.revision):
                    held = held or Gate(HELD, f"held by {name}: it failed for good"
                                        + (f" ({st.error})" if st.error else ""), dependency=name)
                elif d.item.status != "approved" or d.at is None:
                    wait = wait or Gate(WAIT, f"waits for {name}, which is not scheduled", dependency=name)
                else:
                    wait = wait or Gate(WAIT, f"waits for {name} (not delivered yet)", dependency=name)
                continue
            if d.type == "blog" and self.opts.live_check:
                seen = live_at(st)
                if seen is None:
                    url = (st.receipt or {}).get("url") or page_url(d.item, self.settings)
                    if now > when + self.opts.live_within:
                        held = held or Gate(HELD, f"held by {name}: its page {url} did not answer within "
                                            f"{times.format_duration(self.opts.live_within)} of its delivery",
                                            dependency=name)
                    else:
                        pages.append((d.key, url, when))
                    continue
            bases.append(when)
        if held is not None:
            return held
        if wait is not None:
            return wait
        if pages:
            return Gate(LIVE, f"waits for the page of {pages[0][0].rsplit('/', 1)[-1]} to answer ({pages[0][1]})",
                        pages=tuple(pages), dependency=pages[0][0].rsplit("/", 1)[-1])
        base = max(bases) if bases else None
        return Gate(READY, until=(base + offset) if base is not None and offset is not None else None)

    def effective(self, entry, gate: Gate):
        """The entry as the run sees it: with an offset after its dependencies, at their delivery plus
        the offset; else no earlier than its own time. A copy: the plan is left as it was."""
        if gate.state != READY or gate.until is None or entry.at == gate.until:
            return entry
        out = copy.copy(entry)
        out.at = gate.until
        return out

    def waiting_note(self, entry, ledger: dict[str, EntryState], now: datetime) -> str | None:
        """Why an entry waits for its dependencies now, for the calendar; None when nothing holds it."""
        if not getattr(entry, "after", ()) or entry.state in ("delivered", "published"):
            return None
        gate = self.gate(entry, ledger, now)
        if gate.state == HELD or (gate.state != READY and entry.at is not None and entry.at <= now):
            return gate.reason or None
        return None

