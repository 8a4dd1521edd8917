"""Uploads: what a department announces (POST /v1/uploads), the object key that
names it, the bucket's notifications, and what reading the file came to."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from citybrain.core.validation import invisible
from citybrain.files.tables import FORMATS, format_of

KEY_PREFIX = "uploads"
MAX_FILENAME = 200
DATASET_ID = r"^[a-z0-9][a-z0-9-]{2,63}$"  # as the exchange's catalog names datasets
SAMPLE_ERRORS = 20  # rejected lines kept on the upload record
BLOCK_ROWS = 1000  # rows validated, forwarded and recorded together
# Read at about 1 MB (20,000 rows) a second on one vCPU, this takes some 8 of
# Lambda's 15 minutes; a bigger file would time out on every retry.
MAX_UPLOAD_BYTES = 512 * 1024 * 1024
# An upload URL writes one object: S3 refuses a PUT under a key that already
# holds one (412 PreconditionFailed). Signed into the URL, so the PUT must carry it.
WRITE_ONCE_HEADERS = {"If-None-Match": "*"}
IGNORED_WRITES_KEPT = 20  # later objects under a read upload's key, noted on the upload


class UploadIn(BaseModel):
    """POST /v1/uploads body."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    filename: str = Field(description="the file's name, e.g. 桂城街道 空气质量 2026-11.csv")
    dataset: str | None = Field(
        default=None,
        pattern=DATASET_ID,
        description="a dataset of the exchange the file's records are loaded into (absent: the file holds readings)",
    )

    @field_validator("filename")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if not value:
            raise PydanticCustomError("filename", "must not be empty")
        if len(value) > MAX_FILENAME:
            raise PydanticCustomError("filename", f"at most {MAX_FILENAME} characters")
        if "/" in value or "\\" in value:
            raise PydanticCustomError("filename", "a file name, not a path: no / or \\")
        if invisible(value) is not None:
            raise PydanticCustomError("filename", "must not contain control characters or other invisible ones")
        if format_of(value) is None:
            raise PydanticCustomError("filename", f"must end in one of {', '.join(FORMATS)}")
        return value


def upload_key(department_id: str, upload_id: str, filename: str) -> str:
    """The object key names the department, so the bucket reads by department."""
    return f"{KEY_PREFIX}/{department_id}/{upload_id}/{filename}"


def upload_id_of_key(key: str) -> str | None:
    parts = key.split("/", 3)
    if len(parts) == 4 and parts[0] == KEY_PREFIX and parts[2] and parts[3]:
        return parts[2]
    return None


class BadNotification(ValueError):
    """A queue message that is no S3 notification: it fails, is retried, then parked in the DLQ."""


class S3Object(BaseModel):
    """The object a notification is about, key decoded."""

    model_config = ConfigDict(frozen=True)

    bucket: str
    key: str
    size: int | None = None
    etag: str | None = None
    version_id: str | None = None
    event: str = "ObjectCreated:Put"


# Only the fields we use, each lenient: moto's records lack userIdentity,
# requestParameters, sequencer…, and real ones carry more than we read.
class _Bucket(BaseModel):
    name: str


class _Object(BaseModel):
    key: str
    size: int | None = None
    eTag: str | None = None
    versionId: str | None = None


class _Entity(BaseModel):
    bucket: _Bucket
    object_: _Object = Field(alias="object")


class _Record(BaseModel):
    eventName: str
    s3: _Entity


def decode_key(encoded: str) -> str:
    """S3 notifications carry keys form-encoded: `+` is a space, UTF-8 bytes are %XX."""
    return unquote_plus(encoded, encoding="utf-8", errors="strict")


def parse_s3_notification(body: str) -> list[S3Object]:
    """Objects created, from one uploads-queue message body. `s3:TestEvent` (sent
    when the notification is configured) and other events yield nothing."""
    try:
        message = json.loads(body)
    except ValueError as exc:
        raise BadNotification(f"not JSON: {exc}") from None
    if not isinstance(message, dict):
        raise BadNotification("not a JSON object")
    if message.get("Event") == "s3:TestEvent":
        return []
    records = message.get("Records")
    if not isinstance(records, list):
        raise BadNotification("no Records list: not an S3 event notification")
    objects = []
    for index, raw in enumerate(records):
        try:
            record = _Record.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in first["loc"])
            raise BadNotification(f"Records.{index}.{where}: {first['msg']}") from None
        if not record.eventName.startswith("ObjectCreated:"):
            continue
        try:
            key = decode_key(record.s3.object_.key)
        except UnicodeDecodeError:
            raise BadNotification(f"Records.{index}.s3.object.key: not URL-encoded UTF-8") from None
        objects.append(
            S3Object(
                bucket=record.s3.bucket.name,
                key=key,
                size=record.s3.object_.size,
                etag=(record.s3.object_.eTag or "").strip('"') or None,
                version_id=record.s3.object_.versionId,
                event=record.eventName,
            )
        )
    return objects


@dataclass
class UploadReport:
    format: str
    encoding: str = "ASCII"
    lines: int = 0
    accepted: int = 0
    rejected: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)  # the first SAMPLE_ERRORS {line, errors}
    extra: dict[str, Any] = field(default_factory=dict)  # kept on the upload too (a dataset load's version)

    def count(self, accepted: int, rejected: list[dict[str, Any]]) -> None:
        """A block's tally: its rejections are [{position: line, errors, raw}]."""
        self.accepted += accepted
        self.rejected += len(rejected)
        room = SAMPLE_ERRORS - len(self.errors)
        for r in rejected[: max(room, 0)]:
            self.errors.append(
                {
                    "line": r["position"],
                    "errors": [{"field": e["field"], "message": e["message"][:300]} for e in r["errors"][:10]],
                }
            )


class ObjectSuperseded(Exception):
    """The object was overwritten since the notification; the newer one's notification reads it."""


class ObjectGone(Exception):
    """The object no longer exists."""


@dataclass
class Outcome:
    """What processing one notified object came to (stored as the idempotent result)."""

    status: str  # done | failed | ignored | superseded
    upload_id: str | None = None
    accepted: int = 0
    rejected: int = 0
    failure: str | None = None
    reason: str | None = None  # why an object of a known upload was ignored


def why_not_read(record: dict[str, Any], obj: S3Object) -> str | None:
    """Why the notified object is not read, or None to read it: an upload is read
    once, from the first object written under its key.

    The upload keeps the eTag of the object its reading began with. A notification
    of that same object is a retry of an unfinished read (status processing) and is
    read; any other object, or any notification once the upload is done or failed,
    is not: reading it would count the upload twice (a second PUT to the URL where
    S3's If-None-Match did not hold, or a writer with its own credentials)."""
    read_from = record.get("etag")
    if read_from and obj.etag and obj.etag != read_from:
        return (
            f"a second object (eTag {obj.etag}) was written under the upload's key after it was read "
            f"from the first (eTag {read_from}); an upload URL takes one file: announce a new upload"
        )
    if record["status"] in ("done", "failed"):
        return f"the upload is already {record['status']}; an upload is read once"
    return None


def view(record: dict[str, Any]) -> dict[str, Any]:
    """An upload as GET /v1/uploads/{id} shows it."""
    shown = {
        "id": record["id"],
        "filename": record["filename"],
        "department": record["department"],
        "status": record["status"],
        "accepted": record.get("accepted", 0),
        "rejected": record.get("rejected", 0),
        "errors": record.get("errors", []),
        "created_at": record["created_at"],
        "started_at": record.get("started_at"),
        "finished_at": record.get("finished_at"),
    }
    for optional in ("dataset", "version", "checksum", "format", "encoding", "lines", "size", "ignored_writes"):
        if optional in record:
            shown[optional] = record[optional]
    if record["status"] == "failed":
        shown["failure"] = record.get("failure", "unknown")
    return shown
