"""Response models of the alerts' routes (see citybrain.core.responses).

An alert follows the FIWARE Alert data model where it has a name (`type`,
`category`, `subCategory`, `severity`, `dateIssued`, `alertSource`,
`description`, `data`, `location`) and adds its status and who did what."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from citybrain.core.responses import Instant, Number, Open, Page, Shape, optional

Severity = Literal["informational", "low", "medium", "high", "critical"]


class Point(Shape):
    """GeoJSON."""

    type: Literal["Point"]
    coordinates: list[Number] = Field(description="[longitude, latitude]")


class HistoryEntry(Open):
    """One state change; `severity` and `from` on openings and escalations, `note` when one was given."""

    action: Literal["opened", "escalated", "acknowledged", "resolved"]
    at: Instant
    by: str = Field(description="rules, auto, or the department that acted")
    severity: Severity | None = optional()
    from_: Severity | None = optional("the severity before an escalation", alias="from")
    note: str | None = optional()


class AlertSummary(Shape):
    """An alert as listed (without its history)."""

    id: str
    type: Literal["Alert"]
    category: str = Field(description="FIWARE category: environment, weather, traffic, security, device")
    subCategory: str = Field(description="airPollution, noisePollution, floodRisk, trafficJam, buildingRisk or offline")
    severity: Severity = Field(description="the worst seen while it was open")
    dateIssued: Instant
    alertSource: str = Field(description="the device id")
    description: str | None = optional()
    data: dict[str, Any] = Field(description="the latest triggering values and the thresholds they broke")
    status: Literal["open", "acknowledged", "resolved"]
    rule: str = Field(description="aqi, noise, water, traffic, structure or offline")
    device_id: str
    device_type: str | None = optional()
    domain: str | None = optional()
    town: str | None = optional()
    owner: str | None = optional("the device's department")
    location: Point | None = optional()
    open_key: str | None = optional("device#rule while the alert is active")
    issued_ms: int
    lastSeen: Instant
    last_seen_ms: int
    peakValue: Number | None = optional("the worst value of the rule's measure")
    peakAt: Instant
    occurrences: int
    acknowledgedBy: str | None = optional()
    acknowledgedAt: Instant | None = optional()
    resolvedBy: str | None = optional("auto, or the department that resolved it")
    resolvedAt: Instant | None = optional()


class Alert(AlertSummary):
    history: list[HistoryEntry]


class AlertPage(Page[AlertSummary]):
    pass
