"""Noise figures of a report period (GB 3096-2008): hourly Leq as an energy mean, Ld and Ln,
exceedances against each zone's Table 1 limits on both sides of 06:00 and 22:00 local."""

import json
import math
from datetime import date

import pytest

from citybrain.core import timeutil
from citybrain.reports.hours import day_hours
from citybrain.reports.noise import noise_section, period_of_hour
from citybrain.sensing import rollups as arithmetic

DAY = date(2026, 11, 27)
HOURS = day_hours(DAY)
TABLE_1 = {"0": (50, 40), "1": (55, 45), "2": (60, 50), "3": (65, 55), "4a": (70, 55), "4b": (70, 60)}


def rolled(*readings: dict) -> dict:
    """The rollup the ingest stores for these readings' values."""
    return arithmetic.fold(arithmetic.new_rollup(), readings)


def laeq(*levels: float) -> dict:
    return rolled(*({"LAeq": v} for v in levels))


def legacy(*levels: float) -> dict:
    """A rollup stored before the energy sum was kept."""
    r = laeq(*levels)
    del r["values"]["LAeq"]["energy"]
    return r


def sensor(device_id: str, zone: str = "1", town: str = "桂城街道") -> dict:
    return {"id": device_id, "type": "noise", "town": town, "acoustic_zone": zone, "name": f"噪声 {device_id}"}


def hour_of(local: str) -> str:
    return timeutil.local_hour(timeutil.parse_instant(local))


def only(section: dict) -> dict:
    (device,) = section["sensors"]
    return device


def test_the_hourly_level_is_an_energy_mean_not_an_arithmetic_one():
    device = only(noise_section({("n1", HOURS[10]): laeq(50.0, 60.0)}, [sensor("n1")], HOURS))
    (hour,) = device["hourly"]
    assert hour["leq_db"] == 57.4  # 10·lg((10^5 + 10^6) / 2), not 55
    assert hour["readings"] == 2 and hour["rated"] is True and hour["period"] == "day"
    assert device["day"]["level_db"] == 57.4 and device["day"]["hours_rated"] == 1


@pytest.mark.parametrize(
    "local, period",
    [
        ("2026-11-27T05:59:59+08:00", "night"),
        ("2026-11-27T06:00:00+08:00", "day"),
        ("2026-11-27T21:59:59+08:00", "day"),
        ("2026-11-27T22:00:00+08:00", "night"),
        ("2026-11-26T22:00:00Z", "day"),  # 06:00 on the 27th in Shanghai
        ("2026-11-27T13:59:59Z", "day"),  # 21:59:59 local
        ("2026-11-27T14:00:00Z", "night"),  # 22:00 local
    ],
)
def test_a_readings_hour_falls_in_the_period_of_its_local_time(local, period):
    assert period_of_hour(hour_of(local)) == period


@pytest.mark.parametrize("zone", sorted(TABLE_1))
@pytest.mark.parametrize("index, period", [(5, "night"), (6, "day"), (21, "day"), (22, "night")])
def test_at_the_limit_is_fine_and_just_over_it_exceeds(zone, index, period):
    allowed = TABLE_1[zone][0 if period == "day" else 1]
    hour = HOURS[index]
    for levels, exceeded in (((allowed,) * 6, False), ((allowed + 0.1,) * 6, True), ((allowed - 0.1,), False)):
        device = only(noise_section({("n1", hour): laeq(*levels)}, [sensor("n1", zone)], HOURS))
        (shown,) = device["hourly"]
        assert shown["period"] == period and shown["exceeded"] is exceeded, (levels, shown)
        assert device[period]["limit_db"] == allowed and device[period]["hours_exceeded"] == int(exceeded)
        assert device[period]["exceeded"] is exceeded  # the period's only hour is its level
        other = "night" if period == "day" else "day"
        assert device[other]["hours_exceeded"] == 0 and device[other]["level_db"] is None


def test_levels_are_judged_as_shown_to_a_tenth_of_a_decibel():
    device = only(noise_section({("n1", HOURS[3]): laeq(45.04), ("n1", HOURS[4]): laeq(45.06)}, [sensor("n1")], HOURS))
    assert [(h["leq_db"], h["exceeded"]) for h in device["hourly"]] == [(45.0, False), (45.1, True)]


def test_day_and_night_levels_are_energy_means_of_their_hours():
    rollups = {("n1", h): laeq(50.0) for h in HOURS[6:22]}
    rollups[("n1", HOURS[8])] = laeq(70.0)
    rollups.update({("n1", h): laeq(40.0) for h in HOURS[:6] + HOURS[22:]})
    device = only(noise_section(rollups, [sensor("n1", "1")], HOURS))
    expected_ld = 10 * math.log10((1e7 + 15 * 1e5) / 16)  # 58.6, though 15 of 16 hours are at 50
    assert device["day"]["level_db"] == round(expected_ld, 1) == 58.6
    assert device["day"]["hours_rated"] == 16 and device["day"]["hours_exceeded"] == 1
    assert device["day"]["exceeded"] is True and device["day"]["shown"] == "58.6"
    assert device["night"] == {
        "level_db": 40.0,
        "shown": "40.0",
        "limit_db": 45,
        "hours_measured": 8,
        "hours_rated": 8,
        "hours_exceeded": 0,
        "exceeded": False,
        "sudden_limit_db": 60,
        "sudden_noise_hours": 0,
    }
    assert device["hours_measured"] == device["hours_rated"] == 24 and device["readings"] == 24


def test_a_day_of_a_few_loud_hours_below_the_limit_on_average_exceeds_by_energy():
    # Arithmetically (2 × 63 + 14 × 50) / 16 = 51.6 < 55; by energy Ld is 55.3 > 55.
    rollups = {("n1", h): laeq(50.0) for h in HOURS[6:22]}
    rollups[("n1", HOURS[12])] = laeq(63.0)
    rollups[("n1", HOURS[13])] = laeq(63.0)
    day = only(noise_section(rollups, [sensor("n1", "1")], HOURS))["day"]
    assert day["level_db"] == 55.3 and day["exceeded"] is True and day["hours_exceeded"] == 2


def test_hours_rolled_up_without_energy_are_measured_but_not_rated():
    rollups = {("n1", HOURS[9]): legacy(90.0, 90.0), ("n1", HOURS[10]): laeq(50.0), ("n1", HOURS[23]): legacy(80.0)}
    device = only(noise_section(rollups, [sensor("n1")], HOURS))
    assert (device["hours_measured"], device["hours_rated"], device["hours_unrated"]) == (3, 1, 2)
    unrated = device["hourly"][0]
    assert unrated["hour"] == HOURS[9] and unrated["leq_db"] is None and unrated["rated"] is False
    assert unrated["exceeded"] is None and unrated["readings"] == 2
    # The day is rated from its one rated hour, never from the arithmetic mean of the others.
    assert device["day"]["level_db"] == 50.0 and device["day"]["hours_exceeded"] == 0
    assert device["day"]["hours_measured"] == 2 and device["day"]["hours_rated"] == 1
    night = device["night"]
    assert night["level_db"] is None and night["shown"] == "数据不足" and night["exceeded"] is None
    assert night["hours_measured"] == 1 and night["hours_rated"] == 0 and night["hours_exceeded"] == 0


def test_sudden_noise_counts_at_night_only_beyond_15_db():
    rollups = {
        ("n1", HOURS[2]): rolled({"LAeq": 40.0, "LAmax": 60.0}),  # zone 1 night 45: at the margin
        ("n1", HOURS[3]): rolled({"LAeq": 40.0, "LAmax": 60.1}),  # beyond it
        ("n1", HOURS[22]): rolled({"LAmax": 75.0}),  # LAmax alone still counts
        ("n1", HOURS[12]): rolled({"LAeq": 50.0, "LAmax": 90.0}),  # daytime: not sudden noise
    }
    device = only(noise_section(rollups, [sensor("n1", "1")], HOURS))
    assert device["night"]["sudden_limit_db"] == 60 and device["night"]["sudden_noise_hours"] == 2
    by_hour = {h["hour"]: h for h in device["hourly"]}
    assert by_hour[HOURS[2]]["sudden_noise"] is False and by_hour[HOURS[3]]["sudden_noise"] is True
    assert by_hour[HOURS[12]]["sudden_noise"] is None
    lamax_only = by_hour[HOURS[22]]
    assert lamax_only["leq_db"] is None and lamax_only["rated"] is None and lamax_only["readings"] == 0
    assert device["hours_measured"] == 3  # hours with LAeq


def test_zones_count_devices_and_hours_by_day_and_night():
    rollups = {
        ("a", HOURS[7]): laeq(56.0),  # zone 1 day 55: exceeds
        ("a", HOURS[23]): laeq(45.0),  # night 45: at the limit
        ("b", HOURS[7]): laeq(54.0),
        ("b", HOURS[1]): legacy(70.0),
        ("c", HOURS[23]): laeq(60.0),  # zone 4a night 55: exceeds
    }
    devices = [sensor("c", "4a"), sensor("b", "1"), sensor("a", "1"), sensor("d", "1")]
    section = noise_section(rollups, devices, HOURS)
    assert [d["device_id"] for d in section["sensors"]] == ["a", "b", "c", "d"]
    assert list(section["zones"]) == ["1", "4a"]
    one = section["zones"]["1"]
    assert (one["devices"], one["devices_measured"], one["hours_unrated"]) == (3, 2, 1)
    assert one["limits_db"] == {"day": 55, "night": 45}
    assert one["day"] == {"hours_measured": 2, "hours_rated": 2, "hours_exceeded": 1, "devices_exceeded": 1}
    assert one["night"] == {"hours_measured": 2, "hours_rated": 1, "hours_exceeded": 0, "devices_exceeded": 0}
    assert section["zones"]["4a"]["night"]["hours_exceeded"] == 1
    assert section["standard"] == "GB 3096-2008" and section["units"] == {"level": "dB(A)"}
    json.dumps(section, ensure_ascii=False, allow_nan=False)


def test_a_device_without_readings_shows_none_and_zero_counts():
    device = only(noise_section({}, [sensor("n9", "2")], HOURS))
    assert device["hourly"] == [] and device["readings"] == 0 and device["hours_measured"] == 0
    for period in ("day", "night"):
        assert device[period]["level_db"] is None and device[period]["exceeded"] is None
        assert device[period]["shown"] == "无数据" and device[period]["hours_exceeded"] == 0


def test_an_hourly_report_rates_its_one_hour():
    rollups = {("n1", h): laeq(70.0) for h in HOURS}
    device = only(noise_section(rollups, [sensor("n1", "2")], [HOURS[22]]))
    assert [h["hour"] for h in device["hourly"]] == ["2026-11-27T22"]
    assert device["night"]["level_db"] == 70.0 and device["night"]["hours_exceeded"] == 1
    assert device["day"]["level_db"] is None and device["day"]["hours_measured"] == 0


def test_a_range_rates_every_day_and_night_hour_in_it():
    hours = day_hours(DAY) + day_hours(date(2026, 11, 28))
    rollups = {("n1", h): laeq(50.0) for h in hours}
    rollups[("n1", "2026-11-28T03")] = laeq(52.0)  # zone 2 night 50
    device = only(noise_section(rollups, [sensor("n1", "2")], hours))
    assert device["day"]["hours_rated"] == 32 and device["night"]["hours_rated"] == 16
    assert device["night"]["hours_exceeded"] == 1 and device["day"]["hours_exceeded"] == 0
    assert device["night"]["exceeded"] is True  # Ln 50.2 over 50
    assert device["night"]["level_db"] == round(10 * math.log10((15 * 1e5 + 10**5.2) / 16), 1)


def test_an_empty_period_and_no_devices_are_valid():
    section = noise_section({}, [sensor("n1")], [])
    assert section["period"] == {"from_hour": None, "to_hour": None, "hours": 0}
    assert only(section)["hours_measured"] == 0 and section["zones"]["1"]["devices_measured"] == 0
    assert noise_section({}, [], HOURS)["sensors"] == [] and noise_section({}, [], HOURS)["zones"] == {}
