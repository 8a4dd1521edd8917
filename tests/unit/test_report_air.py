"""The air quality figures of a report day, from hourly rollups (HJ 633-2026, GB 3095 validity)."""

from datetime import date

from citybrain.reports.air import air_section
from citybrain.reports.hours import day_hours, hourly_means

DAY = date(2026, 11, 27)


def rollup(values: dict[str, float], n: int = 6) -> dict:
    return {"count": n, "values": {k: {"n": n, "sum": v * n, "min": v, "max": v} for k, v in values.items()}}


def station(device_id: str, town: str) -> dict:
    return {"id": device_id, "type": "air_quality", "town": town, "name": f"站点 {device_id}"}


def day_of(device_id: str, values: dict[str, float], hours: int = 24, day: date = DAY) -> dict:
    return {(device_id, hour): rollup(values) for hour in day_hours(day)[:hours]}


def test_the_day_is_its_24_local_hours():
    hours = day_hours(DAY)
    assert hours[0] == "2026-11-27T00" and hours[-1] == "2026-11-27T23" and len(hours) == 24


def test_an_hour_of_the_next_local_day_is_not_this_days():
    rollups = {**day_of("a", {"pm25": 20.0}), ("a", "2026-11-28T00"): rollup({"pm25": 900.0})}
    means = hourly_means(rollups, "a", "pm25", day_hours(DAY))
    assert means == [20.0] * 24
    section = air_section(rollups, [station("a", "桂城街道")], DAY)
    assert section["stations"][0]["concentrations"]["pm25"]["value"] == 20.0


def test_stations_towns_and_the_district():
    rollups = {
        **day_of("a", {"pm25": 40.0, "pm10": 60.0, "o3": 90.0}),
        **day_of("b", {"pm25": 80.0, "pm10": 100.0, "o3": 120.0}),
        **day_of("c", {"pm25": 150.0}),
    }
    section = air_section(rollups, [station("b", "桂城街道"), station("a", "桂城街道"), station("c", "九江镇")], DAY)
    a, b, c = section["stations"]
    assert (a["device_id"], b["device_id"], c["device_id"]) == ("a", "b", "c")
    assert a["aqi"]["airQualityIndex"] == 60 and a["aqi"]["primaryPollutant"] == ["pm25"]  # pm10 58, o3 45
    assert a["aqi"]["iaqi"] == {"pm10": 58, "o3": 45, "pm25": 60}
    assert b["aqi"]["airQualityIndex"] == 119 and b["aqi"]["airQualityLevel"] == "轻度污染"
    assert b["aqi"]["rgb"] == "#FF7E00" and b["aqi"]["colour"] == "橙色"
    assert c["aqi"]["airQualityIndex"] == 200
    # The town's PM2.5 is the mean of its stations' (60), its AQI comes from that: 100, not (60 + 119) / 2.
    town = section["towns"]["桂城街道"]
    assert town["concentrations"]["pm25"]["value"] == 60.0 and town["aqi"]["airQualityIndex"] == 100
    assert section["district"]["concentrations"]["pm25"]["value"] == 90.0
    assert section["district"]["concentrations"]["pm10"]["value"] == 80.0  # c measures no PM10
    assert section["district"]["aqi"]["airQualityIndex"] == 128  # PM2.5 90: 100 + 50 * 30 / 55
    assert section["worst_stations"] == ["c"]
    assert section["standard"] == "HJ 633-2026" and section["units"]["co"] == "mg/m³"


def test_hours_per_level_come_from_the_hourly_index():
    rollups = day_of("a", {"pm25": 30.0}, hours=12)
    rollups.update({("a", h): rollup({"pm25": 70.0}) for h in day_hours(DAY)[12:20]})
    levels = air_section(rollups, [station("a", "里水镇")], DAY)["stations"][0]["hours_per_level"]
    assert levels == {"优": 12, "良": 0, "轻度污染": 8, "中度污染": 0, "重度污染": 0, "严重污染": 0}


def test_a_station_with_19_hours_shows_insufficient_data_and_no_index():
    section = air_section(day_of("a", {"pm25": 300.0}, hours=19), [station("a", "大沥镇")], DAY)
    shown = section["stations"][0]["concentrations"]["pm25"]
    assert shown["value"] is None and shown["count"] == 19 and shown["shown"] == "数据不足（19/20）"
    assert section["stations"][0]["aqi"] is None
    assert section["towns"]["大沥镇"]["aqi"] is None and section["district"]["aqi"] is None
    assert section["worst_stations"] == []


def test_an_empty_day_is_a_valid_section_with_no_figures():
    section = air_section({}, [station("a", "丹灶镇")], DAY)
    assert section["stations"][0]["aqi"] is None and section["stations"][0]["concentrations"] == {}
    assert sum(section["stations"][0]["hours_per_level"].values()) == 0
    assert air_section({}, [], DAY)["district"] == {"stations": 0, "concentrations": {}, "aqi": None}
