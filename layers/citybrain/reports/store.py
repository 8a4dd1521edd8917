"""Reports on AWS: their records in the reports table (listed newest first through the
`requested-index`), their artifacts in the reports bucket, and the queue the report
function reads."""

from __future__ import annotations

import json
from typing import Any

from citybrain.core.aws import client
from citybrain.core.config import get_settings
from citybrain.core.dynamo import from_item, to_attr, to_item

FEED = "reports"
QUERY_PAGES_PER_CALL = 10


class DynamoReportStore:
    def __init__(self) -> None:
        self.table = get_settings().reports_table

    def create(self, record: dict[str, Any]) -> bool:
        """False when a report of that id exists (a schedule delivered twice)."""
        item = {
            **record,
            "feed": FEED,
            "requested_key": f"{record['requested_ms']:013d}",
            "days": record["period"]["days"],
        }
        ddb = client("dynamodb")
        try:
            ddb.put_item(TableName=self.table, Item=to_item(item), ConditionExpression="attribute_not_exists(id)")
        except ddb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def get(self, report_id: str) -> dict[str, Any] | None:
        item = (
            client("dynamodb")
            .get_item(TableName=self.table, Key={"id": {"S": report_id}}, ConsistentRead=True)
            .get("Item")
        )
        return from_item(item) if item else None

    def update(self, report_id: str, changes: dict[str, Any]) -> None:
        names = {f"#c{i}": name for i, name in enumerate(changes)}
        values = {f":c{i}": to_attr(value) for i, value in enumerate(changes.values())}
        client("dynamodb").update_item(
            TableName=self.table,
            Key={"id": {"S": report_id}},
            UpdateExpression="SET " + ", ".join(f"#c{i} = :c{i}" for i in range(len(changes))),
            ConditionExpression="attribute_exists(id)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def forget(self, report_id: str) -> None:
        client("dynamodb").delete_item(TableName=self.table, Key={"id": {"S": report_id}})

    def list(
        self, filters: dict[str, str], limit: int, cursor: dict[str, str] | None
    ) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
        """A page of reports, newest first; `date` matches every report whose period touches it."""
        names = {"#feed": "feed"}
        values: dict[str, Any] = {":feed": {"S": FEED}}
        clauses = []
        for i, (name, value) in enumerate(sorted(filters.items())):
            values[f":f{i}"] = {"S": value}
            if name == "date":
                names[f"#f{i}"] = "days"
                clauses.append(f"contains(#f{i}, :f{i})")
            else:
                names[f"#f{i}"] = name
                clauses.append(f"#f{i} = :f{i}")
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "requested-index",
            "KeyConditionExpression": "#feed = :feed",
            "ScanIndexForward": False,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
        if clauses:
            kwargs["FilterExpression"] = " AND ".join(clauses)
        start = (
            {"feed": {"S": FEED}, "requested_key": {"S": cursor["k"]}, "id": {"S": cursor["id"]}} if cursor else None
        )
        items: list[dict[str, Any]] = []
        last = None
        for _ in range(QUERY_PAGES_PER_CALL):
            kwargs["Limit"] = max(limit, 100) if clauses else limit - len(items)
            if start:
                kwargs["ExclusiveStartKey"] = start
            response = client("dynamodb").query(**kwargs)
            page = response["Items"]
            last = response.get("LastEvaluatedKey")
            for index, raw in enumerate(page):
                items.append(from_item(raw))
                if len(items) == limit:
                    more = index + 1 < len(page) or last
                    return items, ({"k": raw["requested_key"]["S"], "id": raw["id"]["S"]} if more else None)
            if not last:
                return items, None
            start = last
        assert last is not None
        return items, {"k": last["requested_key"]["S"], "id": last["id"]["S"]}


class S3Artifacts:
    def __init__(self) -> None:
        self.bucket = get_settings().reports_bucket

    def put(self, key: str, body: bytes, content_type: str) -> None:
        client("s3").put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)

    def link(self, key: str, expires_in: int) -> str:
        return client("s3").generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires_in
        )


class SqsReportQueue:
    def send(self, report_id: str) -> None:
        client("sqs").send_message(QueueUrl=get_settings().reports_queue, MessageBody=json.dumps({"id": report_id}))
