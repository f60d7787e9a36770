"""After the deliveries: each channel that changed gets every entry delivered on it, so derived
output follows the ledger (the blog rebuilds its site, with the new "also on" links)."""
from __future__ import annotations

from datetime import datetime, timezone

from channels.base import DeliveryContext, Post, Receipt

from ..plan import Entry
from .core import Run
from . import record
from .prerender import render_all
from .render import kept
from .syndication import links


def finish(run: Run) -> None:
    """Call ``finish`` of every channel touched by this run with all its delivered posts. A channel
    whose output is derived state (the blog's site) is checked every run and rebuilt when it is
    missing or stale; entries waiting for the finish are recorded once it succeeded."""
    derived = {name: adapter for name, adapter in run.channels.adapters.items()
               if hasattr(adapter, "current") and name not in run.channels.inactive}
    run.report.derived = [str(adapter.site_dir / adapter.STAMP) for adapter in derived.values()]
    ledger = run.store.entries()
    stale = set()
    if not run.derived_checked:  # once a run: a later finish only does what changed since
        run.derived_checked = True
        stale = {name for name in derived if name not in run.touched
                 and any(st.channel == name and st.state == "delivered" for st in ledger.values())}
    if not run.touched and not stale:
        return
    syndication = links(run)
    for name in sorted(run.touched | stale):
        channel = run.channels.adapters.get(name)
        if channel is None or name in run.channels.inactive:
            continue
        posts = kept(run, name)
        if posts is None:
            continue  # the channel does nothing after its deliveries: nothing to hand it
        delivered: list[tuple[Post, Receipt]] = []
        # withdrawn (or expired) pages: left out of the index, feeds and sitemap; a notice where they were
        gone = {st.item: {"path": (st.receipt or {}).get("remote_id"), "reason": st.withdrawn_reason or ""}
                for st in ledger.values() if st.channel == name and st.state == "withdrawn" and st.item}
        for item_id, reason in run.withdrawn_now.get(name, {}).items():
            st = ledger.get(f"{item_id}/{name}")
            gone[item_id] = {"path": ((st.receipt or {}) if st else {}).get("remote_id"), "reason": reason}
        seen = set(gone)
        for post, receipt in run.delivered_now.get(name, []):
            delivered.append((post, receipt))
            seen.add(post.item_id)
            item = run.by_item_id.get(post.item_id)
            if item is not None and item.revision == post.revision:
                posts.put(item, post)
        found: list[tuple[Post | None, Receipt, object]] = []
        missing: list[tuple[Entry, object]] = []
        for st in ledger.values():
            if st.channel != name or st.state != "delivered" or st.item in seen or not st.receipt:
                continue
            item = run.by_item_id.get(st.item)
            if item is None and st.path and not (run.project.root / st.path).exists():
                # its file was deleted: the page goes as a withdrawn one does, and the ledger says so
                gone[st.item] = {"path": (st.receipt or {}).get("remote_id"), "reason": ""}
                seen.add(st.item)
                if not run.opts.dry_run:
                    run.awaiting.setdefault(name, []).append(
                        (_entry_for(_deleted(st), name, channel.TYPE), None, False, 1,
                         {"event": "withdrawn", "reason": "", "cause": f"its file {st.path} was deleted"}))
                continue
            post, why = as_it_went_out(posts, st, item)
            if why:
                run.report.notes.append(f"{name}: {why}")
            if item is None:
                if post is not None:
                    found.append((post, receipt_from(st.receipt), None))
                continue
            if post is None:
                missing.append((_entry_for(item, name, channel.TYPE), channel))
            found.append((post, receipt_from(st.receipt), item))
        # the posts it did not keep (a first run on a fresh clone: all of them), in workers if many
        rendered = iter(render_all(run, missing))
        for post, receipt, item in found:
            if post is None:
                post = next(rendered)
                if isinstance(post, str):
                    run.report.notes.append(f"{name}: {item.path}: {post}")
                    continue
                posts.put(item, post)
            delivered.append((post, receipt))
        if not run.opts.dry_run:
            posts.save()
        ctx = DeliveryContext(key=f"finish/{name}", now=run.now, dry_run=run.opts.dry_run,
                              sleep=run.opts.sleep, syndication=syndication, withdrawn=gone)
        if name in stale:
            if channel.current(channel.digest(delivered, ctx)):
                # the site is built and deployed as it should be; what waited on it (a deleted item's
                # page withdrawn by a run killed before it recorded that) is recorded now
                record.finished(run, name, None)
                continue
            run.report.notes.append(f"{name}: the site was missing or out of date; rebuilt from the ledger")
        try:
            done = channel.finish(delivered, ctx)
            failure = getattr(done, "failed", None)
        except Exception as exc:  # noqa: BLE001 - say what did not follow; record nothing it would have made true
            failure = (f"cannot write {exc.filename or 'the site'}: {exc.strerror or exc}" if isinstance(exc, OSError)
                       else f"{type(exc).__name__}: {exc}")
            done = None
        if failure:
            run.report.notes.append(f"{name}: finishing failed: {failure}")
        record.finished(run, name, failure, done)
        # what the finish left out, such as a blog page whose path was taken, or a static file
        # that could not be read: said in the run's output, not only in the object returned
        run.report.notes.extend(f"{name}: {problem}" for problem in getattr(done, "problems", None) or ())
    # finished: a later finish in this run (after entries that waited for the blog) does only what changed since
    run.touched.clear()


def as_it_went_out(posts, st, item) -> tuple[Post | None, str]:
    """The post a delivered entry's page is rebuilt from, or None to render the item as it stands;
    and what a person must be told.

    The page shows what went out (or what its last correction applied): an edit reaches it only
    through a correction, which needs the item approved and free of errors. So while the item's
    file holds an edit no correction has applied (held by an error, waiting for approval) or does
    not load at all, the page is rebuilt from the post kept for the revision that went out. An edit
    its correction found to say the same is rendered as it stands when that post is not kept. (A file
    deleted since has its page withdrawn: ``finish``.)"""
    live = st.corrected_revision or st.delivered_revision
    if item is None and not st.path:
        return None, ""  # a ledger that does not say where the item was: nothing to say of it
    post = posts.went_out(st.item, live, st.path) if live and st.item and st.path else None
    if post is not None or (item is not None and item.revision in (live, st.changed_revision)):
        return post or posts.get(item), ""
    if item is None:
        return None, (f"{st.path}: its page is left out of the site: the file no longer loads as item "
                      f"'{st.item}' (publish check lists its errors) and the page that went out is no longer "
                      f"kept in .cache/")
    return None, (f"{item.path}: its page shows an edit no correction has applied: the page that went out is "
                  f"no longer kept in .cache/ (publish check says why the correction waits)")


def _deleted(st):
    """What an entry's events name of an item whose file is gone: its id, path and last revision."""
    from types import SimpleNamespace

    return SimpleNamespace(id=st.item, path=st.path, revision=st.revision, title=st.path, channels={})


def _entry_for(item, channel: str, ctype: str) -> Entry:
    override = item.channels.get(channel)
    return Entry(item=item, channel=channel, type=ctype, at=None, source="ledger", state="delivered",
                 segment=override.segment if override else None)


def receipt_from(d: dict) -> Receipt:
    """A receipt as the ledger stored it (a missing or odd time reads as now)."""
    at = d.get("at")
    try:
        when = datetime.fromisoformat(at) if at else datetime.now(timezone.utc)
    except ValueError:
        when = datetime.now(timezone.utc)
    return Receipt(remote_id=str(d.get("remote_id", "")), url=d.get("url"), at=when,
                   parts=tuple(d.get("parts") or ()), data=dict(d.get("data") or {}))
