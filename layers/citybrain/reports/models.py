"""What a report is: its kind, its period on the local clock, its scope, and the record
kept of it (status, who asked, where its artifacts are).

Kinds: `hourly` (one local hour; on demand the last complete one), `daily` (a local
date; on demand yesterday by default), `range` (`from`/`to` local dates, inclusive, at
most 92 days; a range reaching past today stops at today). Scope: the whole district,
one `town`, or one `domain` (or both). Every period is made of local hours as the
rollups name them ("2026-12-01T08" is 08:00-09:00 +08:00), so a reading at 23:59 local
belongs to its date whatever its UTC date.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from citybrain.core import timeutil
from citybrain.core.vocabulary import Domain, Town

MAX_RANGE_DAYS = 92
KINDS = ("hourly", "daily", "range")
STATUSES = ("queued", "running", "done", "failed")
ARTIFACTS = {"json": "application/json", "csv": "text/csv; charset=utf-8", "html": "text/html; charset=utf-8"}
REPORT_ID = r"^rpt_[A-Za-z0-9_-]{1,100}$"
KIND_NAMES = {"hourly": "小时报", "daily": "日报", "range": "时段报告"}


def local_date_of(value: str, field: str) -> date:
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{field} is not a date (YYYY-MM-DD)") from None
    if len(value) != 10:
        raise ValueError(f"{field} is not a date (YYYY-MM-DD)")
    return parsed


class ReportRequestIn(BaseModel):
    """POST /v1/reports: what to report on."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    kind: Literal["hourly", "daily", "range"]
    hour: str | None = Field(
        default=None,
        description="hourly: the local hour, YYYY-MM-DDTHH (default: the last complete hour)",
        pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}$",
    )
    date: str | None = Field(
        default=None, description="daily: the local date, YYYY-MM-DD (default: yesterday)", max_length=10
    )
    from_: str | None = Field(default=None, alias="from", description="range: first local date", max_length=10)
    to: str | None = Field(default=None, description="range: last local date (inclusive)", max_length=10)
    town: Town | None = None
    domain: Domain | None = None

    @field_validator("date", "from_", "to")
    @classmethod
    def _is_date(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None:
            local_date_of(value, (info.field_name or "date").rstrip("_"))
        return value

    @model_validator(mode="after")
    def _fits_kind(self) -> ReportRequestIn:
        given = {"hour": self.hour, "date": self.date, "from": self.from_, "to": self.to}
        allowed = {"hourly": {"hour"}, "daily": {"date"}, "range": {"from", "to"}}[self.kind]
        for name, value in given.items():
            if value is not None and name not in allowed:
                raise ValueError(f"{name} does not apply to a {self.kind} report")
        if self.kind == "range" and (self.from_ is None or self.to is None):
            raise ValueError("a range report needs from and to")
        return self


@dataclass(frozen=True)
class Period:
    kind: str
    label: str  # 2026-12-01T08, 2026-12-01, or 2026-11-01..2026-11-30
    start_ms: int
    end_ms: int  # exclusive
    hours: tuple[str, ...]  # local hours, as rollups name them
    days: tuple[date, ...]  # the local dates it touches

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "label": self.label,
            "from": timeutil.local_iso(self.start_ms),
            "to": timeutil.local_iso(self.end_ms),
            "hours": len(self.hours),
            "days": [d.isoformat() for d in self.days],
        }


def _midnight_ms(day: date) -> int:
    return int(datetime.combine(day, time(0), timeutil.LOCAL_TZ).timestamp() * 1000)


def _hours_between(start_ms: int, end_ms: int) -> tuple[str, ...]:
    return tuple(timeutil.local_hour(t) for t in range(start_ms, end_ms, 3_600_000))


def hourly_period(hour_start_ms: int) -> Period:
    start = hour_start_ms - hour_start_ms % 3_600_000  # +08:00 is a whole number of hours
    return Period(
        "hourly",
        timeutil.local_hour(start),
        start,
        start + 3_600_000,
        (timeutil.local_hour(start),),
        (timeutil.to_local(start).date(),),
    )


def days_period(kind: str, first: date, last: date) -> Period:
    start, end = _midnight_ms(first), _midnight_ms(last + timedelta(days=1))
    days = tuple(first + timedelta(days=i) for i in range((last - first).days + 1))
    label = first.isoformat() if kind == "daily" else f"{first.isoformat()}..{last.isoformat()}"
    return Period(kind, label, start, end, _hours_between(start, end), days)


def period_of(request: ReportRequestIn, now_ms: int) -> tuple[Period, list[dict[str, str]]]:
    """The period a request names, or the problems (field, message) that make it impossible."""
    today = timeutil.to_local(now_ms).date()
    if request.kind == "hourly":
        if request.hour is None:
            return hourly_period(now_ms - 3_600_000), []
        try:
            moment = datetime.strptime(request.hour, "%Y-%m-%dT%H").replace(tzinfo=timeutil.LOCAL_TZ)
        except ValueError:
            return _nothing(), [{"field": "hour", "message": "not a local hour (YYYY-MM-DDTHH)"}]
        start = int(moment.timestamp() * 1000)
        if start > now_ms:
            return _nothing(), [{"field": "hour", "message": "is in the future"}]
        return hourly_period(start), []
    if request.kind == "daily":
        day = local_date_of(request.date, "date") if request.date else today - timedelta(days=1)
        if day > today:
            return _nothing(), [{"field": "date", "message": "is in the future"}]
        return days_period("daily", day, day), []
    assert request.from_ is not None and request.to is not None  # the model's rule
    first, last = local_date_of(request.from_, "from"), local_date_of(request.to, "to")
    problems = []
    if first > today:
        problems.append({"field": "from", "message": "is in the future"})
    if last < first:
        problems.append({"field": "to", "message": "is before from"})
    elif (last - first).days + 1 > MAX_RANGE_DAYS:
        problems.append({"field": "to", "message": f"a range covers at most {MAX_RANGE_DAYS} days"})
    if problems:
        return _nothing(), problems
    return days_period("range", first, min(last, today)), []


def _nothing() -> Period:
    return Period("", "", 0, 0, (), ())


def new_report_id() -> str:
    return "rpt_" + uuid.uuid4().hex


def scheduled_report_id(period: Period) -> str:
    """One id per scheduled period: a schedule fired twice makes one report."""
    return f"rpt_{period.kind}_{period.label.replace('..', '_')}_district"


def report_record(
    report_id: str, period: Period, town: str | None, domain: str | None, requested_by: str, now_ms: int
) -> dict[str, Any]:
    return {
        "id": report_id,
        "kind": period.kind,
        "period": period.describe(),
        "start_ms": period.start_ms,
        "end_ms": period.end_ms,
        "town": town,
        "domain": domain,
        "status": "queued",
        "requested_by": requested_by,
        "requested_at": timeutil.local_iso(now_ms),
        "requested_ms": now_ms,
    }


def title_of(record: dict[str, Any]) -> str:
    """城市运行日报 2026-12-01 · 九江镇 · environment"""
    scope = " · ".join(str(part) for part in (record.get("town"), record.get("domain")) if part) or "全区"
    return f"城市运行{KIND_NAMES[record['kind']]} {record['period']['label']} · {scope}"
