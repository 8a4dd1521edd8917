from datetime import datetime

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


def _reference(ms: int) -> datetime:
    """The local time of `ms` by integer arithmetic (no float seconds)."""
    from datetime import timedelta

    return datetime.fromtimestamp(ms // 1000, timeutil.LOCAL_TZ) + timedelta(milliseconds=ms % 1000)


@pytest.mark.parametrize(
    "ms",
    [
        timeutil.EARLIEST_MS,
        timeutil.LATEST_MS,
        1764547200000,  # 2025-12-01T08:00:00+08:00, an hour's first instant
        1764547199999,  # the hour before's last
        1764547200001,
        1764518400000,  # local midnight
        1764518399999,
        1764604799000,  # a whole second
        1764604799500,
    ],
)
def test_local_labels_at_hour_day_and_millisecond_edges(ms):
    expected = _reference(ms)
    assert timeutil.local_iso(ms) == expected.isoformat(timespec="milliseconds" if ms % 1000 else "seconds")
    assert timeutil.local_hour(ms) == expected.strftime("%Y-%m-%dT%H")
    assert timeutil.local_date(ms) == expected.strftime("%Y-%m-%d")


def test_local_labels_agree_with_datetime_across_the_range():
    import random

    rng = random.Random(20261202)
    for ms in [rng.randrange(timeutil.EARLIEST_MS, timeutil.LATEST_MS) for _ in range(20_000)]:
        expected = _reference(ms)
        assert timeutil.local_iso(ms) == expected.isoformat(timespec="milliseconds" if ms % 1000 else "seconds")
        assert timeutil.local_hour(ms) == expected.strftime("%Y-%m-%dT%H")
