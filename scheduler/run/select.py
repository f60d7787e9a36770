"""Which entries a run acts on, in what order, and (at its end) when the next one is due."""
from __future__ import annotations

from datetime import datetime, timezone

from .. import due
from ..alerts import alert_pending
from ..plan import Entry
from .core import Run, iso
from ..after import LIVE, READY, WAIT
from .record import skipped
from .wait import Waiting


def wanted(run: Run, entry: Entry) -> bool:
    """Whether ``--only`` (paths or ids, with or without a channel) and the service's keys take it."""
    if run.opts.keys is not None and entry.key not in run.opts.keys:
        return False
    if not run.opts.only:
        return True
    for target, channel in run.opts.only:
        if target in (entry.item.path, entry.item.id) and channel in (None, entry.channel):
            return True
    return False


def select(run: Run, judge=None) -> list[tuple[Entry, due.Decision]]:
    """The entries that need an action now, oldest first; what waits, and why, goes to the report
    (and an approved entry switched off is recorded as skipped once its time has come).

    ``judge(run, ledger, paths)`` gives check's verdict for the items with work (``flow.verdict_of``;
    it raises when publish.yml has errors, before anything is claimed or recorded)."""
    ledger = run.store.entries()
    planned = run.planned(ledger)
    deps = run.waiting = Waiting(run, planned, ledger)
    entries = [e for e in planned if wanted(run, e)]
    decided = []
    for entry in entries:
        entry, gate = deps.effective(entry, ledger)  # with an offset after a delivery, its time from it
        decided.append((entry, gate, run.decide(entry, ledger)))
    if judge is not None:
        run.judged(judge(run, ledger, {e.item.path for e, _, d in decided if d.action not in (due.WAIT, due.DONE)}))
    work: list[tuple[Entry, due.Decision]] = []
    waiting: dict[str, int] = {}
    for entry, gate, decision in decided:
        if decision.action == due.DONE and not entry.enabled:
            skipped(run, entry, ledger.get(entry.key))
        if decision.action in (due.WAIT, due.DONE):
            continue
        if entry.item.path in run.bad_files and decision.action != due.CHANGED:
            run.report.unusable = True
            run.out(entry, "blocked", "held on every channel: the item has errors (listed below); fix them and it "
                                      "goes out on the next run")
            continue
        if entry.channel in run.channels.inactive and decision.action != due.CHANGED:
            waiting[entry.channel] = waiting.get(entry.channel, 0) + 1
            continue
        if gate.state != READY and decision.action == due.SEND:
            deps.defer(entry)  # sent (or held) once what it waits for is delivered: wait.Waiting.release
            continue
        work.append((entry, decision))
    for name, count in sorted(waiting.items()):
        run.report.standing.append(f"{name}: inactive, {run.channels.inactive[name]} "
                                   f"({count} entr{'y' if count == 1 else 'ies'} waiting)")
    blocked = [o for o in run.report.outcomes if o.result == "blocked"]
    if blocked:
        held: dict[str, set[str]] = {}  # path → the channels it holds (each error once, however many)
        for o in blocked:
            held.setdefault(o.path, set()).add(o.channel)
        for path in sorted(held):
            channels = ", ".join(sorted(held[path]))
            run.report.standing.extend(f"{p} (held on {channels})" for p in run.verdict.errors_in(path))
        run.report.standing.append(f"{len(blocked)} entr{'y' if len(blocked) == 1 else 'ies'} held back by files "
                                   "with errors (publish check lists them)")
    run.report.notes.extend(run.report.standing)
    work.sort(key=lambda w: (w[0].at or run.now, w[0].channel, w[0].item.path))
    return work


def look_ahead(run: Run) -> None:
    """The next entry due, and until when nothing needs doing (for the no-op cache)."""
    # The ledger's identity is read before the ledger itself: anything appended after this
    # point makes the cached answer invalid rather than silently included.
    run.report.ledger_ident = run.store.ledger_version()
    ledger = run.store.entries()
    quiet_until: datetime | None = datetime.max.replace(tzinfo=timezone.utc)
    best = None
    planned = run.planned(ledger)
    deps = Waiting(run, planned, ledger, skip=run.waiting)
    for entry in planned:
        entry, gate = deps.effective(entry, ledger)
        decision = run.decide(entry, ledger)
        if gate.state == WAIT and decision.action == due.SEND:
            continue  # what it waits for says when there is work (its own decision)
        if gate.state == LIVE and decision.action in (due.WAIT, due.SEND):
            quiet_until = None  # the page it waits for is asked again by the next run, due or not
        if decision.action == due.WAIT:
            if best is None or decision.until < best.at:
                best = entry
            if quiet_until is not None and decision.until < quiet_until:
                quiet_until = decision.until
        elif decision.action in (due.DONE, due.BLOCKED):
            if decision.action == due.DONE and alert_pending(run, ledger.get(entry.key)):
                quiet_until = None
            expires = entry.item.expires_at
            st = ledger.get(entry.key)
            if (expires is not None and quiet_until is not None and expires > run.now and st is not None
                    and st.state == "delivered" and expires < quiet_until):
                quiet_until = expires  # what went out is taken down then (due.after_delivery)
        elif entry.channel in run.channels.inactive and decision.action != due.CHANGED:
            continue
        elif entry.item.path in run.bad_files and decision.action != due.CHANGED:
            continue
        else:
            quiet_until = None
    run.report.quiet_until = quiet_until
    if best is not None:
        run.report.next_due = {"item": best.item.id, "path": best.item.path, "channel": best.channel,
                               "at": iso(best.at)}
