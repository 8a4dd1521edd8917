"""Response models of the exchange's routes: catalog, records, access requests,
grants, audit and statistics (see citybrain.core.responses).

A dataset is what its publication said (citybrain.exchange.catalog.DatasetIn) plus
what the platform fills in; these models describe it without re-applying the input
rules, so a record stored under older rules is still shown. Records are open
objects, named by the dataset's schema."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, RootModel

from citybrain.core.responses import Day, Instant, Open, Page, Shape, optional
from citybrain.core.vocabulary import Town
from citybrain.exchange.catalog import DatasetDomain, Frequency, Sensitivity
from citybrain.exchange.schema import PII, FieldType
from citybrain.sensing.responses import RejectedItem

RequestStatus = Literal["pending_owner", "pending_bureau", "approved", "rejected"]


# -- catalog ---------------------------------------------------------------------------
class SchemaField(Shape):
    name: str
    type: FieldType
    unit: str | None = optional()
    description: str | None = optional()
    pii: PII = Field(description="the kind of personal data, masked on the way out unless a grant clears it")
    required: bool


class TableSchema(Shape):
    fields: list[SchemaField]


class Coverage(Shape):
    """The period the data covers."""

    start: Day | None = None
    end: Day | None = None


class DatasetVersion(Shape):
    """One load of a dataset."""

    version: int
    at: Instant
    at_ms: int
    rows: int = Field(description="records accepted (a key repeated in a file counts each time)")
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    checksum: str = Field(description="SHA-256 over the accepted records as canonical JSON lines")
    checksum_order: Literal["file"] | None = optional("file: in the file's order (else primary-key order)")
    source: Literal["api", "upload"]
    upload: str | None = optional("the upload the load came from")
    loaded_by: str


class Dataset(Shape):
    id: str
    title: str
    description: str
    domain: DatasetDomain
    keywords: list[str]
    table_schema: TableSchema = Field(alias="schema")
    primary_key: list[str]
    sensitivity: Sensitivity
    update_frequency: Frequency
    license: str | None = optional()
    temporal: Coverage | None = optional()
    spatial: list[Town] = Field(description="towns the data covers")
    owner: str
    issued: Instant
    issued_ms: int
    modified: Instant
    modified_ms: int
    record_count: int
    last_version: DatasetVersion | None = optional("the latest load")


class DatasetPage(Page[Dataset]):
    """Newest first."""

    total: int = Field(description="datasets matching the search")


class VersionPage(Page[DatasetVersion]):
    """Newest first."""


class DcatCatalog(Open):
    """DCAT 2 in JSON-LD (dcat, dct, foaf, hydra, skos terms), paged with hydra:next."""

    context: dict[str, Any] = Field(alias="@context")
    id: str = Field(alias="@id")
    type: Literal["dcat:Catalog"] = Field(alias="@type")
    datasets: list[dict[str, Any]] = Field(alias="dcat:dataset", description="dcat:Dataset nodes")
    view: dict[str, Any] = Field(
        alias="hydra:view", description="hydra:PartialCollectionView: hydra:totalItems, and hydra:next unless last"
    )


# -- records ---------------------------------------------------------------------------
class RecordsLoaded(Shape):
    """The load became `version`; records are upserted by primary key."""

    dataset_id: str
    version: int
    accepted: int
    inserted: int
    updated: int
    unchanged: int
    rejected: list[RejectedItem]
    checksum: str = Field(description="SHA-256 over the accepted records as canonical JSON lines in primary-key order")


class Record(Open):
    """A record: the granted fields of the dataset's schema, personal data masked unless the grant clears it."""


class RecordPage(Page[Record]):
    dataset_id: str
    fields: list[str] = Field(description="the fields returned")
    masked: list[str] = Field(description="the personal-data fields returned masked")


# -- access requests and grants ----------------------------------------------------------
class Decision(Shape):
    level: Literal["owner", "bureau"]
    department: str
    decision: Literal["approve", "reject"]
    at: Instant
    reason: str | None = optional()
    fields: list[str] | None = optional("on approval: the fields granted")
    clear_fields: list[str] | None = optional("on approval: the personal-data fields granted unmasked")
    expires_at: Instant | None = optional("on approval: the end of the term")


class Grant(Shape):
    id: str
    request_id: str
    dataset_id: str
    owner: str
    consumer: str
    purpose: str
    fields: list[str]
    clear_fields: list[str]
    expires_ms: int
    expires_at: Instant
    granted_ms: int
    granted_at: Instant
    bureau_approved: bool = Field(
        description="approved by the data bureau (needed for sensitive data and clear fields)"
    )
    approvals: list[Decision]
    status: Literal["active", "expired", "revoked"]
    revoked_at: Instant | None = optional()
    revoked_ms: int | None = optional()
    revoked_by: str | None = optional()
    revoke_reason: str | None = optional()


class AccessRequest(Shape):
    id: str
    dataset_id: str
    dataset_title: str
    owner: str
    consumer: str
    purpose: str
    fields: list[str]
    clear_fields: list[str]
    sensitivity: Sensitivity
    status: RequestStatus
    created_at: Instant
    created_ms: int
    decisions: list[Decision]
    expires_ms: int | None = optional()
    expires_at: Instant | None = optional("the term asked for, then decided")
    decided_ms: int | None = optional()
    grant_id: str | None = optional("once approved")


class DecidedRequest(AccessRequest):
    """The request after the decision, with the grant it issued, if it did."""

    grant: Grant | None = optional()


class AccessRequestPage(Page[AccessRequest]):
    """Newest first."""


class GrantPage(Page[Grant]):
    pass


# -- audit and statistics --------------------------------------------------------------
class AuditEntry(Shape):
    """hash = SHA-256 of the canonical JSON (sorted keys, no spaces, UTF-8) of the rest."""

    seq: int
    at: Instant
    at_ms: int
    actor: str
    action: str = Field(description="e.g. dataset.published, access.requested, records.pulled, records.refused")
    dataset: str | None = optional()
    dataset_owner: str | None = optional()
    grant: str | None = optional()
    purpose: str | None = optional()
    request_sha256: str | None = optional("SHA-256 of the canonical request: method, path, query, body")
    details: dict[str, Any] | None = optional("rows and fields returned, the decision, the reason of a refusal…")
    prev_hash: str
    hash: str


class AuditPage(Page[AuditEntry]):
    """Newest first."""


class Anchor(Shape):
    """The chain's head as anchored outside the table: an object under S3 Object Lock (compliance mode)."""

    seq: int = Field(description="the anchored entry's sequence number")
    hash: str = Field(description="that entry's hash")
    entries: int = Field(description="entries in the chain up to it")
    anchored_at: Instant
    trigger: Literal["schedule", "interval", "admin"] | None = optional(
        "schedule (every 5 minutes), interval (a 1,000th entry), admin (on demand)"
    )


class AnchorCreated(Anchor):
    created: bool = Field(description="false when the head was anchored already (that anchor is returned)")


class AnchorPage(Page[Anchor]):
    """Oldest first."""


class AuditVerification(Shape):
    """One bounded step of the incremental verification: from the last checkpoint, at most
    2,000 entries; `complete: false` means call again to continue."""

    ok: bool
    entries: int = Field(description="entries verified from genesis, by this call and those before it")
    head: str | None = Field(default=None, description="when ok: the hash of the last verified entry (null if none)")
    checked: int | None = optional("entries this call walked")
    complete: bool | None = optional("whether the walk reached the chain's head (false: call again)")
    verified_to_seq: int | None = optional("the chain is verified from genesis up to this entry")
    from_seq: int | None = optional("where this call started")
    head_seq: int | None = optional("the chain's newest entry")
    anchors_checked: int | None = optional("anchors this call compared with the chain")
    last_anchor: Anchor | None = optional("the newest anchor, which the chain must still reach and match")
    broken_at: int | None = optional("the seq of the first broken link, when not ok")
    reason: str | None = optional()
    expected: str | None = optional("the hash the broken link should hold")
    found: str | None = Field(default=None, description="what the broken entry holds instead")


class VerificationJob(Shape):
    """A full re-verification of the chain from genesis against every anchor."""

    id: str
    status: Literal["queued", "running", "done"] = Field(
        description="done once the walk reached the head or a broken link (a slice that keeps failing ends in "
        "the queue's dead-letter queue, its status left as it was)"
    )
    requested_at: Instant
    requested_by: str
    entries: int = Field(description="entries verified so far")
    verified_to_seq: int
    anchors_checked: int
    finished_at: Instant | None = optional()
    ok: bool | None = optional("once done: the verdict")
    head: str | None = optional("once done and ok: the head's hash")
    broken_at: int | None = optional()
    reason: str | None = optional()
    expected: str | None = optional()
    found: str | None = optional()


class AuditExport(RootModel[str]):
    """JSON Lines: one entry per line, as the canonical JSON its hash is taken over (plus `hash`)."""


class DepartmentStats(Shape):
    department: str
    datasets_published: int
    requests_made: int
    requests_received: int
    approved: int
    rejected: int
    rows_provided: int
    rows_received: int
    refused: int


class PairStats(Shape):
    provider: str
    consumer: str
    requests: int
    approved: int
    rejected: int
    pulls: int
    rows: int
    refused: int


class ExchangeStats(Shape):
    """Summed over the local days from..to."""

    from_: Day = Field(alias="from")
    to: Day
    departments: list[DepartmentStats]
    pairs: list[PairStats]
