"""What the rules are called, what their alerts are, and what a rule says about a reading."""

from __future__ import annotations

from typing import Any, NamedTuple

# FIWARE Alert severities, least to most severe.
SEVERITIES = ("informational", "low", "medium", "high", "critical")
SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}


class Finding(NamedTuple):
    """A reading breaks a rule."""

    severity: str
    value: float  # the rule's measure; larger is worse (peakValue keeps the largest)
    data: dict[str, Any]  # the triggering values and the thresholds they broke
    description: str


# A reading the rule looked at and found fine (counts towards auto-resolve).
NORMAL = "normal"
# A reading that is not fine but not yet an alert (a jam still building up):
# it fires nothing, yet it breaks a run of normal readings.
PENDING = "pending"


class Event(NamedTuple):
    """What the rules tell the alert lifecycle about one device.

    fire:  reading at `t` breaks `rule` (severity, value, data, description set).
    clear: the rule has been normal for the device's hysteresis count of readings in a
           row (or, for offline, the device reported again): its open alert resolves."""

    kind: str  # "fire" | "clear"
    rule: str
    t: int  # epoch ms of the reading (of the check, for offline)
    severity: str | None = None
    value: float | None = None
    data: dict[str, Any] | None = None
    description: str = ""


def fire(rule: str, t: int, finding: Finding) -> Event:
    return Event("fire", rule, t, finding.severity, finding.value, finding.data, finding.description)


def clear(rule: str, t: int, normal_readings: int) -> Event:
    return Event("clear", rule, t, data={"normalReadings": normal_readings})


class Rule(NamedTuple):
    category: str  # FIWARE Alert category
    sub_category: str  # FIWARE Alert subCategory
    measure: str  # what Finding.value / peakValue counts


RULES: dict[str, Rule] = {
    "aqi": Rule("environment", "airPollution", "AQI (HJ 633-2026)"),
    "noise": Rule("environment", "noisePollution", "dB(A) over the GB 3096-2008 limit"),
    "water": Rule("weather", "floodRisk", "water level (m)"),
    "traffic": Rule("traffic", "trafficJam", "consecutive congested readings"),
    "structure": Rule("security", "buildingRisk", "ratio to the limit (1 = at the limit)"),
    "offline": Rule("device", "offline", "minutes silent"),
}

# The rules each device type is checked against (offline applies to every type).
RULES_BY_TYPE: dict[str, tuple[str, ...]] = {
    "air_quality": ("aqi",),
    "noise": ("noise",),
    "water_level": ("water",),
    "traffic_flow": ("traffic",),
    "structure": ("structure",),
}
