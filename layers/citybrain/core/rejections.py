"""Rejected input (readings, rows of a file, dataset records), kept with its reason:
nothing is dropped silently."""

from __future__ import annotations

import json
from typing import Any

from citybrain.core import timeutil
from citybrain.core.aws import client
from citybrain.core.config import get_settings
from citybrain.core.dynamo import batch_write, from_item, to_item

RAW_LIMIT = 4000  # characters of the rejected input kept beside the reason


class RejectionStore:
    def record(self, source: str, rejections: list[dict[str, Any]]) -> None:
        """rejections: [{"position": line or index, "errors": [...], "raw": original}]"""
        if not rejections:
            return
        settings = get_settings()
        now = timeutil.now_ms()
        expires = now // 1000 + settings.rejections_retention_days * 86400
        items = []
        for r in rejections:
            raw = r.get("raw")
            raw_text = raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False, default=str)
            items.append(
                {
                    "PutRequest": {
                        "Item": to_item(
                            {
                                "source": source,
                                "seq": f"{int(r['position']):09d}#{now}",
                                "position": int(r["position"]),
                                "errors": r["errors"],
                                "raw": raw_text[:RAW_LIMIT],
                                "rejected_at": timeutil.local_iso(now),
                                "expires_at": expires,
                            }
                        )
                    }
                }
            )
        batch_write(settings.rejections_table, items)

    def list(self, source: str, limit: int = 20) -> list[dict[str, Any]]:
        response = client("dynamodb").query(
            TableName=get_settings().rejections_table,
            KeyConditionExpression="#s = :s",
            ExpressionAttributeNames={"#s": "source"},
            ExpressionAttributeValues={":s": {"S": source}},
            Limit=limit,
        )
        out = []
        for raw in response["Items"]:
            item = from_item(raw)
            out.append({"position": item["position"], "errors": item["errors"], "raw": item.get("raw")})
        return out

    def forget(self, source: str) -> int:
        """Delete what an earlier, interrupted attempt recorded for this source, so that
        reading the file again from scratch leaves one record per rejected line."""
        ddb = client("dynamodb")
        table = get_settings().rejections_table
        deleted = 0
        kwargs: dict[str, Any] = {
            "TableName": table,
            "KeyConditionExpression": "#s = :s",
            "ExpressionAttributeNames": {"#s": "source", "#q": "seq"},
            "ExpressionAttributeValues": {":s": {"S": source}},
            "ProjectionExpression": "#s, #q",
        }
        while True:
            page = ddb.query(**kwargs)
            batch_write(table, [{"DeleteRequest": {"Key": key}} for key in page["Items"]])
            deleted += len(page["Items"])
            if "LastEvaluatedKey" not in page:
                return deleted
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
