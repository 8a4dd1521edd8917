"""The risk registry (风险清单) of the big-safety platform: the places where the district's
risks concentrate, who answers for each, and the monitoring devices bound to it.

- Categories: `lifeline` (城市生命线: bridges, gas, water supply, drainage, utility
  tunnels), `public_safety` (crowded places, schools, hospitals), `production_safety`
  (chemical plants, construction sites), `natural_disaster` (slopes, embankments,
  reservoirs, underpasses that flood).
- Risk levels as China's graded risk control colours them (安全风险分级管控, "红橙黄蓝"):
  `major` 重大风险 red, `large` 较大风险 orange, `general` 一般风险 yellow, `low` 低风险 blue.
- A point belongs to the department that registered it (the data bureau may register one
  for a department); its owner or the data bureau changes it, with the version it read
  (a stale version is a 409, never a lost update). Any department's devices may be bound:
  a device of another department is recorded in `bindings` with who bound it and when.
- Reading a point shows its state: the latest reading of each bound device with its derived
  indicators, the open alerts of those devices, and the point's open incident.
"""

from __future__ import annotations

import builtins
import re
import uuid
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any, NamedTuple, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

from citybrain.core import paging, timeutil
from citybrain.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from citybrain.core.validation import Name, check_query, one_of
from citybrain.core.vocabulary import Town
from citybrain.departments.models import Principal
from citybrain.exchange.audit import AuditTrail, ChangeRefused
from citybrain.sensing.devices import Location

RISK_POINT_ID = r"^rp-[0-9a-f]{12}$"
MAX_DEVICES = 50
LIST_CURSOR = {"id": str}


class RiskCategory(StrEnum):
    lifeline = "lifeline"  # 城市生命线
    public_safety = "public_safety"  # 公共安全
    production_safety = "production_safety"  # 安全生产
    natural_disaster = "natural_disaster"  # 自然灾害


class RiskLevel(StrEnum):
    major = "major"  # 重大风险
    large = "large"  # 较大风险
    general = "general"  # 一般风险
    low = "low"  # 低风险


class LevelColour(NamedTuple):
    name: str
    colour: str
    rgb: str


LEVEL_COLOURS = {
    RiskLevel.major: LevelColour("重大风险", "红", "#D7191C"),
    RiskLevel.large: LevelColour("较大风险", "橙", "#FF8C00"),
    RiskLevel.general: LevelColour("一般风险", "黄", "#FFD700"),
    RiskLevel.low: LevelColour("低风险", "蓝", "#1F78B4"),
}
CATEGORY_NAMES = {
    RiskCategory.lifeline: "城市生命线",
    RiskCategory.public_safety: "公共安全",
    RiskCategory.production_safety: "安全生产",
    RiskCategory.natural_disaster: "自然灾害",
}


class Contact(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: Name = Field(min_length=1, max_length=100)
    phone: str = Field(pattern=r"^\+?[0-9][0-9 -]{4,30}$", description="e.g. 0757-86333110")
    role: Name | None = Field(default=None, max_length=100, description="e.g. 值班负责人")


class RiskPointIn(BaseModel):
    """POST /v1/risk-points and PUT /v1/risk-points/{id} (PUT also needs `version`)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Name = Field(min_length=1, max_length=200, description="e.g. 九江大桥")
    category: RiskCategory
    kind: Name = Field(min_length=1, max_length=60, description="free, e.g. 桥梁, 下穿隧道, 燃气管线")
    town: Town
    location: Location
    risk_level: RiskLevel
    department: str | None = Field(
        default=None, max_length=63, description="the responsible department (default: the caller's)"
    )
    contacts: list[Contact] = Field(default_factory=list, max_length=10)
    devices: list[str] = Field(default_factory=list, max_length=MAX_DEVICES, description="ids of monitoring devices")
    version: int | None = Field(default=None, ge=1, description="PUT: the version the change is based on")

    @field_validator("devices")
    @classmethod
    def _distinct(cls, devices: list[str]) -> list[str]:
        if len(set(devices)) != len(devices):
            raise ValueError("a device is bound once")
        return devices


class RiskPointStore(Protocol):
    def create_write(self, record: dict[str, Any]) -> dict[str, Any]: ...
    def replace_write(self, record: dict[str, Any], expected_version: int) -> dict[str, Any]: ...
    def get(self, point_id: str) -> dict[str, Any] | None: ...
    def list(self, filters: dict[str, str], limit: int, cursor: dict | None) -> tuple[list[dict], dict | None]: ...


class DeviceLookup(Protocol):
    def get_many(self, device_ids: builtins.list[str]) -> dict[str, dict[str, Any]]: ...


class RiskPointState(Protocol):
    """What a point's state is read from: latest states and active alerts of its devices."""

    def latest(self, device_ids: builtins.list[str]) -> dict[str, dict[str, Any]]: ...
    def active_alerts(self, device_ids: builtins.list[str]) -> builtins.list[dict[str, Any]]: ...
    def open_incident(self, point_id: str) -> dict[str, Any] | None: ...


class RiskPoints:
    def __init__(
        self,
        store: RiskPointStore,
        devices: DeviceLookup,
        state: RiskPointState,
        department_exists: Callable[[str], bool],
        audit: AuditTrail,
        clock: Callable[[], int] = timeutil.now_ms,
    ) -> None:
        self.store = store
        self.audit = audit
        self.devices = devices
        self.state = state
        self.department_exists = department_exists
        self.clock = clock

    def register(self, principal: Principal, payload: RiskPointIn) -> dict[str, Any]:
        if payload.version is not None:
            raise ValidationFailed("invalid request body", [{"field": "version", "message": "only a PUT has one"}])
        department = self._department(principal, payload.department)
        now = timeutil.local_iso(self.clock())
        record = {
            **payload.model_dump(mode="json", exclude={"version", "department", "devices"}, exclude_none=True),
            "id": "rp-" + uuid.uuid4().hex[:12],
            "department": department,
            "devices": payload.devices,
            "bindings": self._bindings(principal, payload.devices, {}, now, department),
            "version": 1,
            "created_at": now,
            "created_by": principal.department_id,
            "updated_at": now,
            "updated_by": principal.department_id,
        }
        self.audit.append(
            actor=principal.department_id,
            action="risk_point.registered",
            details=_facts(record),
            changes=[self.store.create_write(record)],
        )
        return shown(record)

    def replace(self, principal: Principal, point_id: str, payload: RiskPointIn) -> dict[str, Any]:
        current = self._stored(point_id)
        if not principal.may_manage(current["department"]):
            raise Forbidden("only the responsible department or the data bureau may change this risk point")
        if payload.version is None:
            raise ValidationFailed("invalid request body", [{"field": "version", "message": "required for a PUT"}])
        if payload.version != current["version"]:
            raise Conflict(
                "the risk point changed since that version",
                [{"field": "version", "message": f"the current version is {current['version']}"}],
            )
        department = self._department(principal, payload.department or current["department"])
        now = timeutil.local_iso(self.clock())
        kept = {b["device_id"]: b for b in current.get("bindings", [])}
        record = {
            **payload.model_dump(mode="json", exclude={"version", "department", "devices"}, exclude_none=True),
            "id": point_id,
            "department": department,
            "devices": payload.devices,
            "bindings": self._bindings(principal, payload.devices, kept, now, department),
            "version": current["version"] + 1,
            "created_at": current["created_at"],
            "created_by": current["created_by"],
            "updated_at": now,
            "updated_by": principal.department_id,
        }
        try:
            self.audit.append(
                actor=principal.department_id,
                action="risk_point.changed",
                details=_facts(record),
                changes=[self.store.replace_write(record, current["version"])],
            )
        except ChangeRefused:
            raise Conflict(
                "the risk point changed meanwhile", [{"field": "version", "message": "read it again and retry"}]
            ) from None
        return shown(record)

    def describe(self, point_id: str) -> dict[str, Any]:
        """The point with its state now: its devices' latest readings and their open alerts."""
        point = shown(self._stored(point_id))
        latest = self.state.latest(point["devices"])
        point["state"] = {
            "devices": [{"device_id": d, "latest": latest.get(d)} for d in point["devices"]],
            "open_alerts": self.state.active_alerts(point["devices"]),
            "open_incident": self.state.open_incident(point_id),
        }
        return point

    def list(self, params: Mapping[str, str]) -> dict[str, Any]:
        params = check_query(dict(params))
        filters: dict[str, str] = {}
        for name, vocabulary, attribute in (
            ("town", Town, "town"),
            ("category", RiskCategory, "category"),
            ("level", RiskLevel, "risk_level"),
        ):
            if params.get(name):
                filters[attribute] = one_of(name, params[name], [v.value for v in vocabulary])
        if params.get("department"):
            filters["department"] = params["department"]
        limit = paging.parse_limit(params.get("limit"))
        cursor = paging.decode_cursor(params.get("cursor"), LIST_CURSOR)
        items, last = self.store.list(filters, limit, cursor)
        return {"items": [shown(i) for i in items], "next_cursor": paging.encode_cursor(last)}

    # -- rules ---------------------------------------------------------------------
    def _stored(self, point_id: str) -> dict[str, Any]:
        if not re.fullmatch(RISK_POINT_ID, point_id):
            raise ValidationFailed("invalid risk point id", [{"field": "point_id", "message": "not a risk point id"}])
        found = self.store.get(point_id)
        if found is None:
            raise NotFound(f"no risk point {point_id}")
        return found

    def _department(self, principal: Principal, asked: str | None) -> str:
        department = asked or principal.department_id
        if department != principal.department_id and not principal.is_admin:
            raise Forbidden("a department registers its own risk points (the data bureau may name another)")
        if not self.department_exists(department):
            raise ValidationFailed("invalid request body", [{"field": "department", "message": "no such department"}])
        return department

    def _bindings(
        self,
        principal: Principal,
        devices: builtins.list[str],
        kept: Mapping[str, dict[str, Any]],
        now: str,
        department: str,
    ) -> builtins.list[dict[str, Any]]:
        """The devices of other departments bound to the point: who bound each, and when."""
        found = self.devices.get_many(devices) if devices else {}
        missing = [
            {"field": f"devices.{i}", "message": f"no device {d}"} for i, d in enumerate(devices) if d not in found
        ]
        if missing:
            raise ValidationFailed("invalid request body", missing)
        bindings = []
        for device_id in devices:
            owner = found[device_id].get("owner")
            if owner == department:
                continue
            bindings.append(
                kept.get(device_id)
                or {"device_id": device_id, "owner": owner, "bound_by": principal.department_id, "bound_at": now}
            )
        return bindings


def _facts(record: Mapping[str, Any]) -> dict[str, Any]:
    """What the audit entry says of a point: which, its level, whose, and the devices bound."""
    return {
        "risk_point": record["id"],
        "version": record["version"],
        "risk_level": record["risk_level"],
        "department": record["department"],
        "devices": list(record["devices"]),
        "bound_from_other_departments": [b["device_id"] for b in record.get("bindings", [])],
    }


def shown(record: Mapping[str, Any]) -> dict[str, Any]:
    level = LEVEL_COLOURS[RiskLevel(record["risk_level"])]
    return {
        **{k: v for k, v in record.items() if k != "state"},
        "risk_level_name": level.name,
        "colour": level.colour,
        "rgb": level.rgb,
        "category_name": CATEGORY_NAMES[RiskCategory(record["category"])],
    }
