import pytest

from citybrain.core import timeutil


def test_iso_with_offset():
    assert timeutil.parse_instant("2026-11-27T08:30:00+08:00") == 1795739400000
    assert timeutil.parse_instant("2026-11-27T00:30:00Z") == 1795739400000


def test_naive_is_shanghai_local_time():
    assert timeutil.parse_instant("2026-11-27T08:30:00") == timeutil.parse_instant("2026-11-27T08:30:00+08:00")
    assert timeutil.parse_instant("2026-11-27 08:30:00") == 1795739400000


def test_epoch_milliseconds_as_number_or_digits():
    assert timeutil.parse_instant(1795739400000) == 1795739400000
    assert timeutil.parse_instant("1795739400000") == 1795739400000
    assert timeutil.parse_instant(1795739400000.7) == 1795739400000


@pytest.mark.parametrize(
    "value, message",
    [
        (1795739400, "epoch seconds"),
        ("yesterday", "ISO-8601"),
        (True, "ISO-8601"),
        (None, "ISO-8601"),
        (float("nan"), "finite"),
        ("1999-12-31T23:59:59Z", "2000"),
    ],
)
def test_bad_times_say_why(value, message):
    with pytest.raises(timeutil.BadTime, match=message):
        timeutil.parse_instant(value)


def test_local_hour_and_date_cross_utc_midnight():
    ms = timeutil.parse_instant("2026-11-27T23:30:00Z")  # 07:30 on the 28th in Foshan
    assert timeutil.local_hour(ms) == "2026-11-28T07"
    assert timeutil.local_date(ms) == "2026-11-28"
    assert timeutil.local_iso(ms) == "2026-11-28T07:30:00+08:00"
    assert timeutil.local_iso(ms + 250) == "2026-11-28T07:30:00.250+08:00"


@pytest.mark.parametrize("value", [10**20, "9999-12-31T23:59:59-01:00", "10000-01-01", "٢٠٢٦"])
def test_instants_past_the_year_9999_or_in_other_digits_are_bad_times(value):
    with pytest.raises(timeutil.BadTime):
        timeutil.parse_instant(value)


def test_the_last_instant_of_9999_local_time_is_read():
    assert timeutil.parse_instant("9999-12-31T23:59:59.999+08:00") == 253_402_271_999_999
