"""Uploads as a service: announcing one (a presigned PUT into the uploads bucket),
reporting on it, and reading the file the bucket's notification names (through
the uploads queue) with the reader of its target: readings, or a dataset's records.

No AWS here: the store, the object's bytes and the readers arrive wired by
citybrain.composition.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from citybrain.core import timeutil
from citybrain.core.errors import Forbidden, NotFound
from citybrain.core.observability import logger, metrics
from citybrain.departments.models import Principal
from citybrain.files.decoding import UnreadableFile
from citybrain.uploads.models import (
    MAX_UPLOAD_BYTES,
    WRITE_ONCE_HEADERS,
    ObjectGone,
    ObjectSuperseded,
    Outcome,
    S3Object,
    UploadIn,
    UploadReport,
    upload_id_of_key,
    upload_key,
    view,
    why_not_read,
)


class UploadStore(Protocol):
    def create(self, record: dict[str, Any]) -> None: ...
    def get(self, upload_id: str) -> dict[str, Any] | None: ...
    def start(self, upload_id: str, fields: dict[str, Any]) -> None: ...
    def finish(self, upload_id: str, fields: dict[str, Any]) -> None: ...
    def note_ignored(self, upload_id: str, entry: dict[str, Any]) -> None: ...


class Uploads:
    """Announcing uploads (a presigned PUT) and reporting on them."""

    def __init__(
        self,
        store: UploadStore,
        presign_put: Callable[[str, int, dict[str, str]], str],
        url_expiry_seconds: int,
        check_target: Callable[[Principal, str, Any], None] | None = None,
    ):
        self.store = store
        self.presign_put = presign_put  # (key, expires in seconds, headers signed in) -> URL
        self.url_expiry_seconds = url_expiry_seconds
        # (principal, dataset id, the request as the audit records it): raises NotFound / Forbidden
        self.check_target = check_target

    def create(self, principal: Principal, payload: UploadIn, request: Any = None) -> dict[str, Any]:
        if payload.dataset is not None:
            if self.check_target is None:
                raise NotFound(f"no dataset {payload.dataset}")
            self.check_target(principal, payload.dataset, request)
        upload_id = str(uuid.uuid4())
        key = upload_key(principal.department_id, upload_id, payload.filename)
        now = timeutil.now_ms()
        expires = timeutil.local_iso(now + self.url_expiry_seconds * 1000)
        url = self.presign_put(key, self.url_expiry_seconds, WRITE_ONCE_HEADERS)
        target = {"dataset": payload.dataset} if payload.dataset else {}
        self.store.create(
            {
                "id": upload_id,
                "department": principal.department_id,
                "role": principal.role,
                "filename": payload.filename,
                "key": key,
                "status": "pending",
                "created_at": timeutil.local_iso(now),
                "url_expires_at": expires,
                **target,
            }
        )
        # The one signed header makes the URL write once; the gateway sends it with the file's bytes.
        return {
            "id": upload_id,
            "filename": payload.filename,
            **target,
            "status": "pending",
            "url": url,
            "method": "PUT",
            "headers": dict(WRITE_ONCE_HEADERS),
            "expires_at": expires,
        }

    def get(self, principal: Principal, upload_id: str) -> dict[str, Any]:
        record = self.store.get(upload_id)
        if record is None:
            raise NotFound(f"no upload {upload_id}")
        if not principal.may_manage(record["department"]):
            raise Forbidden("only the uploading department may see this upload")
        return view(record)


# (the file's chunks, the upload record, the object, the rejections' source) -> what reading it came to;
# raises UnreadableFile when the file as a whole cannot be read.
FileReader = Callable[[Iterable[bytes], dict[str, Any], S3Object, str], UploadReport]


class UploadIntake:
    """Reads the file an S3 notification names into the readings pipeline, or into
    its target dataset when the upload was announced with one."""

    def __init__(
        self,
        store: UploadStore,
        open_object: Callable[[S3Object], Iterable[bytes]],
        read_readings: FileReader,
        forget_rejections: Callable[[str], Any],
        load_dataset: FileReader | None = None,
    ):
        self.store = store
        self.open_object = open_object  # raises ObjectSuperseded / ObjectGone
        self.read_readings = read_readings
        self.forget_rejections = forget_rejections  # (source): drop what an earlier attempt recorded
        self.load_dataset = load_dataset

    def process(self, obj: S3Object) -> Outcome:
        outcome = self._process(obj)
        if outcome.status in ("done", "failed"):
            metrics.add_metric(name="UploadsProcessed", unit="Count", value=1)
            metrics.add_metric(name="UploadRowsAccepted", unit="Count", value=outcome.accepted)
            metrics.add_metric(name="UploadRowsRejected", unit="Count", value=outcome.rejected)
        if outcome.status == "failed":
            metrics.add_metric(name="UploadsFailed", unit="Count", value=1)
        return outcome

    def _process(self, obj: S3Object) -> Outcome:
        upload_id = upload_id_of_key(obj.key)
        record = self.store.get(upload_id) if upload_id else None
        if record is None or record.get("key") != obj.key:
            # Written by something other than POST /v1/uploads: nothing to report to.
            logger.warning("object names no known upload; ignored", extra={"bucket": obj.bucket, "key": obj.key})
            return Outcome("ignored")
        assert upload_id is not None
        reason = why_not_read(record, obj)
        if reason is not None:
            logger.warning("upload already read; object ignored", extra={"upload_id": upload_id, "reason": reason})
            metrics.add_metric(name="UploadWritesIgnored", unit="Count", value=1)
            self.store.note_ignored(
                upload_id,
                {"etag": obj.etag, "size": obj.size, "at": timeutil.local_iso(timeutil.now_ms()), "reason": reason},
            )
            return Outcome("ignored", upload_id, reason=reason)
        if obj.size is not None and obj.size > MAX_UPLOAD_BYTES:
            return self._fail(
                upload_id,
                f"the file is {obj.size / 1048576:.0f} MB; "
                f"split it into files of at most {MAX_UPLOAD_BYTES // 1048576} MB",
            )
        try:
            chunks = self.open_object(obj)
        except ObjectSuperseded:
            logger.info(
                "object replaced since this notification; its newer notification reads it",
                extra={"upload_id": upload_id, "etag": obj.etag},
            )
            return Outcome("superseded", upload_id)
        except ObjectGone:
            return self._fail(upload_id, "the uploaded file was deleted before it could be read")

        source = f"upload#{upload_id}"
        # From scratch every time: a crash midway leaves counts that are overwritten
        # here and rejections that are dropped; readings already stored are
        # recognised by their identity downstream.
        self.store.start(
            upload_id,
            {
                "status": "processing",
                "started_at": timeutil.local_iso(timeutil.now_ms()),
                "size": obj.size,
                "etag": obj.etag,
            },
        )
        self.forget_rejections(source)
        try:
            if record.get("dataset"):
                if self.load_dataset is None:
                    raise UnreadableFile("this function does not load datasets")
                report = self.load_dataset(chunks, record, obj, source)
            else:
                report = self.read_readings(chunks, record, obj, source)
        except UnreadableFile as exc:
            return self._fail(upload_id, str(exc))
        self.store.finish(
            upload_id,
            {
                "status": "done",
                "finished_at": timeutil.local_iso(timeutil.now_ms()),
                "accepted": report.accepted,
                "rejected": report.rejected,
                "errors": report.errors,
                "format": report.format,
                "encoding": report.encoding,
                "lines": report.lines,
                **report.extra,
            },
        )
        logger.info(
            "upload read",
            extra={
                "upload_id": upload_id,
                "accepted": report.accepted,
                "rejected": report.rejected,
                "encoding": report.encoding,
            },
        )
        return Outcome("done", upload_id, report.accepted, report.rejected)

    def _fail(self, upload_id: str, reason: str) -> Outcome:
        logger.info("upload failed", extra={"upload_id": upload_id, "failure": reason})
        self.store.finish(
            upload_id,
            {
                "status": "failed",
                "finished_at": timeutil.local_iso(timeutil.now_ms()),
                "failure": reason,
                "accepted": 0,
                "rejected": 0,
                "errors": [],
            },
        )
        return Outcome("failed", upload_id, failure=reason)
