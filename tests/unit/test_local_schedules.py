"""The local stack's reading of EventBridge schedule expressions, on local time."""

from datetime import datetime, timedelta

import pytest
from chalice import Cron, Rate

from citybrain.core.timeutil import LOCAL_TZ
from infra.local.schedules import ScheduleError, parse


def local(*args) -> datetime:
    return datetime(*args, tzinfo=LOCAL_TZ)


START = local(2026, 11, 27, 8, 0)  # a Friday


@pytest.mark.parametrize(
    "moment, expected",
    [
        (START, local(2026, 11, 27, 8, 5)),
        (local(2026, 11, 27, 8, 4, 59), local(2026, 11, 27, 8, 5)),
        (local(2026, 11, 27, 8, 5), local(2026, 11, 27, 8, 10)),
        (local(2026, 11, 27, 9, 2), local(2026, 11, 27, 9, 5)),
    ],
)
def test_rate_counts_periods_from_its_anchor(moment, expected):
    assert parse("rate(5 minutes)", anchor=START).next_after(moment) == expected


def test_rate_units_and_chalice_objects():
    assert parse(Rate(1, Rate.HOURS).to_string(), START).next_after(START) == START + timedelta(hours=1)
    assert parse(Rate(2, Rate.DAYS).to_string(), START).next_after(START) == START + timedelta(days=2)


@pytest.mark.parametrize(
    "expression", ["rate(1 minutes)", "rate(5 minute)", "rate(0 minutes)", "rate(5 weeks)", "every 5 minutes"]
)
def test_rate_rejects_what_eventbridge_rejects(expression):
    with pytest.raises(ScheduleError):
        parse(expression, START)


@pytest.mark.parametrize(
    "expression, moment, expected",
    [
        # every day at 08:00 local
        ("cron(0 8 * * ? *)", local(2026, 11, 27, 7, 59), local(2026, 11, 27, 8, 0)),
        ("cron(0 8 * * ? *)", local(2026, 11, 27, 8, 0), local(2026, 11, 28, 8, 0)),
        # steps, lists, ranges
        ("cron(*/15 * * * ? *)", local(2026, 11, 27, 8, 7), local(2026, 11, 27, 8, 15)),
        ("cron(5/20 * * * ? *)", local(2026, 11, 27, 8, 26), local(2026, 11, 27, 8, 45)),
        ("cron(0 7,12,18 * * ? *)", local(2026, 11, 27, 12, 30), local(2026, 11, 27, 18, 0)),
        ("cron(30 9-11 * * ? *)", local(2026, 11, 27, 11, 31), local(2026, 11, 28, 9, 30)),
        # weekdays: 1 = Sunday; names too. Friday 10:00 -> Monday 09:00
        ("cron(0 9 ? * MON-FRI *)", local(2026, 11, 27, 10, 0), local(2026, 11, 30, 9, 0)),
        ("cron(0 9 ? * 2-6 *)", local(2026, 11, 27, 10, 0), local(2026, 11, 30, 9, 0)),
        ("cron(0 2 ? * 1 *)", START, local(2026, 11, 29, 2, 0)),
        # day of month and month; leap day
        ("cron(0 0 1 * ? *)", START, local(2026, 12, 1, 0, 0)),
        ("cron(0 0 1 JAN ? *)", START, local(2027, 1, 1, 0, 0)),
        ("cron(0 0 29 2 ? *)", START, local(2028, 2, 29, 0, 0)),
        # a year field that runs out
        ("cron(0 0 1 1 ? 2027)", START, local(2027, 1, 1, 0, 0)),
        ("cron(0 0 1 1 ? 2027)", local(2027, 1, 1, 0, 0), None),
    ],
)
def test_cron_next_run(expression, moment, expected):
    assert parse(expression, START).next_after(moment) == expected


def test_cron_from_chalice_object():
    expression = Cron(0, 18, "?", "*", "MON-FRI", "*").to_string()
    assert parse(expression, START).next_after(START) == local(2026, 11, 27, 18, 0)


@pytest.mark.parametrize(
    "expression",
    [
        "cron(0 8 * * *)",  # five fields
        "cron(0 8 * * * *)",  # no '?' in either day field
        "cron(0 8 1 * MON *)",  # both day fields given
        "cron(0 8 L * ? *)",  # not emulated
        "cron(0 8 ? * 6#3 *)",  # not emulated
        "cron(60 8 * * ? *)",  # out of range
        "cron(0 18-9 * * ? *)",  # backwards range
        "cron(0 */0 * * ? *)",  # zero step
    ],
)
def test_cron_rejects_what_it_cannot_honour(expression):
    with pytest.raises(ScheduleError):
        parse(expression, START)
