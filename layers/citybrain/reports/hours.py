"""Reading a device's local day out of the hourly rollups: the 24 local hours of a date
and, per hour, the mean, maximum or count of one value (None where the hour has none).

Rollups are keyed by local hour ("2026-11-27T23" is 23:00-24:00 +08:00), so a reading at
23:59 local belongs to its day and one at 00:30 local to the next, whatever their UTC
dates; a report's cost grows with devices × hours, never with readings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

Rollups = Mapping[tuple[str, str], Mapping[str, Any]]  # (device id, local hour) -> rollup item


def day_hours(day: date) -> list[str]:
    """The 24 local hours of a local date, as rollups name them."""
    return [f"{day.isoformat()}T{hour:02d}" for hour in range(24)]


def hour_stats(rollups: Rollups, device_id: str, name: str, hour: str) -> Mapping[str, Any] | None:
    """The rollup stats of `name` in that hour ({n, sum, min, max[, energy]}), None without a reading."""
    stats = (rollups.get((device_id, hour)) or {}).get("values", {}).get(name)
    return stats if stats and stats.get("n") else None


def hourly_means(rollups: Rollups, device_id: str, name: str, hours: Sequence[str]) -> list[float | None]:
    """The device's mean of `name` in each hour (None where it has no reading of it)."""
    return [(s["sum"] / s["n"]) if (s := hour_stats(rollups, device_id, name, h)) else None for h in hours]


def hourly_maxima(rollups: Rollups, device_id: str, name: str, hours: Sequence[str]) -> list[float | None]:
    return [s["max"] if (s := hour_stats(rollups, device_id, name, h)) else None for h in hours]


def totals(rollups: Rollups, device_id: str, name: str, hours: Sequence[str]) -> tuple[float, int]:
    """(sum, count) of `name` over the hours: the exact mean of every reading, not of hours."""
    total, count = 0.0, 0
    for hour in hours:
        stats = hour_stats(rollups, device_id, name, hour)
        if stats:
            total += stats["sum"]
            count += stats["n"]
    return total, count


def period_span(hours: Sequence[str]) -> dict[str, Any]:
    """The first and last local hour of a section's period, and how many it has."""
    return {"from_hour": hours[0] if hours else None, "to_hour": hours[-1] if hours else None, "hours": len(hours)}
