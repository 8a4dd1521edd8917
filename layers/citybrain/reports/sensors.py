"""The traffic and water figures of a report period, from the hourly rollups.

A period is a sequence of local-hour keys as rollups name them ("2026-11-27T08", see
citybrain.reports.hours.day_hours): one hour for an hourly report, 24 for a daily one,
up to 92 days of hours for a range. Hours are taken in time order, each once. Hours
are named by their full key ("2026-11-27T08", 08:00-09:00 local), never by "08:00"
alone, so a figure of a range report says which day it belongs to.

Traffic (交通), per road sensor: the mean speed of the period's readings, the congested
hours — an hour whose mean speed is under the device's speed threshold or whose mean
occupancy is at or over its occupancy threshold (the thresholds of its trafficJam rule,
citybrain.alerts.rules.settings) — and, for the scope, the busiest hours of the period by
total mean vehicle intensity (the sum over the sensors of each one's hourly mean; ties:
the earlier hour).

Water (水位, urban and safety), per gauge: the period's maximum level against its warning
and guarantee levels (警戒水位 / 保证水位), the hours whose maximum reached each, and the
hour of the maximum (the first such hour).

Every figure carries the count of readings or hours behind it; a device with no reading
in the period shows None, not zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from citybrain.alerts.rules.settings import effective
from citybrain.reports.hours import Rollups, hourly_maxima, hourly_means, period_span, totals

BUSIEST_HOURS = 3


def traffic_section(rollups: Rollups, sensors: Iterable[Mapping[str, Any]], hours: Sequence[str]) -> dict[str, Any]:
    hours = sorted(set(hours))
    roads = []
    intensity_by_hour = [0.0] * len(hours)
    measured_hours = [0] * len(hours)
    for device in sorted(sensors, key=lambda d: d["id"]):
        settings = effective(device)
        speed_limit, occupancy_limit = settings["speed_threshold_kmh"], settings["occupancy_threshold"]
        speeds = hourly_means(rollups, device["id"], "averageVehicleSpeed", hours)
        occupancy = hourly_means(rollups, device["id"], "occupancy", hours)
        intensity = hourly_means(rollups, device["id"], "intensity", hours)
        congested = [
            hours[i] for i in range(len(hours)) if _congested(speeds[i], occupancy[i], speed_limit, occupancy_limit)
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
                "hours_measured": sum(
                    1 for i in range(len(hours)) if speeds[i] is not None or occupancy[i] is not None
                ),
                "thresholds": {"speed_kmh": speed_limit, "occupancy": occupancy_limit},
            }
        )
    ranked = sorted((i for i in range(len(hours)) if measured_hours[i]), key=lambda i: (-intensity_by_hour[i], i))
    return {
        "period": period_span(hours),
        "roads": roads,
        "busiest_hours": [
            {"hour": hours[i], "intensity_vehicles_per_h": intensity_by_hour[i], "sensors": measured_hours[i]}
            for i in ranked[:BUSIEST_HOURS]
        ],
        "units": {"mean_speed_kmh": "km/h", "intensity_vehicles_per_h": "vehicles/h"},
    }


def _congested(speed: float | None, occupancy: float | None, speed_limit: float, occupancy_limit: float) -> bool:
    return (speed is not None and speed < speed_limit) or (occupancy is not None and occupancy >= occupancy_limit)


def water_section(rollups: Rollups, gauges: Iterable[Mapping[str, Any]], hours: Sequence[str]) -> dict[str, Any]:
    hours = sorted(set(hours))
    rows = []
    for device in sorted(gauges, key=lambda d: d["id"]):
        thresholds = device.get("thresholds") or {}
        warning, guarantee = thresholds.get("warning"), thresholds.get("guarantee")
        maxima = hourly_maxima(rollups, device["id"], "waterLevel", hours)
        present = [(hours[i], v) for i, v in enumerate(maxima) if v is not None]
        top = max(present, key=lambda p: p[1], default=None)  # the first hour of the maximum
        rows.append(
            {
                "device_id": device["id"],
                "name": device.get("name") or device["id"],
                "town": device["town"],
                "max_level_m": top[1] if top else None,
                "max_at": top[0] if top else None,
                "warning_m": warning,
                "guarantee_m": guarantee,
                "hours_at_or_above_warning": _hours_at_or_above(present, warning),
                "hours_at_or_above_guarantee": _hours_at_or_above(present, guarantee),
                "hours_measured": len(present),
            }
        )
    return {"period": period_span(hours), "gauges": rows, "units": {"level": "m"}}


def _hours_at_or_above(present: list[tuple[str, float]], level: float | None) -> int | None:
    if level is None:
        return None
    return sum(1 for _, value in present if value >= level)
