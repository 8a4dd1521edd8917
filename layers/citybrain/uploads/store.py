"""Uploads on AWS: the uploads table, presigned PUTs and streamed reads of the
bucket, and "once per object" for the notifications that announce them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from citybrain.core.aws import client
from citybrain.core.config import get_settings
from citybrain.core.dynamo import from_item, to_attr, to_item
from citybrain.uploads.models import IGNORED_WRITES_KEPT, ObjectGone, ObjectSuperseded, S3Object

CHUNK_BYTES = 1 << 20  # what one read of the object's body returns
NOTIFICATION_MEMORY_SECONDS = 7 * 86400  # longer than SQS keeps a message (4 days by default)


class DynamoUploadStore:
    @property
    def table(self) -> str:
        return get_settings().uploads_table

    def create(self, record: dict[str, Any]) -> None:
        client("dynamodb").put_item(
            TableName=self.table, Item=to_item(record), ConditionExpression="attribute_not_exists(id)"
        )

    def get(self, upload_id: str) -> dict[str, Any] | None:
        item = (
            client("dynamodb")
            .get_item(TableName=self.table, Key={"id": {"S": upload_id}}, ConsistentRead=True)
            .get("Item")
        )
        return from_item(item) if item else None

    def start(self, upload_id: str, fields: dict[str, Any]) -> None:
        self._update(
            upload_id,
            {**fields, "accepted": 0, "rejected": 0, "errors": []},
            remove=("finished_at", "failure", "format", "encoding", "lines", "version", "checksum"),
        )

    def finish(self, upload_id: str, fields: dict[str, Any]) -> None:
        self._update(upload_id, fields, remove=() if "failure" in fields else ("failure",))

    def note_ignored(self, upload_id: str, entry: dict[str, Any]) -> None:
        """Append to the upload's ignored writes, up to IGNORED_WRITES_KEPT (later ones are only logged)."""
        dynamodb = client("dynamodb")
        try:
            dynamodb.update_item(
                TableName=self.table,
                Key={"id": {"S": upload_id}},
                UpdateExpression="SET ignored_writes = list_append(if_not_exists(ignored_writes, :none), :entry)",
                ConditionExpression="attribute_exists(id) AND "
                "(attribute_not_exists(ignored_writes) OR size(ignored_writes) < :kept)",
                ExpressionAttributeValues={
                    ":none": {"L": []},
                    ":entry": {"L": [to_attr({k: v for k, v in entry.items() if v is not None})]},
                    ":kept": {"N": str(IGNORED_WRITES_KEPT)},
                },
            )
        except dynamodb.exceptions.ConditionalCheckFailedException:
            pass

    def _update(self, upload_id: str, fields: dict[str, Any], remove: tuple[str, ...] = ()) -> None:
        values = {k: v for k, v in fields.items() if v is not None}
        names = {f"#a{i}": name for i, name in enumerate([*values, *remove])}
        by_name = {name: alias for alias, name in names.items()}
        expression = "SET " + ", ".join(f"{by_name[k]} = :v{i}" for i, k in enumerate(values))
        if remove:
            expression += " REMOVE " + ", ".join(by_name[k] for k in remove)
        client("dynamodb").update_item(
            TableName=self.table,
            Key={"id": {"S": upload_id}},
            UpdateExpression=expression,
            ConditionExpression="attribute_exists(id)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={f":v{i}": to_attr(v) for i, v in enumerate(values.values())},
        )


# The PutObject parameters behind the headers a presigned PUT may be signed with.
_SIGNABLE_HEADERS = {"If-None-Match": "IfNoneMatch", "Content-Type": "ContentType", "Content-Length": "ContentLength"}


def presign_put(key: str, expires_in: int, headers: dict[str, str], bucket: str | None = None) -> str:
    """A URL that lets its holder PUT exactly this key, with exactly these headers
    (signed, so a PUT without them, or with other values, is refused: a signed
    Content-Length holds the object to that many bytes), until it expires. Into the
    uploads bucket unless another is named (a case's photos)."""
    params: dict[str, Any] = {"Bucket": bucket or get_settings().uploads_bucket, "Key": key}
    for name, value in headers.items():
        parameter = _SIGNABLE_HEADERS[name]
        params[parameter] = int(value) if parameter == "ContentLength" else value
    return client("s3").generate_presigned_url("put_object", Params=params, ExpiresIn=expires_in)


def open_object(obj: S3Object) -> Iterator[bytes]:
    """The object's body as a stream of chunks; never the whole object in memory.

    With the notification's eTag as a precondition, what is read is exactly the
    content the notification announced (and the idempotency key names)."""
    s3 = client("s3")
    kwargs: dict[str, Any] = {"Bucket": obj.bucket, "Key": obj.key}
    if obj.version_id:
        kwargs["VersionId"] = obj.version_id
    elif obj.etag:
        kwargs["IfMatch"] = obj.etag
    try:
        response = s3.get_object(**kwargs)
    except s3.exceptions.NoSuchKey:
        raise ObjectGone(obj.key) from None
    except s3.exceptions.ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code in ("PreconditionFailed", "412"):
            raise ObjectSuperseded(obj.key) from None
        if code in ("NoSuchKey", "NoSuchVersion", "404"):
            raise ObjectGone(obj.key) from None
        raise
    return response["Body"].iter_chunks(chunk_size=CHUNK_BYTES)


def once_per_object(function: Callable[..., dict[str, Any]], lambda_context: Any = None) -> Callable[..., dict]:
    """`function(s3_object=S3Object fields)` run at most once per object content.

    Keyed on bucket, key, eTag and version (Powertools idempotency on DynamoDB):
    a re-delivered notification returns the first outcome without reading the
    file again; a failed attempt leaves no record, so the retry runs. The
    persistence layer is made here, at call time, never at import time."""
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    persistence = DynamoDBPersistenceLayer(table_name=get_settings().idempotency_table, boto3_client=client("dynamodb"))
    config = IdempotencyConfig(
        event_key_jmespath="[bucket, key, etag, version_id]", expires_after_seconds=NOTIFICATION_MEMORY_SECONDS
    )
    if lambda_context is not None and hasattr(lambda_context, "get_remaining_time_in_millis"):
        # A crash (timeout) mid-file then frees the object once the invocation is over.
        config.register_lambda_context(lambda_context)
    return idempotent_function(
        function,
        data_keyword_argument="s3_object",
        persistence_store=persistence,
        config=config,
        key_prefix="upload-object",
    )
