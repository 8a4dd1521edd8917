"""Report periods on the local clock, the requests that name them, and the schedules'
UTC expressions landing on the district's minute 5 and 00:30."""

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from citybrain.core import timeutil
from citybrain.core.timeutil import LOCAL_TZ
from citybrain.reports.models import MAX_RANGE_DAYS, ReportRequestIn, period_of
from citybrain.reports.service import _scheduled_period
from functions.reports import DAILY_REPORT, HOURLY_REPORT
from infra.local.schedules import parse

NOW = timeutil.parse_instant("2026-12-02T10:20:00+08:00")


def request(**fields):
    return ReportRequestIn.model_validate(fields)


def test_a_daily_period_is_the_24_local_hours_of_its_date():
    period, problems = period_of(request(kind="daily", date="2026-11-27"), NOW)
    assert problems == []
    assert period.hours[0] == "2026-11-27T00" and period.hours[-1] == "2026-11-27T23" and len(period.hours) == 24
    assert period.start_ms == timeutil.parse_instant("2026-11-26T16:00:00Z")
    assert period.end_ms == timeutil.parse_instant("2026-11-27T16:00:00Z")


@pytest.mark.parametrize(
    "local, inside",
    [
        ("2026-11-27T00:00:00", True),
        ("2026-11-27T23:59:59", True),
        ("2026-11-28T00:30:00", False),
        ("2026-11-26T23:59:59", False),
    ],
)
def test_a_reading_belongs_to_its_local_date_whatever_its_utc_date(local, inside):
    period, _ = period_of(request(kind="daily", date="2026-11-27"), NOW)
    t = timeutil.parse_instant(local + "+08:00")
    assert (period.start_ms <= t < period.end_ms) is inside
    assert (timeutil.local_hour(t) in period.hours) is inside


def test_daily_defaults_to_yesterday_and_hourly_to_the_last_complete_hour():
    daily, _ = period_of(request(kind="daily"), NOW)
    assert daily.label == "2026-12-01"
    hourly, _ = period_of(request(kind="hourly"), NOW)
    assert hourly.label == "2026-12-02T09" and hourly.hours == ("2026-12-02T09",)
    given, _ = period_of(request(kind="hourly", hour="2026-12-01T23"), NOW)
    assert given.days[0].isoformat() == "2026-12-01" and given.end_ms - given.start_ms == 3_600_000


def test_a_range_is_inclusive_and_at_most_92_days():
    first = datetime(2026, 9, 1).date()
    last = first + timedelta(days=MAX_RANGE_DAYS - 1)
    period, problems = period_of(request(kind="range", **{"from": first.isoformat(), "to": last.isoformat()}), NOW)
    assert problems == [] and len(period.days) == 92 and len(period.hours) == 92 * 24
    _, problems = period_of(
        request(kind="range", **{"from": first.isoformat(), "to": (last + timedelta(days=1)).isoformat()}), NOW
    )
    assert problems == [{"field": "to", "message": "a range covers at most 92 days"}]


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"kind": "daily", "date": "2026-12-03"}, "date"),
        ({"kind": "hourly", "hour": "2026-12-02T11"}, "hour"),
        ({"kind": "hourly", "hour": "2026-12-02T24"}, "hour"),
        ({"kind": "range", "from": "2026-11-10", "to": "2026-11-01"}, "to"),
        ({"kind": "range", "from": "2026-12-05", "to": "2026-12-06"}, "from"),
    ],
)
def test_impossible_periods_name_their_field(fields, field):
    _, problems = period_of(request(**fields), NOW)
    assert [p["field"] for p in problems] == [field]


@pytest.mark.parametrize(
    "fields, location",
    [
        ({"kind": "daily", "date": "2026-02-30"}, ("date",)),
        ({"kind": "daily", "date": "2026-2-3"}, ("date",)),
        ({"kind": "weekly"}, ("kind",)),
        ({"kind": "daily", "town": "火星镇"}, ("town",)),
        ({"kind": "range", "from": "2026-11-01"}, ()),
        ({"kind": "daily", "hour": "2026-11-01T02"}, ()),
    ],
)
def test_malformed_requests_are_refused_by_the_model(fields, location):
    with pytest.raises(ValidationError) as caught:
        request(**fields)
    assert caught.value.errors()[0]["loc"] == location


def _fires(expression, after_utc):
    return parse(expression.to_string(), anchor=after_utc).next_after(after_utc)


def test_the_daily_schedule_fires_at_0030_local_time():
    after = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    due = _fires(DAILY_REPORT, after)
    assert due.astimezone(LOCAL_TZ) == datetime(2026, 12, 2, 0, 30, tzinfo=LOCAL_TZ)
    assert _fires(DAILY_REPORT, due).astimezone(LOCAL_TZ) == datetime(2026, 12, 3, 0, 30, tzinfo=LOCAL_TZ)
    # and it reports on the local date that just ended
    assert _scheduled_period("daily", int(due.timestamp() * 1000)).label == "2026-12-01"


def test_the_hourly_schedule_fires_at_minute_5_of_every_local_hour():
    after = datetime(2026, 12, 1, 15, 59, tzinfo=UTC)  # 23:59 local
    due = _fires(HOURLY_REPORT, after)
    assert due.astimezone(LOCAL_TZ) == datetime(2026, 12, 2, 0, 5, tzinfo=LOCAL_TZ)
    assert _scheduled_period("hourly", int(due.timestamp() * 1000)).label == "2026-12-01T23"
