"""The traffic and water figures of a local day, from the hourly rollups.

Traffic (交通), per road sensor: the mean speed of the day's readings, the congested
hours — an hour whose mean speed is under the device's speed threshold or whose mean
occupancy is at or over its occupancy threshold (the thresholds of its trafficJam rule,
citybrain.alerts.rules.settings) — and, for the scope, the busiest hours by total mean
vehicle intensity.

Water (水位, urban and safety), per gauge: the day's maximum level against its warning
and guarantee levels (警戒水位 / 保证水位), the hours whose maximum reached each, and the
hour of the maximum.

Every figure carries the count of readings or hours behind it; a device with no reading
that day shows None, not zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from citybrain.alerts.rules.settings import effective
from citybrain.reports.hours import Rollups, day_hours, hourly_maxima, hourly_means, totals

BUSIEST_HOURS = 3


def traffic_section(rollups: Rollups, sensors: Iterable[Mapping[str, Any]], day: date) -> dict[str, Any]:
    hours = day_hours(day)
    roads = []
    intensity_by_hour = [0.0] * 24
    measured_hours = [0] * 24
    for device in sorted(sensors, key=lambda d: d["id"]):
        settings = effective(device)
        speed_limit, occupancy_limit = settings["speed_threshold_kmh"], settings["occupancy_threshold"]
        speeds = hourly_means(rollups, device["id"], "averageVehicleSpeed", hours)
        occupancy = hourly_means(rollups, device["id"], "occupancy", hours)
        intensity = hourly_means(rollups, device["id"], "intensity", hours)
        congested = [
            hours[i][-2:] + ":00"
            for i in range(24)
            if _congested(speeds[i], occupancy[i], speed_limit, occupancy_limit)
        ]
        for i, value in enumerate(intensity):
            if value is not None:
                intensity_by_hour[i] += value
                measured_hours[i] += 1
        total, count = totals(rollups, device["id"], "averageVehicleSpeed", hours)
        roads.append(
            {
                "device_id": device["id"],
                "name": device.get("name") or device["id"],
                "town": device["town"],
                "mean_speed_kmh": total / count if count else None,
                "speed_readings": count,
                "congested_hours": len(congested),
                "congested_at": congested,
                "hours_measured": sum(1 for i in range(24) if speeds[i] is not None or occupancy[i] is not None),
                "thresholds": {"speed_kmh": speed_limit, "occupancy": occupancy_limit},
            }
        )
    ranked = sorted((h for h in range(24) if measured_hours[h]), key=lambda h: (-intensity_by_hour[h], h))
    return {
        "date": day.isoformat(),
        "roads": roads,
        "busiest_hours": [
            {"hour": f"{h:02d}:00", "intensity_vehicles_per_h": intensity_by_hour[h], "sensors": measured_hours[h]}
            for h in ranked[:BUSIEST_HOURS]
        ],
        "units": {"mean_speed_kmh": "km/h", "intensity_vehicles_per_h": "vehicles/h"},
    }


def _congested(speed: float | None, occupancy: float | None, speed_limit: float, occupancy_limit: float) -> bool:
    return (speed is not None and speed < speed_limit) or (occupancy is not None and occupancy >= occupancy_limit)


def water_section(rollups: Rollups, gauges: Iterable[Mapping[str, Any]], day: date) -> dict[str, Any]:
    hours = day_hours(day)
    rows = []
    for device in sorted(gauges, key=lambda d: d["id"]):
        thresholds = device.get("thresholds") or {}
        warning, guarantee = thresholds.get("warning"), thresholds.get("guarantee")
        maxima = hourly_maxima(rollups, device["id"], "waterLevel", hours)
        present = [(i, v) for i, v in enumerate(maxima) if v is not None]
        top = max(present, key=lambda p: p[1], default=None)
        rows.append(
            {
                "device_id": device["id"],
                "name": device.get("name") or device["id"],
                "town": device["town"],
                "max_level_m": top[1] if top else None,
                "max_at": f"{top[0]:02d}:00" if top else None,
                "warning_m": warning,
                "guarantee_m": guarantee,
                "hours_at_or_above_warning": _hours_at_or_above(present, warning),
                "hours_at_or_above_guarantee": _hours_at_or_above(present, guarantee),
                "hours_measured": len(present),
            }
        )
    return {"date": day.isoformat(), "gauges": rows, "units": {"level": "m"}}


def _hours_at_or_above(present: list[tuple[int, float]], level: float | None) -> int | None:
    if level is None:
        return None
    return sum(1 for _, value in present if value >= level)
