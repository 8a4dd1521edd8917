"""The cases service: reporting, the moves of the seven steps (citybrain.cases.workflow),
the photos of the report and the feedback (presigned PUTs straight to object storage),
reading and listing, the overdue check and the departments' evaluation."""

from __future__ import annotations

import builtins
import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from citybrain.cases.models import (
    CASE_ID,
    STATUSES,
    CaseActionIn,
    CaseEscalationIn,
    CaseIn,
    CasePhotoIn,
    photo_key,
)
from citybrain.cases.workflow import (
    TRANSITIONS,
    Actor,
    add_photo,
    mark_overdue,
    may_read,
    move,
    overdue_steps,
    stats,
)
from citybrain.core import paging, timeutil
from citybrain.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from citybrain.core.validation import check_query, one_of
from citybrain.core.vocabulary import Town
from citybrain.departments.models import Principal
from citybrain.exchange.audit import AuditTrail, ChangeRefused
from citybrain.uploads.models import WRITE_ONCE_HEADERS

LIST_CURSOR = {"k": str, "id": str}
MAX_STATS_DAYS = 366


class CaseStore(Protocol):
    def create_write(self, case: dict[str, Any]) -> dict[str, Any]: ...
    def replace_write(self, case: dict[str, Any], expected_version: int) -> dict[str, Any]: ...
    def get(self, case_id: str) -> dict[str, Any] | None: ...
    def open_cases(self) -> builtins.list[dict[str, Any]]: ...
    def reported_between(self, start_ms: int, end_ms: int) -> builtins.list[dict[str, Any]]: ...
    def list(
        self, filters: dict[str, str], limit: int, cursor: dict[str, str] | None
    ) -> tuple[builtins.list[dict[str, Any]], dict[str, str] | None]: ...


class PhotoObjects(Protocol):
    """The photos' objects (citybrain.cases.store.S3CasePhotos)."""

    def upload_url(self, key: str, expires_in: int, headers: dict[str, str]) -> str: ...
    def link(self, key: str, expires_in: int) -> str: ...
    def exists(self, key: str) -> bool: ...


class SupervisionPublisher(Protocol):
    def publish(self, case: Mapping[str, Any], event: str, steps: builtins.list[str]) -> None: ...


class Cases:
    def __init__(
        self,
        store: CaseStore,
        supervision: SupervisionPublisher,
        department_exists: Callable[[str], bool],
        incident_of: Callable[[str], Mapping[str, Any] | None],
        alert_exists: Callable[[str], bool],
        open_incident: Callable[[Principal, Mapping[str, Any]], Mapping[str, Any]],
        audit: AuditTrail,
        command_centre: frozenset[str] = frozenset({"safety"}),
        clock: Callable[[], int] = timeutil.now_ms,
        photos: PhotoObjects | None = None,
        photo_url_expiry_seconds: int = 900,
        photo_link_expiry_seconds: int = 600,
    ) -> None:
        self.store = store
        self.supervision = supervision
        self.department_exists = department_exists
        self.incident_of = incident_of
        self.alert_exists = alert_exists
        self.open_incident = open_incident
        self.audit = audit
        self.command_centre = command_centre
        self.clock = clock
        self.photos = photos
        self.photo_url_expiry_seconds = photo_url_expiry_seconds  # the PUT of a photo
        self.photo_link_expiry_seconds = photo_link_expiry_seconds  # a link to one, in GET /v1/cases/{id}

    def actor(self, principal: Principal) -> Actor:
        return Actor(principal.department_id, principal.is_admin or principal.department_id in self.command_centre)

    def report(self, principal: Principal, payload: CaseIn) -> dict[str, Any]:
        """信息采集: by a department, for an incident (the case takes its grade unless given) or an alert."""
        now = self.clock()
        facts = payload.model_dump(mode="json", exclude_none=True)
        if payload.incident_id:
            incident = self.incident_of(payload.incident_id)
            if incident is None:
                raise ValidationFailed(
                    "invalid request body", [{"field": "incident_id", "message": "no such incident"}]
                )
            facts.setdefault("grade", incident["grade"])
        if payload.alert_id and not self.alert_exists(payload.alert_id):
            raise ValidationFailed("invalid request body", [{"field": "alert_id", "message": "no such alert"}])
        case = {
            **facts,
            "id": f"case-{timeutil.local_date(now).replace('-', '')}-{uuid.uuid4().hex[:10]}",
            "status": "reported",
            "reported_by": principal.department_id,
            "reported_at": timeutil.local_iso(now),
            "reported_ms": now,
            "assignments": [],
            "history": [{"at": timeutil.local_iso(now), "action": "reported", "by": principal.department_id}],
            "version": 1,
        }
        self._record(principal.department_id, "case.reported", case, self.store.create_write(case))
        return shown(case)

    def act(self, principal: Principal, case_id: str, action: str, payload: CaseActionIn) -> dict[str, Any]:
        if action not in TRANSITIONS:
            raise NotFound(f"no action {action}")
        current = self._readable(principal, case_id, for_action=True)
        actor = self.actor(principal)
        known = [d for d in {payload.lead, *payload.supporting} if d and self.department_exists(d)]
        new = move(current, action, actor, payload, self.clock(), known)
        if payload.photos:
            self._uploaded(current, payload.photos)
        new["version"] = current["version"] + 1
        self._moved(principal, f"case.{action}", new, current["version"])
        return shown(new)

    def add_photo(self, principal: Principal, case_id: str, payload: CasePhotoIn) -> dict[str, Any]:
        """A photo recorded on the case (audited, at the version read) and the presigned PUT that
        uploads it: signed with its type, its length and If-None-Match (the URL writes it once)."""
        photos = self._photo_objects()
        current = self._readable(principal, case_id, for_action=True)
        now = self.clock()
        photo_id = f"ph-{uuid.uuid4().hex[:12]}"
        new = add_photo(current, photo_id, payload, self.actor(principal), now)
        new["version"] = current["version"] + 1
        headers = {**WRITE_ONCE_HEADERS, "Content-Type": payload.content_type, "Content-Length": str(payload.size)}
        # Signed before anything is written (signing needs no call to S3): a refusal changes nothing.
        url = photos.upload_url(
            photo_key(case_id, photo_id, payload.content_type), self.photo_url_expiry_seconds, headers
        )
        self._moved(principal, "case.photo_added", new, current["version"], {"photo": photo_id, "stage": payload.stage})
        return {
            "id": photo_id,
            "case_id": case_id,
            "stage": payload.stage,
            "content_type": payload.content_type,
            "size": payload.size,
            "url": url,
            "method": "PUT",
            "headers": headers,
            "expires_at": timeutil.local_iso(now + self.photo_url_expiry_seconds * 1000),
        }

    def _photo_objects(self) -> PhotoObjects:
        if self.photos is None:
            raise NotFound("this function takes no photos")
        return self.photos

    def _uploaded(self, case: Mapping[str, Any], shown_photos: builtins.list[str]) -> None:
        """A feedback shows photos that were uploaded (their PUT done), not only announced."""
        photos = self._photo_objects()
        types = {p["id"]: p["content_type"] for p in case.get("photos", [])}
        missing = [
            {"field": f"photos.{i}", "message": f"{photo_id} is not uploaded yet: PUT it to its URL first"}
            for i, photo_id in enumerate(shown_photos)
            if not photos.exists(photo_key(case["id"], photo_id, types[photo_id]))
        ]
        if missing:
            raise ValidationFailed("invalid request body", missing)

    def escalate(self, principal: Principal, case_id: str, payload: CaseEscalationIn) -> dict[str, Any]:
        """An urban-management case found to be a big-safety matter becomes an incident (its source)."""
        if not self.actor(principal).command_centre:
            raise Forbidden("only the command centre escalates a case to an incident")
        current = self._readable(principal, case_id, for_action=True)
        if current["status"] not in ("registered", "dispatched", "processing", "fed_back"):
            raise Conflict(
                "only a registered, open case is escalated", [{"field": "status", "message": current["status"]}]
            )
        if current.get("incident_id"):
            problem = {"field": "incident_id", "message": f"already handles {current['incident_id']}"}
            raise Conflict("the case already handles an incident", [problem])
        facts = {**payload.model_dump(), "case_id": case_id, **{k: current[k] for k in ("town", "location")}}
        facts["description"] = f"{current['subcategory']}：{current['description']}"
        incident = self.open_incident(principal, facts)
        now = self.clock()
        entry = {"at": timeutil.local_iso(now), "action": "escalate", "by": principal.department_id}
        new = {
            **current,
            "incident_id": incident["id"],
            "grade": payload.grade,
            "history": [*current["history"], {**entry, "incident_id": incident["id"], "grade": payload.grade}],
            "version": current["version"] + 1,
        }
        self._moved(principal, "case.escalated", new, current["version"])
        return shown(new)

    def _moved(
        self,
        principal: Principal,
        action: str,
        case: dict[str, Any],
        read_version: int,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        try:
            write = self.store.replace_write(case, read_version)
            self._record(principal.department_id, action, case, write, details)
        except ChangeRefused:
            raise Conflict(
                "the case changed meanwhile; read it again", [{"field": "status", "message": "changed"}]
            ) from None

    def _record(
        self,
        actor: str,
        action: str,
        case: Mapping[str, Any],
        write: dict[str, Any],
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        """The case's change and its audit entry, in one transaction."""
        details = {"case": case["id"], "status": case["status"], "town": case["town"]}
        for name in ("grade", "lead", "incident_id"):
            if case.get(name):
                details[name] = case[name]
        details.update(extra or {})
        self.audit.append(actor=actor, action=action, details=details, changes=[write])

    def get(self, principal: Principal, case_id: str) -> dict[str, Any]:
        """The case, each photo with a short-lived presigned link to see it by."""
        case = shown(self._readable(principal, case_id))
        if case.get("photos") and self.photos is not None:
            expiry = self.photo_link_expiry_seconds
            expires_at = timeutil.local_iso(self.clock() + expiry * 1000)
            case["photos"] = [
                {
                    **p,
                    "url": self.photos.link(photo_key(case_id, p["id"], p["content_type"]), expiry),
                    "url_expires_at": expires_at,
                }
                for p in case["photos"]
            ]
        return case

    def list(self, principal: Principal, params: Mapping[str, str]) -> dict[str, Any]:
        params = check_query(dict(params))
        filters: dict[str, str] = {}
        if params.get("status"):
            filters["status"] = one_of("status", params["status"], STATUSES)
        if params.get("town"):
            filters["town"] = one_of("town", params["town"], [t.value for t in Town])
        if params.get("category"):
            filters["category"] = one_of("category", params["category"], ("部件", "事件"))
        actor = self.actor(principal)
        limit = paging.parse_limit(params.get("limit"), default=50, maximum=200)
        cursor = paging.decode_cursor(params.get("cursor"), LIST_CURSOR)
        items, last = self.store.list(filters, limit, cursor)
        # A department sees the cases it reported or is assigned; the command centre sees every one.
        return {
            "items": [shown(c) for c in items if may_read(c, actor)],
            "next_cursor": paging.encode_cursor(last),
        }

    def statistics(self, principal: Principal, params: Mapping[str, str]) -> dict[str, Any]:
        params = check_query(dict(params))
        now = self.clock()
        start, end = paging.parse_range(params, now - 30 * 86_400_000, now)
        if end - start > MAX_STATS_DAYS * 86_400_000:
            raise ValidationFailed("invalid query", [{"field": "to", "message": f"at most {MAX_STATS_DAYS} days"}])
        department = params.get("department") or None
        actor = self.actor(principal)
        if not actor.command_centre and department != principal.department_id:
            raise Forbidden("a department reads its own evaluation (department=its id); the command centre reads all")
        cases = [c for c in self.store.reported_between(start, end) if c.get("dispatched_ms")]
        return {
            "from": timeutil.local_iso(start),
            "to": timeutil.local_iso(end),
            "departments": stats(cases, department),
        }

    def check_overdue(self) -> dict[str, Any]:
        """Mark the steps past their deadlines (超时), announce them, escalate big-safety cases."""
        now = self.clock()
        marked = escalated = 0
        for case in self.store.open_cases():
            steps = overdue_steps(case, now)
            if not steps:
                continue
            new = mark_overdue(case, steps, now)
            new["version"] = case["version"] + 1
            try:
                self._record("supervision", "case.overdue", new, self.store.replace_write(new, case["version"]))
            except ChangeRefused:
                continue  # moved meanwhile: the next pass looks again
            marked += len(steps)
            escalated += int(new.get("grade") != case.get("grade"))
            self.supervision.publish(shown(new), "overdue", [s for s, _ in steps])
        return {"overdue_steps": marked, "escalated": escalated}

    def _readable(self, principal: Principal, case_id: str, for_action: bool = False) -> dict[str, Any]:
        if not re.fullmatch(CASE_ID, case_id):
            raise ValidationFailed("invalid case id", [{"field": "case_id", "message": "not a case id"}])
        case = self.store.get(case_id)
        if case is None:
            raise NotFound(f"no case {case_id}")
        if not for_action and not may_read(case, self.actor(principal)):
            raise Forbidden("another department's case")
        return case


def shown(case: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in case.items() if not k.endswith("_ms")}
    for name in ("acknowledge_by", "close_by"):
        if case.get(f"{name}_ms"):
            out[name] = timeutil.local_iso(int(case[f"{name}_ms"]))
    out["assignments"] = [{k: v for k, v in a.items() if not k.endswith("_ms")} for a in case.get("assignments", [])]
    return out
