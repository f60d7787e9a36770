"""After an entry went out: corrections (edit the post in place) and withdrawals (take it down).

``due.decide`` says ``correct`` when a delivered item changed and is still approved (a correction
needs the approval the item needed), ``withdraw`` when it is ``status: withdrawn`` or past its
``expires_at``. The order is the first delivery's (``flow.py``):

1. **Render and compare.** The post is rendered again; when it says what the post out there says
   (``fingerprint``, kept in the ledger), nothing is asked of the platform: the edit of the item
   did not touch this channel. A channel that cannot edit (``Channel.EDITS`` false) or delete says
   so once per revision (a ``changed`` or ``withdraw-failed`` event) and offers nothing automatic.
2. **Claim.** ``correcting`` / ``withdrawing`` is appended under the ledger's lock only if the entry,
   read fresh, still needs the same action: of two runs, one asks the platform.
3. **Ask, then record** ``corrected`` (with the revision it applied and the new receipt) or
   ``withdrawn`` at once; ``correction-failed`` / ``withdraw-failed`` with the platform's words.

A run killed between the claim and the record leaves an open claim whose run is gone; the next run
asks again: an edit to the same text and a delete of what is gone (``Removal(already=True)``) are
safe to repeat, and the adapter is told (``DeliveryContext.again``) so it can look before it writes.
The blog records after its site is rebuilt and deployed (``record.finished``), as for a delivery.
"""
from __future__ import annotations

from channels.base import Failure, Receipt, Removal, fingerprint
from newsroom import crashpoint

from .. import due
from ..plan import Entry
from .core import Run
from .rebuild import receipt_from
from .render import context, render


def amend(run: Run, entry: Entry, decision: due.Decision) -> None:
    name = entry.channel
    if name in run.refused:
        run.out(entry, "waiting", f"not tried: {run.refused[name]} was refused on {name} in this run")
        return
    if name in run.down:
        run.out(entry, "postponed", f"not tried: {run.down[name]}")
        return
    if decision.action == due.CORRECT:
        correct(run, entry, decision)
    else:
        withdraw(run, entry, decision)


def _claim(run: Run, entry: Entry, decision: due.Decision, kind: str, **fields) -> bool:
    if run.opts.dry_run:
        return True
    return run.store.claim(entry.key, run.event(kind, entry, **fields),
                           lambda fresh: run.decide(entry, {entry.key: fresh}).action == decision.action)


def correct(run: Run, entry: Entry, decision: due.Decision) -> None:
    channel = run.channels.adapters[entry.channel]
    st = run.store.entries().get(entry.key)
    post = render(run, entry, channel)
    if isinstance(post, str):
        run.append(run.event("correction-failed", entry, error=post, retryable=False))
        run.out(entry, "failed", f"correction: {post}")
        return
    digest = fingerprint(post, channel.SHOWS)
    if st is not None and st.digest == digest:
        run.append(run.event("changed", entry, unchanged=True))
        run.out(entry, "unchanged", f"edited, but its post on {entry.channel} says the same: nothing to correct")
        return
    if not channel.EDITS:
        run.append(run.event("changed", entry))  # said once: the next run finds this revision noted
        run.touched.add(entry.channel)
        run.out(entry, "changed", f"edited after it went out; {channel.CANNOT_EDIT}: correct it by hand if it "
                                  "matters")
        return
    again = st is not None and st.correcting == entry.item.revision
    if not _claim(run, entry, decision, "correcting"):
        run.out(entry, "held", "another run took it first")
        return
    crashpoint.reach("after.claimed")
    ctx = context(run, entry)
    ctx.again = again
    result = _safe(channel.edit, post, receipt_from(st.receipt or {}), ctx)
    crashpoint.reach("after.answered")
    if isinstance(result, Failure):
        message = f"correction: {result.message}"
        run.append(run.event("correction-failed", entry, error=message, retryable=result.retryable,
                             status=result.status))
        run.out(entry, "failed", message + ("; a later run tries again" if result.retryable else
                                            "; correct it by hand"))
        return
    if getattr(channel, "RECORDS_AFTER_FINISH", False) and not run.opts.dry_run:
        # the blog: corrected once the site holding the new text is written and deployed
        run.delivered_now.setdefault(entry.channel, []).append((post, result))
        run.touched.add(entry.channel)
        run.awaiting.setdefault(entry.channel, []).append(
            (entry, result, False, 1, {"event": "corrected", "digest": digest}))
        return
    run.append(run.event("corrected", entry, receipt=result.as_dict(), digest=digest))
    crashpoint.reach("after.recorded")
    run.touched.add(entry.channel)
    run.out(entry, "would-correct" if run.opts.dry_run else "corrected", _revision_note(st), url=result.url, tries=1)


def _revision_note(st) -> str:
    n = len(st.corrections) + 1 if st is not None else 1
    return f"correction {n}, edited in place"


def withdraw(run: Run, entry: Entry, decision: due.Decision) -> None:
    channel = run.channels.adapters[entry.channel]
    st = run.store.entries().get(entry.key)
    reason = decision.reason
    if not channel.DELETES:
        message = f"{reason}; {channel.CANNOT_DELETE}: take it down by hand"
        run.append(run.event("withdraw-failed", entry, error=message, retryable=False))  # said once
        run.out(entry, "cannot-withdraw", message)
        return
    again = st is not None and st.withdrawing == entry.item.revision
    if not _claim(run, entry, decision, "withdrawing", reason=reason):
        run.out(entry, "held", "another run took it first")
        return
    crashpoint.reach("after.claimed")
    ctx = context(run, entry)
    ctx.again = again
    result = _safe(channel.delete, receipt_from(st.receipt or {}), ctx)
    crashpoint.reach("after.answered")
    if isinstance(result, Failure):
        message = f"withdrawal: {result.message}"
        run.append(run.event("withdraw-failed", entry, error=message, retryable=result.retryable,
                             status=result.status))
        run.out(entry, "failed", message + ("; a later run tries again" if result.retryable else
                                            "; take it down by hand"))
        return
    if getattr(channel, "RECORDS_AFTER_FINISH", False) and not run.opts.dry_run:
        # the blog: withdrawn once the site without it (or with its notice) is written and deployed
        run.withdrawn_now.setdefault(entry.channel, {})[entry.item.id] = reason
        run.touched.add(entry.channel)
        run.awaiting.setdefault(entry.channel, []).append(
            (entry, None, False, 1, {"event": "withdrawn", "reason": reason, "removal": result.as_dict()}))
        return
    run.append(run.event("withdrawn", entry, reason=reason, removal=result.as_dict()))
    crashpoint.reach("after.recorded")
    run.touched.add(entry.channel)
    detail = reason + ("; it was already gone" if result.already else "")
    run.out(entry, "would-withdraw" if run.opts.dry_run else "withdrawn", detail)


def _safe(call, *args) -> Receipt | Removal | Failure:
    """A bug inside an adapter becomes a failure that may have reached the platform, not a dead run."""
    try:
        return call(*args)
    except Exception as exc:  # noqa: BLE001
        return Failure(f"{type(exc).__name__}: {exc}", retryable=True, ambiguous=True)
