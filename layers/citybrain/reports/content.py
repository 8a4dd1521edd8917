"""A report's content: every section of its period and scope, computed from the hourly
rollups of the devices in scope, the alerts of the period and the exchange statistics.

What a section reads is devices × hours of rollups (one batched read for the whole
period), never raw readings, so a report costs the same whether the devices sent one
reading an hour or a hundred.

Sections, by the devices' type within the scope (town and/or domain):
- environment: air quality (HJ 633-2026: daily AQI per station, town and district for a
  daily report; per day for a range; the real-time AQI of the hour for an hourly one)
  and noise (GB 3096-2008);
- traffic, water levels, structures, devices online, alerts;
- the data exchange (district-wide figures, so only in a report without town or domain).
A scope with no device of a type still has its section, empty ("无数据"), when no domain
narrows the report; with a domain, only the sections of that domain's devices appear.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from citybrain.reports.air import air_hour_section, air_section
from citybrain.reports.alerts import alerts_section
from citybrain.reports.devices import devices_section
from citybrain.reports.exchange import exchange_section
from citybrain.reports.hours import Rollups
from citybrain.reports.models import Period
from citybrain.reports.noise import noise_section
from citybrain.reports.sensors import traffic_section, water_section
from citybrain.reports.structures import structure_section
from citybrain.sensing.aqi import LEVELS, STANDARD

DEVICE_SECTIONS: tuple[tuple[str, str], ...] = (
    ("air", "air_quality"),
    ("noise", "noise"),
    ("traffic", "traffic_flow"),
    ("water", "water_level"),
    ("structures", "structure"),
)
STANDARDS = {
    "air": f"{STANDARD} (AQI), GB 3095-2026 (data statistics validity)",
    "noise": "GB 3096-2008",
    "traffic": "各路段传感器的拥堵阈值（车速、占有率）",
    "water": "各水位站的警戒水位与保证水位",
    "structures": "各监测设备的结构安全限值（倾斜、裂缝宽度、沉降）",
}


class ReportSources(Protocol):
    """What a report reads (wired in citybrain.composition)."""

    def devices(self) -> list[dict[str, Any]]: ...
    def rollups(self, device_ids: Sequence[str], hours: Sequence[str]) -> Rollups: ...
    def alerts(self, start_ms: int, end_ms: int) -> list[dict[str, Any]]: ...
    def exchange_rows(self, day: str) -> list[dict[str, Any]]: ...


def in_scope(device: Mapping[str, Any], town: str | None, domain: str | None) -> bool:
    return (town is None or device.get("town") == town) and (domain is None or device.get("domain") == domain)


def compose(period: Period, town: str | None, domain: str | None, sources: ReportSources) -> dict[str, Any]:
    devices = [d for d in sources.devices() if in_scope(d, town, domain)]
    rollups = sources.rollups([d["id"] for d in devices], period.hours)
    of_type: dict[str, list[dict[str, Any]]] = {}
    for device in devices:
        of_type.setdefault(str(device.get("type")), []).append(device)
    sections: dict[str, Any] = {}
    builders: dict[str, Callable[[list[dict[str, Any]]], Any]] = {
        "air": lambda stations: _air(rollups, stations, period),
        "noise": lambda members: noise_section(rollups, members, period.hours),
        "traffic": lambda members: traffic_section(rollups, members, period.hours),
        "water": lambda members: water_section(rollups, members, period.hours),
        "structures": lambda members: structure_section(rollups, members, period.hours),
    }
    for name, device_type in DEVICE_SECTIONS:
        members = of_type.get(device_type, [])
        if domain is not None and not members:
            continue
        sections[name] = {"standard": STANDARDS[name], "devices": len(members), **builders[name](members)}
    sections["devices"] = devices_section(rollups, devices, period.hours)
    alerts = [a for a in sources.alerts(period.start_ms, period.end_ms) if in_scope(a, town, domain)]
    sections["alerts"] = alerts_section(alerts, period.start_ms, period.end_ms)
    if town is None and domain is None:
        sections["exchange"] = exchange_section(
            {d.isoformat(): sources.exchange_rows(d.isoformat()) for d in period.days}
        )
    return {
        "period": period.describe(),
        "scope": {"town": town, "domain": domain},
        "time_zone": "Asia/Shanghai (+08:00)",
        "sections": sections,
    }


def _air(rollups: Rollups, stations: list[dict[str, Any]], period: Period) -> dict[str, Any]:
    if period.kind == "hourly":
        return air_hour_section(rollups, stations, period.hours[0])
    if period.kind == "daily":
        trend = [(hour, air_hour_section(rollups, stations, hour)["district"]["aqi"]) for hour in period.hours]
        return {
            **air_section(rollups, stations, period.days[0]),
            "trend": [{"hour": hour, "aqi": _index(aqi), "level": _level(aqi)} for hour, aqi in trend],
        }
    days = [air_section(rollups, stations, day) for day in period.days]
    days_per_level = dict.fromkeys((found.name for _, found in LEVELS), 0)
    unrated = 0
    for day in days:
        aqi = day["district"]["aqi"]
        if aqi is None:
            unrated += 1
        else:
            days_per_level[aqi["airQualityLevel"]] += 1
    return {
        "standard": STANDARD,
        "days": [
            {
                "date": day["date"],
                "district": day["district"],
                "towns": day["towns"],
                "worst_stations": day["worst_stations"],
            }
            for day in days
        ],
        "district_days_per_level": days_per_level,
        "district_days_unrated": unrated,
        "trend": [
            {"date": day["date"], "aqi": _index(day["district"]["aqi"]), "level": _level(day["district"]["aqi"])}
            for day in days
        ],
    }


def _index(aqi: Mapping[str, Any] | None) -> int | None:
    return None if aqi is None else aqi["airQualityIndex"]


def _level(aqi: Mapping[str, Any] | None) -> str | None:
    return None if aqi is None else aqi["airQualityLevel"]
