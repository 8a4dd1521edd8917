"""The environment section's air quality figures of a local day, from the hourly rollups.

Pure: the rollups of the day's stations arrive as a mapping, the figures leave as plain
values, each with the count behind it and the standard it follows (HJ 633-2026 for the
index, GB 3095 data statistics for validity: citybrain.sensing.air_statistics).

- A station's hourly value of a pollutant is its rollup's mean for that local hour
  (sum / n, citybrain.reports.hours); a local hour with no reading of it is missing.
- Per station: the daily concentrations (24-hour means, daily maximum 8-hour O3), the
  daily AQI from them, and the hours spent at each AQI level (from the hourly index of
  its hourly means; an hour with no pollutant is not counted).
- Per town and for the district: concentrations are the mean of the stations' valid daily
  concentrations, the AQI is computed from those (never a mean of AQIs).
- The worst station: the highest daily AQI (ties: every one of them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from citybrain.reports.hours import Rollups, day_hours, hourly_means
from citybrain.sensing.air_statistics import Statistic, area_day, day_aqi, station_day
from citybrain.sensing.aqi import LEVELS, POLLUTANTS, STANDARD, air_quality, level

UNITS = {"pm25": "µg/m³", "pm10": "µg/m³", "so2": "µg/m³", "no2": "µg/m³", "o3": "µg/m³", "co": "mg/m³"}
LEVEL_NAMES = tuple(found.name for _, found in LEVELS)


def station_figures(
    rollups: Rollups, device: Mapping[str, Any], day: date
) -> tuple[dict[str, Any], dict[str, Statistic]]:
    """A station's figures of the day, and its daily concentrations (for its town's and the district's)."""
    hours = day_hours(day)
    series = {p: hourly_means(rollups, device["id"], p, hours) for p in POLLUTANTS}
    measured = {p: s for p, s in series.items() if any(v is not None for v in s)}
    concentrations = station_day(measured)
    hours_per_level = dict.fromkeys(LEVEL_NAMES, 0)
    for index in range(24):
        hourly = air_quality({p: s[index] for p, s in measured.items() if s[index] is not None})
        if hourly is not None:
            hours_per_level[hourly["airQualityLevel"]] += 1
    return {
        "device_id": device["id"],
        "name": device.get("name") or device["id"],
        "town": device["town"],
        "concentrations": _shown(concentrations),
        "aqi": _aqi(concentrations),
        "hours_per_level": hours_per_level,
    }, concentrations


def air_section(rollups: Rollups, stations: Iterable[Mapping[str, Any]], day: date) -> dict[str, Any]:
    """Stations, towns and the district for one local day (stations: air-quality devices)."""
    computed = [station_figures(rollups, device, day) for device in sorted(stations, key=lambda d: d["id"])]
    figures = [shown for shown, _ in computed]
    towns: dict[str, list[Mapping[str, Statistic]]] = {}
    for shown, concentrations in computed:
        towns.setdefault(shown["town"], []).append(concentrations)
    rated = [s for s in figures if s["aqi"] is not None]
    worst_aqi = max((s["aqi"]["airQualityIndex"] for s in rated), default=None)
    return {
        "date": day.isoformat(),
        "standard": STANDARD,
        "units": UNITS,
        "stations": figures,
        "towns": {town: _area(members) for town, members in sorted(towns.items())},
        "district": _area([concentrations for _, concentrations in computed]),
        "worst_stations": [s["device_id"] for s in rated if s["aqi"]["airQualityIndex"] == worst_aqi],
    }


def _area(stations: Sequence[Mapping[str, Statistic]]) -> dict[str, Any]:
    concentrations = area_day(stations)
    return {"stations": len(stations), "concentrations": _shown(concentrations), "aqi": _aqi(concentrations)}


def _shown(concentrations: Mapping[str, Statistic]) -> dict[str, Any]:
    return {p: {**s.as_dict(), "shown": s.shown(), "unit": UNITS[p]} for p, s in concentrations.items()}


def _aqi(concentrations: Mapping[str, Statistic]) -> dict[str, Any] | None:
    result = day_aqi(concentrations)
    if result is None:
        return None
    found = level(result["airQualityIndex"])
    return {**result, "colour": found.colour, "rgb": found.rgb}


def air_hour_section(rollups: Rollups, stations: Iterable[Mapping[str, Any]], hour: str) -> dict[str, Any]:
    """One local hour: each station's real-time AQI from its 1-hour means (HJ 633-2026
    uses the 1-hour rows for the hourly index), and each town's and the district's from
    the mean of their stations' 1-hour means (never a mean of AQIs)."""
    figures = []
    towns: dict[str, list[dict[str, float]]] = {}
    for device in sorted(stations, key=lambda d: d["id"]):
        means = {p: m for p in POLLUTANTS if (m := hourly_means(rollups, device["id"], p, [hour])[0]) is not None}
        towns.setdefault(device["town"], []).append(means)
        figures.append(
            {
                "device_id": device["id"],
                "name": device.get("name") or device["id"],
                "town": device["town"],
                "concentrations": {p: {"mean": v, "unit": UNITS[p]} for p, v in means.items()},
                "aqi": _hourly_aqi(means),
            }
        )
    everyone = [means for members in towns.values() for means in members]
    return {
        "hour": hour,
        "standard": STANDARD,
        "units": UNITS,
        "stations": figures,
        "towns": {town: _hour_area(members) for town, members in sorted(towns.items())},
        "district": _hour_area(everyone),
    }


def _hour_area(stations: Sequence[Mapping[str, float]]) -> dict[str, Any]:
    means = {}
    for p in POLLUTANTS:
        values = [s[p] for s in stations if p in s]
        if values:
            means[p] = sum(values) / len(values)
    return {
        "stations": len(stations),
        "concentrations": {p: {"mean": v, "unit": UNITS[p]} for p, v in means.items()},
        "aqi": _hourly_aqi(means),
    }


def _hourly_aqi(means: Mapping[str, float]) -> dict[str, Any] | None:
    result = air_quality(means)
    if result is None:
        return None
    found = level(result["airQualityIndex"])
    return {**result, "colour": found.colour, "rgb": found.rgb}
