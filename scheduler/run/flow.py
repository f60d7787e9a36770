"""The publish run: every due entry claimed → rendered → delivered → recorded, exactly once.

Ordering is what makes it safe:

1. **Claim before sending.** The claim is appended under the ledger's lock only if the entry, read
   fresh under that lock, still needs the same action, so of two runs racing for an entry exactly
   one sends it. A run holds a lock file for as long as it lives; a claim whose run holds none was
   left by a run that died.
2. **Reconcile before sending again.** A claim with no receipt (a run killed between the request and
   the receipt), or a failure that may have gone through, is first put to the channel
   (``Channel.reconcile``: Mastodon's Idempotency-Key, a fixed Bluesky record key, a read-back by
   canonical URL). Found: recorded as delivered. Surely not sent: sent now. Nobody can tell:
   recorded for a person, never re-sent blindly.
3. **Record after.** The receipt (or the failure, with the platform's message) is appended at once.

Identity is the item's ``id`` (slug), never its path: a renamed file is the same entry.

The steps, one module each: ``select`` (what is due, in order; when the next is), ``claim``,
``render``, the delivery itself (``scheduler/deliver.py``: retries, reconcile), ``record`` (the outcome
in the ledger and the report), ``syndication`` (where each item went), ``rebuild`` (channels that
derive output from the ledger, such as the blog's site) and the alerts (``scheduler/alerts.py``,
``scheduler/health.py``). ``core.Run`` is what they share; this module calls them in order.
"""
from __future__ import annotations

from channels.base import Failure, Receipt
from newsroom import crashpoint
from newsroom.model import Project
from newsroom.problems import Refusal, UnusableSettings, Verdict
from newsroom.state import StateStore, StateUnwritable
from newsroom.state.gc import collect

from .. import due
from ..alerts import send_alerts
from ..deliver import Attempt, deliver, reconcile
from ..health import alert_lapses
from ..plan import Entry
from . import record
from .amend import amend
from .claim import claim, claim_miss
from .core import Run, RunOptions, RunReport
from .rebuild import finish
from .prerender import prerender
from .render import context, render
from .select import look_ahead, select


#: What the run says when publish.yml has errors (after them, one per line); exit 2.
UNUSABLE = "publish.yml has errors: nothing was published. Fix them (publish check lists them) and run again."


def verdict_of(run: Run, ledger: dict, items) -> Verdict:
    """``check``'s verdict on the project as the run sees it (its ``now``, its environment, the ledger
    it has read), without asking any platform; posts are rendered only for ``items``, the paths of the
    items the run has work for, and the calendar's rules read the run's plan when it is the plan as of
    ``now`` (``core.plan_time``). Raises ``UnusableSettings`` when publish.yml has errors: every entry
    depends on it, so nothing is claimed."""
    from ..project import check

    plan = run.planned(ledger) if run.planned_from == run.now else None
    verdict = check(run.project, run.now, env=run.opts.env, verify=False, ledger=ledger, items=items, plan=plan)
    if verdict.unusable:
        raise UnusableSettings(verdict.unusable, UNUSABLE)
    return verdict


def publish(project: Project, store: StateStore, opts: RunOptions) -> RunReport:
    """Run every due entry of ``project`` once; the report says what happened to each. An item with
    an error ``check`` reports is held on every channel; errors in publish.yml raise
    ``UnusableSettings`` before anything is claimed (``select`` asks ``verdict_of``)."""
    run = Run(project, store, opts)
    try:
        if opts.dry_run:
            _steps(run)
        else:
            with store.run_lock(run.run):
                _steps(run)
    except StateUnwritable as exc:  # a read-only state/ or a full disk: what was done is said, then this
        run.report.fatal = str(exc)
        return run.report
    store.save()  # what makes the next run's reading fast (the files backend: the ledger's fold)
    if not opts.dry_run:
        try:
            collect(store)  # what runs killed before their end left, once this run reconciled their claims
        except (OSError, Refusal):  # only tidying: the next run, or publish state gc, tries again
            pass
    return run.report


def _steps(run: Run) -> None:
    work = select(run, verdict_of)
    prerender(run, work)
    for n, (entry, decision) in enumerate(work, 1):
        if run.opts.stop is not None and run.opts.stop.is_set():
            run.report.stopped = True
            run.report.notes.append(f"stopped before {len(work) - n + 1} entries; the next run takes them")
            break
        if run.opts.progress:
            run.opts.progress(n, len(work), f"{entry.item.path} → {entry.channel}")
        act(run, entry, decision)
    if run.waiting is not None and not run.report.stopped:
        run.waiting.release(act, finish)  # what waited for the others (the blog page) goes now, if it may
    finish(run)
    if not run.opts.dry_run:
        send_alerts(run)
        alert_lapses(run)  # a credential that lapses before an entry is due: said once
    look_ahead(run)
    if not run.opts.dry_run:
        notify_people(run)  # after look_ahead: a reminder due earlier than the next entry wakes the next run


def notify_people(run: Run) -> None:
    """The workflow's notifications (``scheduler/notify.py``), when publish.yml names channels for them."""
    if not run.project.settings.workflow.notify:
        return
    from ..notify import notify

    got = notify(run.project, run.store, run.channels, now=run.now, run=run.run, sleep=run.opts.sleep,
                 budget=run.budget)
    run.report.notes.extend(f"notification {t.result} via {t.via}: {t.notice}" + (f" ({t.detail})" if
                            t.result in ("failed", "uncertain", "skipped") else "") for t in got.told)
    run.report.notes.extend(got.notes)
    quiet = run.report.quiet_until
    if got.owed:
        run.report.quiet_until = None  # the next run tries what was refused again
    elif quiet is not None and got.wake is not None and got.wake < quiet:
        run.report.quiet_until = got.wake


def act(run: Run, entry: Entry, decision: due.Decision) -> None:
    """Claim → render → deliver (or reconcile first) → record, for one entry."""
    name = entry.channel
    if decision.action in (due.CORRECT, due.WITHDRAW):
        amend(run, entry, decision)
        return
    if decision.action == due.CHANGED:
        st = run.store.entries().get(entry.key)
        if st is None or st.changed_revision != entry.item.revision:
            run.append(run.event("changed", entry))
            run.touched.add(name)
        run.out(entry, "changed", "edited after it went out; not posted again")
        return
    if decision.action == due.HELD:
        run.out(entry, "held", decision.reason)
        return
    if decision.action == due.BLOCKED:
        return
    if decision.action == due.BLACKOUT:
        run.out(entry, "held", decision.reason)
        return
    if decision.action == due.MISS:
        if claim_miss(run, entry, decision):
            run.out(entry, "missed", decision.reason)
        return
    if name in run.refused:
        run.out(entry, "waiting", f"not tried: {run.refused[name]} was refused on {name} in this run; fix it and "
                                  "the entry goes out on the next run inside its grace window")
        return
    if name in run.down:
        run.out(entry, "postponed", f"not tried: {run.down[name]}")
        return
    channel = run.channels.adapters[name]
    if not claim(run, entry, decision, reconcile=True if decision.action == due.RECONCILE else None):
        run.out(entry, "held", "another run took it first")
        return
    crashpoint.reach("run.claimed")
    post = render(run, entry, channel)
    if isinstance(post, str):
        record.failed(run, entry, Attempt(Failure(post)), tries=0)
        return
    ctx = context(run, entry)
    if decision.action == due.RECONCILE:
        receipt, cannot, failure = reconcile(channel, post, ctx)
        if receipt is not None:
            record.delivered(run, entry, post, receipt, reconciled=True, tries=0)
            return
        if cannot is not None:
            record.unresolved(run, entry, cannot)
            return
        if failure is not None:
            record.failed(run, entry, Attempt(failure), tries=0)
            return
        # Surely not sent: it is due like any other entry, if it still may go out.
        timing = due.decide(entry, None, run.now, grace=channel.grace, force=run.opts.force)
        if timing.action == due.MISS:
            run.append(run.event("missed", entry, reason=timing.reason))
            run.out(entry, "missed", timing.reason)
            return
        if timing.action == due.WAIT:
            run.append(run.event("released", entry))
            return
    attempt = deliver(channel, post, ctx, budget=run.budget, retry=run.opts.retry, sleep=run.opts.sleep)
    crashpoint.reach("run.answered")  # the platform answered; the ledger does not know yet
    if isinstance(attempt.result, Receipt):
        record.delivered(run, entry, post, attempt.result, reconciled=attempt.reconciled, tries=attempt.tries)
    elif attempt.unresolved is not None:
        record.unresolved(run, entry, attempt.unresolved)
    else:
        record.failed(run, entry, attempt, tries=attempt.tries)
