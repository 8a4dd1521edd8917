"""Structural-health figures of a report period: each value's maximum against the limit
the buildingRisk rule uses, at and just over it, signed values by magnitude."""

import json
from datetime import date

from citybrain.alerts.rules import structure as rule
from citybrain.alerts.rules.catalogue import NORMAL
from citybrain.alerts.rules.settings import effective
from citybrain.reports.hours import day_hours
from citybrain.reports.structures import structure_section
from citybrain.sensing import rollups as arithmetic

DAY = date(2026, 11, 27)
HOURS = day_hours(DAY)


def rolled(*readings: dict) -> dict:
    return arithmetic.fold(arithmetic.new_rollup(), readings)


def building(device_id: str, town: str = "大沥镇", **rules) -> dict:
    device = {"id": device_id, "type": "structure", "town": town, "name": f"结构 {device_id}"}
    if rules:
        device["rules"] = rules
    return device


def only(section: dict) -> dict:
    (device,) = section["sensors"]
    return device


def test_at_the_limit_is_within_it_and_just_over_it_is_not():
    # Default limits: tilt 0.5°, crack width 1.0 mm, settlement 30 mm (absolute values).
    rollups = {
        ("s1", HOURS[1]): rolled({"tilt": 0.5, "crackWidth": 1.0, "settlement": -30.0}),
        ("s2", HOURS[1]): rolled({"tilt": 0.51}),
        ("s3", HOURS[1]): rolled({"settlement": -30.1}),
        ("s4", HOURS[1]): rolled({"crackWidth": 1.01}),
    }
    section = structure_section(rollups, [building(i) for i in ("s4", "s3", "s2", "s1")], HOURS)
    s1, s2, s3, s4 = section["sensors"]
    assert s1["over_limit"] is False and all(v["hours_over_limit"] == 0 for v in s1["values"].values())
    assert s2["values"]["tilt"]["over_limit"] is True and s2["values"]["tilt"]["hours_over_limit"] == 1
    assert s3["values"]["settlement"]["extreme"] == -30.1 and s3["values"]["settlement"]["max_abs"] == 30.1
    assert s3["over_limit"] is True and s4["over_limit"] is True
    assert [(d["device_id"], d["values"]) for d in section["over_limit"]] == [
        ("s2", ["tilt"]),
        ("s3", ["settlement"]),
        ("s4", ["crackWidth"]),
    ]
    # The same verdicts as the rule on those readings.
    settings = effective(building("s1"))
    assert rule.check(settings, 0, {"tilt": 0.5, "crackWidth": 1.0, "settlement": -30.0}, None, None) is NORMAL
    assert rule.check(settings, 0, {"tilt": 0.51}, None, None) is not NORMAL


def test_the_period_maximum_is_the_largest_magnitude_and_its_first_hour():
    rollups = {
        ("s1", HOURS[3]): rolled({"settlement": -12.0}, {"settlement": 4.0}),
        ("s1", HOURS[9]): rolled({"settlement": -20.0}, {"settlement": 18.0}),
        ("s1", HOURS[15]): rolled({"settlement": 20.0}),
        ("s1", HOURS[20]): rolled({"settlement": 31.0}, {"settlement": 29.0}),
        ("s1", HOURS[21]): rolled({"settlement": -35.0}),
    }
    settlement = only(structure_section(rollups, [building("s1")], HOURS))["values"]["settlement"]
    assert settlement["extreme"] == -35.0 and settlement["max_at"] == "2026-11-27T21"
    assert settlement["hours_over_limit"] == 2 and settlement["hours_measured"] == 5 and settlement["readings"] == 8
    assert settlement["limit"] == 30.0 and settlement["unit"] == "mm" and settlement["ratio_to_limit"] == 1.167
    tie = only(structure_section({k: v for k, v in rollups.items() if k[1] < HOURS[20]}, [building("s1")], HOURS))
    assert tie["values"]["settlement"]["max_at"] == "2026-11-27T09"  # |−20| first, then 20 at 15:00


def test_a_devices_own_limits_are_used():
    rollups = {("s1", HOURS[4]): rolled({"tilt": 0.7})}
    device = only(structure_section(rollups, [building("s1", tilt_limit_deg=0.8)], HOURS))
    assert device["values"]["tilt"]["limit"] == 0.8 and device["over_limit"] is False
    assert device["values"]["tilt"]["unit"] == "degrees"


def test_a_device_or_value_without_readings_shows_none_and_counts():
    rollups = {("s1", HOURS[0]): rolled({"tilt": 0.1})}
    section = structure_section(rollups, [building("s1"), building("s2")], HOURS)
    s1, s2 = section["sensors"]
    crack = s1["values"]["crackWidth"]
    assert crack["extreme"] is None and crack["max_abs"] is None and crack["over_limit"] is None
    assert crack["hours_over_limit"] == 0 and crack["readings"] == 0 and crack["max_at"] is None
    assert s1["over_limit"] is False and s1["hours_measured"] == 1
    assert s2["over_limit"] is None and s2["hours_measured"] == 0
    assert section["sensors_measured"] == 1 and section["over_limit"] == []
    json.dumps(section, ensure_ascii=False, allow_nan=False)


def test_hourly_and_range_periods_and_an_empty_one():
    hours = day_hours(DAY) + day_hours(date(2026, 11, 28))
    rollups = {("s1", "2026-11-28T05"): rolled({"crackWidth": 1.2}), ("s1", HOURS[5]): rolled({"crackWidth": 0.9})}
    ranged = only(structure_section(rollups, [building("s1")], hours))["values"]["crackWidth"]
    assert ranged["max_at"] == "2026-11-28T05" and ranged["hours_over_limit"] == 1 and ranged["hours_measured"] == 2
    hourly = only(structure_section(rollups, [building("s1")], [HOURS[5]]))
    assert hourly["over_limit"] is False and hourly["values"]["crackWidth"]["extreme"] == 0.9
    empty = structure_section(rollups, [building("s1")], [])
    assert empty["period"]["hours"] == 0 and only(empty)["over_limit"] is None
    assert structure_section({}, [], HOURS)["sensors"] == []
