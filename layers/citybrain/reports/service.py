"""Reports: asked for over HTTP or by the schedules, built by the report function from the
reports queue, kept in the reports table with their artifacts in the reports bucket.

- `request` (POST /v1/reports) validates the period, records the report as `queued` and
  queues it; a request answered with an error records nothing.
- `schedule` (hourly at minute 5, daily at 00:30 local) names the period that just ended
  (the previous local hour; the previous local date) under an id of its own, so a
  schedule delivered twice makes one report.
- `build` (the report function) computes the content once, writes the JSON, CSV and HTML
  artifacts and marks the report `done`; a failure marks it `failed` with the reason and
  raises, so the message is retried and, after its last attempt, kept in the DLQ.
- `get` answers the status and, once done, a presigned link to each artifact.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from citybrain.core import paging, timeutil
from citybrain.core.errors import NotFound, ValidationFailed
from citybrain.core.validation import check_query, one_of
from citybrain.core.vocabulary import Domain, Town
from citybrain.departments.models import Principal
from citybrain.reports.artifacts import csv_artifact, html_artifact, json_bytes
from citybrain.reports.content import ReportSources, compose
from citybrain.reports.models import (
    ARTIFACTS,
    KINDS,
    REPORT_ID,
    Period,
    ReportRequestIn,
    days_period,
    hourly_period,
    local_date_of,
    new_report_id,
    period_of,
    report_record,
    scheduled_report_id,
    title_of,
)

LIST_CURSOR = {"k": str, "id": str}
SCHEDULED_BY = "schedule"


class ReportStore(Protocol):
    def create(self, record: dict[str, Any]) -> bool: ...
    def get(self, report_id: str) -> dict[str, Any] | None: ...
    def update(self, report_id: str, changes: dict[str, Any]) -> None: ...
    def forget(self, report_id: str) -> None: ...
    def list(
        self, filters: dict[str, str], limit: int, cursor: dict[str, str] | None
    ) -> tuple[list[dict[str, Any]], dict[str, str] | None]: ...


class ReportQueue(Protocol):
    def send(self, report_id: str) -> None: ...


class ArtifactStore(Protocol):
    def put(self, key: str, body: bytes, content_type: str) -> None: ...
    def link(self, key: str, expires_in: int) -> str: ...


class Reports:
    def __init__(
        self,
        store: ReportStore,
        queue: ReportQueue,
        artifacts: ArtifactStore,
        sources: ReportSources,
        link_seconds: int = 3600,
        clock: Callable[[], int] = timeutil.now_ms,
    ) -> None:
        self.store = store
        self.queue = queue
        self.artifacts = artifacts
        self.sources = sources
        self.link_seconds = link_seconds
        self.clock = clock

    # -- asking ----------------------------------------------------------------------
    def request(self, principal: Principal, payload: ReportRequestIn) -> dict[str, Any]:
        now = self.clock()
        period, problems = period_of(payload, now)
        if problems:
            raise ValidationFailed("impossible report period", problems)
        town = payload.town.value if payload.town else None
        domain = payload.domain.value if payload.domain else None
        record = report_record(new_report_id(), period, town, domain, principal.department_id, now)
        self.store.create(record)
        self._queue(record["id"], forget_on_failure=True)
        return self.shown(record)

    def schedule(self, kind: str, fired_ms: int) -> dict[str, Any]:
        """The scheduled report of the period that ended before `fired_ms` (the schedule's time)."""
        period = _scheduled_period(kind, fired_ms)
        record = report_record(scheduled_report_id(period), period, None, None, SCHEDULED_BY, self.clock())
        created = self.store.create(record)
        if created:
            self._queue(record["id"], forget_on_failure=True)
        return {"id": record["id"], "period": period.label, "created": created}

    def _queue(self, report_id: str, forget_on_failure: bool) -> None:
        try:
            self.queue.send(report_id)
        except Exception:
            if forget_on_failure:
                self.store.forget(report_id)  # nothing is left of a request that failed
            raise

    # -- building --------------------------------------------------------------------
    def build(self, report_id: str) -> dict[str, Any]:
        record = self.store.get(report_id)
        if record is None:
            return {"id": report_id, "status": "gone"}  # forgotten after its queueing failed
        if record["status"] == "done":
            return {"id": report_id, "status": "done"}  # a redelivered message
        started = self.clock()
        self.store.update(report_id, {"status": "running", "started_at": timeutil.local_iso(started)})
        try:
            period = _period_of_record(record)
            content = compose(period, record.get("town"), record.get("domain"), self.sources)
            title = title_of(record)
            content = {"id": report_id, "title": title, **content}
            base = f"reports/{period.days[0].isoformat()}/{report_id}/report"
            bodies = {
                "json": json_bytes(content),
                "csv": csv_artifact(content),
                "html": html_artifact(title, content),
            }
            for extension, body in bodies.items():
                self.artifacts.put(f"{base}.{extension}", body, ARTIFACTS[extension])
        except Exception as exc:
            self.store.update(report_id, {"status": "failed", "error": f"{type(exc).__name__}: {exc}"[:500]})
            raise
        finished = self.clock()
        self.store.update(
            report_id,
            {
                "status": "done",
                "finished_at": timeutil.local_iso(finished),
                "build_ms": finished - started,
                "artifacts": {extension: f"{base}.{extension}" for extension in bodies},
                "sizes": {extension: len(body) for extension, body in bodies.items()},
                "error": None,
            },
        )
        return {"id": report_id, "status": "done"}

    # -- reading ---------------------------------------------------------------------
    def get(self, report_id: str) -> dict[str, Any]:
        if not _is_report_id(report_id):
            raise ValidationFailed("invalid report id", [{"field": "report_id", "message": "not a report id"}])
        record = self.store.get(report_id)
        if record is None:
            raise NotFound(f"no report {report_id}")
        return self.shown(record, links=True)

    def list(self, params: Mapping[str, str]) -> dict[str, Any]:
        params = check_query(dict(params))
        filters: dict[str, str] = {}
        if params.get("kind"):
            filters["kind"] = one_of("kind", params["kind"], KINDS)
        if params.get("town"):
            filters["town"] = one_of("town", params["town"], [t.value for t in Town])
        if params.get("domain"):
            filters["domain"] = one_of("domain", params["domain"], [d.value for d in Domain])
        if params.get("date"):
            try:
                local_date_of(params["date"], "date")
            except ValueError as exc:
                raise ValidationFailed("invalid query", [{"field": "date", "message": str(exc)}]) from None
            filters["date"] = params["date"]
        limit = paging.parse_limit(params.get("limit"), default=50, maximum=200)
        cursor = paging.decode_cursor(params.get("cursor"), LIST_CURSOR)
        items, last = self.store.list(filters, limit, cursor)
        return {"items": [self.shown(r) for r in items], "next_cursor": paging.encode_cursor(last)}

    def shown(self, record: Mapping[str, Any], links: bool = False) -> dict[str, Any]:
        out = {
            key: record.get(key)
            for key in (
                "id",
                "kind",
                "period",
                "town",
                "domain",
                "status",
                "requested_by",
                "requested_at",
                "finished_at",
                "error",
            )
        }
        out["title"] = title_of(dict(record))
        if links and record.get("status") == "done":
            out["links"] = {
                ext: self.artifacts.link(key, self.link_seconds) for ext, key in record["artifacts"].items()
            }
            out["sizes"] = record.get("sizes")
            out["links_expire_in_seconds"] = self.link_seconds
        return out


def _is_report_id(value: str) -> bool:
    return re.fullmatch(REPORT_ID, value) is not None


def _scheduled_period(kind: str, fired_ms: int) -> Period:
    if kind == "hourly":
        return hourly_period(fired_ms - 3_600_000)
    if kind == "daily":
        yesterday = timeutil.to_local(fired_ms - 86_400_000).date()
        return days_period("daily", yesterday, yesterday)
    raise ValueError(f"no {kind} schedule")


def _period_of_record(record: Mapping[str, Any]) -> Period:
    if record["kind"] == "hourly":
        return hourly_period(int(record["start_ms"]))
    first = timeutil.to_local(int(record["start_ms"])).date()
    last = timeutil.to_local(int(record["end_ms"]) - 1).date()
    return days_period(record["kind"], first, last)
