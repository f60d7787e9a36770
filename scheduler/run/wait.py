"""Entries that wait for other channels of their item (``after:``, and the blog page a post links
to): held back while the others go out, then released once what they wait for is delivered and the
blog's page answers (``scheduler/after.py`` says what waits for what; this is the run's step)."""
from __future__ import annotations

from datetime import datetime

from newsroom import times
from newsroom.state import EntryState

from .. import due
from ..after import HELD, LIVE, READY, Gate, Order, links_to, page_url
from .render import render


class Waiting:
    """The run's side of the order: entries due whose dependencies are not delivered yet wait here
    while the others go out; then the blog's site is built, the pages they wait for are asked
    (``channels.live``, for at most ``live_wait``, within the run's budget), and what may go now is
    sent, in as many rounds as chains of ``after:`` need. What still waits is reported as waiting;
    what waits for something that will not come is recorded ``held`` and reported."""

    ROUNDS = 8

    def __init__(self, run, planned: list, ledger: dict[str, EntryState], *, skip: "Waiting | None" = None):
        self.run = run
        self.order = Order(planned, run.project.settings)
        self.opts = self.order.opts
        self.deferred: list = []
        # implicit blog waits that do not apply: the post does not link there
        self.skip: set[str] = set(skip.skip) if skip is not None else set()
        self.watch = [e for e in planned if e.after and e.enabled and e.item.status == "approved"]
        self.checked: set[str] = set()  # dependencies whose page this run asked about already

    def gate(self, entry, ledger: dict[str, EntryState]) -> Gate:
        if not entry.after:
            return Gate(READY)
        st = ledger.get(entry.key)
        if self.run.opts.force or (st is not None and st.forced_revision == entry.item.revision):
            return Gate(READY)  # a person sends it now, whatever it waits for
        return self.order.gate(entry, ledger, self.run.now, skip=frozenset(self.skip))

    def effective(self, entry, ledger: dict[str, EntryState]):
        """(the entry at the time its dependencies allow, its gate)."""
        gate = self.gate(entry, ledger)
        return self.order.effective(entry, gate), gate

    def defer(self, entry) -> None:
        if any(d.implicit for d in entry.after) and not self._links(entry):
            self.skip.add(entry.key)
        self.deferred.append(entry)

    def _links(self, entry) -> bool:
        """Does the entry's rendered post link to the item's blog page? (A post that cannot be rendered
        is taken to link: it fails when it is sent, not earlier.)"""
        adapter = self.run.channels.adapters.get(entry.channel)
        if adapter is None:
            return True
        post = render(self.run, entry, adapter)
        return isinstance(post, str) or links_to(post, page_url(entry.item, self.run.project.settings))

    def release(self, act, finish) -> None:
        """Send what may go now: ``act(run, entry, decision)`` as the flow does for every entry, after
        ``finish(run)`` has built what the pages come from (the flow hands both in: it calls the steps)."""
        run = self.run
        still: list = []
        for _ in range(self.ROUNDS):
            if run.touched:
                finish(run)  # the blog's site is built (and deployed) before its pages are asked
            ledger = run.store.entries()
            if self._check_pages(ledger):
                ledger = run.store.entries()
            moved, still = False, []
            for entry in self.deferred:
                current, gate = self.effective(entry, ledger)
                if gate.state == READY:
                    decision = run.decide(current, ledger)
                    if decision.action in (due.SEND, due.MISS, due.RECONCILE):
                        act(run, current, decision)
                        moved = True
                    # WAIT: an offset from the delivery (at: +30m) not reached yet; a later run sends it
                elif gate.state == HELD:
                    self._held(entry, gate)
                else:
                    still.append((entry, gate))
            self.deferred = [entry for entry, _ in still]
            if not moved or not self.deferred:
                break
        for entry, gate in still:
            run.out(entry, "waiting", gate.reason + "; a later run sends it once it is")

    def _check_pages(self, ledger: dict[str, EntryState]) -> bool:
        """Ask every page an entry waits for (due or not: the window counts from the delivery)."""
        from channels import live

        run = self.run
        if run.opts.dry_run:
            return False
        pages: dict[str, tuple[str, datetime]] = {}
        for entry in self.watch:
            st = ledger.get(entry.key)
            if st is not None and st.state in ("delivered", "held", "missed", "skipped"):
                continue
            gate = self.order.gate(entry, ledger, run.now, skip=frozenset(self.skip))
            if gate.state == LIVE:
                for key, url, when in gate.pages:
                    pages.setdefault(key, (url, when))
        asked = False
        for key, (url, when) in sorted(pages.items()):
            if key in self.checked:
                continue
            self.checked.add(key)
            within = min(self.opts.live_wait.total_seconds(), max(0.0, run.budget.left()))
            answer, tries = live.wait_until_live(url, within=within, sleep=run.opts.sleep, clock=run.opts.clock)
            dep = self.order.by_key.get(key)
            name = dep.channel if dep is not None else key.rsplit("/", 1)[-1]
            if answer.live:
                event = {"event": "live", "entry": key, "url": answer.url, "run": run.run,
                         "at": run.now.astimezone(times.UTC).isoformat(timespec="seconds")}
                if dep is not None:
                    event.update(item=dep.item.id, channel=dep.channel, path=dep.item.path,
                                 revision=dep.item.revision)
                run.store.append([event])
                asked = True
            else:
                until = when + self.opts.live_within
                run.report.notes.append(
                    f"{name}: {url} {answer.detail} ({tries} tr{'y' if tries == 1 else 'ies'}); what waits for it "
                    f"goes once it answers 200, until {until.astimezone(times.UTC):%Y-%m-%d %H:%M} UTC")
        return asked

    def _held(self, entry, gate: Gate) -> None:
        run = self.run
        if not run.opts.dry_run:
            revision = entry.item.revision

            def may_hold(fresh: EntryState) -> bool:
                return fresh.state not in ("delivered", "claimed") and not (
                    fresh.state == "held" and fresh.revision == revision)

            event = run.event("held", entry, reason=gate.reason, dependency=gate.dependency)
            if not run.store.claim(entry.key, event, may_hold):
                return
        run.out(entry, "held-by-dependency", gate.reason + "; not sent (send it anyway with publish.py publish "
                 f"--only {entry.item.path}:{entry.channel} --force)")
