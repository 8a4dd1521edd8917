"""Reports on AWS: their records in the reports table (listed newest first through the
`requested-index`), their artifacts in the reports bucket, and the queue the report
function reads."""

from __future__ import annotations

import json
from typing import Any

from citybrain.core.aws import client
from citybrain.core.config import get_settings
from citybrain.core.dynamo import from_item, newest_in_feed, query_page, to_attr, to_item

FEED = "reports"


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
        equal = {name: value for name, value in filters.items() if name != "date"}
        kwargs = newest_in_feed(self.table, "requested-index", FEED, equal)
        if "date" in filters:  # a period's dates are a list on the item
            kwargs["ExpressionAttributeNames"]["#days"] = "days"
            kwargs["ExpressionAttributeValues"][":day"] = {"S": filters["date"]}
            touches = "contains(#days, :day)"
            kwargs["FilterExpression"] = f"{kwargs['FilterExpression']} AND {touches}" if equal else touches
        start = (
            {"feed": {"S": FEED}, "requested_key": {"S": cursor["k"]}, "id": {"S": cursor["id"]}} if cursor else None
        )
        raw, after = query_page(
            kwargs, limit, start, lambda item: {"k": item["requested_key"]["S"], "id": item["id"]["S"]}
        )
        return [from_item(item) for item in raw], after


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
