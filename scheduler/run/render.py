"""Rendering an entry for its channel, and the context its delivery is handed."""
from __future__ import annotations

from datetime import datetime, timezone

from channels.base import Channel, DeliveryContext, Journal, Post
from channels.postcache import PostCache
from newsroom.problems import ERROR

from .. import evergreen
from ..plan import Entry
from .core import Run
from .syndication import links


def kept(run: Run, name: str) -> PostCache | None:
    """The rendered posts a channel with a ``finish`` of its own (the blog) keeps between runs,
    loaded once a run; None for a channel that does nothing after its deliveries."""
    channel = run.channels.adapters.get(name)
    if channel is None or type(channel).finish is Channel.finish:
        return None
    posts = run.kept_posts.get(name)
    if posts is None:
        posts = run.kept_posts[name] = PostCache(run.project, name)
    return posts


def render(run: Run, entry: Entry, channel: Channel) -> Post | str:
    """The post, or why it cannot be made (a template error fails this entry, not the run).

    A post the channel kept for the same item revision, templates, code and settings is taken as
    it is: a CI run with ``.cache/`` restored renders nothing it rendered before. One rendered
    ahead by ``prerender`` is taken next."""
    posts = kept(run, entry.channel) if entry.segment is None else None
    if posts is not None:
        post = posts.get(entry.item)
        if post is not None:
            return post
    post = run.prerendered.pop((entry.key, entry.item.revision), None)
    if post is None:
        post = render_fresh(run, entry, channel)
    if posts is not None and not isinstance(post, str):
        posts.put(entry.item, post)
    return post


def render_fresh(run: Run, entry: Entry, channel: Channel) -> Post | str:
    """The post rendered now, or why it cannot be made."""
    from channels.render import render_post

    try:
        post = render_post(run.project, evergreen.item_for(entry), channel, segment=entry.segment)
    except Exception as exc:  # noqa: BLE001 - a template error fails this entry, not the run
        return f"cannot render: {type(exc).__name__}: {exc}"
    errors = [p for p in post.problems if getattr(p, "severity", ERROR) == ERROR]
    if errors:
        return "cannot render: " + "; ".join(str(p) for p in errors)
    return post


def context(run: Run, entry: Entry) -> DeliveryContext:
    """What a delivery is handed: the entry's key, the clock, its journal (backed by the ledger)."""
    st = run.store.entries().get(entry.key)
    revision = entry.item.revision
    on_write = None
    if not run.opts.dry_run:
        def on_write(name, value, entry=entry):
            run.store.append([run.event("progress", entry, name=name, value=value)])
    journal = Journal(st.journal_for(revision) if st else {}, on_write)
    # The entry's own key, stable across edits: idempotency keys, Bluesky record keys and
    # recipient hashes derive from it, so an edit between two attempts never sends twice.
    return DeliveryContext(key=entry.key, now=run.now, dry_run=run.opts.dry_run,
                           journal=journal, sleep=run.opts.sleep, syndication=links(run),
                           clock=lambda: datetime.now(timezone.utc))
