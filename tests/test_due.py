"""Due selection pinned at its boundaries: never early, never stale, never twice.

Each rule of ``scheduler.due.decide`` is tested on both sides of its edge (one second before, exactly
at, one second after), and the order of the rules where two of them meet.
"""
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from hypothesis import given, strategies as st

from newsroom.model import Item
from newsroom.state import EntryState
from scheduler import due
from scheduler.due import Decision, decide, human, planning_time
from scheduler.plan import Entry

UTC = timezone.utc
AT = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
GRACE = timedelta(hours=6)


def item(**kw) -> Item:
    fields = dict(path="content/2026/11/launch.md", id="launch", slug="launch", title="Launch",
                  status="approved", body="", body_line=4, revision="r1")
    fields.update(kw)
    return Item(**fields)


def entry(at=AT, *, enabled=True, flags=(), violations=(), **item_kw) -> Entry:
    return Entry(item=item(**item_kw), channel="mastodon", type="mastodon", at=at, source="at",
                 state="approved", enabled=enabled, flags=list(flags), violations=list(violations))


def ledger(**kw) -> EntryState:
    return EntryState("launch/mastodon", **kw)


# -- time: never early ------------------------------------------------------------------------------
def test_one_second_before_its_time_it_waits_until_then():
    assert decide(entry(), None, AT - SECOND, grace=GRACE) == Decision("wait", "not yet", until=AT)


def test_exactly_at_its_time_it_is_sent():
    assert decide(entry(), None, AT, grace=GRACE) == Decision("send", "due")


def test_forced_before_its_time_it_is_sent_and_says_forced():
    assert decide(entry(), None, AT - SECOND, grace=GRACE, force=True) == Decision("send", "forced")
    # forcing an entry that is due anyway is an ordinary send
    assert decide(entry(), None, AT, grace=GRACE, force=True) == Decision("send", "due")


# -- time: never stale ------------------------------------------------------------------------------
def test_grace_window_is_inclusive_at_its_end():
    assert decide(entry(), None, AT + GRACE, grace=GRACE) == Decision("send", "due")


def test_one_second_past_the_grace_window_it_is_missed_with_how_late():
    d = decide(entry(), None, AT + GRACE + SECOND, grace=GRACE)
    assert d == Decision("miss", "6h late, past the 6h grace window")


def test_miss_message_names_days_hours_and_minutes_of_lateness():
    late = timedelta(days=2, hours=4, minutes=5)
    d = decide(entry(), None, AT + late, grace=GRACE)
    assert d.reason == "2d 4h 5m late, past the 6h grace window"


def test_no_grace_means_late_is_still_sent():
    assert decide(entry(), None, AT + timedelta(days=30), grace=None).action == "send"


def test_a_forced_entry_past_its_window_is_sent():
    assert decide(entry(), None, AT + GRACE + SECOND, grace=GRACE, force=True) == Decision("send", "due")


def test_one_second_before_expiry_it_is_sent():
    expires = AT + timedelta(hours=1)
    assert decide(entry(expires_at=expires), None, expires - SECOND, grace=GRACE).action == "send"


def test_exactly_at_expiry_it_is_missed():
    expires = AT + timedelta(hours=1)
    d = decide(entry(expires_at=expires), None, expires, grace=GRACE)
    assert d == Decision("miss", "expired at 2026-11-27 10:00 UTC before it went out")


def test_expiry_is_checked_before_the_grace_window():
    expires = AT + timedelta(hours=1)
    d = decide(entry(expires_at=expires), None, AT + GRACE + SECOND, grace=GRACE)
    assert d.reason.startswith("expired at")


def test_forced_past_expiry_it_is_sent():
    expires = AT + timedelta(hours=1)
    assert decide(entry(expires_at=expires), None, expires, grace=GRACE, force=True).action == "send"


# -- what goes out at all ---------------------------------------------------------------------------
@pytest.mark.parametrize("status", ["draft", "review", "scheduled"])
def test_only_approved_items_go_out(status):
    assert decide(entry(status=status), None, AT, grace=GRACE) == Decision("done", f"status is {status}")


def test_a_disabled_channel_sends_nothing():
    assert decide(entry(enabled=False), None, AT, grace=GRACE) == Decision("done", "disabled")


def test_an_entry_without_a_time_waits_for_one():
    assert decide(entry(at=None), None, AT, grace=GRACE) == Decision("done", "no time yet")


def test_an_empty_ledger_state_is_a_pending_entry():
    assert decide(entry(), ledger(), AT, grace=GRACE) == decide(entry(), None, AT, grace=GRACE)


# -- delivered stays delivered ----------------------------------------------------------------------
def test_delivered_revision_is_done():
    st = ledger(state="delivered", delivered_revision="r1", revision="r1")
    assert decide(entry(), st, AT, grace=GRACE) == Decision("done", "delivered")


def test_an_edit_after_delivery_is_a_correction_not_a_new_post():
    st = ledger(state="delivered", delivered_revision="r1", revision="r1")
    assert decide(entry(revision="r2"), st, AT, grace=GRACE) == Decision("correct", "edited after it went out")


def test_an_edit_already_reported_is_quiet():
    st = ledger(state="delivered", delivered_revision="r1", revision="r1", changed_revision="r2")
    assert decide(entry(revision="r2"), st, AT, grace=GRACE) == Decision("done", "delivered")


def test_delivered_wins_over_a_disabled_channel_and_a_draft():
    st = ledger(state="delivered", delivered_revision="r1", revision="r1")
    assert decide(entry(revision="r2", enabled=False, status="draft"), st, AT, grace=GRACE) == Decision(
        "done", "edited after it went out; a correction waits for approval (status is draft)")


# -- claims left by a run ---------------------------------------------------------------------------
def test_a_claim_of_a_live_run_is_held():
    st = ledger(state="claimed", claimed_by="run-7", revision="r1")
    d = decide(entry(), st, AT, grace=GRACE, alive=lambda run: run == "run-7")
    assert d == Decision("held", "claimed by run run-7, still running")


def test_a_claim_of_a_dead_run_is_reconciled_even_when_forced_or_late():
    st = ledger(state="claimed", claimed_by="run-7", revision="r1")
    expected = Decision("reconcile", "claimed by run run-7, which ended without a receipt")
    assert decide(entry(), st, AT, grace=GRACE) == expected
    assert decide(entry(), st, AT + GRACE * 10, grace=GRACE, force=True) == expected


def test_the_liveness_check_is_asked_about_the_claiming_run():
    asked = []
    st = ledger(state="claimed", claimed_by="run-7", revision="r1")
    decide(entry(), st, AT, grace=GRACE, alive=lambda run: asked.append(run) or False)
    assert asked == ["run-7"]


# -- failures ---------------------------------------------------------------------------------------
def test_a_failed_unresolved_entry_is_blocked_until_a_person_decides():
    st = ledger(state="failed", revision="r1", unresolved=True, ambiguous=True, retryable=True, error="timeout")
    assert decide(entry(), st, AT, grace=GRACE) == Decision("blocked", "timeout")
    st.error = None
    assert decide(entry(), st, AT, grace=GRACE) == Decision("blocked", "a person must check whether it went out")


def test_a_blocked_entry_stays_blocked_on_a_new_revision():
    st = ledger(state="failed", revision="r1", unresolved=True, ambiguous=True, error="timeout")
    assert decide(entry(revision="r2"), st, AT, grace=GRACE).action == "blocked"


def test_forcing_an_unresolved_entry_sends_it():
    st = ledger(state="failed", revision="r1", unresolved=True, ambiguous=True, retryable=True)
    assert decide(entry(), st, AT, grace=GRACE, force=True) == Decision("send", "due")


def test_an_ambiguous_failure_is_reconciled_before_another_try():
    st = ledger(state="failed", revision="r1", ambiguous=True, retryable=True, error="connection reset")
    assert decide(entry(), st, AT, grace=GRACE) == Decision("reconcile", "the last attempt may have gone out")


def test_an_ambiguous_failure_is_reconciled_before_its_time_too():
    st = ledger(state="failed", revision="r1", ambiguous=True, retryable=True)
    assert decide(entry(), st, AT - SECOND, grace=GRACE).action == "reconcile"


def test_force_on_an_ambiguous_failure_still_reconciles_first():
    st = ledger(state="failed", revision="r1", ambiguous=True, retryable=True)
    assert decide(entry(), st, AT, grace=GRACE, force=True).action == "reconcile"


def test_a_person_who_released_the_revision_clears_the_ambiguity():
    st = ledger(state="failed", revision="r1", ambiguous=True, retryable=False, forced_revision="r1")
    assert decide(entry(), st, AT, grace=GRACE) == Decision("send", "due")
    # the release covers that revision only
    assert decide(entry(revision="r2"), st, AT, grace=GRACE).action == "reconcile"


def test_a_final_failure_is_not_retried_on_the_same_revision():
    st = ledger(state="failed", revision="r1", retryable=False, error="HTTP 422")
    assert decide(entry(), st, AT, grace=GRACE) == Decision("done", "failed")


def test_a_final_failure_is_tried_again_on_a_new_revision_or_when_forced():
    st = ledger(state="failed", revision="r1", retryable=False)
    assert decide(entry(revision="r2"), st, AT, grace=GRACE).action == "send"
    assert decide(entry(), st, AT, grace=GRACE, force=True).action == "send"
    st.forced_revision = "r1"
    assert decide(entry(), st, AT, grace=GRACE).action == "send"


def test_a_retryable_failure_is_tried_again():
    st = ledger(state="failed", revision="r1", retryable=True)
    assert decide(entry(), st, AT, grace=GRACE) == Decision("send", "due")


# -- missed and skipped -----------------------------------------------------------------------------
@pytest.mark.parametrize("state", ["missed", "skipped", "held"])
def test_missed_or_skipped_stays_so_on_the_same_revision(state):
    st = ledger(state=state, revision="r1")
    assert decide(entry(), st, AT, grace=GRACE) == Decision("done", state)


def test_a_skipped_entry_is_not_sent_when_its_channel_is_enabled_again():
    st = ledger(state="skipped", revision="r1")
    assert decide(entry(enabled=True), st, AT + SECOND, grace=GRACE).action == "done"


@pytest.mark.parametrize("state", ["missed", "skipped"])
def test_missed_or_skipped_goes_out_on_a_new_revision_or_when_forced(state):
    st = ledger(state=state, revision="r1")
    assert decide(entry(revision="r2"), st, AT, grace=GRACE).action == "send"
    assert decide(entry(), st, AT, grace=GRACE, force=True).action == "send"
    st.forced_revision = "r1"
    assert decide(entry(), st, AT, grace=GRACE).action == "send"


# -- blackout ---------------------------------------------------------------------------------------
def test_a_blackout_date_holds_the_entry_with_the_rules_message():
    why = SimpleNamespace(rule="blackout", message="2026-12-25 is a blackout date (Christmas)")
    other = SimpleNamespace(rule="slot", message="not this one")
    d = decide(entry(flags=["blackout"], violations=[other, why]), None, AT, grace=GRACE)
    assert d == Decision("blackout", "not sent: 2026-12-25 is a blackout date (Christmas)")


def test_a_blackout_without_its_violation_still_holds():
    d = decide(entry(flags=["blackout"]), None, AT, grace=GRACE)
    assert d == Decision("blackout", "not sent: a blackout date")


def test_a_person_may_force_through_a_blackout():
    assert decide(entry(flags=["blackout"]), None, AT, grace=GRACE, force=True).action == "send"


def test_a_blackout_holds_before_an_ambiguous_failure_is_reconciled():
    st = ledger(state="failed", revision="r1", ambiguous=True, retryable=True)
    assert decide(entry(flags=["blackout"]), st, AT, grace=GRACE).action == "blackout"


# -- properties -------------------------------------------------------------------------------------
offsets = st.integers(min_value=-10 * 86400, max_value=10 * 86400).map(lambda s: timedelta(seconds=s))
graces = st.one_of(st.none(), st.integers(min_value=0, max_value=3 * 86400).map(lambda s: timedelta(seconds=s)))


@given(offsets, offsets, graces)
def test_due_is_monotone_in_now(a, b, grace):
    """Once an entry stops waiting it never waits again; once missed, later is missed too."""
    order = {"wait": 0, "send": 1, "miss": 2}
    first, second = sorted((a, b))
    d1 = decide(entry(), None, AT + first, grace=grace).action
    d2 = decide(entry(), None, AT + second, grace=grace).action
    assert order[d1] <= order[d2]


@given(offsets, graces)
def test_it_is_sent_exactly_inside_its_window(offset, grace):
    action = decide(entry(), None, AT + offset, grace=grace).action
    inside = offset >= timedelta(0) and (grace is None or offset <= grace)
    assert (action == "send") == inside
    assert action == ("wait" if offset < timedelta(0) else "send" if inside else "miss")


# -- human ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("delta, text", [
    (timedelta(0), "0s"),
    (timedelta(seconds=45), "45s"),
    (timedelta(seconds=59), "59s"),
    (timedelta(seconds=60), "1m"),
    (timedelta(seconds=61), "1m"),  # seconds shown only when there is nothing larger
    (timedelta(minutes=59, seconds=59), "59m"),
    (timedelta(hours=1), "1h"),
    (timedelta(hours=3, minutes=10), "3h 10m"),
    (timedelta(hours=23, minutes=59), "23h 59m"),
    (timedelta(days=1), "1d"),
    (timedelta(days=2, hours=4), "2d 4h"),
    (timedelta(days=2, minutes=4), "2d 4m"),
    (timedelta(days=2, hours=4, minutes=5, seconds=6), "2d 4h 5m"),
    (timedelta(hours=-3, minutes=-10), "3h 10m"),  # how long, whichever side
])
def test_human_durations(delta, text):
    assert human(delta) == text


# -- planning time ----------------------------------------------------------------------------------
def project(channel_slots: dict[str, list], calendar_slots=()):
    rules = lambda slots: SimpleNamespace(rules=SimpleNamespace(slots=list(slots)))
    return SimpleNamespace(settings=SimpleNamespace(
        channels={name: rules(slots) for name, slots in channel_slots.items()},
        calendar=rules(calendar_slots)))


def test_planning_looks_back_one_hour_for_slots():
    assert due.SLOT_LOOKBACK == timedelta(hours=1)
    p = project({"mastodon": ["09:00"]})
    assert planning_time(p, AT, lambda name: timedelta(hours=6)) == AT - timedelta(hours=1)


def test_planning_never_looks_back_past_the_shortest_grace_of_a_channel_with_slots():
    p = project({"mastodon": ["09:00"], "x": ["10:00"], "blog": []})
    graces = {"mastodon": timedelta(minutes=30), "x": timedelta(minutes=20), "blog": timedelta(minutes=5)}
    assert planning_time(p, AT, graces.get) == AT - timedelta(minutes=20)


def test_a_grace_of_exactly_the_lookback_or_none_changes_nothing():
    p = project({"mastodon": ["09:00"], "x": ["09:00"]})
    graces = {"mastodon": timedelta(hours=1), "x": None}
    assert planning_time(p, AT, graces.get) == AT - timedelta(hours=1)


def test_calendar_slots_count_for_every_channel():
    p = project({"mastodon": [], "x": []}, calendar_slots=["09:00"])
    graces = {"mastodon": timedelta(minutes=59), "x": timedelta(hours=2)}
    assert planning_time(p, AT, graces.get) == AT - timedelta(minutes=59)
