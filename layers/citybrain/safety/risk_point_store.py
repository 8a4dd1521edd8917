"""Risk points on DynamoDB: one item each, replaced only at the version it was read at.
A district has hundreds of risk points, not millions: a filtered scan lists them."""

from __future__ import annotations

import builtins
from typing import Any

from citybrain.core.aws import client
from citybrain.core.config import get_settings
from citybrain.core.dynamo import from_item, scan_all, to_item


class DynamoRiskPointStore:
    @property
    def table(self) -> str:
        return get_settings().risk_points_table

    def create_write(self, record: dict[str, Any]) -> dict[str, Any]:
        """The write that registers a point (committed with its audit entry, not sent here)."""
        return {
            "Put": {"TableName": self.table, "Item": to_item(record), "ConditionExpression": "attribute_not_exists(id)"}
        }

    def replace_write(self, record: dict[str, Any], expected_version: int) -> dict[str, Any]:
        """The write that replaces a point at the version it was read at."""
        return {
            "Put": {
                "TableName": self.table,
                "Item": to_item(record),
                "ConditionExpression": "version = :v",
                "ExpressionAttributeValues": {":v": {"N": str(expected_version)}},
            }
        }

    def get(self, point_id: str) -> dict[str, Any] | None:
        item = (
            client("dynamodb")
            .get_item(TableName=self.table, Key={"id": {"S": point_id}}, ConsistentRead=True)
            .get("Item")
        )
        return from_item(item) if item else None

    def list(self, filters: dict[str, str], limit: int, cursor: dict | None) -> tuple[list[dict], dict | None]:
        kwargs: dict[str, Any] = {"TableName": self.table}
        if filters:
            kwargs.update(
                FilterExpression=" AND ".join(f"#f{i} = :v{i}" for i in range(len(filters))),
                ExpressionAttributeNames={f"#f{i}": k for i, k in enumerate(filters)},
                ExpressionAttributeValues={f":v{i}": {"S": v} for i, v in enumerate(filters.values())},
            )
        items: list[dict] = []
        start = cursor
        while True:
            if start:
                kwargs["ExclusiveStartKey"] = {"id": {"S": start["id"]}}
            kwargs["Limit"] = max(limit, 100) if filters else limit - len(items)
            response = client("dynamodb").scan(**kwargs)
            page = response["Items"]
            last = response.get("LastEvaluatedKey")
            for index, raw in enumerate(page):
                items.append(from_item(raw))
                if len(items) == limit:
                    more = index + 1 < len(page) or last
                    return items, ({"id": raw["id"]["S"]} if more else None)
            if not last:
                return items, None
            start = {"id": last["id"]["S"]}

    def bound_to(self, device_id: str) -> builtins.list[dict[str, Any]]:
        """The risk points a device is bound to (read as an alert of it is fused)."""
        items = scan_all(
            TableName=self.table,
            FilterExpression="contains(#devices, :d)",
            ExpressionAttributeNames={"#devices": "devices"},
            ExpressionAttributeValues={":d": {"S": device_id}},
        )
        return list(items)
