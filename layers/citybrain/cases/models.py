"""What a case is when it is reported, and the bodies of its moves (citybrain.cases.workflow)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from citybrain.core.validation import Name, Note
from citybrain.core.vocabulary import Town
from citybrain.sensing.devices import Location

STATUSES = ("reported", "registered", "cancelled", "dispatched", "processing", "fed_back", "closed")
OPEN_STATUSES = frozenset({"reported", "registered", "dispatched", "processing", "fed_back"})
CASE_ID = r"^case-[0-9]{8}-[0-9a-f]{10}$"


class CaseIn(BaseModel):
    """POST /v1/cases: a case reported by a department (信息采集)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    category: Literal["部件", "事件"] = Field(description="部件: a public facility; 事件: an event or behaviour")
    subcategory: Name = Field(min_length=1, max_length=60, description="e.g. 井盖缺失, 占道经营, 路灯不亮")
    description: Note = Field(min_length=1)
    town: Town
    location: Location
    grade: Literal["I", "II", "III", "IV"] | None = Field(default=None, description="big-safety cases only")
    incident_id: str | None = Field(default=None, max_length=64, description="the incident it handles")
    alert_id: str | None = Field(default=None, max_length=200, description="the alert it comes from")


class CaseActionIn(BaseModel):
    """The body of a move: a reason (cancel, send back), a note (feedback), or the dispatch."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    note: Note | None = None
    lead: str | None = Field(default=None, max_length=63, description="dispatch: the lead department")
    supporting: list[str] = Field(default_factory=list, max_length=10, description="dispatch: supporting departments")

    @field_validator("supporting")
    @classmethod
    def _distinct(cls, departments: list[str]) -> list[str]:
        if len(set(departments)) != len(departments):
            raise ValueError("a department is assigned once")
        return departments


class CaseEscalationIn(BaseModel):
    """POST /v1/cases/{id}/escalate: the command centre makes the case a big-safety incident."""

    model_config = ConfigDict(extra="forbid")

    category: Literal["natural_disaster", "accident", "public_health", "social_security"]
    grade: Literal["I", "II", "III", "IV"]
