"""Bluesky record keys pinned bit by bit: a TID (atproto.com/specs/tid) is 64 bits, top bit 0, then
53 bits of microseconds since the epoch and a 10-bit clock id, written as 13 characters of
base32-sortable ("234567abcdefghijklmnopqrstuvwxyz"); a part's key is chosen once and kept."""
from datetime import datetime, timedelta, timezone
import hashlib

from hypothesis import given, strategies as st

from channels.base import DeliveryContext, Journal
from channels.bluesky import B32, Bluesky, tid
from newsroom.model import ChannelConfig

MAX_MICROS = (1 << 53) - 1


def test_the_alphabet_is_base32_sortable():
    assert B32 == "234567abcdefghijklmnopqrstuvwxyz"
    assert list(B32) == sorted(B32)


def test_clock_id_is_the_last_ten_bits():
    assert tid(0, 1) == "2222222222223"
    assert tid(0, 31) == "222222222222z"
    assert tid(0, 32) == "2222222222232"
    assert tid(0, 1023) == "22222222222zz"
    assert tid(0, 1024) == tid(0, 0)  # only ten bits are kept


def test_microseconds_start_above_the_clock_id():
    assert tid(1, 0) == "2222222222322"
    assert tid(1, 1023) == "22222222223zz"


def test_microseconds_are_53_bits_and_the_top_bit_stays_zero():
    assert tid(MAX_MICROS, 1023) == "bzzzzzzzzzzzz"
    assert tid(MAX_MICROS + 1, 0) == tid(0, 0)


@given(st.integers(0, MAX_MICROS), st.integers(0, MAX_MICROS), st.integers(0, 1023))
def test_tids_sort_as_their_times(a, b, clock):
    assert (tid(a, clock) < tid(b, clock)) == (a < b)
    assert len(tid(a, clock)) == 13 and tid(a, clock)[0] in "234567ab"


def bluesky() -> Bluesky:
    return Bluesky(ChannelConfig("bsky", "bluesky"), {})


NOW = datetime(2026, 11, 27, 9, 0, tzinfo=timezone.utc)


def test_a_parts_key_is_derived_from_the_entry_and_the_time():
    ctx = DeliveryContext("launch/bsky/r1", NOW)
    clock = int(hashlib.sha256(b"launch/bsky/r1").hexdigest(), 16) & 0x3FF
    micros = int(NOW.timestamp() * 1_000_000)
    assert bluesky().record_key(ctx, 0) == tid(micros, clock)
    assert bluesky().record_key(ctx, 2) == tid(micros + 2, clock)
    assert ctx.journal.get("rkey:0") == tid(micros, clock)
    assert ctx.journal.get("rkey:2") == tid(micros + 2, clock)
    assert ctx.journal.get("rkey:1") is None


def test_a_key_in_the_journal_is_reused_whenever_the_retry_comes():
    journal = Journal({"rkey:0": "3kabc2222222a"})
    later = DeliveryContext("launch/bsky/r1", NOW + timedelta(hours=2), journal=journal)
    assert bluesky().record_key(later, 0) == "3kabc2222222a"
    assert bluesky().record_key(later, 1) != "3kabc2222222a"


def test_every_write_of_a_key_goes_to_the_journal():
    written = []
    ctx = DeliveryContext("k", NOW, journal=Journal(on_write=lambda k, v: written.append((k, v))))
    key = bluesky().record_key(ctx, 0)
    bluesky().record_key(ctx, 0)
    assert written == [("rkey:0", key)]


def test_parts_of_one_thread_get_increasing_keys():
    ctx = DeliveryContext("launch/bsky/r1", NOW)
    keys = [bluesky().record_key(ctx, i) for i in range(12)]
    assert keys == sorted(keys) and len(set(keys)) == 12


def test_two_entries_at_the_same_time_get_different_keys():
    a = bluesky().record_key(DeliveryContext("launch/bsky/r1", NOW), 0)
    b = bluesky().record_key(DeliveryContext("offer/bsky/r1", NOW), 0)
    assert a[:11] == b[:11] and a != b  # same microsecond, another clock id


def test_one_adapter_never_hands_out_a_key_twice():
    bsky = bluesky()
    first = bsky.record_key(DeliveryContext("launch/bsky/r1", NOW), 0)
    again = bsky.record_key(DeliveryContext("launch/bsky/r1", NOW), 0)  # another entry, same hash and time
    clock = int(hashlib.sha256(b"launch/bsky/r1").hexdigest(), 16) & 0x3FF
    micros = int(NOW.timestamp() * 1_000_000)
    assert (first, again) == (tid(micros, clock), tid(micros + 1, clock))


def test_a_fresh_key_replaces_a_kept_one_and_forgets_that_part_was_sent():
    written = []
    journal = Journal({"rkey:1": "3kabc2222222a", "sent:1": "at://x"}, on_write=lambda k, v: written.append((k, v)))
    ctx = DeliveryContext("launch/bsky/r1", NOW, journal=journal)
    key = bluesky().record_key(ctx, 1, fresh=True)
    assert key != "3kabc2222222a"
    assert written == [("rkey:1", key), ("sent:1", None)]
    assert journal.get("rkey:1") == key and journal.get("sent:1") is None


def test_a_fresh_key_is_never_the_kept_one_even_at_the_same_time():
    ctx = DeliveryContext("launch/bsky/r1", NOW)
    kept = bluesky().record_key(ctx, 0)
    assert bluesky().record_key(ctx, 0, fresh=True) != kept
