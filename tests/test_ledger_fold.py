"""The ledger fold: each event's effect on an entry's state, and the orders in which they can arrive
(a claim merged in after a receipt, a failure after a delivery, a release of a claim, progress that
carries over to a new revision). The fold is read through a real files store."""
from hypothesis import given, strategies as st

from newsroom.state import EntryState, FileStore

KEY = "launch/mastodon"


def ev(kind, revision="r1", **kw):
    return {"event": kind, "entry": KEY, "at": f"2026-11-27T09:00:0{kw.pop('sec', 0)}+00:00",
            "revision": revision, **kw}


def fold(*events) -> EntryState:
    st = EntryState(KEY)
    for e in events:
        st.apply(e)
    return st


def test_a_fresh_entry_is_pending_and_empty():
    st = EntryState(KEY)
    assert (st.state, st.revision, st.attempts, st.events, st.journal, st.alerted) == ("pending", None, 0, 0, {}, set())
    assert not (st.retryable or st.ambiguous or st.unresolved or st.reconciled or st.open_claim)


def test_every_event_records_where_and_when():
    st = fold(ev("claimed", run="run-1", channel="mastodon", item="launch", path="content/launch.md", sec=1))
    assert (st.channel, st.item, st.path, st.last_at, st.events) == (
        "mastodon", "launch", "content/launch.md", "2026-11-27T09:00:01+00:00", 1)
    st.apply({"event": "alerted", "entry": KEY, "problem": "late"})
    assert (st.channel, st.item, st.path, st.last_at, st.events) == (
        "mastodon", "launch", "content/launch.md", "2026-11-27T09:00:01+00:00", 2)


def test_a_claim_names_the_run_and_counts_an_attempt():
    st = fold(ev("claimed", run="run-1", sec=1))
    assert (st.state, st.revision, st.claimed_by, st.claimed_at, st.attempts) == (
        "claimed", "r1", "run-1", "2026-11-27T09:00:01+00:00", 1)
    assert st.open_claim
    st.apply(ev("failed", error="HTTP 503", retryable=True))
    st.apply(ev("claimed", run="run-2"))
    assert (st.attempts, st.claimed_by) == (2, "run-2")


def test_a_delivery_clears_the_doubts_and_closes_the_journal():
    st = fold(ev("claimed", run="run-1"), ev("failed", error="timeout", retryable=True, ambiguous=True, unresolved=True),
              ev("delivered", "r1", receipt={"remote_id": "9"}, reconciled=True))
    assert (st.state, st.revision, st.delivered_revision, st.receipt, st.error) == (
        "delivered", "r1", "r1", {"remote_id": "9"}, None)
    assert (st.ambiguous, st.unresolved, st.reconciled, st.journal_closed) == (False, False, True, True)
    assert fold(ev("delivered", receipt={})).reconciled is False


def test_nothing_after_a_receipt_undoes_it():
    for late in (ev("claimed", run="run-2"), ev("failed", error="HTTP 500"), ev("missed", reason="late"),
                 ev("skipped", reason="disabled")):
        st = fold(ev("claimed", run="run-1"), ev("delivered", receipt={"remote_id": "9"}), late)
        assert (st.state, st.attempts, st.error, st.receipt) == ("delivered", 1, None, {"remote_id": "9"})


def test_a_failure_keeps_the_platforms_words_and_what_may_have_happened():
    st = fold(ev("claimed", run="run-1"), ev("failed", error="HTTP 503", retryable=1, ambiguous=1, unresolved=0))
    assert (st.state, st.error, st.retryable, st.ambiguous, st.unresolved) == ("failed", "HTTP 503", True, True, False)
    st.apply(ev("failed", error="HTTP 422"))
    assert (st.retryable, st.ambiguous, st.unresolved) == (False, False, False)
    st.apply(ev("failed", error="no lookup", ambiguous=True, unresolved=True))
    assert (st.ambiguous, st.unresolved) == (True, True)
    st.apply(ev("failed", error="HTTP 401", credential="MASTODON_TOKEN"))
    assert st.credential == "MASTODON_TOKEN"


def test_a_failure_without_a_revision_keeps_the_claims():
    st = fold(ev("claimed", "r2", run="run-1"), {"event": "failed", "entry": KEY, "error": "x"})
    assert st.revision == "r2"
    st = fold(ev("claimed", "r2", run="run-1"), {"event": "missed", "entry": KEY, "reason": "late"})
    assert (st.state, st.revision, st.error) == ("missed", "r2", "late")


def test_held_keeps_its_reason_and_never_undoes_a_receipt():
    st = fold(ev("claimed", run="run-1"), ev("held", "r2", reason="waits for the blog"))
    assert (st.state, st.revision, st.error) == ("held", "r2", "waits for the blog")
    st = fold(ev("delivered", receipt={}), ev("held", reason="waits"))
    assert st.state == "delivered"


def test_live_records_when_the_page_was_seen():
    st = fold(ev("delivered", receipt={}), ev("live", sec=7))
    assert st.live_at == "2026-11-27T09:00:07+00:00"
    assert fold(ev("alerted", problem="x")).live_at is None


def test_progress_without_a_name_is_kept_under_the_empty_name():
    assert fold({"event": "progress", "entry": KEY, "revision": "r1", "value": 3}).journal == {"": 3}


def test_missed_and_skipped_keep_their_reason():
    assert fold(ev("missed", "r3", reason="expired")).error == "expired"
    st = fold(ev("skipped", "r3", error="channel disabled"))
    assert (st.state, st.revision, st.error) == ("skipped", "r3", "channel disabled")


def test_releasing_a_claim_returns_it_to_pending_or_to_its_failure():
    st = fold(ev("claimed", run="run-1"), ev("released"))
    assert st.state == "pending"
    st = fold(ev("failed", error="HTTP 500", retryable=True), ev("claimed", run="run-1"), ev("released"))
    assert st.state == "failed"


def test_releasing_what_is_not_claimed_changes_nothing():
    assert fold(ev("released")).state == "pending"
    assert fold(ev("missed", reason="late"), ev("released")).state == "missed"


def test_progress_is_kept_per_name_and_continues_across_revisions_until_a_delivery():
    st = fold(ev("progress", "r1", name="batch:0", value="sent"), ev("progress", "r2", name="batch:1", value="sent"))
    assert st.journal == {"batch:0": "sent", "batch:1": "sent"}
    assert st.journal_revision == "r2"
    assert st.journal_for("r2") == st.journal_for("r9") == {"batch:0": "sent", "batch:1": "sent"}


def test_a_new_revision_after_a_delivery_starts_its_progress_afresh():
    st = fold(ev("progress", "r1", name="rkey:0", value="abc"), ev("delivered", "r1", receipt={}))
    assert st.journal_for("r1") == {"rkey:0": "abc"}
    assert st.journal_for("r2") == {}
    st.apply(ev("progress", "r2", name="rkey:0", value="def"))
    assert (st.journal, st.journal_closed) == ({"rkey:0": "def"}, False)
    # the same revision's progress after its delivery is kept (a later part of the same send)
    st = fold(ev("progress", "r1", name="a", value=1), ev("delivered", "r1", receipt={}),
              ev("progress", "r1", name="b", value=2))
    assert st.journal == {"a": 1, "b": 2}


def test_journal_for_returns_a_copy():
    st = fold(ev("progress", name="a", value=1))
    st.journal_for("r1")["a"] = 2
    assert st.journal == {"a": 1}


def test_alerts_changes_and_forced_releases():
    st = fold(ev("alerted", problem="late"), ev("alerted", problem="late"), ev("alerted", problem="blocked"))
    assert st.alerted == {"late", "blocked"}
    st = fold(ev("delivered", "r1", receipt={}), ev("changed", "r2"))
    assert (st.state, st.changed_revision) == ("delivered", "r2")
    st = fold(ev("failed", error="timeout", ambiguous=True, unresolved=True), ev("forced", "r1"))
    assert (st.forced_revision, st.unresolved, st.ambiguous) == ("r1", False, True)


def test_a_release_by_a_person_covers_the_next_claim_only():
    st = fold(ev("forced", "r1"), ev("claimed", run="run-1"))
    assert st.forced_revision is None


def test_an_unknown_event_only_counts():
    st = fold(ev("renamed", name="x"))
    assert (st.state, st.events, st.journal) == ("pending", 1, {})


# -- through the files store ------------------------------------------------------------------------
def test_the_store_folds_each_entry_by_its_key_and_skips_events_without_one(tmp_path):
    store = FileStore(tmp_path / "state")
    store.append([ev("claimed", run="run-1"), {"event": "claimed", "run": "stray"}, {"event": "claimed", "entry": ""},
                  {**ev("claimed", run="run-1"), "entry": "other/x"}, ev("delivered", receipt={"remote_id": "9"})])
    entries = FileStore(tmp_path / "state").entries()
    assert sorted(entries) == ["launch/mastodon", "other/x"]
    assert (entries[KEY].state, entries[KEY].events) == ("delivered", 2)
    assert entries["other/x"].state == "claimed"


# -- a property -------------------------------------------------------------------------------------
kinds = st.sampled_from(["claimed", "failed", "missed", "skipped", "released", "progress", "forced", "changed"])


@given(st.lists(kinds, max_size=12), st.lists(kinds, max_size=12))
def test_once_delivered_an_entry_stays_delivered(before, after):
    events = [ev(k, run="r", error="e", name="n", value=1) for k in before]
    events.append(ev("delivered", receipt={"remote_id": "9"}))
    events += [ev(k, run="r", error="e", name="n", value=1) for k in after]
    st = fold(*events)
    assert (st.state, st.delivered_revision, st.receipt) == ("delivered", "r1", {"remote_id": "9"})


def test_an_entry_is_keyed_by_item_identity_and_channel_and_written_as_one_sorted_line():
    from newsroom.state.fold import dumps, entry_key

    assert entry_key("launch-2026", "mastodon") == "launch-2026/mastodon"
    assert dumps({"z": 1, "a": "é", "m": [1, 2]}) == '{"a":"é","m":[1,2],"z":1}'


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
                    max_leaves=20)


@given(st.dictionaries(st.text(), JSON, max_size=8))
def test_a_stored_line_is_what_json_dumps_writes(event):
    """``dumps`` keeps one C encoder instead of calling ``json.dumps``: the line must stay the same bytes
    (keys sorted, text as is, no spaces; NaN and infinities as ``json`` writes them)."""
    import json

    from newsroom.state.fold import dumps

    assert dumps(event) == json.dumps(event, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def test_a_stored_line_refuses_what_json_refuses():
    import pytest

    from newsroom.state.fold import dumps

    with pytest.raises(TypeError, match="Object of type object is not JSON serializable"):
        dumps({"at": object()})
