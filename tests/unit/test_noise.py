"""Noise limits per GB 3096-2008, by zone, on both sides of 06:00 and 22:00 local time."""

import pytest

from citybrain.alerts.rules import noise
from citybrain.alerts.rules.catalogue import NORMAL, Finding
from citybrain.core import timeutil

TABLE_1 = {"0": (50, 40), "1": (55, 45), "2": (60, 50), "3": (65, 55), "4a": (70, 55), "4b": (70, 60)}


def at(local: str) -> int:
    """Epoch ms of a local (Asia/Shanghai) time."""
    return timeutil.parse_instant(f"2026-01-14T{local}+08:00")


# (local time, the period GB 3096-2008 puts it in)
EDGES = [("05:59:59.999", "night"), ("06:00:00", "day"), ("21:59:59.999", "day"), ("22:00:00", "night")]
CASES = [(zone, clock, period) for zone in TABLE_1 for clock, period in EDGES]


@pytest.mark.parametrize("zone, clock, period", CASES)
def test_laeq_at_the_limit_is_fine_and_just_over_it_alerts(zone, clock, period):
    t = at(clock)
    allowed = TABLE_1[zone][0 if period == "day" else 1]
    assert noise.limit(zone, t) == (period, allowed)
    assert noise.check(zone, t, {"LAeq": allowed}) is NORMAL
    over = noise.check(zone, t, {"LAeq": allowed + 0.1})
    assert isinstance(over, Finding)
    assert over.data["period"] == period and over.data["limit"] == allowed and over.data["zone"] == zone
    assert over.severity == "medium" and over.value == 0.1


@pytest.mark.parametrize("zone, clock, period", CASES)
def test_sudden_noise_counts_only_at_night_and_only_beyond_15_db(zone, clock, period):
    t = at(clock)
    night = TABLE_1[zone][1]
    quiet = night - 5  # LAeq fine in either period
    at_margin = noise.check(zone, t, {"LAeq": quiet, "LAmax": night + 15})
    beyond = noise.check(zone, t, {"LAeq": quiet, "LAmax": night + 15.5})
    assert at_margin is NORMAL
    if period == "night":
        assert isinstance(beyond, Finding) and beyond.data["suddenNoise"] is True
        assert beyond.data["suddenLimit"] == night + 15 and beyond.value == 0.5
        assert "exceedance" not in beyond.data
    else:
        assert beyond is NORMAL


def test_the_local_day_is_derived_from_utc_instants():
    # 22:00 UTC is 06:00 the next morning in Shanghai; 14:00 UTC is 22:00 there.
    assert noise.is_daytime(timeutil.parse_instant("2026-01-13T22:00:00Z"))
    assert not noise.is_daytime(timeutil.parse_instant("2026-01-13T21:59:59Z"))
    assert not noise.is_daytime(timeutil.parse_instant("2026-01-14T14:00:00Z"))
    assert noise.is_daytime(timeutil.parse_instant("2026-01-14T13:59:59Z"))


def test_day_and_night_agree_with_local_clock_time_all_day():
    start = at("00:00:00")
    for minute in range(0, 2 * 24 * 60, 7):
        t = start + minute * 60_000 + 13
        assert noise.is_daytime(t) == (6 <= timeutil.to_local(t).hour < 22), timeutil.local_iso(t)


def test_far_over_the_limit_is_high():
    t = at("23:00:00")
    assert noise.check("2", t, {"LAeq": 60}).severity == "medium"  # 10 over the night limit 50
    loud = noise.check("2", t, {"LAeq": 60.1, "LAmax": 80})
    assert loud.severity == "high" and loud.data["exceedance"] == 10.1 and loud.data["suddenNoise"] is True
    assert loud.value == 15.0  # the larger exceedance: LAmax 80 is 15 over 65


def test_lamax_alone_is_checked_and_nothing_at_all_is_not_a_reading():
    night = at("02:00:00")
    assert noise.check("1", night, {"LAmax": 61}).data["suddenNoise"] is True
    assert noise.check("1", night, {"LAmax": 60}) is NORMAL
    assert noise.check("1", night, {}) is None
    assert noise.check(None, night, {"LAeq": 90}) is None


def test_the_module_table_is_the_standard():
    assert noise.LIMITS == TABLE_1
