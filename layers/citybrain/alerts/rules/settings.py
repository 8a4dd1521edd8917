"""Per-device rule settings: the defaults, and the effective values for one device.

A device record may carry `rules: {...}` (validated at registration by
citybrain.sensing.devices.RuleSettings); anything it leaves out takes the default here.
Plain dicts, no pydantic: this runs once per device per batch on the hot path."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DEFAULTS: dict[str, float | int] = {
    # Air: HJ 633-2026 level 5 (重度污染) starts above AQI 200, level 6 (严重污染) above 300.
    "aqi_high": 200,
    "aqi_critical": 300,
    # Traffic: an urban arterial under 20 km/h, or a detector loop occupied 80% of the time, is congested.
    "speed_threshold_kmh": 20.0,
    "occupancy_threshold": 0.8,
    "consecutive": 3,
    # Structure: monitoring alarm values (监测报警值) for an ordinary masonry/concrete building:
    # absolute limits, and the change per hour that means the structure is moving.
    "tilt_limit_deg": 0.5,
    "crack_width_limit_mm": 1.0,
    "settlement_limit_mm": 30.0,
    "tilt_rate_limit_deg_per_h": 0.1,
    "crack_width_rate_limit_mm_per_h": 0.2,
    "settlement_rate_limit_mm_per_h": 2.0,
    # Every rule: consecutive normal readings that resolve an open alert by themselves.
    "hysteresis": 3,
}

# Which device type each setting concerns (registration rejects the others).
APPLIES_TO: dict[str, str | None] = {
    "aqi_high": "air_quality",
    "aqi_critical": "air_quality",
    "speed_threshold_kmh": "traffic_flow",
    "occupancy_threshold": "traffic_flow",
    "consecutive": "traffic_flow",
    "tilt_limit_deg": "structure",
    "crack_width_limit_mm": "structure",
    "settlement_limit_mm": "structure",
    "tilt_rate_limit_deg_per_h": "structure",
    "crack_width_rate_limit_mm_per_h": "structure",
    "settlement_rate_limit_mm_per_h": "structure",
    "hysteresis": None,  # every type
}

DEFAULT_REPORTING_INTERVAL_S = 600
OFFLINE_FACTOR = 3  # silent for more than 3 reporting intervals = offline


def effective(device: Mapping[str, Any]) -> dict[str, Any]:
    """The device's rule settings over the defaults."""
    own = device.get("rules")
    return {**DEFAULTS, **own} if own else DEFAULTS


def offline_window_ms(device: Mapping[str, Any]) -> int:
    return OFFLINE_FACTOR * int(device.get("reporting_interval_seconds") or DEFAULT_REPORTING_INTERVAL_S) * 1000
