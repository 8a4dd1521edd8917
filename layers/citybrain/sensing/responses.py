"""Response models of the devices' and readings' routes (see citybrain.core.responses).

A device is what its registration said (citybrain.sensing.devices.DeviceIn) plus
what the platform keeps; these models describe it without re-applying the input
rules, so a record stored under older rules is still shown. Readings are open
objects: their values are named by the device type's vocabulary, and derived
indicators sit beside them."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, StrictBool, StrictFloat, StrictInt

from citybrain.core.responses import FieldError, Instant, Number, Open, Page, Shape, optional
from citybrain.core.vocabulary import Domain, Town
from citybrain.sensing.vocabulary import AcousticZone, DeviceType

Value = StrictBool | StrictInt | StrictFloat


class Position(Shape):
    lat: Number = Field(description="WGS 84 latitude")
    lon: Number = Field(description="WGS 84 longitude")


class GaugeLevels(Shape):
    """警戒水位 (warning) and 保证水位 (guarantee), metres on the gauge's datum."""

    warning: Number
    guarantee: Number


class DeviceRules(Shape):
    """The device's own alert thresholds (what is absent takes the default)."""

    aqi_high: int | None = optional("AQI above this: high (default 200)")
    aqi_critical: int | None = optional("AQI above this: critical (default 300)")
    speed_threshold_kmh: Number | None = optional()
    occupancy_threshold: Number | None = optional()
    consecutive: int | None = optional("congested readings in a row")
    tilt_limit_deg: Number | None = optional()
    crack_width_limit_mm: Number | None = optional()
    settlement_limit_mm: Number | None = optional()
    tilt_rate_limit_deg_per_h: Number | None = optional()
    crack_width_rate_limit_mm_per_h: Number | None = optional()
    settlement_rate_limit_mm_per_h: Number | None = optional()
    hysteresis: int | None = optional("normal readings in a row that resolve an alert (default 3)")


class Device(Shape):
    id: str
    type: DeviceType
    domain: Domain
    town: Town
    location: Position
    name: str | None = optional()
    address: str | None = optional()
    acoustic_zone: AcousticZone | None = optional("GB 3096-2008 class (noise devices)")
    thresholds: GaugeLevels | None = optional("warning and guarantee levels in metres (water-level gauges)")
    reporting_interval_seconds: int
    rules: DeviceRules | None = optional()
    owner: str = Field(description="the department that registered it")
    created_at: Instant
    updated_at: Instant


class DevicePage(Page[Device]):
    pass


class Observation(Open):
    """One reading as stored: its values (FIWARE names) and, for air readings, the derived
    China AQI indicators beside them."""

    device_id: str
    t: int = Field(description="observed time, epoch milliseconds")
    observed_at: Instant
    values: dict[str, Value]
    airQualityIndex: int | None = optional(
        "China real-time AQI of the reading, by the standard in airQualityStandard (HJ 633-2026); readings "
        "stored before it carry HJ 633-2012's index and no airQualityStandard"
    )
    airQualityStandard: str | None = optional("the standard the index follows: HJ 633-2026")
    airQualityLevel: str | None = optional("优, 良, 轻度污染, 中度污染, 重度污染, 严重污染")
    airQualityLevelEn: str | None = optional()
    airQualityGrade: str | None = optional("一级 … 六级")
    primaryPollutant: list[str] | None = optional("the pollutants whose IAQI is the AQI (when it is over 50)")
    iaqi: dict[str, int] | None = optional("individual AQI per pollutant")


class LatestObservation(Observation):
    received_at: Instant


class DeviceDetail(Device):
    status: Literal["online", "offline", "never_reported"] = Field(
        description="online when it reported within 3x its reporting interval"
    )
    latest: LatestObservation | None = optional("the newest observation (absent until it reports)")


class ReadingSeries(Page[Observation]):
    """A device's readings, oldest first."""

    device_id: str


class RejectedItem(Shape):
    index: int = Field(description="position in the request's list")
    errors: list[FieldError]


class ReadingsAccepted(Shape):
    accepted: int = Field(description="readings queued for storage")
    rejected: list[RejectedItem]
    request_id: str = Field(description="names this request's rejections in the rejections table")
