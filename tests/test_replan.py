"""The run's plan after its deliveries (``scheduler/run/replan.py``) is the plan a full planning gives,
on ledgers changed by every kind of event; and one correction is patched in, not planned again."""
from __future__ import annotations

import functools
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import BASE_SETTINGS, item, write_project

UTC = timezone.utc
NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)
APPROVED = dict(status="approved", author="ana", approved_by="ben")
SETTINGS = BASE_SETTINGS + """\
calendar:
  min_gap: 2h
  max_per_day: 3
  slots:
    - days: daily
      times: ['09:00', '13:00', '17:00']
"""


def files() -> dict[str, str]:
    return {
        "content/plain.md": item("Plain", publish_at="2026-11-20T09:00", channels=["blog"], **APPROVED),
        "content/other.md": item("Other", publish_at="2026-11-20T09:00", channels=["blog"], **APPROVED),
        "content/social.md": item("Social", publish_at="2026-11-20T10:00", channels=["blog", "mastodon"],
                                  **APPROVED),
        "content/chain.md": item("Chain", publish_at="2026-11-20T11:00",
                                 channels={"blog": {}, "mastodon": {"after": "blog", "at": "+30m"}}, **APPROVED),
        "content/queued.md": item("Queued", approved_at="2026-11-01T10:00", channels={"mastodon": {"at": "next"}},
                                  **APPROVED),
        "content/queued-too.md": item("Queued too", approved_at="2026-11-01T11:00", channels=["mastodon"],
                                      **APPROVED),
        "content/green.md": item("Green", publish_at="2026-11-19T09:00", channels=["mastodon"],
                                 evergreen={"every": "1d", "channels": ["mastodon"]}, **APPROVED),
        "content/gone.md": item("Gone", status="withdrawn", reason="Wrong figures",
                                publish_at="2026-11-18T09:00", channels=["blog"], author="ana", approved_by="ben"),
        "content/draft.md": item("Draft", publish_at="2026-11-22T09:00", channels=["blog"]),
    }


@functools.lru_cache(maxsize=1)
def loaded():
    from scheduler.project import load_project

    root = write_project(Path(tempfile.mkdtemp(prefix="replan-")), files(), SETTINGS)
    return load_project(root, cache=False)


def shape(entries) -> list[tuple]:
    """Everything a plan says of each entry, in its order."""
    return [(e.key, e.channel, e.type, e.at, e.source, e.state, e.enabled, e.segment, list(e.flags), list(e.notes),
             [(v.rule, v.message) for v in e.violations], tuple(d.label() for d in e.after), e.waiting, e.share,
             e.earliest, e.item.revision) for e in entries]


def revisions():
    project = loaded()
    return {i.id: i.revision for i in project.items}


KEYS = ["plain/blog", "other/blog", "social/blog", "social/mastodon", "chain/blog", "chain/mastodon",
        "queued/mastodon", "queued-too/mastodon", "green/mastodon", "green/mastodon~1", "green/mastodon~2",
        "gone/blog", "draft/blog", "deleted/blog"]
KINDS = ["claimed", "delivered", "failed", "missed", "skipped", "held", "released", "progress", "alerted", "changed",
         "forced", "live", "correcting", "corrected", "correction-failed", "withdrawing", "withdrawn",
         "withdraw-failed"]
TIMES = [None, "2026-11-20T08:00:00+00:00", "2026-11-20T09:30:00+00:00", "2026-11-21T11:00:00+00:00"]


@st.composite
def events(draw, n, keys=KEYS):
    out = []
    for _ in range(draw(st.integers(0, n))):
        key = draw(st.sampled_from(keys))
        kind = draw(st.sampled_from(KINDS))
        item_id, channel = key.split("/")
        current = revisions().get(item_id, "r0")
        e = {"event": kind, "entry": key, "item": item_id, "channel": channel.split("~")[0],
             "revision": draw(st.sampled_from([current, "old-revision", None])), "run": "r1",
             "at": draw(st.sampled_from(TIMES[1:]))}
        if kind in ("delivered", "corrected"):
            e["receipt"] = draw(st.one_of(st.none(), st.fixed_dictionaries(
                {"remote_id": st.just("1"), "url": st.sampled_from([None, "https://news.test/a/", "https://x/1"]),
                 "at": st.sampled_from(TIMES)})))
        if kind in ("failed", "missed", "skipped", "held"):
            e.update(error=draw(st.sampled_from([None, "boom"])), retryable=draw(st.booleans()),
                     unresolved=draw(st.booleans()), reason=draw(st.sampled_from([None, "late"])))
        if kind == "withdrawn":
            e["reason"] = draw(st.sampled_from([None, "Wrong figures"]))
        if kind in ("correction-failed", "withdraw-failed"):
            e.update(error="refused", retryable=draw(st.booleans()))
        if kind == "alerted":
            e["problem"] = "a problem"
        if kind == "progress":
            e.update(name="part", value=1)
        out.append(e)
    return out


def fold(ledger: dict, evs: list[dict]) -> dict:
    from newsroom.state import EntryState

    for e in evs:
        ledger.setdefault(e["entry"], EntryState(e["entry"])).apply(e)
    return ledger


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events(14), st.data(), st.sampled_from([NOW, NOW + timedelta(days=2), NOW - timedelta(days=3)]))
def test_the_plan_brought_up_to_date_is_the_full_plan(before, data, now):
    from scheduler.plan import plan
    from scheduler.run import replan

    project = loaded()
    ledger = fold({}, before)
    first = replan.Plan(project, ledger, now)
    assert shape(first.entries) == shape(plan(project, ledger=ledger, now=now))
    # what a run appends: mostly to entries the ledger knows already (the ones that can be patched)
    after = data.draw(events(4, keys=sorted({e["entry"] for e in before}) or KEYS) | events(2))
    fold(ledger, after)  # in place, as the store folds what the run appends
    assert shape(first.after(ledger).entries) == shape(plan(project, ledger=ledger, now=now))


def _delivered(key: str, revision: str, at: str = "2026-11-20T08:00:00+00:00") -> list[dict]:
    item_id, channel = key.split("/")
    return [{"event": "claimed", "entry": key, "item": item_id, "channel": channel, "revision": revision, "run": "r0",
             "at": at},
            {"event": "delivered", "entry": key, "item": item_id, "channel": channel, "revision": revision,
             "run": "r0", "at": at, "receipt": {"remote_id": "a/", "url": "https://news.test/a/", "at": at}}]


def test_a_correction_is_patched_into_the_plan_not_planned_again():
    from scheduler.plan import plan
    from scheduler.run import replan

    project = loaded()
    ledger = fold({}, [*_delivered("plain/blog", "old-revision"), *_delivered("other/blog", revisions()["other"])])
    first = replan.Plan(project, ledger, NOW)
    assert "correction due" in {e.key: e for e in first.entries}["plain/blog"].notes
    current = revisions()["plain"]
    # a correction that replaces the receipt (a new time) and one that keeps it
    fold(ledger, [{"event": "correcting", "entry": "plain/blog", "revision": current, "run": "r1",
                   "at": "2026-11-21T12:00:00+00:00"},
                  {"event": "corrected", "entry": "plain/blog", "revision": current, "run": "r1",
                   "at": "2026-11-21T12:00:00+00:00",
                   "receipt": {"remote_id": "a/", "url": "https://news.test/a/", "at": "2026-11-21T12:00:00+00:00"}}])
    second = first.after(ledger)
    assert shape(second.entries) == shape(plan(project, ledger=ledger, now=NOW))
    patched = {e.key: e for e in second.entries}["plain/blog"]
    assert patched.notes[:1] == ["corrected 1×"] and "correction due" not in patched.notes
    # patched, not planned again: every other entry is the one planned first; the corrected one a copy
    assert [e is f for e, f in zip(first.entries, second.entries)].count(False) == 1
    assert {e.key: e for e in first.entries}["plain/blog"].notes != patched.notes  # the first left as it was
    # an entry of an item that waits (chain: mastodon after the blog) is planned again in full
    fold(ledger, _delivered("chain/blog", revisions()["chain"]))
    third = second.after(ledger)
    assert all(e is not f for e, f in zip(second.entries, third.entries))
    assert shape(third.entries) == shape(plan(project, ledger=ledger, now=NOW))


def test_a_new_time_of_what_an_entry_waits_for_or_of_a_queued_entry_plans_again():
    from scheduler.plan import plan
    from scheduler.run import replan

    project = loaded()
    # chain/mastodon goes 30 minutes after the blog's delivery: a correction with a new receipt time moves it
    ledger = fold({}, _delivered("chain/blog", "old-revision"))
    first = replan.Plan(project, ledger, NOW)
    fold(ledger, [{"event": "corrected", "entry": "chain/blog", "revision": revisions()["chain"], "run": "r1",
                   "at": "2026-11-21T12:00:00+00:00", "receipt": {"remote_id": "a/", "url": "https://news.test/a/",
                                                                  "at": "2026-11-21T12:00:00+00:00"}}])
    second = first.after(ledger)
    assert {e.key: e for e in second.entries}["chain/mastodon"].at == datetime(2026, 11, 21, 12, 30, tzinfo=UTC)
    assert shape(second.entries) == shape(plan(project, ledger=ledger, now=NOW))
    # a queued entry that failed keeps the time it was tried at in the calendar: tried again later, it moves
    failed = {"event": "failed", "entry": "queued/mastodon", "item": "queued", "channel": "mastodon",
              "revision": revisions()["queued"], "run": "r0", "error": "boom", "retryable": False}
    ledger = fold({}, [{**failed, "at": "2026-11-20T08:00:00+00:00"}])
    first = replan.Plan(project, ledger, NOW)
    fold(ledger, [{**failed, "at": "2026-11-21T11:00:00+00:00"}])
    second = first.after(ledger)
    assert {e.key: e for e in second.entries}["queued/mastodon"].at == datetime(2026, 11, 21, 11, tzinfo=UTC)
    assert shape(second.entries) == shape(plan(project, ledger=ledger, now=NOW))
    # an evergreen item's next share counts from when it went out: a correction with a new receipt time moves it
    ledger = fold({}, _delivered("green/mastodon", revisions()["green"], at="2026-11-19T08:00:00+00:00"))
    first = replan.Plan(project, ledger, NOW)
    fold(ledger, [{"event": "corrected", "entry": "green/mastodon", "revision": "r2", "run": "r1",
                   "at": "2026-11-20T08:00:00+00:00",
                   "receipt": {"remote_id": "9", "url": "https://x/9", "at": "2026-11-20T08:00:00+00:00"}}])
    second = first.after(ledger)
    assert shape(second.entries) == shape(plan(project, ledger=ledger, now=NOW))
    assert [e.earliest for e in second.entries if e.share] == [datetime(2026, 11, 21, 8, tzinfo=UTC)]


# -- a run without slots plans as of its own time (scheduler/run/core.py: plan_time) ----------------
NO_SLOTS = BASE_SETTINGS + """\
calendar:
  lead_time: 3h
  blackout:
    - {date: 2026-11-22, reason: Embargo}
"""


@functools.lru_cache(maxsize=1)
def loaded_without_slots():
    from scheduler.project import load_project

    more = {"content/ends.md": item("Ends", publish_at="2026-11-19T09:00", expires_at="2026-11-21T11:30",
                                    channels=["mastodon"], evergreen={"every": "1d", "channels": ["mastodon"]},
                                    **APPROVED)}
    root = write_project(Path(tempfile.mkdtemp(prefix="replan-")), {**files(), **more}, NO_SLOTS)
    return load_project(root, cache=False)


def run_shape(entries) -> list[tuple]:
    """What a run reads of a plan (due.decide, after.Order.gate, the look ahead, the credentials' lapses)."""
    read = ("blackout", "dependency_cycle")
    return sorted((e.key, e.channel, e.type, e.at, e.source, e.state, e.enabled, e.segment, e.share, e.earliest,
                   e.item.revision, tuple(d.label() for d in e.after), [f for f in e.flags if f in read],
                   [(v.rule, v.message) for v in e.violations if v.rule in read]) for e in entries)


NOWS = [NOW, NOW - timedelta(minutes=15), NOW + timedelta(hours=18, minutes=30), NOW - timedelta(days=1, hours=3)]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events(14), st.sampled_from(NOWS))
def test_without_slots_the_plan_as_of_now_is_the_run_s_plan(evs, now):
    from scheduler.due import SLOT_LOOKBACK
    from scheduler.plan import plan
    from scheduler.run.core import plan_time

    project = loaded_without_slots()
    ledger = fold({}, evs)
    lookback = now - SLOT_LOOKBACK
    if plan_time(project, now, lookback) == now:
        assert run_shape(plan(project, ledger=ledger, now=now)) == run_shape(plan(project, ledger=ledger, now=lookback))
    else:  # the hour after the evergreen item's expiry
        assert lookback < datetime(2026, 11, 21, 10, 30, tzinfo=UTC) <= now


def test_a_run_plans_as_of_a_little_earlier_with_slots_or_an_evergreen_item_expiring_meanwhile():
    from scheduler.due import SLOT_LOOKBACK
    from scheduler.plan import plan
    from scheduler.run.core import plan_time

    lookback = NOW - SLOT_LOOKBACK
    assert plan_time(loaded(), NOW, lookback) == lookback  # slots: handed out from the time planned for
    project = loaded_without_slots()
    # the evergreen item went out at 09:00 the day before; its next share is due at 09:00 (Berlin: 08:00Z)
    # today, before it expires at 11:30 Berlin (10:30Z): as of 10:00Z it is planned, as of 11:00Z it is not
    revision = {i.id: i.revision for i in project.items}["ends"]
    ledger = fold({}, _delivered("ends/mastodon", revision, at="2026-11-20T08:00:00+00:00"))
    now, lookback = datetime(2026, 11, 21, 11, tzinfo=UTC), datetime(2026, 11, 21, 10, tzinfo=UTC)
    assert plan_time(project, now, lookback) == lookback
    assert run_shape(plan(project, ledger=ledger, now=now)) != run_shape(plan(project, ledger=ledger, now=lookback))
    assert plan_time(project, now + timedelta(hours=1), lookback + timedelta(hours=1)) == now + timedelta(hours=1)
    before = datetime(2026, 11, 21, 10, tzinfo=UTC)  # the hour before the expiry: as of now
    assert plan_time(project, before, before - timedelta(hours=1)) == before


def test_a_run_answers_again_only_what_changed_and_asks_afresh_whether_a_claiming_run_lives(tmp_path):
    from newsroom.state import open_store
    from scheduler.run.core import Run, RunOptions

    project = loaded()
    store = open_store(tmp_path, {"path": "state"})
    run = Run(project, store, RunOptions(now=NOW))
    entries = {e.key: e for e in run.planned({})}
    ledger = fold({}, _delivered("plain/blog", "old-revision"))
    plain, other = entries["plain/blog"], entries["other/blog"]
    first = run.decide(plain, ledger)
    assert first.action == "correct"
    assert run.decide(plain, ledger) is first  # the same entry, the same ledger state: the same answer
    assert run.decide(other, ledger) is run.decide(other, ledger)  # (no ledger state at all: the same too)
    fold(ledger, [{"event": "corrected", "entry": "plain/blog", "revision": revisions()["plain"],
                   "at": "2026-11-21T12:00:00+00:00"}])
    assert run.decide(plain, ledger).action == "done"  # one more event folded: asked again
    refolded = fold({}, [*_delivered("plain/blog", "old-revision"),  # as many events, another state
                         {"event": "alerted", "entry": "plain/blog", "problem": "p", "at": "2026-11-21T11:00:00+00:00"}])
    assert refolded["plain/blog"].events == ledger["plain/blog"].events
    assert run.decide(plain, refolded).action == "correct"
    # an open claim: whether its run still lives is asked every time
    lock = tmp_path / "state" / ".runs"
    claimed = fold({}, [{"event": "claimed", "entry": "other/blog", "item": "other", "channel": "blog",
                         "revision": revisions()["other"], "run": "elsewhere", "at": "2026-11-21T11:00:00+00:00"}])
    assert run.decide(other, claimed).action == "reconcile"
    with store.run_lock("elsewhere"):
        assert lock.exists() and run.decide(other, claimed).action == "held"
    assert run.decide(other, claimed).action == "reconcile"
