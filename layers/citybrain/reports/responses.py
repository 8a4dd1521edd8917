"""Response models of the reports' routes (see citybrain.core.responses)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from citybrain.core.responses import Day, Instant, Page, Shape, optional

Kind = Literal["hourly", "daily", "range"]
Status = Literal["queued", "running", "done", "failed"]


class ReportPeriod(Shape):
    kind: Kind
    label: str = Field(description="2026-12-01T08 (an hour), 2026-12-01 (a date) or 2026-11-01..2026-11-30")
    from_: Instant = Field(alias="from", description="start, local time (+08:00)")
    to: Instant = Field(description="end (exclusive), local time")
    hours: int = Field(description="local hours in the period")
    days: list[Day] = Field(description="the local dates it touches")


class Links(Shape):
    """Presigned links, valid for links_expire_in_seconds."""

    json_: str = Field(alias="json", description="the complete figures, machine-readable")
    csv: str = Field(description="UTF-8 with BOM, for Excel")
    html: str = Field(description="self-contained, printable on A4")


class Sizes(Shape):
    json_: int = Field(alias="json")
    csv: int
    html: int


class Report(Shape):
    id: str
    title: str = Field(description="城市运行日报 2026-12-01 · 全区")
    kind: Kind
    period: ReportPeriod
    town: str | None = Field(description="the town reported on; null for the whole district")
    domain: str | None = Field(description="the domain reported on; null for every domain")
    status: Status = Field(description="queued → running → done; failed with error (retried)")
    requested_by: str = Field(description="the department that asked, or schedule")
    requested_at: Instant
    finished_at: Instant | None
    error: str | None
    links: Links | None = optional("once done (GET /v1/reports/{id} only)")
    sizes: Sizes | None = optional("bytes of each artifact, once done")
    links_expire_in_seconds: int | None = optional()


ReportPage = Page[Report]
