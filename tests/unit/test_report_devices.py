"""Devices-online figures of a report period: online hours from the rollups' counts, ratios
per town and type, silent devices, and devices registered during or after the period."""

import json
from datetime import date

from citybrain.reports.devices import devices_section
from citybrain.reports.hours import day_hours

DAY = date(2026, 11, 27)
HOURS = day_hours(DAY)


def device(device_id: str, town: str = "桂城街道", kind: str = "air_quality", created_at=None, name=None) -> dict:
    record = {"id": device_id, "type": kind, "town": town}
    if name:
        record["name"] = name
    if created_at:
        record["created_at"] = created_at
    return record


def online(device_id: str, hours: list[str], count: int = 6) -> dict:
    return {(device_id, h): {"count": count, "values": {}} for h in hours}


def test_ratios_per_town_and_type():
    rollups = {**online("a", HOURS), **online("b", HOURS[:12]), **online("c", HOURS[:6])}
    rollups[("c", HOURS[7])] = {"count": 0, "values": {}}  # an item with no reading is not online
    devices = [
        device("c", "九江镇", "noise"),
        device("a"),
        device("b", kind="noise"),
        device("d", "九江镇", "noise", name="北门 噪声"),
    ]
    section = devices_section(rollups, devices, HOURS)
    assert (section["registered"], section["reported"], section["silent"]) == (4, 3, 1)
    assert (section["hours_online"], section["hours_possible"]) == (42, 96)
    assert section["online_ratio"] == 0.4375 and section["online_percent"] == 43.8
    assert section["by_town"]["桂城街道"] == {
        "devices": 2,
        "reported": 2,
        "silent": 0,
        "hours_online": 36,
        "hours_possible": 48,
        "online_ratio": 0.75,
        "online_percent": 75.0,
    }
    assert section["by_town"]["九江镇"]["online_ratio"] == 0.125  # 6 of 2 × 24
    assert list(section["by_town"]) == sorted(section["by_town"])
    assert section["by_type"]["noise"]["devices"] == 3 and section["by_type"]["noise"]["hours_online"] == 18
    assert section["by_type"]["air_quality"]["online_ratio"] == 1.0
    assert section["silent_devices"] == [{"device_id": "d", "name": "北门 噪声", "town": "九江镇", "type": "noise"}]
    json.dumps(section, ensure_ascii=False, allow_nan=False)


def test_a_device_registered_during_the_period_counts_from_its_hour():
    rollups = online("new", HOURS[15:])
    devices = [device("new", created_at="2026-11-27T14:40:00+08:00")]
    section = devices_section(rollups, devices, HOURS)
    assert (section["hours_online"], section["hours_possible"]) == (9, 10)  # 14:00 to 24:00
    # Readings before its registration (history loaded from a file) still count.
    history = {**rollups, **online("new", HOURS[2:4])}
    section = devices_section(history, devices, HOURS)
    assert (section["hours_online"], section["hours_possible"]) == (11, 12)


def test_a_device_registered_after_the_period_is_left_out_unless_it_has_data_in_it():
    devices = [
        device("later", created_at="2026-11-28T00:00:00+08:00"),
        device("edge", created_at="2026-11-27T23:59:59+08:00"),
        device("old", created_at="2026-01-01T00:00:00+08:00"),
    ]
    section = devices_section({}, devices, HOURS)
    assert section["registered"] == 2 and section["registered_after_period"] == 1
    assert [d["device_id"] for d in section["silent_devices"]] == ["edge", "old"]
    assert section["hours_possible"] == 1 + 24
    loaded = devices_section(online("later", HOURS[:2]), devices, HOURS)
    assert loaded["registered"] == 3 and loaded["registered_after_period"] == 0 and loaded["hours_online"] == 2


def test_an_unreadable_registration_time_counts_every_hour():
    section = devices_section({}, [device("x", created_at="yesterday")], HOURS)
    assert section["hours_possible"] == 24 and section["silent"] == 1


def test_an_hourly_and_a_range_period():
    rollups = online("a", HOURS[8:9])
    hourly = devices_section(rollups, [device("a"), device("b")], [HOURS[8]])
    assert hourly["online_ratio"] == 0.5 and hourly["hours_possible"] == 2
    days = day_hours(DAY) + day_hours(date(2026, 11, 28))
    ranged = devices_section(rollups, [device("a")], days)
    assert (ranged["hours_online"], ranged["hours_possible"], ranged["reported"]) == (1, 48, 1)


def test_an_empty_period_and_no_devices():
    empty = devices_section({}, [device("a")], [])
    assert empty["online_ratio"] is None and empty["online_percent"] is None and empty["hours_possible"] == 0
    assert empty["registered"] == 1 and empty["period"] == {"from_hour": None, "to_hour": None, "hours": 0}
    nothing = devices_section({}, [], HOURS)
    assert nothing["registered"] == 0 and nothing["online_ratio"] is None
    assert nothing["by_town"] == {} and nothing["silent_devices"] == []
