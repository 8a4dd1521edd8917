"""Datasets, their versions and the catalog's search index, in one table.

    pk=DS#<id>   sk=META          the dataset's metadata (and its load lease, version counter,
                                  current version and the versions never committed)
    pk=DS#<id>   sk=V#000000042   version 42 of its records
    pk=CATALOG   sk=B#017         index bucket 17: attribute `d:<id>` -> compact entry, per dataset
    pk=CATALOG   sk=GEN           the index generation, bumped by every change

Search reads the whole index — it has to, to find any substring — so the index
is as small as it can be: one short JSON string per dataset, packed into at most
256 items (a 10,000-dataset catalog is a few MB, read in a handful of pages), and
a process keeps it in memory until the generation moves. A dataset and its
index entry change in one transaction, with the audit entry of the change (the
writes are built here and committed by the audit store), so search never misses
a dataset and no change goes unaudited.
"""

from __future__ import annotations

import zlib
from typing import Any

from citybrain.core import paging
from citybrain.core.aws import client
from citybrain.core.config import get_settings
from citybrain.core.dynamo import batch_get, batch_write, from_item, query_all, to_attr, to_item
from citybrain.exchange.audit import Write
from citybrain.exchange.catalog import IndexEntry, index_entry

BUCKETS = 256
CATALOG = "CATALOG"
GENERATION = {"pk": {"S": CATALOG}, "sk": {"S": "GEN"}}
ENTRY_PREFIX = "d:"


def _meta_key(dataset_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"DS#{dataset_id}"}, "sk": {"S": "META"}}


def _bucket_key(dataset_id: str) -> dict[str, Any]:
    return {"pk": {"S": CATALOG}, "sk": {"S": f"B#{zlib.crc32(dataset_id.encode()) % BUCKETS:03d}"}}


def _record(raw: dict[str, Any]) -> dict[str, Any]:
    record = from_item(raw)
    record.pop("pk", None)
    record.pop("sk", None)
    return record


class DynamoCatalogStore:
    def __init__(self) -> None:
        self._generation: int | None = None
        self._index: dict[str, IndexEntry] = {}
        self._compact: dict[str, str] = {}

    @property
    def table(self) -> str:
        return get_settings().datasets_table

    # -- datasets: the writes of a publication or a revision, committed with their audit entry --
    def publication(self, record: dict[str, Any], entry: str) -> list[Write]:
        meta = {
            "Put": {
                "TableName": self.table,
                "Item": to_item({"pk": f"DS#{record['id']}", "sk": "META", **record}),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        return self._with_index(meta, record["id"], entry)

    def revision(self, dataset_id: str, changes: dict[str, Any], expected_modified_ms: int, entry: str) -> list[Write]:
        names: dict[str, str] = {"#m": "modified_ms"}
        values: dict[str, Any] = {":expected": {"N": str(expected_modified_ms)}}
        sets, removes = [], []
        for n, (name, value) in enumerate(changes.items()):
            names[f"#f{n}"] = name
            if value is None:
                removes.append(f"#f{n}")
            else:
                values[f":v{n}"] = to_attr(value)
                sets.append(f"#f{n} = :v{n}")
        expression = ("SET " + ", ".join(sets) if sets else "") + (" REMOVE " + ", ".join(removes) if removes else "")
        meta = {
            "Update": {
                "TableName": self.table,
                "Key": _meta_key(dataset_id),
                "UpdateExpression": expression,
                "ConditionExpression": "#m = :expected",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        }
        return self._with_index(meta, dataset_id, entry)

    def _with_index(self, meta_action: Write, dataset_id: str, entry: str) -> list[Write]:
        """The dataset, its index entry and the index generation: one transaction (the
        dataset's write first, the only one with a condition)."""
        return [
            meta_action,
            {
                "Update": {
                    "TableName": self.table,
                    "Key": _bucket_key(dataset_id),
                    "UpdateExpression": "SET #e = :e",
                    "ExpressionAttributeNames": {"#e": ENTRY_PREFIX + dataset_id},
                    "ExpressionAttributeValues": {":e": {"S": entry}},
                }
            },
            {
                "Update": {
                    "TableName": self.table,
                    "Key": GENERATION,
                    "UpdateExpression": "ADD #n :one",
                    "ExpressionAttributeNames": {"#n": "n"},
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            },
        ]

    def get(self, dataset_id: str) -> dict[str, Any] | None:
        item = (
            client("dynamodb")
            .get_item(TableName=self.table, Key=_meta_key(dataset_id), ConsistentRead=True)
            .get("Item")
        )
        return _record(item) if item else None

    def get_many(self, dataset_ids: list[str]) -> dict[str, dict[str, Any]]:
        found = batch_get((self.table, _meta_key(d)) for d in dict.fromkeys(dataset_ids))
        return {r["id"]: r for r in (_record_plain(x) for x in found.get(self.table, []))}

    # -- the index -----------------------------------------------------------------
    def generation(self) -> int:
        item = client("dynamodb").get_item(TableName=self.table, Key=GENERATION, ConsistentRead=True).get("Item")
        return int(item["n"]["N"]) if item else 0

    def index(self) -> dict[str, IndexEntry]:
        """Every dataset's index entry; re-read only when the generation moved."""
        generation = self.generation()
        if generation == self._generation:
            return self._index
        compact: dict[str, str] = {}
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :c AND begins_with(sk, :b)",
            "ExpressionAttributeValues": {":c": {"S": CATALOG}, ":b": {"S": "B#"}},
            "ConsistentRead": True,
        }
        for item in query_all(**kwargs):
            for name, value in item.items():
                if name.startswith(ENTRY_PREFIX):
                    compact[name[len(ENTRY_PREFIX) :]] = value["S"]
        # Entries that did not change keep their parsed form.
        self._index = {
            dataset_id: (
                self._index[dataset_id] if self._compact.get(dataset_id) == text else IndexEntry(dataset_id, text)
            )
            for dataset_id, text in compact.items()
        }
        self._compact, self._generation = compact, generation
        return self._index

    def rebuild_index(self) -> int:
        """Recompute the whole index from the datasets' metadata (repair, bulk loads);
        returns the number of datasets indexed. Run it while nothing is being published."""
        buckets: dict[str, dict[str, Any]] = {}
        paginator = client("dynamodb").get_paginator("scan")
        count = 0
        for page in paginator.paginate(
            TableName=self.table, FilterExpression="sk = :m", ExpressionAttributeValues={":m": {"S": "META"}}
        ):
            for raw in page["Items"]:
                record = _record(raw)
                key = _bucket_key(record["id"])["sk"]["S"]
                buckets.setdefault(key, {})[ENTRY_PREFIX + record["id"]] = {"S": index_entry(record)}
                count += 1
        requests = [
            {"PutRequest": {"Item": {"pk": {"S": CATALOG}, "sk": {"S": f"B#{b:03d}"}, **buckets.get(f"B#{b:03d}", {})}}}
            for b in range(BUCKETS)
        ]
        batch_write(self.table, requests)
        client("dynamodb").update_item(
            TableName=self.table,
            Key=GENERATION,
            UpdateExpression="ADD #n :one",
            ExpressionAttributeNames={"#n": "n"},
            ExpressionAttributeValues={":one": {"N": "1"}},
        )
        return count

    # -- loads and versions ----------------------------------------------------------
    def begin_load(self, dataset_id: str, token: str, now_ms: int, lease_ms: int) -> dict[str, Any] | None:
        """Take the dataset's load lease and the next version number (`version_counter` of the
        metadata returned); None if another load holds it."""
        ddb = client("dynamodb")
        try:
            response = ddb.update_item(
                TableName=self.table,
                Key=_meta_key(dataset_id),
                UpdateExpression="SET #t = :t, #u = :u ADD #v :one",
                ConditionExpression="attribute_exists(pk) AND (attribute_not_exists(#t) OR #u < :now)",
                ExpressionAttributeNames={"#t": "load_token", "#u": "load_until", "#v": "version_counter"},
                ExpressionAttributeValues={
                    ":t": {"S": token},
                    ":u": {"N": str(now_ms + lease_ms)},
                    ":now": {"N": str(now_ms)},
                    ":one": {"N": "1"},
                },
                ReturnValues="ALL_NEW",
            )
        except ddb.exceptions.ConditionalCheckFailedException:
            return None
        return _record(response["Attributes"])

    def commit_load(
        self,
        dataset_id: str,
        token: str,
        version: dict[str, Any],
        inserted: int,
        modified: bool,
        abandoned: list[int],
    ) -> list[Write]:
        """The writes that make a load's version current: its version record, and on the
        metadata the current version (its staged rows become visible), the count, the
        versions taken by loads that never committed, and the lease released. The metadata's
        write (second) holds on condition that this load still holds the lease."""
        names = {
            "#t": "load_token",
            "#u": "load_until",
            "#lv": "last_version",
            "#cv": "current_version",
            "#c": "record_count",
        }
        values: dict[str, Any] = {
            ":t": {"S": token},
            ":lv": to_attr(version),
            ":cv": {"N": str(version["version"])},
            ":n": {"N": str(inserted)},
        }
        expression = "SET #lv = :lv, #cv = :cv"
        if modified:
            names.update({"#m": "modified", "#mm": "modified_ms"})
            values.update({":m": {"S": version["at"]}, ":mm": {"N": str(version["at_ms"])}})
            expression += ", #m = :m, #mm = :mm"
        expression += " ADD #c :n"
        if abandoned:
            names["#a"] = "abandoned"
            values[":a"] = {"NS": [str(v) for v in abandoned]}
            expression += ", #a :a"
        expression += " REMOVE #t, #u"
        return [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": to_item({"pk": f"DS#{dataset_id}", "sk": f"V#{version['version']:09d}", **version}),
                }
            },
            {
                "Update": {
                    "TableName": self.table,
                    "Key": _meta_key(dataset_id),
                    "UpdateExpression": expression,
                    "ConditionExpression": "#t = :t",
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": values,
                }
            },
        ]

    def renew_load(self, dataset_id: str, token: str, now_ms: int, lease_ms: int) -> bool:
        """Extend the lease this load holds (a long load); False if it was lost."""
        ddb = client("dynamodb")
        try:
            ddb.update_item(
                TableName=self.table,
                Key=_meta_key(dataset_id),
                UpdateExpression="SET #u = :u",
                ConditionExpression="#t = :t",
                ExpressionAttributeNames={"#t": "load_token", "#u": "load_until"},
                ExpressionAttributeValues={":t": {"S": token}, ":u": {"N": str(now_ms + lease_ms)}},
            )
        except ddb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def abort_load(self, dataset_id: str, token: str) -> None:
        ddb = client("dynamodb")
        try:
            ddb.update_item(
                TableName=self.table,
                Key=_meta_key(dataset_id),
                UpdateExpression="REMOVE #t, #u",
                ConditionExpression="#t = :t",
                ExpressionAttributeNames={"#t": "load_token", "#u": "load_until"},
                ExpressionAttributeValues={":t": {"S": token}},
            )
        except ddb.exceptions.ConditionalCheckFailedException:
            pass

    def versions(self, dataset_id: str, limit: int, cursor: dict | None) -> tuple[list[dict], dict | None]:
        values: dict[str, Any] = {":p": {"S": f"DS#{dataset_id}"}, ":v": {"S": "V#"}}
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :p AND begins_with(sk, :v)",
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if cursor:
            version = cursor.get("v")
            if not isinstance(version, int) or isinstance(version, bool) or version < 1 or set(cursor) != {"v"}:
                raise paging.bad_cursor()
            kwargs["ExclusiveStartKey"] = {"pk": {"S": f"DS#{dataset_id}"}, "sk": {"S": f"V#{version:09d}"}}
        response = client("dynamodb").query(**kwargs)
        items = [_record(raw) for raw in response["Items"]]
        last = response.get("LastEvaluatedKey")
        return items, ({"v": int(last["sk"]["S"][2:])} if last else None)


def _record_plain(record: dict[str, Any]) -> dict[str, Any]:
    record = dict(record)
    record.pop("pk", None)
    record.pop("sk", None)
    return record
