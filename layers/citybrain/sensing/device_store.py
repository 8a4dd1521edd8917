from __future__ import annotations

from typing import Any

from citybrain.core.aws import client
from citybrain.core.config import get_settings
from citybrain.core.dynamo import batch_get, from_item, to_item


class DynamoDeviceStore:
    @property
    def table(self) -> str:
        return get_settings().devices_table

    def create(self, record: dict[str, Any]) -> bool:
        ddb = client("dynamodb")
        try:
            ddb.put_item(TableName=self.table, Item=to_item(record), ConditionExpression="attribute_not_exists(id)")
            return True
        except ddb.exceptions.ConditionalCheckFailedException:
            return False

    def replace(self, record: dict[str, Any]) -> None:
        client("dynamodb").put_item(TableName=self.table, Item=to_item(record))

    def get(self, device_id: str) -> dict[str, Any] | None:
        item = client("dynamodb").get_item(TableName=self.table, Key={"id": {"S": device_id}}).get("Item")
        return from_item(item) if item else None

    def get_many(self, device_ids: list[str]) -> dict[str, dict[str, Any]]:
        found = batch_get((self.table, {"id": {"S": d}}) for d in sorted(set(device_ids)))
        return {d["id"]: d for d in found.get(self.table, [])}

    def list(self, filters: dict[str, str], limit: int, cursor: dict | None) -> tuple[list[dict], dict | None]:
        """A page of devices matching every filter (a district has thousands, not millions:
        a filtered scan that keeps reading until the page is full is cheap enough)."""
        kwargs: dict[str, Any] = {"TableName": self.table}
        if filters:
            names = {f"#f{i}": k for i, k in enumerate(filters)}
            values = {f":v{i}": {"S": v} for i, v in enumerate(filters.values())}
            kwargs.update(
                FilterExpression=" AND ".join(f"#f{i} = :v{i}" for i in range(len(filters))),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        items: list[dict] = []
        start = cursor
        while True:
            if start:
                kwargs["ExclusiveStartKey"] = {"id": {"S": start["id"]}}
            kwargs["Limit"] = max(limit - len(items), 1) if not filters else 500
            response = client("dynamodb").scan(**kwargs)
            for raw in response["Items"]:
                items.append(from_item(raw))
                if len(items) == limit:
                    return items, {"id": items[-1]["id"]}
            last = response.get("LastEvaluatedKey")
            if not last:
                return items, None
            start = {"id": last["id"]["S"]}
