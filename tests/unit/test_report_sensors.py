"""Traffic and water figures of a report period (an hour, a day, a range of hours), from hourly rollups."""

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
    section = traffic_section(rollups, [road("r1")], HOURS)
    (row,) = section["roads"]
    assert row["congested_at"] == ["2026-11-27T08", "2026-11-27T18"] and row["congested_hours"] == 2
    assert row["thresholds"] == {"speed_kmh": 20.0, "occupancy": 0.8} and row["hours_measured"] == 24
    # A device with its own threshold is judged by it.
    (own,) = traffic_section(rollups, [road("r1", speed_threshold_kmh=36.0)], HOURS)["roads"]
    assert own["congested_at"] == [HOURS[8], HOURS[9], HOURS[18], HOURS[19]]


def test_the_mean_speed_is_of_every_reading_not_of_hours():
    rollups = {
        ("r1", HOURS[7]): rollup({"averageVehicleSpeed": (30.0, 30.0)}, n=1),
        ("r1", HOURS[8]): rollup({"averageVehicleSpeed": (60.0, 60.0)}, n=3),
    }
    (row,) = traffic_section(rollups, [road("r1")], HOURS)["roads"]
    assert row["mean_speed_kmh"] == 52.5 and row["speed_readings"] == 4  # (30 + 3 * 60) / 4, not 45
    assert totals(rollups, "r1", "averageVehicleSpeed", HOURS) == (210.0, 4)


def test_the_busiest_hours_add_up_every_sensor():
    rollups = {}
    for device_id in ("r1", "r2"):
        for index, hour in enumerate(HOURS):
            rollups[(device_id, hour)] = rollup({"intensity": (100.0 + index, 100.0 + index)})
    rollups[("r2", HOURS[8])] = rollup({"intensity": (2000.0, 2100.0)})
    busiest = traffic_section(rollups, [road("r1"), road("r2")], HOURS)["busiest_hours"]
    assert [b["hour"] for b in busiest] == ["2026-11-27T08", "2026-11-27T23", "2026-11-27T22"]
    assert busiest[0] == {"hour": "2026-11-27T08", "intensity_vehicles_per_h": 2108.0, "sensors": 2}


def test_a_road_without_readings_shows_none_not_zero():
    section = traffic_section({}, [road("r9")], HOURS)
    (row,) = section["roads"]
    assert row["mean_speed_kmh"] is None and row["speed_readings"] == 0 and row["hours_measured"] == 0
    assert section["busiest_hours"] == []


def test_water_levels_against_warning_and_guarantee_at_their_edges():
    rollups = {("g1", h): rollup({"waterLevel": (3.0, 3.5)}) for h in HOURS}
    rollups[("g1", HOURS[14])] = rollup({"waterLevel": (4.8, 5.0)})  # reaches the warning level
    rollups[("g1", HOURS[15])] = rollup({"waterLevel": (5.5, 6.0)})  # reaches the guarantee level
    rollups[("g1", HOURS[16])] = rollup({"waterLevel": (5.5, 5.99)})
    (row,) = water_section(rollups, [gauge("g1")], HOURS)["gauges"]
    assert row["max_level_m"] == 6.0 and row["max_at"] == "2026-11-27T15"
    assert row["hours_at_or_above_warning"] == 3 and row["hours_at_or_above_guarantee"] == 1
    assert (row["warning_m"], row["guarantee_m"], row["hours_measured"]) == (5.0, 6.0, 24)


def test_a_gauge_of_the_next_local_day_does_not_count():
    rollups = {("g1", "2026-11-28T00"): rollup({"waterLevel": (9.0, 9.0)})}
    (row,) = water_section(rollups, [gauge("g1")], HOURS)["gauges"]
    assert row["max_level_m"] is None and row["hours_at_or_above_warning"] == 0 and row["hours_measured"] == 0


def test_an_hourly_report_is_one_hour_of_the_same_figures():
    rollups = {("r1", h): rollup({"averageVehicleSpeed": (40.0, 50.0), "intensity": (900.0, 950.0)}) for h in HOURS}
    rollups[("r1", HOURS[8])] = rollup({"averageVehicleSpeed": (12.0, 20.0), "intensity": (1500.0, 1600.0)}, n=6)
    section = traffic_section(rollups, [road("r1")], [HOURS[8]])
    (row,) = section["roads"]
    assert section["period"] == {"from_hour": "2026-11-27T08", "to_hour": "2026-11-27T08", "hours": 1}
    assert row["congested_at"] == ["2026-11-27T08"] and row["hours_measured"] == 1
    assert row["mean_speed_kmh"] == 12.0 and row["speed_readings"] == 6
    assert section["busiest_hours"] == [{"hour": "2026-11-27T08", "intensity_vehicles_per_h": 1500.0, "sensors": 1}]


def test_a_range_names_its_hours_with_their_day():
    days = day_hours(DAY) + day_hours(date(2026, 11, 28)) + day_hours(date(2026, 11, 29))
    rollups = {("r1", h): rollup({"averageVehicleSpeed": (40.0, 40.0), "intensity": (100.0, 100.0)}) for h in days}
    rollups[("r1", "2026-11-28T08")] = rollup({"averageVehicleSpeed": (10.0, 10.0), "intensity": (3000.0, 3000.0)})
    rollups[("r1", "2026-11-29T08")] = rollup({"averageVehicleSpeed": (10.0, 10.0), "intensity": (3000.0, 3000.0)})
    section = traffic_section(rollups, [road("r1")], list(reversed(days)))  # any order: taken in time order
    (row,) = section["roads"]
    assert row["congested_at"] == ["2026-11-28T08", "2026-11-29T08"] and row["hours_measured"] == 72
    assert [b["hour"] for b in section["busiest_hours"]] == ["2026-11-28T08", "2026-11-29T08", "2026-11-27T00"]
    assert section["period"] == {"from_hour": "2026-11-27T00", "to_hour": "2026-11-29T23", "hours": 72}
    gauges = {("g1", h): rollup({"waterLevel": (3.0, 3.0)}) for h in days}
    gauges[("g1", "2026-11-29T03")] = rollup({"waterLevel": (5.0, 5.2)})
    gauges[("g1", "2026-11-29T04")] = rollup({"waterLevel": (5.0, 5.2)})
    (level,) = water_section(gauges, [gauge("g1")], days)["gauges"]
    assert level["max_at"] == "2026-11-29T03" and level["max_level_m"] == 5.2  # the first hour of the maximum
    assert level["hours_at_or_above_warning"] == 2 and level["hours_measured"] == 72


def test_an_empty_period_is_valid():
    traffic = traffic_section({}, [road("r1")], [])
    assert traffic["period"] == {"from_hour": None, "to_hour": None, "hours": 0}
    assert traffic["roads"][0]["mean_speed_kmh"] is None and traffic["busiest_hours"] == []
    (row,) = water_section({}, [gauge("g1")], [])["gauges"]
    assert row["max_level_m"] is None and row["max_at"] is None and row["hours_measured"] == 0
    assert water_section({}, [], HOURS)["gauges"] == []
