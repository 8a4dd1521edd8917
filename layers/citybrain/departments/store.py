from __future__ import annotations

from typing import Any

from citybrain.core.aws import client
from citybrain.core.config import get_settings
from citybrain.core.dynamo import from_item, to_item


class DynamoDepartmentStore:
    """Departments as `DEPT#<id>` items, keys as `KEY#<sha256>` items, in one table."""

    @property
    def table(self) -> str:
        return get_settings().departments_table

    def put_department(self, record: dict[str, Any]) -> bool:
        ddb = client("dynamodb")
        try:
            ddb.put_item(
                TableName=self.table,
                Item=to_item({"pk": f"DEPT#{record['id']}", **record}),
                ConditionExpression="attribute_not_exists(pk)",
            )
            return True
        except ddb.exceptions.ConditionalCheckFailedException:
            return False

    def put_key(self, key_hash: str, department_id: str, role: str) -> None:
        client("dynamodb").put_item(
            TableName=self.table, Item=to_item({"pk": f"KEY#{key_hash}", "department_id": department_id, "role": role})
        )

    def get_key(self, key_hash: str) -> dict[str, Any] | None:
        item = client("dynamodb").get_item(TableName=self.table, Key={"pk": {"S": f"KEY#{key_hash}"}}).get("Item")
        return from_item(item) if item else None

    def get_department(self, department_id: str) -> dict[str, Any] | None:
        item = client("dynamodb").get_item(TableName=self.table, Key={"pk": {"S": f"DEPT#{department_id}"}}).get("Item")
        if not item:
            return None
        record = from_item(item)
        record.pop("pk")
        return record

    def list_departments(self) -> list[dict[str, Any]]:
        paginator = client("dynamodb").get_paginator("scan")
        out = []
        for page in paginator.paginate(
            TableName=self.table,
            FilterExpression="begins_with(pk, :p)",
            ExpressionAttributeValues={":p": {"S": "DEPT#"}},
        ):
            for item in page["Items"]:
                record = from_item(item)
                record.pop("pk")
                out.append(record)
        return sorted(out, key=lambda r: r["id"])
