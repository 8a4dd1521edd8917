"""A dataset's records in DynamoDB, keyed so that nothing about them leaks
(see citybrain.exchange.rows):

    part = <dataset id>#<shard, 2 hex digits>    row = HMAC-SHA256(dataset's salt, primary key)[:32 hex]

Records spread over the dataset's shards (16): a bulk load is not held to one
partition key's write throughput. A pull walks the shards in order, one Query
page at a time, so memory stays one page however large the dataset is.
"""

from __future__ import annotations

from typing import Any

from citybrain.core.aws import client
from citybrain.core.config import get_settings
from citybrain.core.dynamo import batch_get, batch_write, from_item, to_attr, to_item
from citybrain.exchange.rows import Position, shard_of

MAX_READS = 20  # Query calls one page may take while filters skip records; the cursor resumes after them


def part_of(dataset_id: str, shard: int) -> str:
    return f"{dataset_id}#{shard:02x}"


class DynamoRecordStore:
    @property
    def table(self) -> str:
        return get_settings().records_table

    def checksums(self, dataset_id: str, shards: int, rows: list[str]) -> dict[str, str]:
        """row -> checksum of the stored record, for the rows that exist."""
        keys = [
            (self.table, {"part": {"S": part_of(dataset_id, shard_of(r, shards))}, "row": {"S": r}})
            for r in dict.fromkeys(rows)
        ]
        found: dict[str, str] = {}
        for item in batch_get(keys).get(self.table, []):
            found[item["row"]] = item.get("sum", "")
        return found

    def write(self, dataset_id: str, shards: int, records: list[tuple[str, dict[str, Any], str]], version: int) -> None:
        """Put (row, data, checksum) records; a Put on an existing row replaces it (upsert)."""
        requests = [
            {
                "PutRequest": {
                    "Item": to_item(
                        {
                            "part": part_of(dataset_id, shard_of(row, shards)),
                            "row": row,
                            "data": data,
                            "sum": checksum,
                            "ver": version,
                        }
                    )
                }
            }
            for row, data, checksum in records
        ]
        batch_write(self.table, requests)

    def get(self, dataset_id: str, shards: int, row: str, fields: list[str]) -> dict[str, Any] | None:
        names, projection = _projection(fields)
        item = (
            client("dynamodb")
            .get_item(
                TableName=self.table,
                Key={"part": {"S": part_of(dataset_id, shard_of(row, shards))}, "row": {"S": row}},
                ProjectionExpression=projection,
                ExpressionAttributeNames=names,
            )
            .get("Item")
        )
        return from_item(item).get("data", {}) if item else None

    def page(
        self, dataset_id: str, shards: int, start: Position, limit: int, fields: list[str], equals: dict[str, Any]
    ) -> tuple[list[dict[str, Any]], Position | None]:
        """Up to `limit` records (only `fields`) matching `equals`, from `start` on;
        returns them and where the next page starts (None at the end)."""
        names, projection = _projection(fields)
        values: dict[str, Any] = {}
        filters = []
        for n, (name, value) in enumerate(sorted(equals.items())):
            names[f"#q{n}"] = name
            values[f":q{n}"] = to_attr(value)
            filters.append(f"#d.#q{n} = :q{n}")
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
                data = raw.get("data")
                records.append(from_item(data["M"]) if data else {})
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


def _projection(fields: list[str]) -> tuple[dict[str, str], str]:
    names = {"#row": "row", "#d": "data"}
    paths = ["#row"]
    for n, name in enumerate(fields):
        names[f"#f{n}"] = name
        paths.append(f"#d.#f{n}")
    return names, ", ".join(paths)
