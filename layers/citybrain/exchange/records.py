"""Loading a dataset's records (the owner) and pulling them (everyone entitled).

A load validates every record against the schema, upserts the good ones by
primary key and becomes a version (rows, inserted/updated/unchanged, checksum,
time); bad records come back with their field paths and are kept with their
reason, and never block the good ones. Loads of one dataset take turns (a
lease on the dataset), which keeps its record count and version order exact.
A load's rows are staged under its version and become visible only when the
transaction that writes its audit entry moves the dataset to that version.

A pull returns one page of the fields the caller is entitled to, personal data
masked unless the grant says otherwise, once its audit entry (row count, fields
returned) is written: if the entry cannot be written, no data leaves. A refused
pull is audited too.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any, NoReturn, Protocol

from citybrain.core import paging, timeutil
from citybrain.core.errors import Conflict, Forbidden, PayloadTooLarge, ValidationFailed
from citybrain.departments.models import Principal
from citybrain.exchange import masking
from citybrain.exchange.access import Access, Entitlement
from citybrain.exchange.audit import AuditLog, ChangeRefused, RequestFacts
from citybrain.exchange.catalog import Catalog
from citybrain.exchange.rows import Committed, Position, StoredRow, row_key
from citybrain.exchange.schema import BadValue, DatasetSchema, RecordValidator, digest, parse_filter, records_checksum

MAX_BATCH = 1000  # records per POST (API Gateway takes 6 MB of body at most)
LEASE_MS = 5 * 60_000  # a load that dies holding the lease blocks others this long
LEASE_WAIT_S = 3.0  # how long a load waits for another one of the same dataset
PAGE_DEFAULT = 100
PAGE_MAX = 1000


class RecordStore(Protocol):
    # Loads: the rows that exist as a load sees them; rows staged under the load's version.
    def stored(self, dataset_id: str, shards: int, rows: list[str], view: Committed) -> dict[str, StoredRow]: ...
    def stage(
        self,
        dataset_id: str,
        shards: int,
        records: list[tuple[str, dict[str, Any], str, StoredRow | None]],
        version: int,
    ) -> None: ...
    # Pulls: what the committed versions show.
    def get(
        self, dataset_id: str, shards: int, row: str, fields: list[str], view: Committed
    ) -> dict[str, Any] | None: ...
    def page(
        self,
        dataset_id: str,
        shards: int,
        start: Position,
        limit: int,
        fields: list[str],
        equals: dict[str, Any],
        view: Committed,
    ) -> tuple[list[dict[str, Any]], Position | None]: ...


class Records:
    def __init__(
        self,
        catalog: Catalog,
        access: Access,
        store: RecordStore,
        audit: AuditLog,
        keep_rejections: Callable[[str, list[dict[str, Any]]], None],
    ):
        self.catalog = catalog
        self.access = access
        self.store = store
        self.audit = audit
        self.keep_rejections = keep_rejections

    # -- loads -------------------------------------------------------------------------
    def load(self, principal: Principal, dataset_id: str, body: Any, request: RequestFacts) -> dict[str, Any]:
        dataset = self.catalog.get(dataset_id)
        if principal.department_id != dataset["owner"]:
            self.refuse_load(principal, dataset, request)
        batch = body.get("records") if isinstance(body, dict) else None
        if not isinstance(batch, list):
            raise ValidationFailed(
                'expected {"records": [...]}', [{"field": "records", "message": "a list of records"}]
            )
        if len(batch) > MAX_BATCH:
            raise PayloadTooLarge(
                f"at most {MAX_BATCH} records per request; larger loads go in several requests",
                [{"field": "records", "message": f"{len(batch)} records"}],
            )
        validator = RecordValidator(DatasetSchema.model_validate(dataset["schema"]), dataset["primary_key"])
        accepted: list[tuple[str, dict[str, Any]]] = []
        rejected: list[dict[str, Any]] = []
        first_index: dict[str, int] = {}
        for index, raw in enumerate(batch):
            clean, errors = validator.validate(raw, f"records.{index}")
            if clean is not None:
                key = validator.key_of(clean)
                if key in first_index:
                    clean, errors = (
                        None,
                        [
                            {
                                "field": f"records.{index}.{dataset['primary_key'][0]}",
                                "message": f"same primary key as records.{first_index[key]}",
                            }
                        ],
                    )
                else:
                    first_index[key] = index
                    accepted.append((key, clean))
            if clean is None:
                rejected.append({"index": index, "errors": errors})
        if not accepted:
            # Nothing to load: no version is made, and the answer says why.
            errors = [e for r in rejected for e in r["errors"]][:100]
            raise ValidationFailed(
                "no record was accepted" if batch else "no records",
                errors or [{"field": "records", "message": "at least one record"}],
            )

        load = self.begin_load(dataset)
        try:
            load.upsert(accepted)
            if rejected:
                # Kept before the version commits: a committed version always has its rejections.
                self.keep_rejections(
                    f"dataset:{dataset_id}:v{load.version}",
                    [{"position": r["index"], "errors": r["errors"], "raw": batch[r["index"]]} for r in rejected],
                )
            summary = load.finish(
                principal.department_id,
                request,
                rejected=len(rejected),
                checksum=records_checksum([r for _, r in accepted], validator),
                source="api",
                loaded_by=principal.department_id,
            )
        except BaseException:
            load.abort()
            raise
        version = summary["version"]
        return {
            "dataset_id": dataset_id,
            "version": version,
            "accepted": len(accepted),
            **{k: summary[k] for k in ("inserted", "updated", "unchanged")},
            "rejected": rejected,
            "checksum": summary["checksum"],
        }

    def refuse_load(self, principal: Principal, dataset: dict[str, Any], request: RequestFacts) -> NoReturn:
        self._audit(principal.department_id, "refused", dataset, request, details={"attempted": "records.loaded"})
        raise Forbidden("only the owning department loads records into its dataset")

    def begin_load(self, dataset: dict[str, Any]) -> VersionLoad:
        """Take the dataset's load lease: what is upserted until finish() becomes one version."""
        token = secrets.token_hex(8)
        return VersionLoad(self, self._take_lease(dataset["id"], token), token)

    def _take_lease(self, dataset_id: str, token: str) -> dict[str, Any]:
        """The dataset's metadata as the lease left it (its version counter: this load's version)."""
        deadline = time.monotonic() + LEASE_WAIT_S
        while True:
            try:
                leased = self.catalog.store.begin_load(dataset_id, token, timeutil.now_ms(), LEASE_MS)
            except Exception:
                # The answer was lost, perhaps not the write: free a lease that may be this load's,
                # or every load of the dataset would wait for it to run out.
                self.catalog.store.abort_load(dataset_id, token)
                raise
            if leased is not None:
                return leased
            if time.monotonic() > deadline:
                raise Conflict("another load of this dataset is running; try again shortly")
            time.sleep(0.2)

    def _upsert(
        self, dataset: dict[str, Any], accepted: list[tuple[str, dict[str, Any]]], view: Committed, version: int
    ) -> dict[str, int]:
        """Stage a block under the load's version, as the load sees the rows (`view`: the
        committed versions and its own); nothing is visible to readers until it commits."""
        salt, shards = dataset["row_salt"], dataset["shards"]
        rows = [(row_key(salt, key), record, digest(record)[:32]) for key, record in accepted]
        stored = self.store.stored(dataset["id"], shards, [row for row, _, _ in rows], view)
        changed = [
            (row, record, checksum, stored.get(row))
            for row, record, checksum in rows
            if row not in stored or stored[row].checksum != checksum
        ]
        self.store.stage(dataset["id"], shards, changed, version)
        inserted = sum(1 for row, _, _, before in changed if before is None)
        return {"inserted": inserted, "updated": len(changed) - inserted, "unchanged": len(rows) - len(changed)}

    # -- pulls -------------------------------------------------------------------------
    def pull(
        self, principal: Principal, dataset_id: str, params: dict[str, str], request: RequestFacts
    ) -> dict[str, Any]:
        dataset = self.catalog.get(dataset_id)
        entitlement = self.access.entitlement(principal, dataset)
        if not isinstance(entitlement, Entitlement):
            self._refuse(principal, dataset, request, entitlement.reason, entitlement.grants)
        schema = DatasetSchema.model_validate(dataset["schema"])
        params = dict(params)
        limit = paging.parse_limit(params.pop("limit", None), PAGE_DEFAULT, PAGE_MAX)
        position = Position.parse(paging.decode_cursor(params.pop("cursor", None)), dataset["shards"])
        fields = entitlement.fields
        if params.get("fields"):
            wanted = [f.strip() for f in params.pop("fields").split(",") if f.strip()]
            for name in wanted:
                if schema.field(name) is None:
                    raise ValidationFailed(
                        "unknown field", [{"field": "fields", "message": f"{name} is not a field of the dataset"}]
                    )
            beyond = [f for f in wanted if f not in fields]
            if beyond:
                self._refuse(
                    principal, dataset, request, f"fields not granted: {', '.join(beyond)}", entitlement.grants
                )
            fields = [f for f in fields if f in wanted]
        params.pop("fields", None)
        equals = self._filters(principal, dataset, schema, entitlement, params, request)

        key_fields = dataset["primary_key"]
        if equals and set(equals) >= set(key_fields):
            # The whole primary key is given: one read, no scan.
            validator = RecordValidator(schema, key_fields)
            row = row_key(dataset["row_salt"], validator.key_of(equals))
            found = self.store.get(
                dataset_id, dataset["shards"], row, list(dict.fromkeys([*fields, *equals])), Committed.of(dataset)
            )
            matches = found is not None and all(found.get(k) == v for k, v in equals.items())
            records = [{k: found.get(k) for k in fields if k in found}] if found is not None and matches else []
            after: Position | None = None
        else:
            records, after = self.store.page(
                dataset_id, dataset["shards"], position, limit, fields, equals, Committed.of(dataset)
            )

        pii = schema.pii_fields
        masked = [f for f in fields if f in pii and f not in entitlement.clear]
        for record in records:
            for name in masked:
                if name in record:
                    record[name] = masking.mask(pii[name], record[name])
        self._audit(
            principal.department_id,
            "records.pulled",
            dataset,
            request,
            grant=",".join(entitlement.grants) or None,
            purpose="; ".join(entitlement.purposes) or None,
            details={
                "rows": len(records),
                "fields": fields,
                "masked": masked,
                "basis": entitlement.basis,
                "filters": sorted(equals) or None,
            },
        )
        return {
            "dataset_id": dataset_id,
            "fields": fields,
            "masked": masked,
            "items": records,
            "next_cursor": paging.encode_cursor(after.cursor()) if after else None,
        }

    def _filters(
        self,
        principal: Principal,
        dataset: dict[str, Any],
        schema: DatasetSchema,
        entitlement: Entitlement,
        params: dict[str, str],
        request: RequestFacts,
    ) -> dict[str, Any]:
        equals: dict[str, Any] = {}
        for name, raw in params.items():
            spec = schema.field(name)
            if spec is None:
                raise ValidationFailed(
                    "unknown query parameter",
                    [{"field": name, "message": "neither cursor, limit, fields nor a field of the dataset"}],
                )
            if name not in entitlement.fields:
                self._refuse(principal, dataset, request, f"filter on a field not granted: {name}", entitlement.grants)
            if spec.pii.value != "none" and name not in entitlement.clear:
                # Matching a masked value would tell whether a given person is in the data.
                self._refuse(principal, dataset, request, f"filter on masked personal data: {name}", entitlement.grants)
            try:
                equals[name] = parse_filter(spec, raw)
            except BadValue as exc:
                raise ValidationFailed("invalid filter", [{"field": name, "message": str(exc)}]) from None
        return equals

    def _refuse(
        self, principal: Principal, dataset: dict[str, Any], request: RequestFacts, reason: str, grants: list[str]
    ) -> NoReturn:
        self._audit(
            principal.department_id,
            "records.refused",
            dataset,
            request,
            grant=",".join(grants) or None,
            details={"reason": reason},
        )
        raise Forbidden(f"no access to the records of {dataset['id']}: {reason}")

    def _audit(self, actor: str, action: str, dataset: dict[str, Any], request: RequestFacts, **extra: Any) -> None:
        self.audit.append(
            actor=actor, action=action, request=request, dataset=dataset["id"], dataset_owner=dataset["owner"], **extra
        )


class VersionLoad:
    """One load becoming one version: rows staged in blocks under the dataset's lease
    and under the load's own version number, renewing the lease as the load goes on;
    then one transaction writes the `records.loaded` audit entry, records the version,
    moves the dataset's current version to it (which is what makes the staged rows
    visible, all at once) and frees the lease. A load that fails at any point before
    that transaction leaves nothing visible: its staged rows stay hidden (the next
    commit lists its version among the abandoned ones) and the lease is freed."""

    def __init__(self, records: Records, leased: dict[str, Any], token: str):
        self.records = records
        self.dataset = leased
        self.token = token
        self.version = int(leased["version_counter"])
        self.view = Committed.of(leased, own=self.version)
        self.rows = 0
        self.outcome = {"inserted": 0, "updated": 0, "unchanged": 0}
        self._renewed_ms = timeutil.now_ms()

    def upsert(self, accepted: list[tuple[str, dict[str, Any]]], rows: int | None = None) -> dict[str, int]:
        """(primary key text, clean record) pairs of one block, each key once; rows: the
        accepted rows they came from (more when a key repeats). -> inserted/updated/unchanged."""
        self._keep_lease()
        outcome = self.records._upsert(self.dataset, accepted, self.view, self.version)
        self.rows += len(accepted) if rows is None else rows
        for name, count in outcome.items():
            self.outcome[name] += count
        return outcome

    def _keep_lease(self) -> None:
        now = timeutil.now_ms()
        if now - self._renewed_ms < LEASE_MS // 3:
            return
        if not self.records.catalog.store.renew_load(self.dataset["id"], self.token, now, LEASE_MS):
            raise Conflict(
                "the load outlived its lease and another load may have started; send it again (re-sending is harmless)"
            )
        self._renewed_ms = now

    def finish(
        self,
        actor: str,
        request: RequestFacts,
        *,
        rejected: int,
        checksum: str,
        source: str,
        loaded_by: str,
        **extra: Any,
    ) -> dict[str, Any]:
        """Commit the version with its audit entry (by `actor`, caused by `request`); -> the version."""
        now = timeutil.now_ms()
        summary = {
            "version": self.version,
            "at": timeutil.local_iso(now),
            "at_ms": now,
            "rows": self.rows,
            **self.outcome,
            "rejected": rejected,
            "checksum": checksum,
            "source": source,
            "loaded_by": loaded_by,
            **extra,
        }
        # Versions taken after the current one by loads that never committed (one load at a
        # time: any number between them and this one was abandoned).
        abandoned = list(range(self.view.current + 1, self.version))
        commit = self.records.catalog.store.commit_load(
            self.dataset["id"],
            self.token,
            summary,
            self.outcome["inserted"],
            modified=bool(self.outcome["inserted"] or self.outcome["updated"]),
            abandoned=abandoned,
        )
        try:
            self.records._audit(
                actor,
                "records.loaded",
                self.dataset,
                request,
                details={
                    k: summary[k]
                    for k in ("version", "rows", "inserted", "updated", "unchanged", "rejected", "checksum")
                },
                changes=commit,
            )
        except ChangeRefused:
            raise Conflict(
                "the load outlived its lease and another load may have started; send it again (re-sending is harmless)"
            ) from None
        return summary

    def abort(self) -> None:
        self.records.catalog.store.abort_load(self.dataset["id"], self.token)
