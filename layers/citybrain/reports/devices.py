"""The devices-online figures of a report period, from the hourly rollups.

- A device is online in a local hour when its rollup of that hour counts a reading
  (count > 0).
- A device's possible hours are the period's hours from the local hour of its
  registration (`created_at`) on, plus any earlier hour it has readings for (history
  loaded from a file); a record without a readable `created_at` counts every hour. A
  device registered after the period, with no reading in it, is not part of the
  period: it is counted in `registered_after_period` and nowhere else. For devices
  registered before the period, possible hours are simply devices × hours.
- The online ratio of a town, a device type or the district is the online hours of its
  devices over their possible hours (None when there is none), `online_percent` the
  same in per cent to 0.1.
- `reported` counts the devices with a reading in the period; `silent` lists those
  without one (id, name, town, type), sorted by id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from citybrain.core import timeutil
from citybrain.reports.hours import Rollups, period_span


@dataclass
class _Tally:
    devices: int = 0
    reported: int = 0
    hours_online: int = 0
    hours_possible: int = 0

    def add(self, online: int, possible: int) -> None:
        self.devices += 1
        self.reported += 1 if online else 0
        self.hours_online += online
        self.hours_possible += possible

    def figures(self) -> dict[str, Any]:
        ratio = self.hours_online / self.hours_possible if self.hours_possible else None
        return {
            "devices": self.devices,
            "reported": self.reported,
            "silent": self.devices - self.reported,
            "hours_online": self.hours_online,
            "hours_possible": self.hours_possible,
            "online_ratio": round(ratio, 4) if ratio is not None else None,
            "online_percent": round(100 * ratio, 1) if ratio is not None else None,
        }


def registration_hour(device: Mapping[str, Any]) -> str | None:
    """The local hour the device was registered in, or None when its record does not say."""
    created = device.get("created_at")
    if not created:
        return None
    try:
        return timeutil.local_hour(timeutil.parse_instant(created))
    except (timeutil.BadTime, TypeError, ValueError):
        return None


def devices_section(rollups: Rollups, devices: Iterable[Mapping[str, Any]], hours: Sequence[str]) -> dict[str, Any]:
    """Every device in scope (of any type) over the local hours."""
    hours = sorted(set(hours))
    total = _Tally()
    towns: dict[str, _Tally] = {}
    types: dict[str, _Tally] = {}
    silent = []
    later = 0
    for device in sorted(devices, key=lambda d: d["id"]):
        since = registration_hour(device)
        online = possible = 0
        for hour in hours:
            reported = bool((rollups.get((device["id"], hour)) or {}).get("count"))
            online += reported
            possible += reported or since is None or hour >= since
        if not online and since is not None and hours and since > hours[-1]:
            later += 1
            continue
        for tally in (
            total,
            towns.setdefault(str(device.get("town")), _Tally()),
            types.setdefault(str(device.get("type")), _Tally()),
        ):
            tally.add(online, possible)
        if not online:
            silent.append(
                {
                    "device_id": device["id"],
                    "name": device.get("name") or device["id"],
                    "town": device.get("town"),
                    "type": device.get("type"),
                }
            )
    figures = total.figures()
    return {
        "period": period_span(hours),
        "registered": figures.pop("devices"),
        **figures,
        "registered_after_period": later,
        "by_town": {town: tally.figures() for town, tally in sorted(towns.items())},
        "by_type": {kind: tally.figures() for kind, tally in sorted(types.items())},
        "silent_devices": silent,
    }
