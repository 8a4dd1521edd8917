"""The device registry: what a sensor is, where it stands, who owns it."""

from __future__ import annotations

import builtins
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from citybrain.alerts.rules import settings as rule_settings
from citybrain.core import paging, timeutil
from citybrain.core.errors import Conflict, Forbidden, NotFound
from citybrain.core.validation import Integer, Name, Number, one_of
from citybrain.core.vocabulary import Domain, Town
from citybrain.departments.models import Principal
from citybrain.sensing.vocabulary import AcousticZone, DeviceType

CACHED_DEVICES = 50_000
DEVICE_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"


class Location(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lat: Number = Field(ge=-90, le=90)
    lon: Number = Field(ge=-180, le=180)


class WaterThresholds(BaseModel):
    """警戒水位 (warning) and 保证水位 (guarantee), metres on the gauge's datum."""

    model_config = ConfigDict(extra="forbid")
    warning: Number
    guarantee: Number

    @model_validator(mode="after")
    def _ordered(self) -> WaterThresholds:
        if self.guarantee <= self.warning:
            raise ValueError("guarantee level must be above the warning level")
        return self


class RuleSettings(BaseModel):
    """Per-device alert rule settings; what is left out takes the default of
    citybrain.alerts.rules.settings.DEFAULTS (kept there, so the record stores only overrides)."""

    model_config = ConfigDict(extra="forbid")

    aqi_high: Integer | None = Field(default=None, ge=1, le=500, description="AQI above this: high (default 200)")
    aqi_critical: Integer | None = Field(
        default=None, ge=1, le=500, description="AQI above this: critical (default 300)"
    )
    speed_threshold_kmh: Number | None = Field(default=None, gt=0, le=250)
    occupancy_threshold: Number | None = Field(default=None, gt=0, le=1)
    consecutive: Integer | None = Field(default=None, ge=1, le=100, description="congested readings in a row")
    tilt_limit_deg: Number | None = Field(default=None, gt=0, le=90)
    crack_width_limit_mm: Number | None = Field(default=None, gt=0, le=500)
    settlement_limit_mm: Number | None = Field(default=None, gt=0, le=2000)
    tilt_rate_limit_deg_per_h: Number | None = Field(default=None, gt=0, le=90)
    crack_width_rate_limit_mm_per_h: Number | None = Field(default=None, gt=0, le=500)
    settlement_rate_limit_mm_per_h: Number | None = Field(default=None, gt=0, le=2000)
    hysteresis: Integer | None = Field(
        default=None, ge=1, le=100, description="normal readings in a row that resolve an alert (default 3)"
    )

    @model_validator(mode="after")
    def _aqi_ordered(self) -> RuleSettings:
        high = self.aqi_high if self.aqi_high is not None else rule_settings.DEFAULTS["aqi_high"]
        critical = self.aqi_critical if self.aqi_critical is not None else rule_settings.DEFAULTS["aqi_critical"]
        if critical <= high:
            raise ValueError(f"aqi_critical ({critical}) must be above aqi_high ({high})")
        return self


class DeviceIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str = Field(pattern=DEVICE_ID)
    type: DeviceType
    domain: Domain
    town: Town
    location: Location
    name: Name | None = Field(default=None, max_length=200)
    address: Name | None = Field(default=None, max_length=300)
    acoustic_zone: AcousticZone | None = None
    thresholds: WaterThresholds | None = None
    reporting_interval_seconds: Integer = Field(default=600, ge=1, le=86400)
    rules: RuleSettings | None = None

    @field_validator("rules")
    @classmethod
    def _rules_fit_type(cls, rules: RuleSettings | None, info: ValidationInfo) -> RuleSettings | None:
        device_type = info.data.get("type")
        if rules is not None and device_type is not None:
            for name in sorted(rules.model_fields_set):
                wanted = rule_settings.APPLIES_TO[name]
                if wanted is not None and wanted != device_type.value:
                    raise ValueError(f"{name} applies to {wanted} devices only")
        return rules

    @model_validator(mode="after")
    def _type_specific(self) -> DeviceIn:
        if self.type == DeviceType.noise and self.acoustic_zone is None:
            raise ValueError("noise devices need acoustic_zone (GB 3096-2008 class 0, 1, 2, 3, 4a or 4b)")
        if self.type != DeviceType.noise and self.acoustic_zone is not None:
            raise ValueError("acoustic_zone applies to noise devices only")
        if self.type == DeviceType.water_level and self.thresholds is None:
            raise ValueError("water_level devices need thresholds: {warning, guarantee} in metres")
        if self.type != DeviceType.water_level and self.thresholds is not None:
            raise ValueError("thresholds applies to water_level devices only")
        return self


class DeviceStore(Protocol):
    def create(self, record: dict[str, Any]) -> bool: ...
    def replace(self, record: dict[str, Any]) -> None: ...
    def get(self, device_id: str) -> dict[str, Any] | None: ...
    def get_many(self, device_ids: list[str]) -> dict[str, dict[str, Any]]: ...
    def list(self, filters: dict[str, str], limit: int, cursor: dict | None) -> tuple[list[dict], dict | None]: ...


class LatestReadings(Protocol):
    def latest(self, device_id: str) -> dict[str, Any] | None: ...
    def series(
        self, device_id: str, start_ms: int, end_ms: int, limit: int, cursor: dict | None
    ) -> tuple[list[dict], dict | None]: ...


LIST_FILTERS = (("town", Town), ("type", DeviceType), ("domain", Domain))


class Devices:
    def __init__(
        self,
        store: DeviceStore,
        readings: LatestReadings,
        cache_seconds: float = 0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.store = store
        self.readings = readings
        # The registry records the ingest looks up on every POST (500 devices a request is
        # common): kept this long in the process, so a gateway's next step costs no read.
        # A change made through this process is seen at once; one made through another
        # instance within `cache_seconds`. Absent devices are never kept (just registered).
        self.cache_seconds = cache_seconds
        self.clock = clock
        self._cached: dict[str, tuple[float, dict[str, Any]]] = {}

    def list(self, params: Mapping[str, str]) -> dict[str, Any]:
        """GET /v1/devices: a page of devices, filtered by town, type and domain."""
        filters = {}
        for name, allowed in LIST_FILTERS:
            if params.get(name):
                filters[name] = one_of(name, params[name], [v.value for v in allowed])
        limit = paging.parse_limit(params.get("limit"))
        cursor = paging.decode_cursor(params.get("cursor"), {"id": str})
        items, last = self.store.list(filters, limit, cursor)
        return {"items": items, "next_cursor": paging.encode_cursor(last)}

    def get_many(self, device_ids: builtins.list[str]) -> dict[str, dict[str, Any]]:
        """The registry records of those of `device_ids` that exist (one batched read of those
        not cached)."""
        if self.cache_seconds <= 0:
            return self.store.get_many(device_ids)
        now = self.clock()
        found: dict[str, dict[str, Any]] = {}
        missing = []
        for device_id in device_ids:
            cached = self._cached.get(device_id)
            if cached is not None and cached[0] > now:
                found[device_id] = cached[1]
            else:
                missing.append(device_id)
        if missing:
            fetched = self.store.get_many(missing)
            if len(self._cached) + len(fetched) > CACHED_DEVICES:
                self._cached.clear()  # a district's devices fit; this only bounds a runaway
            expires = now + self.cache_seconds
            for device_id, record in fetched.items():
                self._cached[device_id] = (expires, record)
            found.update(fetched)
        return found

    def describe(self, device_id: str) -> dict[str, Any]:
        """The device with its online state and its latest reading (derived indicators beside the values)."""
        device = self.get(device_id)
        latest = self.readings.latest(device_id)
        device["status"] = online_state(device, latest["t"] if latest else None, timeutil.now_ms())
        if latest:
            device["latest"] = latest
        return device

    def series(self, device_id: str, params: Mapping[str, str]) -> dict[str, Any]:
        """GET /v1/devices/{id}/readings: oldest first, by default the last 24 hours."""
        self.get(device_id)
        now = timeutil.now_ms()
        start, end = paging.parse_range(params, now - 86_400_000, now + 300_000)
        limit = paging.parse_limit(params.get("limit"))
        cursor = paging.decode_cursor(params.get("cursor"), {"t": int})
        items, last = self.readings.series(device_id, start, end, limit, cursor)
        return {"device_id": device_id, "items": items, "next_cursor": paging.encode_cursor(last)}

    def register(self, principal: Principal, payload: DeviceIn) -> dict[str, Any]:
        now = timeutil.local_iso(timeutil.now_ms())
        record = {
            **payload.model_dump(mode="json", exclude_none=True),
            "owner": principal.department_id,
            "created_at": now,
            "updated_at": now,
        }
        if not self.store.create(record):
            raise Conflict(f"device {payload.id} already exists", [{"field": "id", "message": "already exists"}])
        self._cached.pop(payload.id, None)
        return record

    def update(self, principal: Principal, device_id: str, payload: DeviceIn) -> dict[str, Any]:
        current = self.get(device_id)
        if not principal.may_manage(current["owner"]):
            raise Forbidden("only the owning department may change this device")
        if payload.id != device_id:
            raise Conflict(
                "the id in the body differs from the path",
                [{"field": "id", "message": "must equal the id in the path"}],
            )
        record = {
            **payload.model_dump(mode="json", exclude_none=True),
            "owner": current["owner"],
            "created_at": current["created_at"],
            "updated_at": timeutil.local_iso(timeutil.now_ms()),
        }
        self.store.replace(record)
        self._cached.pop(device_id, None)
        return record

    def get(self, device_id: str) -> dict[str, Any]:
        found = self.store.get(device_id)
        if not found:
            raise NotFound(f"no device {device_id}")
        return found


def online_state(device: dict[str, Any], latest_ms: int | None, now_ms: int) -> str:
    """Online while it has reported within 3x its reporting interval."""
    if latest_ms is None:
        return "never_reported"
    window = 3 * int(device.get("reporting_interval_seconds", 600)) * 1000
    return "online" if now_ms - latest_ms <= window else "offline"


PROFILE_FIELDS = (
    "id",
    "type",
    "domain",
    "town",
    "owner",
    "location",
    "acoustic_zone",
    "thresholds",
    "rules",
    "reporting_interval_seconds",
)


def device_profile(device: dict[str, Any]) -> dict[str, Any]:
    """What the processing function needs of a device (the rules' settings), without names and addresses."""
    return {k: device[k] for k in PROFILE_FIELDS if k in device}
