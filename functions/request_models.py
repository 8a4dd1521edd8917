"""What the OpenAPI document says of requests the services read themselves: the query
parameters of the listings and the two batch bodies. Documentation only: the services
validate these (citybrain.core.paging and their own checks), and the request bodies
that have a model are documented by that model.

Imported by functions/openapi.py only, never at a function's cold start."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from citybrain.core.vocabulary import Domain, Town
from citybrain.exchange.catalog import DatasetDomain, Sensitivity
from citybrain.sensing.readings import MAX_BATCH, ReadingIn
from citybrain.sensing.vocabulary import DeviceType

CURSOR = "next_cursor of the previous page (opaque; a cursor this API did not return is a 400)"
INSTANT = "ISO-8601 with offset (a naive time is Asia/Shanghai) or epoch milliseconds"
Role = Literal["owner", "consumer"]


def limit(default: int, maximum: int) -> Any:
    return Field(default=default, ge=1, le=maximum, description=f"page size, 1 to {maximum}")


def cursor() -> Any:
    return Field(default=None, description=CURSOR)


class DeviceQuery(BaseModel):
    town: Town | None = None
    type: DeviceType | None = None
    domain: Domain | None = None
    limit: int = limit(100, 1000)
    cursor: str | None = cursor()


class SeriesQuery(BaseModel):
    from_: str | None = Field(default=None, alias="from", description=f"{INSTANT}; default 24 hours ago")
    to: str | None = Field(default=None, description=f"{INSTANT}; default now")
    limit: int = limit(100, 1000)
    cursor: str | None = cursor()


class AlertQuery(BaseModel):
    status: Literal["open", "acknowledged", "resolved", "active"] | None = Field(
        default=None, description="active: open or acknowledged"
    )
    domain: Domain | None = None
    town: Town | None = None
    severity: Literal["informational", "low", "medium", "high", "critical"] | None = None
    device: str | None = Field(default=None, description="a device id")
    from_: str | None = Field(default=None, alias="from", description=f"issued at or after; {INSTANT}")
    to: str | None = Field(default=None, description=f"issued at or before; {INSTANT}")
    limit: int = limit(100, 1000)
    cursor: str | None = cursor()


class RiskPointQuery(BaseModel):
    town: Town | None = None
    category: Literal["lifeline", "public_safety", "production_safety", "natural_disaster"] | None = None
    level: Literal["major", "large", "general", "low"] | None = None
    department: str | None = Field(default=None, description="the responsible department")
    limit: int = limit(100, 1000)
    cursor: str | None = cursor()


class IncidentQuery(BaseModel):
    status: Literal["open", "closed"] | None = None
    town: Town | None = None
    grade: Literal["I", "II", "III", "IV"] | None = None
    limit: int = limit(50, 200)
    cursor: str | None = cursor()


class CaseQuery(BaseModel):
    status: Literal["reported", "registered", "cancelled", "dispatched", "processing", "fed_back", "closed"] | None = (
        None
    )
    town: Town | None = None
    category: Literal["部件", "事件"] | None = None
    limit: int = limit(50, 200)
    cursor: str | None = cursor()


class CaseStatsQuery(BaseModel):
    from_: str | None = Field(default=None, alias="from", description=f"reported at or after; {INSTANT}")
    to: str | None = Field(default=None, description=f"reported at or before; {INSTANT} (at most 366 days)")
    department: str | None = Field(default=None, description="one department (a department may read only its own)")


class ReportQuery(BaseModel):
    kind: Literal["hourly", "daily", "range"] | None = None
    date: str | None = Field(default=None, description="reports whose period touches this local date, YYYY-MM-DD")
    town: Town | None = None
    domain: Domain | None = None
    limit: int = limit(50, 200)
    cursor: str | None = cursor()


class DatasetQuery(BaseModel):
    q: str | None = Field(
        default=None,
        description="substrings of title, description and keywords; every whitespace-separated term must match",
    )
    domain: DatasetDomain | None = None
    owner: str | None = Field(default=None, description="a department id")
    keyword: str | None = None
    sensitivity: Sensitivity | None = None
    limit: int = limit(20, 100)
    cursor: str | None = cursor()


class VersionQuery(BaseModel):
    limit: int = limit(20, 100)
    cursor: str | None = cursor()


class CatalogQuery(BaseModel):
    limit: int = limit(100, 500)
    cursor: str | None = cursor()


class RecordQuery(BaseModel):
    """Any other parameter is a filter `<field>=<value>` on a field of the dataset."""

    model_config = ConfigDict(extra="allow")

    limit: int = limit(100, 1000)
    cursor: str | None = cursor()
    fields: str | None = Field(default=None, description="comma-separated field names: narrows the granted fields")


class AccessRequestQuery(BaseModel):
    role: Role | None = Field(
        default=None, description="the requests on my datasets (owner, the default) or mine (consumer)"
    )
    status: Literal["pending_owner", "pending_bureau", "approved", "rejected"] | None = None
    limit: int = limit(100, 1000)
    cursor: str | None = cursor()


class GrantQuery(BaseModel):
    role: Role | None = Field(
        default=None, description="grants on my datasets (owner, the default) or to me (consumer)"
    )
    dataset: str | None = Field(default=None, description="a dataset id")
    limit: int = limit(100, 1000)
    cursor: str | None = cursor()


class AuditQuery(BaseModel):
    dataset: str | None = Field(default=None, description="a dataset id")
    actor: str | None = Field(default=None, description="a department id")
    from_: str | None = Field(default=None, alias="from", description=INSTANT)
    to: str | None = Field(default=None, description=INSTANT)
    limit: int = limit(100, 1000)
    cursor: str | None = cursor()


class AnchorQuery(BaseModel):
    after_seq: int | None = Field(default=None, ge=0, description="anchors of entries after this seq")
    limit: int = limit(100, 1000)
    cursor: str | None = cursor()


class AuditExportQuery(BaseModel):
    from_seq: int = Field(default=1, ge=1, description="the first entry")
    to_seq: int | None = Field(
        default=None, ge=1, description="the last entry (default from_seq + 999; at most 1,000 entries per call)"
    )


class StatsQuery(BaseModel):
    from_: str | None = Field(
        default=None, alias="from", description="a local date YYYY-MM-DD; default 29 days before to"
    )
    to: str | None = Field(default=None, description="a local date YYYY-MM-DD; default today")
    department: str | None = Field(
        default=None, description="one department (the data bureau; a department may name only itself)"
    )


class DashboardPageQuery(BaseModel):
    refresh: int = Field(default=30, ge=2, le=3600, description="seconds between the page's refreshes")


class ReadingBatch(BaseModel):
    """POST /v1/readings. Each reading is checked on its own: a bad one is rejected with its reasons
    and never blocks the good ones."""

    # `| Any`: an item that is not a reading is still part of a valid batch: it is rejected
    # with its index and reasons (202), the others are accepted.
    readings: list[ReadingIn | Any] = Field(
        description=f"readings, at most {MAX_BATCH} (more: 413); an item that is not a valid reading is rejected "
        "with its index and reasons"
    )


class RecordBatch(BaseModel):
    """POST /v1/datasets/{id}/records: records as the dataset's schema names them, upserted by primary key."""

    records: list[dict[str, Any] | Any] = Field(
        description="at most 1,000 (more: 413); an item that is not a valid record is rejected with its index "
        "and reasons; when none is accepted the load is a 400 and makes no version"
    )
