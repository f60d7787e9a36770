"""Times as the newsroom writes them, pinned at their edges: every unit, every sign, every DST seam."""
import os
import time as clock
from datetime import date, datetime, time, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from newsroom import times
from newsroom.times import (TimeError, format_duration, iso_utc, localize, parse_date, parse_datetime,
                            parse_duration, parse_instant, parse_time_of_day, zone)

UTC = timezone.utc
BERLIN = zone("Europe/Berlin")


@pytest.fixture(autouse=True)
def machine_clock_in_india(monkeypatch):
    """The machine's own zone must never leak into a reading: run these on a +05:30 clock."""
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    clock.tzset()
    yield
    monkeypatch.undo()
    clock.tzset()


def test_the_machine_clock_is_not_utc_here():
    assert datetime(2026, 1, 1).astimezone().utcoffset() == timedelta(hours=5, minutes=30)
    assert os.environ["TZ"] == "Asia/Kolkata"


def error(call, *args, **kw) -> str:
    with pytest.raises(TimeError) as exc:
        call(*args, **kw)
    return str(exc.value)


# -- zones ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["UTC", "GMT", "Europe/Berlin", "America/St_Johns", "Etc/GMT+5"])
def test_known_zones(name):
    assert zone(name).key == name


@pytest.mark.parametrize("name", ["", "Berlin", "EST", "Europe", "Europe/Nowhere", "../etc/passwd"])
def test_unknown_zones_name_what_to_write(name):
    assert error(zone, name) == (f"'{name}' is not a known timezone "
                                 "(use an IANA name such as Europe/Berlin or UTC)")


# -- durations --------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, seconds", [
    ("1s", 1), ("1m", 60), ("1h", 3600), ("1d", 86400), ("1w", 604800),
    ("90m", 5400), ("1d 12h", 129600), ("1d12h", 129600), ("2H", 7200), ("1.5h", 5400),
    ("  48h  ", 172800), ("1h 30m 15s", 5415), ("0m", 0), ("1.25h", 4500), ("1 h 30 m", 5400),
])
def test_durations(text, seconds):
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text, seconds", [("+2h", 7200), ("-30m", -1800), ("- 1d 2h", -93600), ("45m", 2700)])
def test_signed_offsets_keep_their_sign(text, seconds):
    assert parse_duration(text, signed=True) == timedelta(seconds=seconds)


def test_numbers_are_seconds():
    assert parse_duration(90) == timedelta(seconds=90)
    assert parse_duration(1.5) == timedelta(seconds=1.5)


@pytest.mark.parametrize("text", ["+2h", "-30m", "2 hours", "h", "", "30", "1d -2h", "1x", True])
def test_unsigned_durations_refuse_signs_and_words(text):
    assert error(parse_duration, text) == f"'{text}' is not a duration (write it like 30m, 6h or 2d)"


@pytest.mark.parametrize("text", ["2 hours", "+-2h", "soon", False])
def test_bad_signed_offsets_show_signed_examples(text):
    example = "30m, 6h or 2d" if isinstance(text, bool) else "+2h or -30m"
    assert error(parse_duration, text, signed=True) == f"'{text}' is not a duration (write it like {example})"


@pytest.mark.parametrize("seconds, text", [
    (0, "0m"), (1, "1s"), (59, "59s"), (60, "1m"), (61, "1m1s"), (1800, "30m"), (3599, "59m59s"),
    (3600, "1h"), (86399, "23h59m59s"), (86400, "1d"), (90061, "1d1h1m1s"), (-1800, "-30m"),
    (-1, "-1s"), (-86400, "-1d"),
])
def test_format_duration(seconds, text):
    assert format_duration(timedelta(seconds=seconds)) == text


def test_format_duration_drops_fractions_toward_zero():
    assert format_duration(timedelta(seconds=1799.9)) == "29m59s"
    assert format_duration(timedelta(seconds=-0.5)) == "0m"


@given(st.integers(min_value=-400 * 86400, max_value=400 * 86400))
def test_a_duration_round_trips_through_format_and_parse(seconds):
    delta = timedelta(seconds=seconds)
    assert parse_duration(format_duration(delta), signed=True) == delta


# -- times of day -----------------------------------------------------------------------------------
@pytest.mark.parametrize("text, value", [
    ("00:00", time(0, 0)), ("9:00", time(9, 0)), ("09:00", time(9, 0)), ("19:05", time(19, 5)),
    ("23:59", time(23, 59)), ("13:30:15", time(13, 30, 15)), ("23:59:59", time(23, 59, 59)),
    (" 09:30 ", time(9, 30)),
])
def test_times_of_day(text, value):
    assert parse_time_of_day(text) == value


@pytest.mark.parametrize("text", ["24:00", "23:60", "12:00:60", "9:5", "123:00", "09:00:", "0900", "9am", ""])
def test_impossible_times_of_day_are_refused_with_an_example(text):
    assert error(parse_time_of_day, text) == f"'{text}' is not a time of day (use HH:MM, e.g. 09:00)"


@given(st.times().map(lambda t: t.replace(microsecond=0)))
def test_a_time_of_day_round_trips(t):
    assert parse_time_of_day(t.strftime("%H:%M:%S")) == t
    assert parse_time_of_day(t.strftime("%H:%M")) == t.replace(second=0)


# -- dates ------------------------------------------------------------------------------------------
def test_dates():
    assert parse_date("2026-11-27") == date(2026, 11, 27)
    assert parse_date(" 2028-02-29 ") == date(2028, 2, 29)
    assert parse_date(date(2026, 1, 1)) == date(2026, 1, 1)


@pytest.mark.parametrize("text", ["2026-02-29", "2026-13-01", "2026-1-5", "27/11/2026", "2026-11-27T09:00",
                                  datetime(2026, 11, 27, 9, 0)])
def test_bad_dates(text):
    assert error(parse_date, text) == f"'{text}' is not a date (use YYYY-MM-DD, e.g. 2026-11-27)"


# -- date-times and DST -----------------------------------------------------------------------------
def test_naive_times_take_the_zone_and_are_stored_in_utc():
    assert parse_datetime("2026-11-27 09:00", BERLIN) == datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    assert parse_datetime("2026-07-01T09:00", BERLIN) == datetime(2026, 7, 1, 7, 0, tzinfo=UTC)
    assert parse_datetime(datetime(2026, 11, 27, 9, 0), BERLIN) == datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def test_explicit_offsets_win_over_the_zone():
    assert parse_datetime("2026-11-27T09:00-05:00", BERLIN) == datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
    assert parse_datetime("2026-11-27T09:00Z", None) == datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    aware = datetime(2026, 11, 27, 9, 0, tzinfo=timezone(timedelta(hours=2)))
    assert parse_datetime(aware, None) == datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
    assert parse_datetime(aware, None).tzinfo is UTC


def test_unreadable_date_times_say_what_to_write():
    assert error(parse_datetime, "2026-11-27", BERLIN) == (
        "'2026-11-27' is a date without a time (use 2026-11-27T09:00 or add the time you mean)")
    assert error(parse_datetime, " 09:00 ", BERLIN) == "'09:00' is a time without a date (use YYYY-MM-DDT09:00)"
    assert error(parse_datetime, "next friday", BERLIN) == (
        "'next friday' is not a date-time (use 2026-11-27T09:00 or 2026-11-27T09:00+01:00)")
    assert error(parse_datetime, "2026-11-27T09:00", None) == (
        "'2026-11-27T09:00' has no timezone (add an offset or set timezone)")


@pytest.mark.parametrize("wall, utc", [
    ("2026-03-29T01:59", "2026-03-29T00:59:00Z"),  # the minute before the spring gap
    ("2026-03-29T03:00", "2026-03-29T01:00:00Z"),  # the first minute after it
    ("2026-10-25T01:59", "2026-10-24T23:59:00Z"),  # before the repeated hour
    ("2026-10-25T03:00", "2026-10-25T02:00:00Z"),  # after it
])
def test_times_next_to_a_dst_change_are_read_as_written(wall, utc):
    assert iso_utc(parse_datetime(wall, BERLIN)) == utc


def test_a_skipped_local_time_is_an_error_naming_both_readings():
    assert error(parse_datetime, "2026-03-29T02:00", BERLIN) == (
        "2026-03-29T02:00 does not exist in Europe/Berlin (clocks jump at the DST change); it could mean "
        "2026-03-29T03:00+02:00 or 2026-03-29T01:00+01:00; write the one you mean")
    assert error(parse_datetime, "2026-03-29T02:59", BERLIN).startswith("2026-03-29T02:59 does not exist")


def test_a_repeated_local_time_is_an_error_naming_both_offsets():
    assert error(parse_datetime, "2026-10-25T02:00", BERLIN) == (
        "2026-10-25T02:00 happens twice in Europe/Berlin (clocks go back at the DST change): it could mean "
        "2026-10-25T02:00+02:00 or 2026-10-25T02:00+01:00; write the offset you mean")
    assert error(parse_datetime, "2026-10-25T02:59", BERLIN).startswith("2026-10-25T02:59 happens twice")


def test_dst_messages_show_a_zero_offset_as_plus_and_half_hours_exactly():
    assert "or 2026-03-29T00:30+00:00;" in error(parse_datetime, "2026-03-29T01:30", zone("Europe/London"))
    assert error(parse_datetime, "2026-11-01T01:30", zone("America/St_Johns")).endswith(
        "it could mean 2026-11-01T01:30-02:30 or 2026-11-01T01:30-03:30; write the offset you mean")


def test_localize_keeps_the_wall_time_and_first_fold():
    dt = localize(datetime(2026, 11, 27, 9, 0, fold=1), BERLIN)
    assert (dt.tzinfo, dt.fold, dt.hour) == (BERLIN, 0, 9)


def test_offsets_in_a_zone_without_dst_changes():
    assert times._offset(None) == "+00:00"
    assert times._offset(timedelta(hours=5, minutes=45)) == "+05:45"
    assert times._offset(timedelta(hours=-9, minutes=-30)) == "-09:30"
    assert times._offset(timedelta(hours=-1)) == "-01:00"
    assert times._offset(timedelta(hours=14)) == "+14:00"


def test_offsets_of_old_local_mean_times_keep_their_seconds():
    assert times._offset(-timedelta(minutes=25, seconds=21)) == "-00:25:21"  # Dublin before 1916
    assert times._offset(timedelta(seconds=59)) == "+00:00:59"
    assert times._offset(-timedelta(seconds=1)) == "-00:00:01"


# -- CLI instants -----------------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("2026-11-27", datetime(2026, 11, 27, tzinfo=UTC)),
    ("2026-11-27T09:00Z", datetime(2026, 11, 27, 9, 0, tzinfo=UTC)),
    ("2026-11-27T09:00", datetime(2026, 11, 27, 9, 0, tzinfo=UTC)),
    (" 2026-11-27T09:00+01:00 ", datetime(2026, 11, 27, 8, 0, tzinfo=UTC)),
])
def test_cli_instants_are_aware_utc(text, expected):
    got = parse_instant(text)
    assert got == expected
    assert got.utcoffset() == timedelta(0)
    assert got.tzinfo is UTC


def test_iso_utc_pads_and_converts():
    assert iso_utc(datetime(987, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=1)))) == "0987-01-02T02:04:05Z"
    assert iso_utc(datetime(2026, 11, 27, 23, 30, tzinfo=zone("America/New_York"))) == "2026-11-28T04:30:00Z"


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1)).map(
    lambda d: d.replace(microsecond=0, tzinfo=UTC)))
def test_a_utc_time_round_trips_through_iso_utc_and_parse_instant(dt):
    assert parse_instant(iso_utc(dt)) == dt


def test_stamps_are_utc_whole_seconds_and_read_back():
    berlin = datetime(2026, 11, 27, 9, 0, 5, 999999, tzinfo=BERLIN)
    assert times.stamp(berlin) == "2026-11-27T08:00:05Z"
    assert times.parse_stamp("2026-11-27T08:00:05Z") == datetime(2026, 11, 27, 8, 0, 5, tzinfo=UTC)
    assert times.parse_stamp("2026-11-27T09:00:05+01:00").tzinfo == UTC
    with pytest.raises(ValueError, match="naive datetime"):
        times.stamp(datetime(2026, 11, 27, 9, 0))


def test_now_option_reads_now_strictly_or_takes_the_clock():
    from newsroom.problems import UsageError

    assert times.now_option("2026-11-27T09:00+01:00") == datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    before = datetime.now(UTC)
    now = times.now_option(None)
    assert before <= now <= datetime.now(UTC) and now.tzinfo is UTC
    with pytest.raises(UsageError) as exc:
        times.now_option("friday")
    assert str(exc.value) == "--now: 'friday' is not a date-time (use 2026-11-27T09:00Z or 2026-11-27T09:00+01:00)"
