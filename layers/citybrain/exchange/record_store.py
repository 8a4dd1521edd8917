"""A dataset's records in DynamoDB, keyed so that nothing about them leaks
(see citybrain.exchange.rows):

    part = <dataset id>#<shard, 2 hex digits>    row = HMAC-SHA256(dataset's salt, primary key)[:32 hex]

Records spread over the dataset's shards (16): a bulk load is not held to one
partition key's write throughput. A pull walks the shards in order, one Query
page at a time, so memory stays one page however large the dataset is.

A row holds its committed content (`data`, `sum`, `ver`) and, once a load has
touched it, that load's staged content (`next`, `next_sum`, `next_ver`); which
one a reader sees follows from the dataset's committed versions (rows.Committed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from citybrain.core.aws import client
from citybrain.core.config import get_settings
from citybrain.core.dynamo import batch_get, batch_write, from_item, to_attr, to_item
from citybrain.exchange.rows import Committed, Position, StoredRow, shard_of

MAX_READS = 20  # Query calls one page may take while filters skip records; the cursor resumes after them


def part_of(dataset_id: str, shard: int) -> str:
    return f"{dataset_id}#{shard:02x}"


class DynamoRecordStore:
    @property
    def table(self) -> str:
        return get_settings().records_table

    def _key(self, dataset_id: str, shards: int, row: str) -> dict[str, Any]:
        return {"part": {"S": part_of(dataset_id, shard_of(row, shards))}, "row": {"S": row}}

    def stored(self, dataset_id: str, shards: int, rows: list[str], view: Committed) -> dict[str, StoredRow]:
        """The rows that exist as the load holding `view` sees them (committed, or staged by
        itself), with the committed content each keeps until the load commits."""
        committed_only = replace(view, own=None)
        found: dict[str, StoredRow] = {}
        keys = [(self.table, self._key(dataset_id, shards, r)) for r in dict.fromkeys(rows)]
        for item in batch_get(keys).get(self.table, []):
            seen = _visible(item, view)
            if seen is not None:
                found[item["row"]] = StoredRow(_visible(item, committed_only), seen[1])
        return found

    def stage(
        self,
        dataset_id: str,
        shards: int,
        records: list[tuple[str, dict[str, Any], str, StoredRow | None]],
        version: int,
    ) -> None:
        """Put (row, data, checksum, as stored) records as staged by `version`: each item keeps
        its committed content beside the staged one, so readers see the staged content only
        once `version` is committed. (A Put also drops what an abandoned load staged there.)"""
        requests = []
        for row, data, checksum, stored in records:
            item: dict[str, Any] = {
                "part": part_of(dataset_id, shard_of(row, shards)),
                "row": row,
                "next": data,
                "next_sum": checksum,
                "next_ver": version,
            }
            if stored is not None and stored.committed is not None:
                item["data"], item["sum"], item["ver"] = stored.committed
            requests.append({"PutRequest": {"Item": to_item(item)}})
        batch_write(self.table, requests)

    def get(self, dataset_id: str, shards: int, row: str, fields: list[str], view: Committed) -> dict[str, Any] | None:
        names, projection = _projection(fields)
        item = (
            client("dynamodb")
            .get_item(
                TableName=self.table,
                Key=self._key(dataset_id, shards, row),
                ProjectionExpression=projection,
                ExpressionAttributeNames=names,
            )
            .get("Item")
        )
        visible = _visible(from_item(item), view) if item else None
        return visible[0] if visible else None

    def page(
        self,
        dataset_id: str,
        shards: int,
        start: Position,
        limit: int,
        fields: list[str],
        equals: dict[str, Any],
        view: Committed,
    ) -> tuple[list[dict[str, Any]], Position | None]:
        """Up to `limit` visible records (only `fields`) matching `equals`, from `start` on;
        returns them and where the next page starts (None at the end)."""
        names, projection = _projection(fields, list(equals))
        values: dict[str, Any] = {}
        committed, staged = [], []
        for n, (name, value) in enumerate(sorted(equals.items())):
            names[f"#q{n}"] = name
            values[f":q{n}"] = to_attr(value)
            committed.append(f"#d.#q{n} = :q{n}")
            staged.append(f"#n.#q{n} = :q{n}")
        # Either content may be the visible one; which is decided below, item by item.
        filters = [f"(({' AND '.join(committed)}) OR ({' AND '.join(staged)}))"] if equals else []
        records: list[dict[str, Any]] = []
        shard, row = start.shard, start.row
        ddb = client("dynamodb")
        for _ in range(MAX_READS):
            if shard >= shards:
                return records, None
            wanted = limit - len(records)
            kwargs: dict[str, Any] = {
                "TableName": self.table,
                "KeyConditionExpression": "#part = :part",
                "ExpressionAttributeNames": {**names, "#part": "part"},
                "ExpressionAttributeValues": {**values, ":part": {"S": part_of(dataset_id, shard)}},
                "ProjectionExpression": projection,
                "Limit": wanted if not filters else max(wanted, 200),
            }
            if filters:
                kwargs["FilterExpression"] = " AND ".join(filters)
            if row:
                kwargs["ExclusiveStartKey"] = {"part": {"S": part_of(dataset_id, shard)}, "row": {"S": row}}
            response = ddb.query(**kwargs)
            items = response["Items"]
            for n, raw in enumerate(items):
                visible = _visible(from_item(raw), view)
                if visible is None or any(visible[0].get(k) != v for k, v in equals.items()):
                    continue
                records.append({k: v for k, v in visible[0].items() if k in fields})
                if len(records) == limit:
                    last_row = raw["row"]["S"]
                    if n < len(items) - 1 or response.get("LastEvaluatedKey"):
                        return records, Position(shard, last_row)
                    return records, (Position(shard + 1) if shard + 1 < shards else None)
            last = response.get("LastEvaluatedKey")
            if last:
                row = last["row"]["S"]
            else:
                shard, row = shard + 1, None
        return records, (Position(shard, row) if shard < shards else None)


def _visible(item: dict[str, Any], view: Committed) -> tuple[dict[str, Any], str, int] | None:
    """The content of a row readers holding `view` see: the staged one once its version is
    committed, else the committed one (None: the row exists only in an uncommitted load)."""
    staged = item.get("next_ver")
    if staged is not None and view.includes(staged):
        return item.get("next", {}), item.get("next_sum", ""), staged
    if "ver" in item:
        return item.get("data", {}), item.get("sum", ""), item["ver"]
    return None


def _projection(fields: list[str], also: Sequence[str] = ()) -> tuple[dict[str, str], str]:
    """Both contents of a row, narrowed to the fields (and those filtered on), and the versions."""
    names = {"#row": "row", "#d": "data", "#n": "next", "#v": "ver", "#nv": "next_ver"}
    paths = ["#row", "#v", "#nv"]
    for n, name in enumerate(dict.fromkeys([*fields, *also])):
        names[f"#f{n}"] = name
        paths += [f"#d.#f{n}", f"#n.#f{n}"]
    return names, ", ".join(paths)
