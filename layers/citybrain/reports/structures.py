"""The structural-health figures of a report period, from the hourly rollups.

Per structural-monitoring device and monitored value (tilt, crackWidth, settlement):
the period's largest magnitude against the device's limit, the hours over it and the
hour of the maximum, with the readings and hours behind them. The limits are the ones
the buildingRisk rule judges readings by (citybrain.alerts.rules.structure.QUANTITIES
over the device's settings, citybrain.alerts.rules.settings.effective), compared the
same way: they apply to the absolute value (a settlement of -31 mm is past a 30 mm
limit), a value at the limit is within it and only one over it counts.

- An hour's magnitude is the larger of |min| and |max| of its rollup, so an hour over
  the limit is one in which at least one reading was over it.
- `extreme` is the signed value of that largest magnitude (the first hour of it).
- Rates of change (the rule's second alarm value) need consecutive readings, which
  rollups do not keep: they are in the alerts section, not here.
- `over_limit` lists the devices with any value over its limit in any hour of the period.

A device or value with no reading in the period shows None and counts of 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from citybrain.alerts.rules.settings import effective
from citybrain.alerts.rules.structure import QUANTITIES
from citybrain.reports.hours import Rollups, hour_stats, period_span
from citybrain.sensing.vocabulary import VALUES, DeviceType

UNITS = {name: VALUES[DeviceType.structure][name].unit for name, *_ in QUANTITIES}


def _over(value: float, limit: float) -> bool:
    """The rule's own test (citybrain.alerts.rules.structure.check)."""
    return abs(value) / limit > 1


def value_figures(rollups: Rollups, device_id: str, name: str, limit: float, hours: Sequence[str]) -> dict[str, Any]:
    extreme: float | None = None
    extreme_at: str | None = None
    measured = over = readings = 0
    for hour in hours:
        stats = hour_stats(rollups, device_id, name, hour)
        if stats is None:
            continue
        measured += 1
        readings += stats["n"]
        low, high = stats["min"], stats["max"]
        if _over(low, limit) or _over(high, limit):
            over += 1
        top = high if abs(high) >= abs(low) else low
        if extreme is None or abs(top) > abs(extreme):
            extreme, extreme_at = top, hour
    return {
        "limit": limit,
        "unit": UNITS[name],
        "max_abs": abs(extreme) if extreme is not None else None,
        "extreme": extreme,
        "max_at": extreme_at,
        "ratio_to_limit": round(abs(extreme) / limit, 3) if extreme is not None else None,
        "hours_over_limit": over,
        "hours_measured": measured,
        "readings": readings,
        "over_limit": over > 0 if measured else None,
    }


def device_figures(rollups: Rollups, device: Mapping[str, Any], hours: Sequence[str]) -> dict[str, Any]:
    settings = effective(device)
    values = {
        name: value_figures(rollups, device["id"], name, settings[limit_key], hours)
        for name, limit_key, *_ in QUANTITIES
    }
    measured_hours = sum(
        1 for hour in hours if any(hour_stats(rollups, device["id"], name, hour) for name, *_ in QUANTITIES)
    )
    verdicts = [v["over_limit"] for v in values.values() if v["over_limit"] is not None]
    return {
        "device_id": device["id"],
        "name": device.get("name") or device["id"],
        "town": device["town"],
        "hours_measured": measured_hours,
        "over_limit": any(verdicts) if verdicts else None,
        "values": values,
    }


def structure_section(rollups: Rollups, devices: Iterable[Mapping[str, Any]], hours: Sequence[str]) -> dict[str, Any]:
    """Structural-monitoring devices over the local hours (devices: structure devices)."""
    hours = sorted(set(hours))
    figures = [device_figures(rollups, d, hours) for d in sorted(devices, key=lambda d: d["id"])]
    return {
        "period": period_span(hours),
        "sensors": figures,
        "sensors_measured": sum(1 for f in figures if f["hours_measured"]),
        "over_limit": [
            {
                "device_id": f["device_id"],
                "name": f["name"],
                "town": f["town"],
                "values": [name for name, v in f["values"].items() if v["over_limit"]],
            }
            for f in figures
            if f["over_limit"]
        ],
        "units": UNITS,
    }
