"""Access requests, decisions and grants: who may read which fields of a dataset, until when.

    consumer ── request {purpose, fields, clear_fields, expires_at} ──► pending_owner
    owner ── reject ──► rejected
    owner ── approve (may narrow fields, shorten the term) ──► approved + grant
                      └─ sensitive dataset, or clear personal data asked ──► pending_bureau
    data bureau ── approve (may narrow further) ──► approved + grant  |  reject ──► rejected

A grant lets one department read the granted fields until it expires or the
owner (or the data bureau) revokes it. Personal data stays masked unless the
grant names the field in `clear_fields`, which only a grant the data bureau
approved can do. `public` datasets are readable by every department without a
request (masked); a request on them only makes sense for clear personal data.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

from citybrain.core import timeutil
from citybrain.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from citybrain.core.validation import Integer, Note, Text, one_of
from citybrain.departments.models import Principal
from citybrain.exchange.audit import AuditLog, ChangeRefused, RequestFacts, Write
from citybrain.exchange.catalog import Catalog, Sensitivity
from citybrain.exchange.schema import DatasetSchema

DAY_MS = 86_400_000
DEFAULT_TERM_MS = 365 * DAY_MS
MAX_TERM_MS = 3 * 365 * DAY_MS


def _names(value: list[str] | None) -> list[str] | None:
    if value is None:
        return None
    return list(dict.fromkeys(v.strip() for v in value))


class AccessRequestIn(BaseModel):
    """POST /v1/datasets/{id}/access-requests."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    purpose: Text = Field(min_length=4, max_length=1000, description="why the data is needed (数据使用目的)")
    fields: list[str] | None = Field(default=None, min_length=1, max_length=200, description="all fields if absent")
    clear_fields: list[str] = Field(
        default_factory=list, max_length=200, description="personal-data fields wanted unmasked (needs the data bureau)"
    )
    expires_at: str | Integer | None = Field(
        default=None, description="ISO-8601 or epoch ms; a year from approval if absent"
    )

    @field_validator("fields", "clear_fields")
    @classmethod
    def _distinct(cls, value: list[str] | None) -> list[str] | None:
        return _names(value)


class DecisionIn(BaseModel):
    """POST /v1/access-requests/{id}/decision."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    decision: Literal["approve", "reject"]
    fields: list[str] | None = Field(default=None, min_length=1, max_length=200, description="narrow the fields")
    clear_fields: list[str] | None = Field(default=None, max_length=200, description="narrow the clear fields")
    expires_at: str | Integer | None = Field(default=None, description="shorten the term")
    reason: Note | None = None

    @field_validator("fields", "clear_fields")
    @classmethod
    def _distinct(cls, value: list[str] | None) -> list[str] | None:
        return _names(value)


ROLES = ("owner", "consumer")  # whose inbox a listing shows
REQUEST_STATUSES = ("pending_owner", "pending_bureau", "approved", "rejected")


class RevokeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: Note | None = None


class AccessStore(Protocol):
    # new_request, transition and revocation build writes; they commit with the audit entry.
    def new_request(self, record: dict[str, Any]) -> list[Write]: ...
    def get_request(self, request_id: str) -> dict[str, Any] | None: ...
    def transition(
        self, request_id: str, expected_status: str, changes: dict[str, Any], grant: dict[str, Any] | None
    ) -> list[Write]: ...
    def requests(
        self, index: str | None, key: str | None, status: str | None, limit: int, cursor: dict | None
    ) -> tuple[list[dict], dict | None]: ...
    def get_grant(self, grant_id: str) -> dict[str, Any] | None: ...
    def grants_for(self, dataset_id: str, consumer: str) -> list[dict[str, Any]]: ...
    def grants(
        self, index: str | None, key: str | None, dataset_id: str | None, limit: int, cursor: dict | None
    ) -> tuple[list[dict], dict | None]: ...
    def revocation(self, grant_id: str, changes: dict[str, Any]) -> list[Write]: ...


@dataclass
class Entitlement:
    """What one department may read of one dataset right now."""

    basis: str  # owner | grant | public
    fields: list[str]  # in schema order
    clear: set[str] = field(default_factory=set)
    grants: list[str] = field(default_factory=list)
    purposes: list[str] = field(default_factory=list)


@dataclass
class Refusal:
    reason: str
    grants: list[str] = field(default_factory=list)


def grant_status(grant: dict[str, Any], now_ms: int) -> str:
    if grant["status"] == "revoked":
        return "revoked"
    return "expired" if now_ms >= grant["expires_ms"] else "active"


def grant_view(grant: dict[str, Any], now_ms: int | None = None) -> dict[str, Any]:
    return {**grant, "status": grant_status(grant, timeutil.now_ms() if now_ms is None else now_ms)}


class Access:
    def __init__(self, catalog: Catalog, store: AccessStore, audit: AuditLog):
        self.catalog = catalog
        self.store = store
        self.audit = audit

    # -- requests --------------------------------------------------------------------
    def request(
        self, principal: Principal, dataset_id: str, payload: AccessRequestIn, request: RequestFacts
    ) -> dict[str, Any]:
        dataset = self.catalog.get(dataset_id)
        if principal.department_id == dataset["owner"]:
            raise ValidationFailed(
                "a department does not request its own dataset", [{"field": "dataset", "message": "you own it"}]
            )
        schema = DatasetSchema.model_validate(dataset["schema"])
        fields = self._fields(schema, payload.fields, "fields")
        clear = self._clear(schema, fields, payload.clear_fields, "clear_fields")
        if dataset["sensitivity"] == Sensitivity.public and not clear:
            raise ValidationFailed(
                "public datasets need no request; ask only for clear personal data",
                [{"field": "clear_fields", "message": "empty: every department already reads this dataset"}],
            )
        now = timeutil.now_ms()
        expires_ms = self._expiry(payload.expires_at, now, None, "expires_at")
        record = {
            "id": f"ar-{secrets.token_hex(6)}",
            "dataset_id": dataset_id,
            "dataset_title": dataset["title"],
            "owner": dataset["owner"],
            "consumer": principal.department_id,
            "purpose": payload.purpose,
            "fields": fields,
            "clear_fields": clear,
            "sensitivity": dataset["sensitivity"],
            "status": "pending_owner",
            "created_at": timeutil.local_iso(now),
            "created_ms": now,
            "decisions": [],
        }
        if expires_ms is not None:
            record.update(expires_ms=expires_ms, expires_at=timeutil.local_iso(expires_ms))
        for _ in range(3):
            try:
                self._audit(
                    principal.department_id,
                    "access.requested",
                    dataset,
                    request,
                    purpose=payload.purpose,
                    details={"request": record["id"], "fields": fields, "clear_fields": clear},
                    changes=self.store.new_request(record),
                )
                return record
            except ChangeRefused:  # the random id met an existing request's: draw another
                record["id"] = f"ar-{secrets.token_hex(6)}"
        raise RuntimeError("no free access request id after three draws")

    def get_request(self, principal: Principal, request_id: str) -> dict[str, Any]:
        record = self.store.get_request(request_id)
        if not record or not (principal.is_admin or principal.department_id in (record["owner"], record["consumer"])):
            raise NotFound(f"no access request {request_id}")
        return record

    def list_requests(
        self, principal: Principal, role: str | None, status: str | None, limit: int, cursor: dict | None
    ) -> tuple[list[dict], dict | None]:
        if role is not None:
            one_of("role", role, ROLES)
        if status is not None:
            one_of("status", status, REQUEST_STATUSES)
        if role is None and principal.is_admin:
            # The data bureau's inbox: everything, or one status (pending_bureau: its own queue).
            return self.store.requests("status-index" if status else None, status, None, limit, cursor)
        index = "consumer-index" if role == "consumer" else "owner-index"
        return self.store.requests(index, principal.department_id, status, limit, cursor)

    def decide(
        self, principal: Principal, request_id: str, payload: DecisionIn, request: RequestFacts
    ) -> dict[str, Any]:
        record = self.store.get_request(request_id)
        if not record:
            raise NotFound(f"no access request {request_id}")
        dataset = self.catalog.get(record["dataset_id"])
        status = record["status"]
        if status == "pending_owner":
            level = "owner"
            allowed = principal.department_id == dataset["owner"]
        elif status == "pending_bureau":
            level = "bureau"
            allowed = principal.is_admin
        else:
            raise Conflict(f"the request is already {status}", [{"field": "status", "message": status}])
        if not allowed:
            self._audit(
                principal.department_id,
                "refused",
                dataset,
                request,
                details={"attempted": "access.decision", "request": request_id, "status": status},
            )
            who = "the owning department" if level == "owner" else "the data bureau (admin)"
            raise Forbidden(f"this request waits for {who}")

        now = timeutil.now_ms()
        decision: dict[str, Any] = {
            "level": level,
            "department": principal.department_id,
            "decision": payload.decision,
            "at": timeutil.local_iso(now),
        }
        if payload.reason:
            decision["reason"] = payload.reason
        if payload.decision == "reject":
            if not payload.reason:
                raise ValidationFailed(
                    "a rejection needs a reason", [{"field": "reason", "message": "required when rejecting"}]
                )
            changes: dict[str, Any] = {
                "status": "rejected",
                "decisions": [*record["decisions"], decision],
                "decided_ms": now,
            }
            try:
                self._audit(
                    principal.department_id,
                    "access.rejected",
                    dataset,
                    request,
                    purpose=record["purpose"],
                    details={
                        "request": request_id,
                        "level": level,
                        "consumer": record["consumer"],
                        "reason": payload.reason,
                    },
                    changes=self.store.transition(request_id, status, changes, None),
                )
            except ChangeRefused:
                raise Conflict("the request was decided meanwhile; read it again") from None
            return {**record, **changes}

        fields = self._narrow(record["fields"], payload.fields, "fields")
        # Clear access to a field the decision took away goes with it.
        clear = [f for f in self._narrow(record["clear_fields"], payload.clear_fields, "clear_fields") if f in fields]
        expires_ms = self._expiry(payload.expires_at, now, record.get("expires_ms"), "expires_at")
        if expires_ms is None:
            expires_ms = min(record.get("expires_ms") or now + DEFAULT_TERM_MS, now + MAX_TERM_MS)
        if expires_ms <= now:
            raise ValidationFailed(
                "the requested term has already ended",
                [{"field": "expires_at", "message": "set a later date when approving"}],
            )
        decision.update(fields=fields, clear_fields=clear, expires_at=timeutil.local_iso(expires_ms))
        needs_bureau = (
            level == "owner"
            and not principal.is_admin
            and (dataset["sensitivity"] == Sensitivity.sensitive or bool(clear))
        )
        changes = {
            "fields": fields,
            "clear_fields": clear,
            "expires_ms": expires_ms,
            "expires_at": timeutil.local_iso(expires_ms),
            "decisions": [*record["decisions"], decision],
            "decided_ms": now,
        }
        grant = None
        if needs_bureau:
            changes["status"] = "pending_bureau"
        else:
            grant = {
                "id": f"gr-{secrets.token_hex(6)}",
                "request_id": request_id,
                "dataset_id": dataset["id"],
                "owner": dataset["owner"],
                "consumer": record["consumer"],
                "purpose": record["purpose"],
                "fields": fields,
                "clear_fields": clear,
                "expires_ms": expires_ms,
                "expires_at": timeutil.local_iso(expires_ms),
                "granted_ms": now,
                "granted_at": timeutil.local_iso(now),
                # The bureau approved if this is its decision, or if it owns the dataset itself.
                "bureau_approved": principal.is_admin,
                "approvals": [*record["decisions"], decision],
                "status": "active",
            }
            changes.update(status="approved", grant_id=grant["id"])
        try:
            self._audit(
                principal.department_id,
                "access.approved" if level == "owner" else "access.bureau_approved",
                dataset,
                request,
                purpose=record["purpose"],
                grant=grant["id"] if grant else None,
                details={
                    "request": request_id,
                    "consumer": record["consumer"],
                    "fields": fields,
                    "clear_fields": clear,
                    "expires_at": timeutil.local_iso(expires_ms),
                    "next": "pending_bureau" if needs_bureau else "granted",
                },
                changes=self.store.transition(request_id, status, changes, grant),
            )
        except ChangeRefused:
            raise Conflict("the request was decided meanwhile; read it again") from None
        out = {**record, **changes}
        if grant:
            out["grant"] = grant_view(grant, now)
        return out

    # -- grants ------------------------------------------------------------------------
    def get_grant(self, principal: Principal, grant_id: str) -> dict[str, Any]:
        grant = self.store.get_grant(grant_id)
        if not grant or not (principal.is_admin or principal.department_id in (grant["owner"], grant["consumer"])):
            raise NotFound(f"no grant {grant_id}")
        return grant_view(grant)

    def list_grants(
        self, principal: Principal, role: str | None, dataset_id: str | None, limit: int, cursor: dict | None
    ) -> tuple[list[dict], dict | None]:
        if role is not None:
            one_of("role", role, ROLES)
        now = timeutil.now_ms()
        if dataset_id:
            dataset = self.catalog.get(dataset_id)
            if principal.is_admin or principal.department_id == dataset["owner"]:
                items, last = self.store.grants("dataset-index", dataset_id, None, limit, cursor)
            else:
                items, last = self.store.grants("consumer-index", principal.department_id, dataset_id, limit, cursor)
        elif role is None and principal.is_admin:
            items, last = self.store.grants(None, None, None, limit, cursor)
        else:
            index = "consumer-index" if role == "consumer" else "owner-index"
            items, last = self.store.grants(index, principal.department_id, None, limit, cursor)
        return [grant_view(g, now) for g in items], last

    def revoke(self, principal: Principal, grant_id: str, payload: RevokeIn, request: RequestFacts) -> dict[str, Any]:
        grant = self.store.get_grant(grant_id)
        if not grant or not (principal.is_admin or principal.department_id in (grant["owner"], grant["consumer"])):
            raise NotFound(f"no grant {grant_id}")
        dataset = self.catalog.get(grant["dataset_id"])
        if not principal.may_manage(grant["owner"]):
            self._audit(
                principal.department_id,
                "refused",
                dataset,
                request,
                grant=grant_id,
                details={"attempted": "grant.revoked"},
            )
            raise Forbidden("only the owning department or the data bureau may revoke a grant")
        if grant["status"] == "revoked":
            return grant_view(grant)  # revoking twice changes nothing
        now = timeutil.now_ms()
        changes = {
            "status": "revoked",
            "revoked_at": timeutil.local_iso(now),
            "revoked_ms": now,
            "revoked_by": principal.department_id,
        }
        if payload.reason:
            changes["revoke_reason"] = payload.reason
        try:
            self._audit(
                principal.department_id,
                "grant.revoked",
                dataset,
                request,
                grant=grant_id,
                purpose=grant["purpose"],
                details={"consumer": grant["consumer"], "reason": payload.reason},
                changes=self.store.revocation(grant_id, changes),
            )
        except ChangeRefused:  # revoked meanwhile by someone else, who left the entry
            current = self.store.get_grant(grant_id)
            return grant_view(current or grant, now)
        return grant_view({**grant, **changes}, now)

    # -- reading -----------------------------------------------------------------------
    def entitlement(self, principal: Principal, dataset: dict[str, Any]) -> Entitlement | Refusal:
        schema = DatasetSchema.model_validate(dataset["schema"])
        if principal.department_id == dataset["owner"]:
            return Entitlement("owner", schema.names, set(schema.names))
        now = timeutil.now_ms()
        sensitive = dataset["sensitivity"] == Sensitivity.sensitive
        grants = self.store.grants_for(dataset["id"], principal.department_id)
        usable = [
            g
            for g in grants
            if grant_status(g, now) == "active" and (g["bureau_approved"] or (not sensitive and not g["clear_fields"]))
        ]
        if usable:
            granted = {f for g in usable for f in g["fields"]}
            if dataset["sensitivity"] == Sensitivity.public:
                granted = set(schema.names)
            clear = {f for g in usable for f in g["clear_fields"]}
            return Entitlement(
                "grant",
                [n for n in schema.names if n in granted],
                clear,
                [g["id"] for g in usable],
                list(dict.fromkeys(g["purpose"] for g in usable)),
            )
        if dataset["sensitivity"] == Sensitivity.public:
            return Entitlement("public", schema.names)
        return Refusal(_why_not(grants, now), [g["id"] for g in grants])

    # -- helpers -----------------------------------------------------------------------
    @staticmethod
    def _fields(schema: DatasetSchema, wanted: list[str] | None, name: str) -> list[str]:
        if wanted is None:
            return schema.names
        unknown = [f for f in wanted if f not in schema.names]
        if unknown:
            raise ValidationFailed(
                "unknown fields",
                [
                    {"field": f"{name}.{wanted.index(f)}", "message": f"{f} is not a field of the dataset"}
                    for f in unknown
                ],
            )
        return [n for n in schema.names if n in wanted]

    @staticmethod
    def _clear(schema: DatasetSchema, fields: list[str], clear: list[str], name: str) -> list[str]:
        pii = schema.pii_fields
        errors = []
        for n, f in enumerate(clear):
            if f not in pii:
                errors.append(
                    {"field": f"{name}.{n}", "message": f"{f} is not a personal-data field (nothing is masked)"}
                )
            elif f not in fields:
                errors.append({"field": f"{name}.{n}", "message": f"{f} is not among the requested fields"})
        if errors:
            raise ValidationFailed("invalid clear_fields", errors)
        return [n for n in fields if n in clear]

    @staticmethod
    def _narrow(current: list[str], wanted: list[str] | None, name: str) -> list[str]:
        if wanted is None:
            return current
        extra = [f for f in wanted if f not in current]
        if extra:
            raise ValidationFailed(
                f"a decision may only narrow {name}",
                [{"field": f"{name}.{wanted.index(f)}", "message": f"{f} was not requested"} for f in extra],
            )
        return [f for f in current if f in wanted]

    @staticmethod
    def _expiry(value: str | int | None, now: int, ceiling: int | None, name: str) -> int | None:
        if value is None:
            return None
        try:
            ms = timeutil.parse_instant(value)
        except timeutil.BadTime as exc:
            raise ValidationFailed(f"invalid {name}", [{"field": name, "message": str(exc)}]) from None
        if ms <= now:
            raise ValidationFailed(f"invalid {name}", [{"field": name, "message": "must be in the future"}])
        if ms > now + MAX_TERM_MS:
            raise ValidationFailed(f"invalid {name}", [{"field": name, "message": "at most three years ahead"}])
        if ceiling is not None and ms > ceiling:
            raise ValidationFailed(
                f"invalid {name}",
                [
                    {
                        "field": name,
                        "message": f"may only shorten the term (requested until {timeutil.local_iso(ceiling)})",
                    }
                ],
            )
        return ms

    def _audit(self, actor: str, action: str, dataset: dict[str, Any], request: RequestFacts, **extra: Any) -> None:
        self.audit.append(
            actor=actor, action=action, request=request, dataset=dataset["id"], dataset_owner=dataset["owner"], **extra
        )


def _why_not(grants: list[dict[str, Any]], now: int) -> str:
    if not grants:
        return "no grant: request access first"
    states = {grant_status(g, now) for g in grants}
    if "active" in states:  # the dataset became sensitive after the owner alone granted it
        return "the dataset is sensitive and the grant lacks the data bureau's approval"
    if "expired" in states:
        return "the grant has expired"
    return "the grant was revoked"
