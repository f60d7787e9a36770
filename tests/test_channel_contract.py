"""The shared adapter suite: every channel type added for issue 20 (Threads, Facebook Pages,
Instagram, Ghost, WordPress, Hashnode) is run through the same cases against its loopback server:
deliver, a crash between the request and its record (reconciled, never posted twice), the
platform's throttling answer with its own headers, a 5xx, a revoked token (a `publish auth`
message and the secret named), a 4xx error body shown in the platform's words, a timeout, a metrics
batch and replies. Each harness says how its platform does each of these."""
from __future__ import annotations

import time

import pytest

from channels.base import Failure, Journal, Receipt
from tests.contract_harnesses import HARNESSES, Harness
from tests.servers import context


@pytest.fixture(params=HARNESSES, ids=[h.name for h in HARNESSES])
def h(request, tmp_path):
    harness: Harness = request.param
    with harness.server(tmp_path) as server:
        harness.bind(server, tmp_path)
        try:
            yield harness
        finally:
            harness.close()


def ctx(h, journal=None):
    return context(key=f"2026/launch|{h.name}|abc123", journal=journal if journal is not None else Journal())


def test_delivers_once_and_the_receipt_names_the_post(h):
    receipt = h.adapter().deliver(h.post(), ctx(h))
    assert isinstance(receipt, Receipt), receipt
    made = h.published()
    assert len(made) == 1 and receipt.remote_id == h.id_of(made[0])
    assert receipt.url == h.url_of(made[0])


def test_a_crash_between_request_and_record_is_reconciled_without_a_second_post(h):
    journal = Journal()
    h.server_.drop(h.write_path)  # the platform does the work; the answer never arrives
    first = h.adapter().deliver(h.post(), ctx(h, journal))
    assert isinstance(first, Failure) and first.ambiguous and first.retryable
    assert len(h.published()) == 1
    # the next run (a new adapter, the journal from the ledger) asks before sending
    found = h.adapter().reconcile(h.post(), ctx(h, journal))
    assert isinstance(found, Receipt) and found.remote_id == h.id_of(h.published()[0])
    again = h.adapter().deliver(h.post(), ctx(h, journal))
    assert isinstance(again, Receipt) and again.remote_id == found.remote_id and len(h.published()) == 1


def test_reconcile_says_not_out_when_nothing_was_sent(h):
    assert h.adapter().reconcile(h.post(), ctx(h)) is None
    assert h.published() == []


def test_throttled_with_the_platforms_headers(h):
    wait = h.throttle()
    failed = h.adapter().deliver(h.post(), ctx(h))
    assert isinstance(failed, Failure) and failed.retryable and not failed.ambiguous
    assert failed.retry_after == wait and failed.message == h.throttle_message
    assert h.published() == []


def test_server_error_is_retryable_and_says_so(h):
    h.server_.fail(500, h.server_error_body, path=h.write_path)
    failed = h.adapter().deliver(h.post(), ctx(h))
    assert isinstance(failed, Failure) and failed.retryable and failed.status == 500
    assert failed.message.endswith(h.server_error_message)
    assert isinstance(h.adapter().deliver(h.post(), ctx(h)), Receipt) and len(h.published()) == 1


def test_a_4xx_error_body_is_shown_in_the_platforms_words(h):
    h.server_.fail(h.bad_request[0], h.bad_request[1], path=h.write_path)
    failed = h.adapter().deliver(h.post(), ctx(h))
    assert isinstance(failed, Failure) and not failed.retryable and not failed.ambiguous
    assert failed.message.endswith(h.bad_request_message)


def test_a_revoked_token_waits_for_publish_auth(h):
    h.revoke()
    failed = h.adapter().deliver(h.post(), ctx(h))
    assert isinstance(failed, Failure) and not failed.retryable
    assert failed.message == h.revoked_message
    assert failed.credential == h.secret_variable
    assert h.published() == []


def test_a_stalled_answer_is_a_timeout_that_may_have_gone_out(h, monkeypatch):
    from channels import http

    monkeypatch.setitem(http.request.__kwdefaults__, "timeout", (2, 0.3))
    h.server_.stall(0.8, path=h.write_path)
    journal = Journal()
    first = h.adapter().deliver(h.post(), ctx(h, journal))
    assert isinstance(first, Failure) and first.ambiguous and first.message.startswith("no answer in time")
    time.sleep(0.8)
    again = h.adapter().deliver(h.post(), ctx(h, journal))
    assert isinstance(again, Receipt) and len(h.published()) == 1


def test_metrics_for_a_batch_of_posts(h):
    receipts = [h.adapter().deliver(h.post(title=f"Post {i}", n=i), ctx(h)) for i in range(3)]
    assert all(isinstance(r, Receipt) for r in receipts)
    h.set_metrics(receipts[1], 7)
    got = h.adapter().fetch_metrics(receipts)
    assert set(got) == {r.remote_id for r in receipts}
    assert got[receipts[1].remote_id] == h.metrics(7)
    assert got[receipts[0].remote_id] == h.metrics(0)


def test_replies_come_back_marking_our_own(h):
    if not h.has_replies:
        pytest.skip(f"{h.name}: the platform's API gives no replies or comments to read")
    receipt = h.adapter().deliver(h.post(), ctx(h))
    h.add_replies(receipt)
    replies = h.adapter().fetch_replies([receipt])
    assert [(r.author, r.text, r.ours, r.in_reply_to) for r in replies] == h.expected_replies(receipt)
