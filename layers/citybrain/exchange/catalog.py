"""The catalog: what each department publishes, described as DCAT/CKAN do.

Metadata is visible to every department; records are not (see records.py and
access.py). Search looks for substrings — Chinese has no spaces between words,
so `健康` must find `重点人群健康档案` — in title, description and keywords,
over a compact index of the whole catalog (a few hundred items at most, see
catalog_store.py), never over the full metadata.
"""

from __future__ import annotations

import json
import secrets
import unicodedata
from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from citybrain.core import paging, timeutil
from citybrain.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from citybrain.core.validation import Name, Text, one_of
from citybrain.core.vocabulary import Town
from citybrain.departments.models import Principal
from citybrain.exchange.audit import AuditLog, ChangeRefused, RequestFacts, Write
from citybrain.exchange.schema import DatasetSchema

DATASET_ID = r"^[a-z0-9][a-z0-9-]{2,63}$"
RECORD_SHARDS = 16  # partitions a dataset's records spread over (write throughput of bulk loads)
# Stored on the dataset, never shown: the key of the record keys' HMAC, and bookkeeping.
INTERNAL = frozenset(
    {"pk", "sk", "row_salt", "shards", "version_counter", "current_version", "abandoned", "load_token", "load_until"}
)


class DatasetDomain(StrEnum):
    """The platform's six domains, and the themes of departments beyond sensing."""

    traffic = "traffic"  # 交通
    environment = "environment"  # 环保
    urban = "urban"  # 城管
    housing = "housing"  # 住建
    health = "health"  # 卫健
    safety = "safety"  # 应急/大安全
    economy = "economy"  # 市场监管、经济
    social = "social"  # 民政、社会保障
    government = "government"  # 政务综合


class Sensitivity(StrEnum):
    public = "public"  # any department reads without asking (personal data still masked)
    internal = "internal"  # the owner's approval
    sensitive = "sensitive"  # the owner's approval, then the data bureau's


class Frequency(StrEnum):
    continuous = "continuous"
    daily = "daily"
    weekly = "weekly"
    monthly = "monthly"
    quarterly = "quarterly"
    annual = "annual"
    irregular = "irregular"


class Temporal(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: date | None = None
    end: date | None = None

    @field_validator("start", "end", mode="before")
    @classmethod
    def _iso_text(cls, value: Any) -> Any:
        # A date is ISO text (2026-01-01): a number would be read as seconds since 1970.
        if value is not None and not isinstance(value, str):
            raise ValueError("a date as text, e.g. 2026-01-01")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Temporal:
        if self.start and self.end and self.end < self.start:
            raise ValueError("end is before start")
        return self


def _keywords(values: list[str]) -> list[str]:
    out: list[str] = []
    for value in values:
        value = value.strip()
        if not value or len(value) > 40:
            raise ValueError("keywords have 1 to 40 characters")
        if value not in out:
            out.append(value)
    return out


class DatasetIn(BaseModel):
    """POST /v1/datasets."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)

    id: str | None = Field(default=None, pattern=DATASET_ID, description="generated if absent")
    title: Name = Field(min_length=1, max_length=200)
    description: Text = Field(default="", max_length=4000)
    domain: DatasetDomain
    keywords: list[Name] = Field(default_factory=list, max_length=20)
    table_schema: DatasetSchema = Field(alias="schema")
    primary_key: list[str] = Field(min_length=1, max_length=4)
    sensitivity: Sensitivity
    update_frequency: Frequency = Frequency.irregular
    license: Name | None = Field(default=None, max_length=200)
    temporal: Temporal | None = None
    spatial: list[Town] = Field(default_factory=list, description="towns the data covers")

    @field_validator("keywords")
    @classmethod
    def _distinct_keywords(cls, value: list[str]) -> list[str]:
        return _keywords(value)

    @field_validator("primary_key", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("spatial")
    @classmethod
    def _distinct_towns(cls, value: list[Town]) -> list[Town]:
        return list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _key_in_schema(self) -> DatasetIn:
        names = self.table_schema.names
        for name in self.primary_key:
            if name not in names:
                raise ValueError(f"primary_key names {name}, which is not a field of the schema")
        if len(set(self.primary_key)) != len(self.primary_key):
            raise ValueError("primary_key names a field twice")
        return self


# What PATCH with null sets these to: the value a dataset published without them has
# (a null `license` or `temporal` removes it).
SEARCH_CURSOR = {"i": int, "id": str}  # the last entry of a page: when it was issued, its id
RESET_TO: dict[str, Any] = {"description": "", "keywords": [], "update_frequency": "irregular", "spatial": []}


class DatasetPatch(BaseModel):
    """PATCH /v1/datasets/{id}: descriptive metadata only. The schema and the
    primary key describe records already shared; changing them would change
    what existing grants mean, so a new structure is a new dataset."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: Name | None = Field(default=None, min_length=1, max_length=200)
    description: Text | None = Field(default=None, max_length=4000)
    domain: DatasetDomain | None = None
    keywords: list[Name] | None = Field(default=None, max_length=20)
    sensitivity: Sensitivity | None = None
    update_frequency: Frequency | None = None
    license: Name | None = Field(default=None, max_length=200)
    temporal: Temporal | None = None
    spatial: list[Town] | None = None

    @field_validator("title", "domain", "sensitivity", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # Every dataset has these: absent means unchanged, null would erase them.
        if value is None:
            raise ValueError("cannot be null: leave it out to keep the current value")
        return value

    @field_validator("keywords")
    @classmethod
    def _distinct_keywords(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _keywords(value)

    @classmethod
    def from_body(cls, body: Any) -> DatasetPatch:
        if isinstance(body, dict):
            fixed = [name for name in ("schema", "primary_key", "id", "owner") if name in body]
            if fixed:
                raise ValidationFailed(
                    "the structure and identity of a dataset cannot change",
                    [
                        {"field": name, "message": "cannot change; publish a new dataset for a new structure"}
                        for name in fixed
                    ],
                )
        return cls.model_validate(body)


# -- the search index ------------------------------------------------------------
def normalize(text: str) -> str:
    """Full-width forms folded (ＡＢ１ -> ab1), case folded: what users type matches what was written."""
    return unicodedata.normalize("NFKC", text).casefold()


def index_entry(record: dict[str, Any]) -> str:
    """The compact form of a dataset kept in the catalog index."""
    return json.dumps(
        [
            record["title"],
            record.get("description", ""),
            record.get("keywords", []),
            record["domain"],
            record["owner"],
            record["issued_ms"],
            record["sensitivity"],
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )


class IndexEntry:
    __slots__ = ("id", "haystack", "keywords", "domain", "owner", "issued_ms", "sensitivity")

    def __init__(self, dataset_id: str, compact: str):
        title, description, keywords, domain, owner, issued_ms, sensitivity = json.loads(compact)
        self.id = dataset_id
        # Newlines between the parts: a search never matches across two fields.
        self.haystack = normalize("\n".join([title, description, *keywords]))
        self.keywords = {normalize(k) for k in keywords}
        self.domain, self.owner, self.issued_ms, self.sensitivity = domain, owner, issued_ms, sensitivity

    @property
    def order(self) -> tuple[int, str]:
        return (-self.issued_ms, self.id)  # newest first


def search_entries(entries: list[IndexEntry], q: str | None, filters: dict[str, str]) -> list[IndexEntry]:
    terms = normalize(q or "").split()
    keyword = normalize(filters["keyword"]) if filters.get("keyword") else None
    out = []
    for entry in entries:
        if filters.get("domain") and entry.domain != filters["domain"]:
            continue
        if filters.get("owner") and entry.owner != filters["owner"]:
            continue
        if filters.get("sensitivity") and entry.sensitivity != filters["sensitivity"]:
            continue
        if keyword and keyword not in entry.keywords:
            continue
        if all(term in entry.haystack for term in terms):
            out.append(entry)
    out.sort(key=lambda e: e.order)
    return out


# -- the service -------------------------------------------------------------------
class CatalogStore(Protocol):
    # The writes of a publication (on condition the id is free) and of a revision (on condition
    # the dataset was not modified since `expected_modified_ms`), committed with their audit entry.
    def publication(self, record: dict[str, Any], entry: str) -> list[Write]: ...
    def revision(
        self, dataset_id: str, changes: dict[str, Any], expected_modified_ms: int, entry: str
    ) -> list[Write]: ...
    def get(self, dataset_id: str) -> dict[str, Any] | None: ...
    def get_many(self, dataset_ids: list[str]) -> dict[str, dict[str, Any]]: ...
    def index(self) -> dict[str, IndexEntry]: ...
    def versions(self, dataset_id: str, limit: int, cursor: dict | None) -> tuple[list[dict], dict | None]: ...
    # A dataset's load lease and version numbers (citybrain.exchange.records): one load at a time.
    def begin_load(self, dataset_id: str, token: str, now_ms: int, lease_ms: int) -> dict[str, Any] | None: ...
    def renew_load(self, dataset_id: str, token: str, now_ms: int, lease_ms: int) -> bool: ...
    def commit_load(
        self,
        dataset_id: str,
        token: str,
        version: dict[str, Any],
        inserted: int,
        modified: bool,
        abandoned: list[int],
    ) -> list[Write]: ...
    def abort_load(self, dataset_id: str, token: str) -> None: ...


def new_record(owner: str, payload: DatasetIn, now: int) -> dict[str, Any]:
    """A dataset as stored when it is published: the metadata plus what the platform fills in."""
    record = payload.model_dump(mode="json", by_alias=True, exclude_none=True)
    record.update(
        {
            "id": payload.id or f"ds-{secrets.token_hex(5)}",
            "owner": owner,
            "issued": timeutil.local_iso(now),
            "issued_ms": now,
            "modified": timeutil.local_iso(now),
            "modified_ms": now,
            "record_count": 0,
            "shards": RECORD_SHARDS,
            "row_salt": secrets.token_hex(16),
            "version_counter": 0,
        }
    )
    return record


def public_view(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in INTERNAL}


class Catalog:
    def __init__(self, store: CatalogStore, audit: AuditLog):
        self.store = store
        self.audit = audit

    def publish(self, principal: Principal, payload: DatasetIn, request: RequestFacts) -> dict[str, Any]:
        record = new_record(principal.department_id, payload, timeutil.now_ms())
        try:
            self._audit(
                principal.department_id,
                "dataset.published",
                record,
                request,
                {"title": record["title"], "sensitivity": record["sensitivity"]},
                self.store.publication(record, index_entry(record)),
            )
        except ChangeRefused:
            raise Conflict(
                f"dataset {record['id']} already exists", [{"field": "id", "message": "already exists"}]
            ) from None
        return public_view(record)

    def get(self, dataset_id: str) -> dict[str, Any]:
        """The full record, internals included (for the exchange's own use)."""
        record = self.store.get(dataset_id)
        if not record:
            raise NotFound(f"no dataset {dataset_id}")
        return record

    def update(
        self, principal: Principal, dataset_id: str, patch: DatasetPatch, request: RequestFacts
    ) -> dict[str, Any]:
        current = self.get(dataset_id)
        if not principal.may_manage(current["owner"]):
            self._audit(principal.department_id, "refused", current, request, {"attempted": "dataset.updated"})
            raise Forbidden("only the owning department may change this dataset")
        changes = patch.model_dump(mode="json", exclude_unset=True)
        if not changes:
            raise ValidationFailed("nothing to change", [{"field": "body", "message": "name at least one field"}])
        for name, default in RESET_TO.items():  # null: back to what a publication without it has
            if name in changes and changes[name] is None:
                changes[name] = default
        now = timeutil.now_ms()
        changes.update(modified=timeutil.local_iso(now), modified_ms=now)
        updated = {**current, **{k: v for k, v in changes.items() if v is not None}}
        for name, value in changes.items():
            if value is None:
                updated.pop(name, None)
        try:
            self._audit(
                principal.department_id,
                "dataset.updated",
                updated,
                request,
                {"changed": sorted(k for k in changes if k not in ("modified", "modified_ms"))},
                self.store.revision(dataset_id, changes, current["modified_ms"], index_entry(updated)),
            )
        except ChangeRefused:
            raise Conflict("the dataset changed meanwhile; read it again and retry") from None
        return public_view(updated)

    def find(self, params: Mapping[str, str]) -> dict[str, Any]:
        """GET /v1/datasets: `q` and the filters of the query, paged (an unknown domain or
        sensitivity is a 400 naming it; an empty parameter is no filter)."""
        filters = {k: params[k] for k in ("domain", "owner", "keyword", "sensitivity") if params.get(k)}
        if "domain" in filters:
            one_of("domain", filters["domain"], [d.value for d in DatasetDomain])
        if "sensitivity" in filters:
            one_of("sensitivity", filters["sensitivity"], [s.value for s in Sensitivity])
        result = self.search(
            params.get("q"),
            filters,
            paging.parse_limit(params.get("limit"), 20, 100),
            paging.decode_cursor(params.get("cursor"), SEARCH_CURSOR),
        )
        return {**result, "next_cursor": paging.encode_cursor(result["next_cursor"])}

    def search(self, q: str | None, filters: dict[str, str], limit: int, cursor: dict | None) -> dict[str, Any]:
        found = search_entries(list(self.store.index().values()), q, filters)
        start = 0
        if cursor:
            after = (-cursor["i"], cursor["id"])
            start = next((n for n, e in enumerate(found) if e.order > after), len(found))
        page = found[start : start + limit]
        records = self.store.get_many([e.id for e in page])
        items = [public_view(records[e.id]) for e in page if e.id in records]
        more = start + limit < len(found)
        next_cursor = {"i": page[-1].issued_ms, "id": page[-1].id} if page and more else None
        return {"items": items, "total": len(found), "next_cursor": next_cursor}

    def versions(self, dataset_id: str, limit: int, cursor: dict | None) -> tuple[list[dict], dict | None]:
        self.get(dataset_id)
        return self.store.versions(dataset_id, limit, cursor)

    def _audit(
        self,
        actor: str,
        action: str,
        record: dict[str, Any],
        request: RequestFacts,
        details: dict,
        changes: list[Write] | None = None,
    ) -> None:
        self.audit.append(
            actor=actor,
            action=action,
            request=request,
            dataset=record["id"],
            dataset_owner=record["owner"],
            details=details,
            changes=changes or (),
        )
