"""Cases on DynamoDB: one item each, replaced at the version it was read at; listed newest
first through `reported-index`, and the open ones through the sparse `open-index` (only an
open case carries `open_feed`), so the overdue check reads open cases only."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

from citybrain.cases.models import OPEN_STATUSES
from citybrain.core.aws import client
from citybrain.core.config import get_settings
from citybrain.core.dynamo import from_item, newest_in_feed, query_all, query_page, to_item

FEED = "cases"
INTERNAL = ("feed", "open_feed", "reported_key")


class DynamoCaseStore:
    @property
    def table(self) -> str:
        return get_settings().cases_table

    def _item(self, case: dict[str, Any]) -> dict[str, Any]:
        item = {**case, "feed": FEED, "reported_key": f"{int(case['reported_ms']):013d}#{case['id']}"}
        if case["status"] in OPEN_STATUSES:
            item["open_feed"] = FEED
        return to_item(item)

    def create_write(self, case: dict[str, Any]) -> dict[str, Any]:
        """The write that records a new case (committed with its audit entry, not sent here)."""
        return {
            "Put": {
                "TableName": self.table,
                "Item": self._item(case),
                "ConditionExpression": "attribute_not_exists(id)",
            }
        }

    def replace_write(self, case: dict[str, Any], expected_version: int) -> dict[str, Any]:
        """The write that moves a case, at the version it was read at."""
        return {
            "Put": {
                "TableName": self.table,
                "Item": self._item(case),
                "ConditionExpression": "version = :v",
                "ExpressionAttributeValues": {":v": {"N": str(expected_version)}},
            }
        }

    def get(self, case_id: str) -> dict[str, Any] | None:
        item = (
            client("dynamodb")
            .get_item(TableName=self.table, Key={"id": {"S": case_id}}, ConsistentRead=True)
            .get("Item")
        )
        return _plain(from_item(item)) if item else None

    def open_cases(self) -> builtins.list[dict[str, Any]]:
        items = query_all(
            TableName=self.table,
            IndexName="open-index",
            KeyConditionExpression="open_feed = :f",
            ExpressionAttributeValues={":f": {"S": FEED}},
        )
        return [_plain(from_item(i)) for i in items]

    def reported_between(self, start_ms: int, end_ms: int) -> builtins.list[dict[str, Any]]:
        items = query_all(
            TableName=self.table,
            IndexName="reported-index",
            KeyConditionExpression="feed = :f AND reported_key BETWEEN :a AND :b",
            ExpressionAttributeValues={
                ":f": {"S": FEED},
                ":a": {"S": f"{start_ms:013d}"},
                ":b": {"S": f"{end_ms:013d}"},
            },
        )
        return [_plain(from_item(i)) for i in items]

    def list(
        self, filters: dict[str, str], limit: int, cursor: dict[str, str] | None
    ) -> tuple[builtins.list[dict[str, Any]], dict[str, str] | None]:
        kwargs = newest_in_feed(self.table, "reported-index", FEED, filters)
        start = {"id": {"S": cursor["id"]}, "feed": {"S": FEED}, "reported_key": {"S": cursor["k"]}} if cursor else None
        raw, after = query_page(
            kwargs, limit, start, lambda item: {"k": item["reported_key"]["S"], "id": item["id"]["S"]}
        )
        return [_plain(from_item(item)) for item in raw], after


class S3CasePhotos:
    """The cases' photos in their own bucket (photos/<case>/<photo>.<ext>): a presigned PUT to
    upload one (made by the uploads' signer, citybrain.uploads.store.presign_put, given here), a
    presigned GET to show it, and HEAD to know its PUT happened. Their own bucket, not the uploads
    bucket: that one announces every new object to the uploads queue (which reads readings and
    datasets) and expires objects after 90 days; a photo is part of the case file, kept with it."""

    def __init__(self, presign_put: Callable[[str, int, dict[str, str], str], str]) -> None:
        self.presign_put = presign_put  # (key, expires in seconds, headers signed in, bucket) -> URL

    @property
    def bucket(self) -> str:
        return get_settings().case_photos_bucket

    def upload_url(self, key: str, expires_in: int, headers: dict[str, str]) -> str:
        return self.presign_put(key, expires_in, headers, self.bucket)

    def link(self, key: str, expires_in: int) -> str:
        return client("s3").generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires_in
        )

    def exists(self, key: str) -> bool:
        s3 = client("s3")
        try:
            s3.head_object(Bucket=self.bucket, Key=key)
        except s3.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in INTERNAL}
