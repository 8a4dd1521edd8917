"""What a case is when it is reported, and the bodies of its moves (citybrain.cases.workflow)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from citybrain.core.validation import Name, Note
from citybrain.core.vocabulary import Town
from citybrain.sensing.devices import Location

STATUSES = ("reported", "registered", "cancelled", "dispatched", "processing", "fed_back", "closed")
OPEN_STATUSES = frozenset({"reported", "registered", "dispatched", "processing", "fed_back"})
CASE_ID = r"^case-[0-9]{8}-[0-9a-f]{10}$"

# Photos (现场照片): taken at the report (信息采集, by the reporter, before registration) and at the
# feedback (处理反馈, by the lead department while processing); each PUT straight to object storage.
PHOTO_ID = r"^ph-[0-9a-f]{12}$"
PHOTO_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
PHOTO_STAGES = ("report", "feedback")
MAX_PHOTO_BYTES = 10 * 1024 * 1024  # a phone's photo, not a video
MAX_PHOTOS_PER_STAGE = 10  # per case and stage (report, feedback): what a case file shows
MAX_FEEDBACK_PHOTOS = MAX_PHOTOS_PER_STAGE


def photo_key(case_id: str, photo_id: str, content_type: str) -> str:
    """The photo's object in the case photos bucket: photos/<case>/<photo>.<ext>."""
    return f"photos/{case_id}/{photo_id}.{PHOTO_TYPES[content_type]}"


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
    photos: list[Annotated[str, Field(pattern=PHOTO_ID)]] = Field(
        default_factory=list,
        max_length=MAX_FEEDBACK_PHOTOS,
        description="feedback: ids of the case's feedback photos (POST /v1/cases/{id}/photos, stage feedback) it shows",
    )

    @field_validator("supporting")
    @classmethod
    def _distinct(cls, departments: list[str]) -> list[str]:
        if len(set(departments)) != len(departments):
            raise ValueError("a department is assigned once")
        return departments

    @field_validator("photos")
    @classmethod
    def _once(cls, photos: list[str]) -> list[str]:
        if len(set(photos)) != len(photos):
            raise ValueError("a photo is named once")
        return photos


class CasePhotoIn(BaseModel):
    """POST /v1/cases/{id}/photos: a photo about to be uploaded, for the report or the feedback."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    content_type: Literal["image/jpeg", "image/png", "image/webp"] = Field(description="the photo's type")
    size: int = Field(gt=0, le=MAX_PHOTO_BYTES, strict=True, description="the photo's length in bytes")
    stage: Literal["report", "feedback"] = Field(
        description="report: by the reporter before registration; feedback: by the lead department while processing"
    )


class CaseEscalationIn(BaseModel):
    """POST /v1/cases/{id}/escalate: the command centre makes the case a big-safety incident."""

    model_config = ConfigDict(extra="forbid")

    category: Literal["natural_disaster", "accident", "public_health", "social_security"]
    grade: Literal["I", "II", "III", "IV"]
