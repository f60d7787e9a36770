"""What became of an entry, written to the ledger and the run's report: delivered, failed, needs a
person, skipped."""
from __future__ import annotations

from dataclasses import replace

from channels.base import Failure, Post, Receipt, fingerprint
from newsroom import crashpoint
from newsroom.state import EntryState

from ..deliver import Attempt
from ..plan import Entry
from . import syndication
from .core import Run


def skipped(run: Run, entry: Entry, st: EntryState | None) -> None:
    """An approved entry switched off (``enabled: false``) is recorded once its time comes, so the
    ledger says why it never went out; once per revision."""
    if (run.opts.dry_run or entry.item.status != "approved" or entry.at is None or entry.at > run.now
            or (st is not None and st.state == "skipped" and st.revision == entry.item.revision)
            or (st is not None and st.state == "delivered")):
        return
    where = "the channel is disabled in publish.yml" if not run.project.settings.channels[entry.channel].enabled \
        else f"channels.{entry.channel}.enabled is false in the item"
    run.append(run.event("skipped", entry, reason=where))


def delivered(run: Run, entry: Entry, post: Post, receipt: Receipt, *, reconciled: bool, tries: int) -> None:
    if run.opts.answered is not None and not reconciled:  # when the platform answered, not when the run began
        receipt = replace(receipt, at=run.opts.answered())
    run.delivered_now.setdefault(entry.channel, []).append((post, receipt))
    syndication.add(run, post, receipt)
    run.touched.add(entry.channel)
    if receipt.url and not getattr(entry, "share", 0):  # a new "also on" link for the channels that show where an item went
        run.touched.update(name for name, adapter in run.channels.adapters.items() if adapter.SHOWS_SYNDICATION)
    if getattr(run.channels.adapters.get(entry.channel), "RECORDS_AFTER_FINISH", False) and not run.opts.dry_run:
        # The blog's page exists once its finish() has written (and deployed) the site: recorded then
        # (``finished`` below), so a run that dies in between leaves a claim the next run reconciles.
        run.awaiting.setdefault(entry.channel, []).append(
            (entry, receipt, reconciled, tries, {"event": "delivered", "digest": _digest(run, entry, post)}))
        return
    # made durable by the next claim's fsync or the run's end: nothing is sent before either, and a
    # receipt lost with the machine is a claim without a receipt, which the next run reconciles
    run.append(run.event("delivered", entry, receipt=receipt.as_dict(), reconciled=reconciled or None,
                         digest=_digest(run, entry, post)), durable=False)
    crashpoint.reach("run.recorded")
    if run.opts.dry_run:
        run.out(entry, "would-deliver", "dry run: everything but the final request", url=receipt.url, tries=tries)
    else:
        detail = "found already sent by an interrupted run; not sent again" if reconciled else ""
        run.out(entry, "delivered", detail, url=receipt.url, tries=tries)


def _digest(run: Run, entry: Entry, post: Post) -> str:
    """What the post shows on its platform, kept so a later edit of the item corrects only what changed."""
    adapter = run.channels.adapters.get(entry.channel)
    return fingerprint(post, adapter.SHOWS) if adapter is not None else fingerprint(post)


def finished(run: Run, name: str, failure: str | None, done=None) -> None:
    """The entries waiting for channel ``name``'s finish (the blog): delivered when it succeeded,
    else failed and retried by a later run; never recorded delivered before their page is out.
    ``done``: what the finish made (the blog's ``BuildReport``): an entry whose page it left out (its
    path taken by another item's) is recorded failed with the build's words, not delivered."""
    waiting = run.awaiting.pop(name, [])
    if not waiting or run.opts.dry_run:
        return
    if failure is None:
        pages = getattr(done, "pages", None)
        said = {p.path: p.message for p in getattr(done, "problems", None) or ()}
        events = []
        for entry, receipt, reconciled, _, fields in waiting:
            fields = dict(fields)
            kind = fields.pop("event")
            if pages is not None and kind in ("delivered", "corrected") and entry.item.id not in pages:
                error = f"its page was left out of the site: {said.get(entry.item.path, 'no page was made')}"
                kind, fields = ("failed" if kind == "delivered" else "correction-failed"), {"error": error,
                                                                                            "retryable": False}
            elif receipt is not None:
                fields["receipt"] = receipt.as_dict()
            events.append(run.event(kind, entry, reconciled=reconciled or None, **fields))
        run.store.append(events)
        crashpoint.reach("blog.recorded")
        for (entry, receipt, reconciled, tries, _), event in zip(waiting, events):
            kind = event["event"]
            if kind == "delivered":
                detail = "found already sent by an interrupted run; not sent again" if reconciled else ""
            elif kind == "corrected":
                detail = "page, feeds and sitemap rebuilt with the correction"
            elif kind in ("failed", "correction-failed"):
                kind, detail = "failed", event["error"] + "; fix it and a later run tries again"
            else:
                detail = event.get("reason") or event.get("cause") or ""
            run.out(entry, kind, detail, url=receipt.url if "receipt" in event else None, tries=tries)
        return
    message = f"the site holding it could not be published: {failure}"
    kinds = {"delivered": "failed", "corrected": "correction-failed", "withdrawn": "withdraw-failed"}
    run.store.append([run.event(kinds[fields["event"]], entry, error=message, retryable=True)
                      for entry, _, _, _, fields in waiting])
    for entry, _, _, tries, _ in waiting:
        run.out(entry, "failed", message + "; a later run tries again", tries=tries)


def failed(run: Run, entry: Entry, attempt: Attempt, *, tries: int) -> None:
    f = attempt.result
    assert isinstance(f, Failure)
    if f.unresolved:  # e.g. email recipients in flight when a run died: a person settles them
        message = (f"{f.message} (publish.py resolve {entry.item.path}:{entry.channel} --sent if they got it, "
                   "--not-sent to send to them)")
        run.append(run.event("failed", entry, error=message, retryable=False, ambiguous=True, unresolved=True))
        run.out(entry, "needs-person", message, tries=tries)
        return
    if f.credential:
        waiting(run, entry, f, tries=tries)
        return
    if f.waits:  # a limit of the platform's (posts a day): nothing sent, a later run sends it
        run.append(run.event("failed", entry, error=f.message, retryable=True, status=f.status))
        run.out(entry, "waiting", f.message, tries=tries)
        return
    message = f.message + (f" ({attempt.note})" if attempt.note else "")
    run.append(run.event("failed", entry, error=message, retryable=f.retryable, ambiguous=f.ambiguous or None,
                         status=f.status))
    if f.retryable and not run.opts.dry_run:
        run.down[entry.channel] = f"{entry.channel} is failing ({f.message})"
    run.out(entry, "failed", message + ("; a later run tries again" if f.retryable else ""), tries=tries)


def waiting(run: Run, entry: Entry, f: Failure, *, tries: int) -> None:
    """The platform refused the credential: the entry waits for a person to fix it, as for a secret not
    set, and goes out on a later run inside its grace window (retryable in the ledger; not retried in
    this run, and the channel's other entries are not tried with the same credential)."""
    message = (f"{f.credential} was refused ({f.message}); fix it and the entry goes out on the next run "
               "inside its grace window")
    run.append(run.event("failed", entry, error=message, retryable=True, ambiguous=f.ambiguous or None,
                         status=f.status, credential=f.credential))
    if not run.opts.dry_run and entry.channel not in run.refused:
        run.refused[entry.channel] = f.credential
        run.report.notes.append(f"{entry.channel}: {f.credential} was refused by the platform; its entries wait "
                                "until it is fixed (publish.py status)")
    run.out(entry, "waiting", message, tries=tries)


def unresolved(run: Run, entry: Entry, why: str) -> None:
    message = (f"an earlier attempt may have gone out and {why}: check {entry.channel} by hand, then run "
               f"publish.py resolve {entry.item.path}:{entry.channel} --sent (it is there) or --not-sent "
               "(send it)")
    run.append(run.event("failed", entry, error=message, retryable=False, ambiguous=True, unresolved=True))
    run.out(entry, "needs-person", message)
