"""Where the audit chain is anchored and its verification remembered, on AWS.

- Anchors: one object per anchor in the anchors bucket, `anchors/{seq:012d}.json`
  (so S3 lists them in sequence order), written once: a conditional Put
  (`If-None-Match: *`) of a new key, under the bucket's Object Lock in compliance
  mode, so no one can change or delete an anchor before its retention ends.
- The verifications table: the incremental verification's checkpoint, a hint of
  the latest anchor's seq (a hint only: the bucket is the truth), and the records
  of the full re-verification jobs.
- The queue that carries those jobs to the verification function.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from citybrain.core.aws import client
from citybrain.core.config import get_settings
from citybrain.core.dynamo import from_item, to_item

PREFIX = "anchors/"
KEY = re.compile(r"^anchors/(\d{12})\.json$")


def anchor_key(seq: int) -> str:
    return f"{PREFIX}{seq:012d}.json"


class S3AnchorStore:
    @property
    def bucket(self) -> str:
        return get_settings().anchors_bucket

    def put_new(self, anchor: dict[str, Any]) -> bool:
        """False when an anchor of that seq exists already (it is never replaced)."""
        s3 = client("s3")
        body = json.dumps(anchor, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        try:
            s3.put_object(
                Bucket=self.bucket,
                Key=anchor_key(anchor["seq"]),
                Body=body,
                ContentType="application/json",
                IfNoneMatch="*",
                ChecksumAlgorithm="SHA256",  # Object Lock wants an integrity checksum on every Put
            )
        except s3.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("PreconditionFailed", "ConditionalRequestConflict"):
                return False
            raise
        return True

    def get(self, seq: int) -> dict[str, Any] | None:
        s3 = client("s3")
        try:
            body = s3.get_object(Bucket=self.bucket, Key=anchor_key(seq))["Body"].read()
        except s3.exceptions.NoSuchKey:
            return None
        return json.loads(body)

    def seqs_after(self, after: int, limit: int) -> list[int]:
        """Up to `limit` anchored seqs above `after`, ascending (one listing, no object read)."""
        found: list[int] = []
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": PREFIX}
        if after >= 0:
            kwargs["StartAfter"] = anchor_key(after)
        while len(found) < limit:
            kwargs["MaxKeys"] = min(1000, limit - len(found))
            response = client("s3").list_objects_v2(**kwargs)
            for item in response.get("Contents", []):
                match = KEY.match(item["Key"])
                if match:
                    found.append(int(match.group(1)))
            if not response.get("IsTruncated"):
                break
            kwargs["ContinuationToken"] = response["NextContinuationToken"]
            kwargs.pop("StartAfter", None)
        return found[:limit]

    def last_seq(self, from_seq: int = 0) -> int | None:
        """The highest anchored seq, listing from `from_seq` on (a hint: pass 0 to list them all)."""
        last = None
        after = from_seq - 1
        while True:
            page = self.seqs_after(after, 1000)
            if not page:
                return last
            last = after = page[-1]

    def anchors_after(self, after: int, upto: int | None = None) -> Iterator[dict[str, Any]]:
        """Anchors above `after` (and at most `upto`), ascending, each read when the walk reaches it."""
        while True:
            page = self.seqs_after(after, 100)
            for seq in page:
                if upto is not None and seq > upto:
                    return
                anchor = self.get(seq)
                if anchor is not None:
                    yield anchor
            if len(page) < 100:
                return
            after = page[-1]


class DynamoVerificationStore:
    """Items by id: `checkpoint`, `anchors-latest`, and one per re-verification job."""

    @property
    def table(self) -> str:
        return get_settings().audit_verifications_table

    def get(self, item_id: str) -> dict[str, Any] | None:
        item = (
            client("dynamodb")
            .get_item(TableName=self.table, Key={"id": {"S": item_id}}, ConsistentRead=True)
            .get("Item")
        )
        return from_item(item) if item else None

    def put(self, item: dict[str, Any]) -> None:
        client("dynamodb").put_item(TableName=self.table, Item=to_item(item))

    def create(self, item: dict[str, Any]) -> bool:
        ddb = client("dynamodb")
        try:
            ddb.put_item(TableName=self.table, Item=to_item(item), ConditionExpression="attribute_not_exists(id)")
        except ddb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def forget(self, item_id: str) -> None:
        client("dynamodb").delete_item(TableName=self.table, Key={"id": {"S": item_id}})


class SqsVerificationQueue:
    def send(self, job_id: str) -> None:
        client("sqs").send_message(
            QueueUrl=get_settings().audit_verifications_queue, MessageBody=json.dumps({"id": job_id})
        )
