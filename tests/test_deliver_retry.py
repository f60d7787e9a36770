"""One delivery with retries, pinned at its edges: the last allowed try, the budget's last second,
the wait's bounds, and reconciling before any second try of something that may have gone out.

The channel here is a small ``Channel`` subclass that answers from a script, so the retry policy is
tested on its own; the adapters' faults against loopback servers are tested in their own files.
"""
import random
from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from channels.base import CannotReconcile, Channel, DeliveryContext, Failure, Post, Receipt
from newsroom.model import ChannelConfig
from scheduler.deliver import Attempt, Budget, Retry, deliver, reconcile, safe

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=timezone.utc)
RECEIPT = Receipt("42", "https://social.test/42", NOW)
TIMEOUT = Failure("timed out", retryable=True, ambiguous=True)
BUSY = Failure("HTTP 503", retryable=True, status=503)


class Top(random.Random):
    """The longest wait full jitter allows: uniform(0, x) is always x."""

    def uniform(self, a, b):
        return b


class Bottom(random.Random):
    """The shortest wait full jitter allows: uniform(0, x) is always 0."""

    def uniform(self, a, b):
        return a


class Scripted(Channel):
    TYPE = "scripted"

    def __init__(self, answers, found=()):
        super().__init__(ChannelConfig("scripted", "scripted"), {})
        self.answers, self.found, self.calls, self.seen = list(answers), list(found), [], []

    def deliver(self, post, ctx):
        self.calls.append("deliver")
        self.seen.append((post, ctx))
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def reconcile(self, post, ctx):
        self.calls.append("reconcile")
        self.seen.append((post, ctx))
        answer = self.found.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer


POST = Post("scripted", "scripted", "launch", "content/launch.md", "r1", "Launch", "https://news.test/launch")


def run(channel, *, budget=1000.0, retry=None, dry_run=False):
    slept = []
    ctx = DeliveryContext("launch/scripted/r1", NOW, dry_run=dry_run)
    attempt = deliver(channel, POST, ctx, budget=Budget(budget, clock=lambda: 0.0),
                      retry=retry or Retry(rng=Top()), sleep=slept.append)
    assert all(p is POST and c is ctx for p, c in channel.seen)  # every call gets the post and its context
    return attempt, slept


# -- budget and waits -------------------------------------------------------------------------------
def test_the_budget_counts_down_from_its_start():
    ticks = iter([100.0, 100.0, 103.5, 111.0])
    budget = Budget(10.0, clock=lambda: next(ticks))
    assert budget.started == 100.0
    assert budget.left() == 10.0
    assert budget.left() == 6.5
    assert budget.left() == -1.0


@pytest.mark.parametrize("attempt, longest", [(0, 2.0), (1, 4.0), (2, 8.0), (5, 64.0), (6, 120.0), (20, 120.0)])
def test_the_longest_wait_doubles_up_to_the_cap(attempt, longest):
    assert Retry(rng=Top()).delay(attempt, None) == longest


def test_the_shortest_wait_is_none_at_all_unless_one_was_requested():
    assert Retry(rng=Bottom()).delay(3, None) == 0.0
    assert Retry(rng=Bottom()).delay(3, 0.5) == 0.5


def test_a_requested_wait_is_never_shortened():
    assert Retry(rng=Top()).delay(0, 30.0) == 30.0
    assert Retry(rng=Top()).delay(3, 5.0) == 16.0
    assert Retry(rng=Top()).delay(0, 0.0) == 2.0


# What is asserted is the wait's value, not how fast it is computed: on a machine loaded by other
# work, Hypothesis' own timing checks (a 200 ms deadline, "too slow" data generation) failed it.
@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=0, max_value=40), st.integers(), st.one_of(st.none(), st.floats(0, 600)))
def test_a_wait_is_within_full_jitter_or_the_requested_wait(attempt, seed, retry_after):
    retry = Retry(rng=random.Random(seed))
    wait = retry.delay(attempt, retry_after)
    if retry_after and wait == retry_after:
        return
    assert 0 <= wait <= min(120.0, 2.0 * 2 ** attempt)
    assert wait >= (retry_after or 0)


def test_defaults():
    r = Retry()
    assert (r.max_attempts, r.base, r.cap) == (4, 2.0, 120.0)
    assert Attempt(RECEIPT) == Attempt(RECEIPT, 0, [], False, None, "")


# -- one try --------------------------------------------------------------------------------------
def test_a_receipt_on_the_first_try_waits_for_nothing():
    channel = Scripted([RECEIPT])
    attempt, slept = run(channel)
    assert (attempt.result, attempt.tries, attempt.waited, slept) == (RECEIPT, 1, [], [])
    assert channel.calls == ["deliver"]


def test_a_final_failure_is_not_tried_again():
    final = Failure("HTTP 422: text too long")
    attempt, slept = run(Scripted([final, RECEIPT]))
    assert (attempt.result, attempt.tries, slept, attempt.note) == (final, 1, [], "")


def test_a_dry_run_never_retries():
    attempt, slept = run(Scripted([BUSY, RECEIPT]), dry_run=True)
    assert (attempt.result, attempt.tries, slept) == (BUSY, 1, [])


# -- retries --------------------------------------------------------------------------------------
def test_the_last_allowed_try_may_succeed():
    attempt, slept = run(Scripted([BUSY, BUSY, BUSY, RECEIPT]))
    assert (attempt.result, attempt.tries) == (RECEIPT, 4)
    assert slept == attempt.waited == [2.0, 4.0, 8.0]


def test_after_the_last_allowed_try_it_gives_up_and_says_so():
    channel = Scripted([BUSY] * 4 + [RECEIPT])
    attempt, slept = run(channel)
    assert (attempt.result, attempt.tries, attempt.note) == (BUSY, 4, "gave up after 4 tries")
    assert slept == [2.0, 4.0, 8.0]
    assert channel.calls == ["deliver"] * 4


def test_one_try_allowed_means_no_retry():
    attempt, slept = run(Scripted([BUSY, RECEIPT]), retry=Retry(max_attempts=1, rng=Top()))
    assert (attempt.tries, attempt.note, slept) == (1, "gave up after 1 tries", [])


def test_the_platforms_requested_wait_is_kept():
    slow = Failure("HTTP 429", retryable=True, retry_after=30.0, status=429)
    attempt, slept = run(Scripted([slow, RECEIPT]))
    assert slept == [30.0]
    assert attempt.result == RECEIPT


def test_a_wait_of_exactly_the_budget_left_is_taken():
    attempt, slept = run(Scripted([BUSY, RECEIPT]), budget=2.0)
    assert (attempt.result, slept) == (RECEIPT, [2.0])


def test_a_wait_longer_than_the_budget_left_stops_the_retries():
    attempt, slept = run(Scripted([BUSY, RECEIPT]), budget=1.9)
    assert (attempt.result, attempt.tries, slept) == (BUSY, 1, [])
    assert attempt.note == "the run's retry budget is used up (next try would wait 2s)"


# -- what may have gone out -----------------------------------------------------------------------
def test_an_ambiguous_failure_is_reconciled_before_the_next_try_and_found():
    channel = Scripted([TIMEOUT, RECEIPT], found=[RECEIPT])
    attempt, slept = run(channel)
    assert (attempt.result, attempt.reconciled, attempt.tries, slept) == (RECEIPT, True, 1, [2.0])
    assert channel.calls == ["deliver", "reconcile"]


def test_an_ambiguous_failure_not_found_is_tried_again():
    channel = Scripted([TIMEOUT, RECEIPT], found=[None])
    attempt, _ = run(channel)
    assert (attempt.result, attempt.reconciled, attempt.tries) == (RECEIPT, False, 2)
    assert channel.calls == ["deliver", "reconcile", "deliver"]


def test_a_plain_retryable_failure_is_not_reconciled():
    channel = Scripted([BUSY, RECEIPT], found=[RECEIPT])
    run(channel)
    assert channel.calls == ["deliver", "deliver"]


def test_a_channel_that_cannot_tell_leaves_it_to_a_person():
    channel = Scripted([TIMEOUT, RECEIPT], found=[CannotReconcile("no lookup by URL")])
    attempt, _ = run(channel)
    assert (attempt.result, attempt.unresolved, attempt.tries) == (TIMEOUT, "no lookup by URL", 1)
    assert channel.calls == ["deliver", "reconcile"]


def test_a_failed_check_ends_the_attempt_with_that_failure():
    channel = Scripted([TIMEOUT, RECEIPT], found=[ConnectionError("refused")])
    attempt, _ = run(channel)
    assert attempt.result == Failure("could not check whether it went out: ConnectionError: refused",
                                     retryable=True, ambiguous=True)
    assert (attempt.tries, attempt.unresolved) == (1, None)
    assert channel.calls == ["deliver", "reconcile"]


def test_a_bug_in_an_adapter_is_a_failure_that_may_have_gone_out():
    attempt, slept = run(Scripted([KeyError("id")]))
    assert attempt.result == Failure("internal error in the adapter: KeyError: 'id'", retryable=False, ambiguous=True)
    assert slept == []


# -- safe and reconcile on their own ----------------------------------------------------------------
def test_safe_passes_stops_through():
    with pytest.raises(CannotReconcile):
        safe(Scripted([CannotReconcile("x")]).deliver, POST, None)
    with pytest.raises(KeyboardInterrupt):
        safe(Scripted([KeyboardInterrupt()]).deliver, POST, None)
    assert safe(Scripted([RECEIPT]).deliver, POST, None) == RECEIPT


def test_reconcile_answers():
    ctx = DeliveryContext("k", NOW)
    assert reconcile(Scripted([], found=[RECEIPT]), POST, ctx) == (RECEIPT, None, None)
    assert reconcile(Scripted([], found=[None]), POST, ctx) == (None, None, None)
    assert reconcile(Scripted([], found=[CannotReconcile()]), POST, ctx) == (None, "the channel cannot tell", None)
    assert reconcile(Scripted([], found=[CannotReconcile("ask")]), POST, ctx) == (None, "ask", None)
    channel = Scripted([], found=[RECEIPT])
    reconcile(channel, POST, ctx)
    assert channel.seen == [(POST, ctx)]


@pytest.mark.parametrize("retryable", [True, False])
def test_a_platform_that_could_tell_but_did_not_answer_leaves_it_uncertain(retryable):
    down = Failure("HTTP 503: Service Unavailable", retryable=retryable, status=503)
    got = reconcile(Scripted([], found=[down]), POST, DeliveryContext("k", NOW))
    assert got == (None, None, Failure("could not check whether it went out: HTTP 503: Service Unavailable",
                                       retryable=retryable, ambiguous=True, status=503))
