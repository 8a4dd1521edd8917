"""Response models of the cases' routes (see citybrain.core.responses)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from citybrain.core.responses import Instant, Open, Page, Shape, optional
from citybrain.core.vocabulary import Town
from citybrain.sensing.responses import Position

Status = Literal["reported", "registered", "cancelled", "dispatched", "processing", "fed_back", "closed"]


class Assignment(Shape):
    department: str
    role: Literal["lead", "support"]
    acknowledged_at: Instant | None = optional()


class CaseStep(Open):
    """A move of the case: its action, who and when (and a note, the dispatch, an overdue mark)."""

    at: Instant
    action: str
    by: str


class Overdue(Shape):
    step: Literal["acknowledge", "close"]
    department: str | None
    at: Instant


PhotoType = Literal["image/jpeg", "image/png", "image/webp"]
PhotoStage = Literal["report", "feedback"]


class CasePhoto(Shape):
    """A photo of the case: of the scene as reported (report) or of the work done (feedback)."""

    id: str
    stage: PhotoStage
    content_type: PhotoType
    size: int = Field(description="bytes, as announced and signed into its upload URL")
    added_by: str
    added_at: Instant
    url: str | None = optional("GET /v1/cases/{id}: a presigned link to see the photo (once uploaded)")
    url_expires_at: Instant | None = optional("when the link stops working")


class CasePhotoTicket(Shape):
    """Where to PUT the photo: `url`, with `method` and exactly `headers`, before `expires_at`."""

    id: str
    case_id: str
    stage: PhotoStage
    content_type: PhotoType
    size: int
    url: str = Field(description="presigned URL")
    method: Literal["PUT"]
    headers: dict[str, str] = Field(
        description="headers signed into the URL, to send with the PUT: Content-Type, Content-Length (the body is "
        "exactly `size` bytes) and If-None-Match: * (the URL writes the photo once)"
    )
    expires_at: Instant


class Case(Shape):
    id: str
    category: Literal["部件", "事件"]
    subcategory: str
    description: str
    town: Town
    location: Position
    grade: Literal["I", "II", "III", "IV"] | None = optional("big-safety cases")
    incident_id: str | None = optional()
    alert_id: str | None = optional()
    status: Status
    reported_by: str
    reported_at: Instant
    assignments: list[Assignment]
    lead: str | None = optional()
    dispatched_at: Instant | None = optional()
    acknowledge_by: Instant | None = optional("every assigned department acknowledges by then")
    close_by: Instant | None = optional("the case is closed by then")
    sent_back: int | None = optional("times sent back (返工)")
    overdue: list[Overdue] | None = optional("steps past their deadline (超时)")
    closed_at: Instant | None = optional()
    photos: list[CasePhoto] | None = optional("photos of the report and the feedback")
    history: list[CaseStep]
    updated_at: Instant | None = optional()
    version: int


class CasePage(Page[Case]):
    pass


class DepartmentEvaluation(Shape):
    received: int
    acknowledged_on_time: int
    closed_on_time: int = Field(description="as lead department")
    sent_back: int = Field(description="as lead department")
    mean_minutes_to_acknowledge: float | None
    mean_minutes_to_close: float | None


class CaseStatistics(Shape):
    from_: Instant = Field(alias="from")
    to: Instant
    departments: dict[str, DepartmentEvaluation]
