"""Web analytics in the engagement pull: the channels we own measured by the site's own analytics.

For each source under ``analytics:`` in publish.yml, ``pull`` asks, per due slot of the pull windows
(the same windows as social metrics):

- the page views and visitors of every delivered blog entry's page, stored as that entry's
  ``views`` and ``visitors``;
- the visits that came through our own tagged links (``utm_source`` = the channel's, on the landing
  page of the item it posted), stored as that social post's, newsletter's or webhook's ``visits``,
  and as its ``clicks`` too unless its platform counts clicks itself (``Channel.COUNTS_CLICKS``:
  listmonk, Mailchimp, LinkedIn), whose own count then stays.

Both are batched: one query (paged only past the service's page size) for all entries due now, over
the period from the earliest delivery among them until now; a page is not viewed before it is
published, so each entry's figure is its total since delivery. Rows carry the slot as
``<source>@<slot>``, so a slot filled by the platform's own numbers does not count as filled here.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Mapping

from channels.base import Failure
from newsroom.gcpause import collector_paused
from newsroom.times import stamp

from .base import PageViews, Source, Visit, path_of


def source_types() -> dict[str, type[Source]]:
    from .ga4 import GA4
    from .matomo import Matomo
    from .plausible import Plausible
    from .umami import Umami

    return {c.TYPE: c for c in (Plausible, Umami, Matomo, GA4)}


def build_source(name: str, options: Mapping, env: Mapping[str, str], *, session=None) -> Source:
    return source_types()[options["type"]](name, options, env, session=session)


MAX_ATTEMPTS = 3
MAX_WAIT = 120.0


@dataclass
class AnalyticsResult:
    snapshots: int = 0
    requests: int = 0
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def _attempt(source: Source, what: str, fn, sleep: Callable[[float], None], failures: list[str]):
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            out = fn()
        except Exception as exc:  # a source's bug must not stop the pull
            failures.append(f"{source.name}: {what} failed: {type(exc).__name__}: {exc}")
            return None
        if not isinstance(out, Failure):
            return out
        wait = out.retry_after if out.retry_after is not None else min(30.0, random.uniform(0, 2 ** attempt))
        if not out.retryable or attempt == MAX_ATTEMPTS or wait > MAX_WAIT:
            extra = f" ({source.RATE_LIMIT}; the next pull goes on)" if out.status == 429 and source.RATE_LIMIT else ""
            failures.append(f"{source.name}: {what} failed: {out.message}{extra}")
            return None
        sleep(wait)
    return None  # pragma: no cover


@dataclass(slots=True)
class Target:
    """A due entry as the analytics see it: the page it is about and the tags its links carry. (Not
    frozen: a frozen dataclass's ``__init__`` costs several times more, made once per delivered entry.)"""

    key: str
    item_id: str
    channel: str
    slot: str | None  # None: not due now (filled, or past the last window)
    at: datetime
    page: str | None
    blog: bool
    utm_source: str
    counts_clicks: bool = False


def targets(project, entries, slots: list[str | None], filled: set, source: str) -> list[Target]:
    """Every delivered entry of a known channel, with its slot when it is due now (``slots``: each
    entry's slot stamp, ``reports.pull.slot_stamps``, worked out once for the pull and handed in so the
    two modules do not import each other)."""
    from channels import registry

    items = {i.id: i for i in project.items}
    channels = {}  # channel name → (is blog, utm_source, counts clicks), or None when unknown
    for name, config in project.settings.channels.items():
        cls = registry.TYPES.get(config.type)
        channels[name] = (config.type == "blog", config.utm_source or name, cls.COUNTS_CLICKS) if cls else None
    pages: dict[str, str] = {}
    for e in entries:  # the blog's receipt says where the page is; else where it will be
        known = channels.get(e.channel)
        if known is not None and known[0] and e.receipt.url:
            pages[e.item_id] = path_of(e.receipt.url)
    out = []
    for e, slot in zip(entries, slots):
        known = channels.get(e.channel)
        if known is None:
            continue
        tag = f"{source}@{slot}" if slot is not None else None
        if tag is not None and (e.key, tag) in filled:
            tag = None
        page = pages.get(e.item_id)
        if page is None and e.item_id in items:  # not on the blog (yet): where its page will be
            from channels.render import item_url  # Jinja and the Markdown engines: only when needed

            page = pages[e.item_id] = path_of(item_url(project, items[e.item_id]))
        out.append(Target(e.key, e.item_id, e.channel, tag, e.at, page, *known))
    return out


def attribute(everyone: list[Target], visits: list[Visit], item_ids: set[str]) -> tuple[dict[str, int], int]:
    """(entry key → visits it drove, visits no delivered entry claims). A visit belongs to the entry whose
    channel's ``utm_source`` it carries and whose item it landed on; a ``utm_content`` naming an
    item id says which item when the landing page does not (a newsletter linking several)."""
    by_tag: dict[tuple[str, str], str] = {}
    by_item: dict[tuple[str, str], str] = {}
    for t in everyone:
        if t.blog:
            continue
        if t.page:
            by_tag[(t.page, t.utm_source)] = t.key
        by_item[(t.item_id, t.utm_source)] = t.key
    out = {t.key: 0 for t in everyone if not t.blog}
    stray = 0
    for v in visits:
        key = by_item.get((v.content, v.source)) if v.content in item_ids else None
        key = key or by_tag.get((v.page, v.source))
        if key is None:
            stray += v.visits
            continue
        out[key] += v.visits
    return out, stray


def pull_analytics(project, store, *, entries, env: Mapping[str, str], now: datetime, clock: Callable[[], datetime],
                   filled: set, run: str, slots: list[str | None], sleep: Callable[[float], None], base_urls=None,
                   session=None, only: tuple[str, ...] = ()) -> AnalyticsResult:
    """Every configured source's figures for the entries due now (see the module's doc)."""
    result = AnalyticsResult()
    sources = project.settings.raw.get("analytics") or {}
    item_ids = {i.id for i in project.items}
    for name in sorted(sources):
        options = dict(sources[name] or {})
        if not options.get("type") or (only and name not in only):
            continue
        if base_urls and base_urls.get(name):
            options["url"] = base_urls[name]
        source = build_source(name, options, env, session=session)
        missing = source.missing()
        if missing:
            result.notes.append(f"analytics {name}: skipped, {missing} not set")
            continue
        # A row for every page decoded, matched and written (10,000 and more), none in a cycle: the cyclic
        # collector would walk the heap again and again meanwhile (``newsroom.gcpause``). They are all
        # gone when it comes back, so it has nothing of them to walk then either.
        with collector_paused():
            everyone = targets(project, entries, slots, filled, name)
            rows = _source_rows(source, everyone, item_ids, now=now, clock=clock, run=run, sleep=sleep,
                                result=result)
            result.snapshots += store.add_snapshots(rows) if rows else 0
            del everyone, rows
        result.requests += source.calls
    return result


def _source_rows(source: Source, everyone: list[Target], item_ids: set[str], *, now: datetime,
                 clock: Callable[[], datetime], run: str, sleep: Callable[[float], None],
                 result: AnalyticsResult) -> list[dict]:
    """One source's snapshot rows for the targets due now: page views of blog entries, visits driven
    by the others."""
    name = source.name
    due = [t for t in everyone if t.slot is not None]
    if not due:
        return []
    since = min(t.at for t in due)
    rows = []
    blog = [t for t in due if t.blog]
    if blog:
        views = _attempt(source, "page views", lambda: source.page_views(since, now), sleep, result.failures)
        if views is not None:
            at = stamp(clock())
            none = PageViews(0, 0)
            for t in blog:
                pv = views.get(t.page or "", none)
                rows.append({"at": at, "entry": t.key, "item": t.item_id, "channel": t.channel,
                             "metrics": {"views": pv.views, "visitors": pv.visitors}, "pull": run,
                             "slot": t.slot, "source": name})
    social = [t for t in due if not t.blog]
    if social:
        wanted = {t.utm_source for t in social}
        visits = _attempt(source, "visits by UTM tags", lambda: source.visits(since, now, wanted), sleep,
                          result.failures)
        if visits is not None:
            driven, stray = attribute(everyone, visits, item_ids)
            at = stamp(clock())
            for t in social:
                n = driven[t.key]
                rows.append({"at": at, "entry": t.key, "item": t.item_id, "channel": t.channel,
                             "metrics": {"visits": n} if t.counts_clicks else {"visits": n, "clicks": n},
                             "pull": run, "slot": t.slot, "source": name})
            if stray:
                result.notes.append(f"analytics {name}: {stray} visit{'s' * (stray != 1)} with our utm_source "
                                    "landed on no delivered item's page")
    return rows
