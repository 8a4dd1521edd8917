"""Response models of the uploads' routes (see citybrain.core.responses)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from citybrain.core.responses import FieldError, Instant, Shape, optional
from citybrain.uploads.models import IGNORED_WRITES_KEPT


class UploadTicket(Shape):
    """Where to PUT the file: `url`, with `method` and `headers`, before `expires_at`."""

    id: str
    filename: str
    dataset: str | None = optional("the dataset the file's records are loaded into")
    status: Literal["pending"]
    url: str = Field(description="presigned URL")
    method: Literal["PUT"]
    headers: dict[str, str] = Field(description="headers to send with the PUT")
    expires_at: Instant


class LineErrors(Shape):
    line: int = Field(description="line number in the file (the header is line 1)")
    errors: list[FieldError]


class IgnoredWrite(Shape):
    """An object written under the upload's key that was not read: an upload is read once."""

    etag: str | None = optional("the ignored object's eTag")
    size: int | None = optional("bytes")
    at: Instant = Field(description="when its notification was ignored")
    reason: str


class Upload(Shape):
    id: str
    filename: str
    department: str
    status: Literal["pending", "processing", "done", "failed"]
    accepted: int
    rejected: int
    errors: list[LineErrors] = Field(description="the first 20 rejected lines")
    created_at: Instant
    started_at: Instant | None
    finished_at: Instant | None
    dataset: str | None = optional("the dataset the file's records are loaded into")
    version: int | None = optional("the dataset version the load became")
    checksum: str | None = optional("SHA-256 over the accepted records as canonical JSON lines, in the file's order")
    format: str | None = optional("csv or jsonl")
    encoding: str | None = optional("as detected: UTF-8, UTF-8 with BOM, GB18030/GBK or ASCII")
    lines: int | None = optional()
    size: int | None = optional("bytes")
    failure: str | None = optional("why the file as a whole could not be read (status failed)")
    ignored_writes: list[IgnoredWrite] | None = optional(
        "objects written under the upload's key after the one it was read from, not read "
        f"(the first {IGNORED_WRITES_KEPT})"
    )
