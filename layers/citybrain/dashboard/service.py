"""城市运行总览: the district's operating state right now, computed on each request from
what the platform already keeps — the device registry, each device's latest state, the
hourly rollups of the last 24 local hours, the active alerts and the exchange's counters
of the local day. Nothing is stored for it, so a newly opened alert is in the very next
overview.

- Air, by HJ 633-2026 (citybrain.sensing.aqi): an area's AQI of a local hour is computed
  from, per pollutant, the mean over its stations of their hourly means (each rollup's
  sum / n) — never a mean of AQIs, and never the `derived` index stored with a reading,
  which for old readings follows the 2012 table. The means are rounded to the precision
  they are shown with (0.1 µg/m³, CO 0.01 mg/m³) before the index is computed, so the
  index can be recomputed from the page. A town's current AQI is that of the latest local
  hour in which one of its stations reported; none in the last 24 hours: 无数据.
- Traffic: an hour's mean speed is the mean of the road sensors' hourly means.
- Water: per hour, the highest margin of a gauge's hourly maximum over its own warning
  level (警戒水位): gauges on different rivers read on different datums, so only margins
  compare across the district.
- Devices are online as GET /v1/devices/{id} says (citybrain.sensing.devices.online_state).
- Alerts: every active one (open or acknowledged), newest first. At most one alert is
  active per device and rule, so there are never more than the registry allows.
- Exchange: the counters of the local day (citybrain.exchange.stats), summed.

Pure apart from the readers it is given: tests run it on in-memory fakes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from citybrain.alerts.rules.catalogue import SEVERITIES, SEVERITY_RANK
from citybrain.core import timeutil
from citybrain.core.vocabulary import DOMAIN_NAMES, Town
from citybrain.reports.air import UNITS
from citybrain.reports.hours import Rollups, hourly_maxima, hourly_means
from citybrain.sensing.aqi import POLLUTANTS, STANDARD, air_quality, level
from citybrain.sensing.devices import online_state

TREND_HOURS = 24
HOUR_MS = 3_600_000
ALERTS_SHOWN = 50
TOP_PAIRS = 5
NO_DATA = "无数据"
STATION, ROAD_SENSOR, GAUGE = "air_quality", "traffic_flow", "water_level"
SHOWN_DECIMALS = {"co": 2}  # mg/m³; every other pollutant in µg/m³ to 0.1
DEVICE_PAGE = 1000
DEVICE_STATES = ("online", "offline", "never_reported")


# -- what it reads ------------------------------------------------------------------
class DeviceRegistry(Protocol):
    """The registry (citybrain.sensing.device_store)."""

    def list(self, filters: dict[str, str], limit: int, cursor: dict | None) -> tuple[list[dict], dict | None]: ...


class ReadingSummaries(Protocol):
    """Hourly rollups and latest states, in batch (citybrain.sensing.reading_store)."""

    def rollups(self, device_ids: Iterable[str], hours: Iterable[str]) -> dict[tuple[str, str], dict[str, Any]]: ...
    def states(self, device_ids: Iterable[str]) -> dict[str, dict[str, Any]]: ...


class AlertListing(Protocol):
    """The active alerts (citybrain.alerts.store: a sparse index of the active ones)."""

    def active_alerts(self) -> list[dict[str, Any]]: ...


class ExchangeCounters(Protocol):
    """The exchange's statistics of one local day (citybrain.exchange.stats_store)."""

    def day(self, day: str) -> list[dict[str, Any]]: ...


class DepartmentNames(Protocol):
    """Department id -> its name (citybrain.departments.service)."""

    def names(self) -> dict[str, str]: ...


# -- the figures ----------------------------------------------------------------------
def last_hours(now_ms: int, count: int = TREND_HOURS) -> list[str]:
    """The local hours ending with the current one, oldest first, as rollups name them."""
    return [timeutil.local_hour(now_ms - (count - 1 - i) * HOUR_MS) for i in range(count)]


def hour_label(hour: str) -> str:
    """The local hour "2026-11-27T14" as the page labels it: "14:00"."""
    return f"{hour[-2:]}:00"


def area_air(rollups: Rollups, station_ids: Sequence[str], hour: str) -> dict[str, Any] | None:
    """The AQI of an area for one local hour from its stations' hourly means, or None when
    none of them measured a pollutant in that hour."""
    concentrations: dict[str, float] = {}
    reporting: set[str] = set()
    for pollutant in POLLUTANTS:
        means = {}
        for station in station_ids:
            (mean,) = hourly_means(rollups, station, pollutant, [hour])
            if mean is not None:
                means[station] = mean
        if means:
            concentrations[pollutant] = round(sum(means.values()) / len(means), SHOWN_DECIMALS.get(pollutant, 1))
            reporting.update(means)
    indicators = air_quality(concentrations)
    if indicators is None:
        return None
    found = level(indicators["airQualityIndex"])
    return {
        "aqi": indicators["airQualityIndex"],
        "level": found.name,
        "level_en": found.name_en,
        "grade": found.grade,
        "level_number": found.number,
        "colour": found.colour,
        "rgb": found.rgb,
        "primary_pollutants": indicators["primaryPollutant"],
        "concentrations": concentrations,
        "hour": hour,
        "hour_label": hour_label(hour),
        "stations": len(reporting),
        "standard": STANDARD,
    }


def latest_air(rollups: Rollups, station_ids: Sequence[str], hours: Sequence[str]) -> dict[str, Any] | None:
    """The area's AQI of the latest of `hours` in which one of its stations reported."""
    for hour in reversed(hours):
        found = area_air(rollups, station_ids, hour)
        if found is not None:
            return found
    return None


def mean_speeds(rollups: Rollups, sensor_ids: Sequence[str], hours: Sequence[str]) -> list[float | None]:
    """Per hour, the mean of the road sensors' hourly mean speeds (km/h)."""
    series = [hourly_means(rollups, sensor, "averageVehicleSpeed", hours) for sensor in sensor_ids]
    out: list[float | None] = []
    for index in range(len(hours)):
        values = [value for s in series if (value := s[index]) is not None]
        out.append(round(sum(values) / len(values), 1) if values else None)
    return out


def water_margins(rollups: Rollups, gauges: Sequence[Mapping[str, Any]], hours: Sequence[str]) -> list[float | None]:
    """Per hour, the highest gauge maximum minus that gauge's warning level (m; negative below it)."""
    series = []
    for gauge in gauges:
        warning = (gauge.get("thresholds") or {}).get("warning")
        if warning is not None:
            series.append((warning, hourly_maxima(rollups, gauge["id"], "waterLevel", hours)))
    out: list[float | None] = []
    for index in range(len(hours)):
        margins = [top - warning for warning, maxima in series if (top := maxima[index]) is not None]
        out.append(round(max(margins), 3) if margins else None)
    return out


def device_counts(
    devices: Iterable[Mapping[str, Any]], states: Mapping[str, Mapping[str, Any]], now_ms: int
) -> dict[str, int]:
    counts = {"devices": 0, **dict.fromkeys(DEVICE_STATES, 0)}
    for device in devices:
        state = states.get(device["id"])
        counts["devices"] += 1
        counts[online_state(dict(device), state["t"] if state else None, now_ms)] += 1
    return counts


def alert_counts(alerts: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    listed = list(alerts)
    by_severity = {severity: sum(a["severity"] == severity for a in listed) for severity in SEVERITIES}
    worst = max((a["severity"] for a in listed), key=SEVERITY_RANK.__getitem__, default=None)
    return {
        "active": len(listed),
        "open": sum(a["status"] == "open" for a in listed),
        "acknowledged": sum(a["status"] == "acknowledged" for a in listed),
        "by_severity": by_severity,
        "worst_severity": worst,
    }


def water_now(gauges: Iterable[Mapping[str, Any]], states: Mapping[str, Mapping[str, Any]]) -> dict[str, int]:
    """How many gauges' latest level stands at or above their warning and guarantee levels."""
    out = {"gauges": 0, "reporting": 0, "at_or_above_warning": 0, "at_or_above_guarantee": 0}
    for gauge in gauges:
        out["gauges"] += 1
        value = ((states.get(gauge["id"]) or {}).get("values") or {}).get("waterLevel")
        if value is None:
            continue
        out["reporting"] += 1
        thresholds = gauge.get("thresholds") or {}
        for name, key in (("warning", "at_or_above_warning"), ("guarantee", "at_or_above_guarantee")):
            if thresholds.get(name) is not None and value >= thresholds[name]:
                out[key] += 1
    return out


def exchange_day(day: str, rows: Iterable[Mapping[str, Any]], names: Mapping[str, str]) -> dict[str, Any]:
    """The day's exchange totals, from the per-department counters, and its busiest pairs."""
    totals = dict.fromkeys(("datasets_published", "requests", "approved", "rejected", "rows", "refused", "pulls"), 0)
    pairs = []
    for row in rows:
        if "department" in row:
            totals["datasets_published"] += int(row.get("datasets_published", 0))
            totals["requests"] += int(row.get("requests_made", 0))
            totals["approved"] += int(row.get("approved", 0))
            totals["rejected"] += int(row.get("rejected", 0))
            totals["rows"] += int(row.get("rows_provided", 0))
            totals["refused"] += int(row.get("refused", 0))
        elif "provider" in row and "consumer" in row:
            totals["pulls"] += int(row.get("pulls", 0))
            pairs.append(
                {
                    "provider": row["provider"],
                    "provider_name": names.get(row["provider"], row["provider"]),
                    "consumer": row["consumer"],
                    "consumer_name": names.get(row["consumer"], row["consumer"]),
                    "requests": int(row.get("requests", 0)),
                    "pulls": int(row.get("pulls", 0)),
                    "rows": int(row.get("rows", 0)),
                }
            )
    pairs.sort(key=lambda p: (-p["rows"], -p["pulls"], -p["requests"], p["provider"], p["consumer"]))
    return {"date": day, **totals, "top_pairs": pairs[:TOP_PAIRS]}


ALERT_FIELDS = (
    "id",
    "severity",
    "status",
    "rule",
    "category",
    "subCategory",
    "description",
    "device_id",
    "town",
    "domain",
    "dateIssued",
    "lastSeen",
    "peakValue",
    "occurrences",
)


def alert_row(alert: Mapping[str, Any], devices: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    row = {name: alert[name] for name in ALERT_FIELDS if alert.get(name) is not None}
    device = devices.get(alert["device_id"]) or {}
    row["device_name"] = device.get("name") or alert["device_id"]
    return row


# -- the overview ---------------------------------------------------------------------
class Dashboard:
    def __init__(
        self,
        devices: DeviceRegistry,
        readings: ReadingSummaries,
        alerts: AlertListing,
        exchange: ExchangeCounters,
        departments: DepartmentNames,
        clock: Callable[[], int] = timeutil.now_ms,
    ) -> None:
        self.devices = devices
        self.readings = readings
        self.alerts = alerts
        self.exchange = exchange
        self.departments = departments
        self.clock = clock

    def overview(self) -> dict[str, Any]:
        """GET /v1/dashboard: KPIs per domain, a tile per town, the active alerts, the last
        24 local hours' trends and the exchange of the day."""
        now = self.clock()
        hours = last_hours(now)
        registry = self._all_devices()
        by_id = {d["id"]: d for d in registry}
        states = self.readings.states(list(by_id))
        of_type: dict[str, list[dict[str, Any]]] = {STATION: [], ROAD_SENSOR: [], GAUGE: []}
        for device in registry:
            if device["type"] in of_type:
                of_type[device["type"]].append(device)
        rolled_up = [d["id"] for kind in of_type.values() for d in kind]
        rollups = self.readings.rollups(rolled_up, hours) if rolled_up else {}
        active = self._active_alerts()

        stations = [d["id"] for d in of_type[STATION]]
        speeds = mean_speeds(rollups, [d["id"] for d in of_type[ROAD_SENSOR]], hours)
        district_air = latest_air(rollups, stations, hours)
        measured = [(hour, speed) for hour, speed in zip(hours, speeds, strict=True) if speed is not None]
        latest_speed = measured[-1] if measured else None
        today = timeutil.local_date(now)
        return {
            "generated_at": timeutil.local_iso(now),
            "date": today,
            "standard": STANDARD,
            "units": {**UNITS, "speed": "km/h", "water_level": "m"},
            "district": {
                "air": district_air,
                "air_label": district_air["level"] if district_air else NO_DATA,
                "devices": device_counts(registry, states, now),
                "alerts": alert_counts(active),
                "traffic": {
                    "sensors": len(of_type[ROAD_SENSOR]),
                    "speed_kmh": latest_speed[1] if latest_speed else None,
                    "hour_label": hour_label(latest_speed[0]) if latest_speed else None,
                },
                "water": water_now(of_type[GAUGE], states),
            },
            "domains": [
                {
                    "domain": str(domain),
                    "name": name,
                    "devices": device_counts((d for d in registry if d["domain"] == domain), states, now),
                    "alerts": alert_counts(a for a in active if a.get("domain") == domain),
                }
                for domain, name in DOMAIN_NAMES.items()
            ],
            "towns": [self._town(town.value, registry, states, rollups, active, hours, now) for town in Town],
            "alerts": {
                "total": len(active),
                "items": [alert_row(a, by_id) for a in active[:ALERTS_SHOWN]],
            },
            "trends": {
                "hours": hours,
                "labels": [hour_label(h) for h in hours],
                "air": [area_air(rollups, stations, h) for h in hours],
                "speed_kmh": speeds,
                "water_margin_m": water_margins(rollups, of_type[GAUGE], hours),
            },
            "exchange": exchange_day(today, self.exchange.day(today), self.departments.names()),
        }

    @staticmethod
    def _town(
        town: str,
        registry: Sequence[Mapping[str, Any]],
        states: Mapping[str, Mapping[str, Any]],
        rollups: Rollups,
        active: Sequence[Mapping[str, Any]],
        hours: Sequence[str],
        now: int,
    ) -> dict[str, Any]:
        devices = [d for d in registry if d["town"] == town]
        stations = [d["id"] for d in devices if d["type"] == STATION]
        air = latest_air(rollups, stations, hours)
        return {
            "town": town,
            "stations": len(stations),
            "air": air,
            "air_label": air["level"] if air else NO_DATA,
            "devices": device_counts(devices, states, now),
            "alerts": alert_counts(a for a in active if a.get("town") == town),
        }

    def _all_devices(self) -> list[dict[str, Any]]:
        devices: list[dict[str, Any]] = []
        cursor = None
        while True:
            page, cursor = self.devices.list({}, DEVICE_PAGE, cursor)
            devices += page
            if not cursor:
                return devices

    def _active_alerts(self) -> list[dict[str, Any]]:
        """Open and acknowledged, newest first, however long ago they were issued; read from
        an index of the active ones only, so the cost does not grow with the alerts' history."""
        return self.alerts.active_alerts()
