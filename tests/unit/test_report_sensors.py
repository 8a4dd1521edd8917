"""Traffic and water figures of a report day, from hourly rollups."""

from datetime import date

from citybrain.reports.hours import day_hours, totals
from citybrain.reports.sensors import traffic_section, water_section

DAY = date(2026, 11, 27)
HOURS = day_hours(DAY)


def rollup(values: dict[str, tuple[float, float]], n: int = 4) -> dict:
    """values: name -> (mean, max) of the hour's n readings."""
    return {
        "count": n,
        "values": {k: {"n": n, "sum": mean * n, "min": mean, "max": top} for k, (mean, top) in values.items()},
    }


def road(device_id: str, town: str = "桂城街道", **rules) -> dict:
    device = {"id": device_id, "type": "traffic_flow", "town": town, "name": f"路段 {device_id}"}
    if rules:
        device["rules"] = rules
    return device


def gauge(device_id: str, warning: float = 5.0, guarantee: float = 6.0) -> dict:
    return {
        "id": device_id,
        "type": "water_level",
        "town": "九江镇",
        "thresholds": {"warning": warning, "guarantee": guarantee},
    }


def test_congested_hours_use_the_devices_thresholds_at_their_edges():
    rollups = {("r1", h): rollup({"averageVehicleSpeed": (40.0, 50.0), "occupancy": (0.3, 0.4)}) for h in HOURS}
    rollups[("r1", HOURS[8])] = rollup({"averageVehicleSpeed": (19.9, 25.0), "occupancy": (0.5, 0.6)})  # slow
    rollups[("r1", HOURS[9])] = rollup({"averageVehicleSpeed": (20.0, 25.0), "occupancy": (0.5, 0.6)})  # at the limit
    rollups[("r1", HOURS[18])] = rollup({"averageVehicleSpeed": (35.0, 40.0), "occupancy": (0.8, 0.9)})  # occupied
    rollups[("r1", HOURS[19])] = rollup({"averageVehicleSpeed": (35.0, 40.0), "occupancy": (0.79, 0.9)})
    section = traffic_section(rollups, [road("r1")], DAY)
    (row,) = section["roads"]
    assert row["congested_at"] == ["08:00", "18:00"] and row["congested_hours"] == 2
    assert row["thresholds"] == {"speed_kmh": 20.0, "occupancy": 0.8} and row["hours_measured"] == 24
    # A device with its own threshold is judged by it.
    (own,) = traffic_section(rollups, [road("r1", speed_threshold_kmh=36.0)], DAY)["roads"]
    assert own["congested_at"] == ["08:00", "09:00", "18:00", "19:00"]


def test_the_mean_speed_is_of_every_reading_not_of_hours():
    rollups = {
        ("r1", HOURS[7]): rollup({"averageVehicleSpeed": (30.0, 30.0)}, n=1),
        ("r1", HOURS[8]): rollup({"averageVehicleSpeed": (60.0, 60.0)}, n=3),
    }
    (row,) = traffic_section(rollups, [road("r1")], DAY)["roads"]
    assert row["mean_speed_kmh"] == 52.5 and row["speed_readings"] == 4  # (30 + 3 * 60) / 4, not 45
    assert totals(rollups, "r1", "averageVehicleSpeed", HOURS) == (210.0, 4)


def test_the_busiest_hours_add_up_every_sensor():
    rollups = {}
    for device_id in ("r1", "r2"):
        for index, hour in enumerate(HOURS):
            rollups[(device_id, hour)] = rollup({"intensity": (100.0 + index, 100.0 + index)})
    rollups[("r2", HOURS[8])] = rollup({"intensity": (2000.0, 2100.0)})
    busiest = traffic_section(rollups, [road("r1"), road("r2")], DAY)["busiest_hours"]
    assert [b["hour"] for b in busiest] == ["08:00", "23:00", "22:00"]
    assert busiest[0] == {"hour": "08:00", "intensity_vehicles_per_h": 2108.0, "sensors": 2}


def test_a_road_without_readings_shows_none_not_zero():
    section = traffic_section({}, [road("r9")], DAY)
    (row,) = section["roads"]
    assert row["mean_speed_kmh"] is None and row["speed_readings"] == 0 and row["hours_measured"] == 0
    assert section["busiest_hours"] == []


def test_water_levels_against_warning_and_guarantee_at_their_edges():
    rollups = {("g1", h): rollup({"waterLevel": (3.0, 3.5)}) for h in HOURS}
    rollups[("g1", HOURS[14])] = rollup({"waterLevel": (4.8, 5.0)})  # reaches the warning level
    rollups[("g1", HOURS[15])] = rollup({"waterLevel": (5.5, 6.0)})  # reaches the guarantee level
    rollups[("g1", HOURS[16])] = rollup({"waterLevel": (5.5, 5.99)})
    (row,) = water_section(rollups, [gauge("g1")], DAY)["gauges"]
    assert row["max_level_m"] == 6.0 and row["max_at"] == "15:00"
    assert row["hours_at_or_above_warning"] == 3 and row["hours_at_or_above_guarantee"] == 1
    assert (row["warning_m"], row["guarantee_m"], row["hours_measured"]) == (5.0, 6.0, 24)


def test_a_gauge_of_the_next_local_day_does_not_count():
    rollups = {("g1", "2026-11-28T00"): rollup({"waterLevel": (9.0, 9.0)})}
    (row,) = water_section(rollups, [gauge("g1")], DAY)["gauges"]
    assert row["max_level_m"] is None and row["hours_at_or_above_warning"] == 0 and row["hours_measured"] == 0
