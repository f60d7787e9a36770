"""Rendering an entry for its channel, and the context its delivery is handed."""
from __future__ import annotations

from channels.base import Channel, DeliveryContext, Journal, Post
from newsroom.problems import ERROR

from ..plan import Entry
from .core import Run
from .syndication import links


def render(run: Run, entry: Entry, channel: Channel) -> Post | str:
    """The post, or why it cannot be made (a template error fails this entry, not the run)."""
    from channels.render import render_post

    try:
        post = render_post(run.project, entry.item, channel, segment=entry.segment)
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
                           journal=journal, sleep=run.opts.sleep, syndication=links(run))
