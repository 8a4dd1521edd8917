"""File uploads from sensor gateways: a presigned PUT into the uploads bucket, then
the bucket's notification (through the uploads queue) has the file read.

Reading a file is a stream: bytes chunks -> numbered text lines -> rows (CSV or
JSON Lines) -> readings validated in blocks -> good ones forwarded, bad ones
recorded with their line number. Nothing here holds more than a block of rows
and one chunk, so a file of any size reads in flat memory. No AWS here: the
storage, the device registry and the readings queue arrive as callables.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Protocol
from urllib.parse import unquote_plus

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from citybrain import timeutil
from citybrain.departments import Principal
from citybrain.devices import DEVICE_ID
from citybrain.errors import Forbidden, NotFound
from citybrain.observability import logger
from citybrain.readings import Reading, ReadingValidator
from citybrain.vocabulary import VALUES

KEY_PREFIX = "uploads"
FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json-lines": "jsonl", ".txt": "auto"}
MAX_FILENAME = 200
DATASET_ID = r"^[a-z0-9][a-z0-9-]{2,63}$"  # as the exchange's catalog names datasets
SAMPLE_ERRORS = 20  # rejected lines kept on the upload record
BLOCK_ROWS = 1000  # rows validated, forwarded and recorded together
MAX_LINE_BYTES = 1 << 20  # a longer "line" is no sensor reading; it must not grow memory
SNIFF_BYTES = 8192  # what the file-type checks look at
MAX_CACHED_DEVICES = 50_000  # a district has thousands; a file of random ids must not grow memory
# Read at about 1 MB (20,000 rows) a second on one vCPU, this takes some 8 of
# Lambda's 15 minutes; a bigger file would time out on every retry.
MAX_UPLOAD_BYTES = 512 * 1024 * 1024

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DEVICE_ID = re.compile(DEVICE_ID)


# --------------------------------------------------------------------------- names
def format_of(filename: str) -> str | None:
    lower = filename.lower()
    for extension, kind in FORMATS.items():
        if lower.endswith(extension) and len(lower) > len(extension):
            return kind
    return None


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
        if _CONTROL.search(value):
            raise PydanticCustomError("filename", "must not contain control characters")
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


# --------------------------------------------------------------------------- notifications
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


# --------------------------------------------------------------------------- bytes -> lines
class UnreadableUpload(ValueError):
    """The file as a whole cannot be read (empty, binary, no header…): the upload fails with this reason."""


_SIGNATURES = (
    (codecs.BOM_UTF32_LE, "UTF-32 text; save the file as CSV UTF-8"),
    (codecs.BOM_UTF32_BE, "UTF-32 text; save the file as CSV UTF-8"),
    (codecs.BOM_UTF16_LE, 'UTF-16 text (Excel\'s "Unicode text"); save the file as CSV UTF-8'),
    (codecs.BOM_UTF16_BE, "UTF-16 text; save the file as CSV UTF-8"),
    (b"PK\x03\x04", "a ZIP archive or Excel workbook (.xlsx), not text; export the sheet as CSV UTF-8"),
    (b"\xd0\xcf\x11\xe0", "an Excel 97-2003 workbook (.xls), not text; export the sheet as CSV UTF-8"),
    (b"\x1f\x8b", "a gzip-compressed file; upload it uncompressed"),
)
_ENCODING_NAMES = {"utf-8": "UTF-8", "gb18030": "GB18030/GBK"}


def detect_encoding(lines: Iterable[bytes]) -> str:
    """UTF-8 or GB18030 (a superset of GBK and GB2312), by vote of whole lines.

    Only complete lines are judged, so no character is ever cut by a chunk edge.
    Text in GBK is almost never valid UTF-8 by chance, so each non-ASCII line
    that decodes as UTF-8 is strong evidence; one corrupt line among good UTF-8
    lines does not turn the file into GBK."""
    utf8 = other = 0
    for raw in lines:
        if raw.isascii():
            continue
        try:
            raw.decode("utf-8")
            utf8 += 1
        except UnicodeDecodeError:
            other += 1
        if utf8 + other >= 20:
            break
    return "utf-8" if utf8 >= other else "gb18030"


def _head_first(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Re-chunk so the first chunk holds SNIFF_BYTES (or the whole file): the BOM and
    file-type checks must not depend on how the stream happened to be cut."""
    iterator = iter(chunks)
    head = b""
    for chunk in iterator:
        head += chunk
        if len(head) >= SNIFF_BYTES:
            break
    if head:
        yield head
    yield from iterator


Line = tuple[int, str, "str | None"]  # (line number from 1, text without its end, problem or None)


class LineReader:
    """Numbered text lines out of a stream of bytes chunks, decoding as it goes.

    Lines are cut on the byte b"\\n" before decoding: neither UTF-8 nor GB18030 ever
    uses that byte inside a multibyte character, so a character split across two
    chunks simply waits in the carried-over partial line. Decoding line by line
    turns a broken byte sequence late in the file into one rejected line with its
    number, not a failed file. The encoding is decided at the first line that is
    not plain ASCII (a GBK file may start with thousands of ASCII rows), from
    that line and those that follow it in the same chunk."""

    def __init__(self, chunks: Iterable[bytes]):
        self._chunks = chunks
        self.encoding: str | None = None  # "utf-8", "gb18030"; None while everything was ASCII
        self.bom = False
        self.lines = 0

    @property
    def encoding_name(self) -> str:
        if self.bom:
            return "UTF-8 with BOM"
        return _ENCODING_NAMES.get(self.encoding or "", "ASCII")

    def __iter__(self) -> Iterator[Line]:
        pending = b""  # the partial line carried to the next chunk
        skipping = False  # inside an over-long line: drop bytes up to its end
        number = 0
        first = True
        for chunk in _head_first(self._chunks):
            if first:
                chunk = self._check_start(chunk)
                first = False
            if skipping:
                end = chunk.find(b"\n")
                if end < 0:
                    continue
                number += 1
                yield number, "", f"line longer than {MAX_LINE_BYTES // 1024} KB"
                chunk, skipping = chunk[end + 1 :], False
            pieces = (pending + chunk).split(b"\n") if pending else chunk.split(b"\n")
            pending = pieces.pop()
            for index, raw in enumerate(pieces):
                number += 1
                yield self._decode(number, raw, pieces, index)
            if len(pending) > MAX_LINE_BYTES:
                pending, skipping = b"", True
        if skipping:
            number += 1
            yield number, "", f"line longer than {MAX_LINE_BYTES // 1024} KB"
        elif pending:
            number += 1
            yield self._decode(number, pending, [pending], 0)
        self.lines = number

    def _check_start(self, head: bytes) -> bytes:
        for signature, reason in _SIGNATURES:
            if head.startswith(signature):
                raise UnreadableUpload(f"the file is {reason}")
        if head.startswith(codecs.BOM_UTF8):
            self.bom, self.encoding = True, "utf-8"
            head = head[len(codecs.BOM_UTF8) :]
        if b"\x00" in head[:SNIFF_BYTES]:
            raise UnreadableUpload("the file is binary (it contains NUL bytes), not CSV or JSON Lines text")
        return head

    def _decode(self, number: int, raw: bytes, pieces: list[bytes], index: int) -> Line:
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        if len(raw) > MAX_LINE_BYTES:
            return number, "", f"line longer than {MAX_LINE_BYTES // 1024} KB"
        encoding = self.encoding
        if encoding is None:
            if raw.isascii():
                return number, raw.decode("ascii"), None
            # Evidence: this line and the complete lines after it in the chunk.
            encoding = self.encoding = detect_encoding(itertools.islice(pieces, index, None))
        try:
            return number, raw.decode(encoding), None
        except UnicodeDecodeError as exc:
            name = _ENCODING_NAMES[encoding]
            return (
                number,
                raw.decode(encoding, errors="replace"),
                f"not valid {name} text (byte 0x{raw[exc.start]:02X} at byte {exc.start + 1} of the line); "
                f"the file was read as {name}",
            )


# --------------------------------------------------------------------------- lines -> rows
@dataclass
class Row:
    line: int  # where the row starts (1-based; a CSV header is line 1)
    raw: str  # the row's text as in the file
    candidate: Any = None  # the reading as the HTTP API would receive it
    errors: list[dict[str, str]] = field(default_factory=list)  # found before validation


_BOOLEAN_VALUES = {name for specs in VALUES.values() for name, spec in specs.items() if spec.boolean}
_VALUE_NAMES = {name.lower(): name for specs in VALUES.values() for name in specs}
_TRUE, _FALSE = {"true", "1"}, {"false", "0"}


class _TakenLines:
    """Feeds csv.reader text lines and remembers which lines the current row took."""

    def __init__(self, lines: Iterator[Line]):
        self._lines = lines
        self.taken: list[Line] = []

    def __iter__(self) -> "_TakenLines":
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.taken.append(line)
        return line[1]

    def take(self) -> list[Line]:
        taken, self.taken = self.taken, []
        return taken


class CsvColumns:
    """The header of a CSV file of readings: where device_id and observed_at are, and the value columns."""

    def __init__(self, cells: list[str], line: int = 1):
        names = [c.strip() for c in cells]
        self.width = len(names)
        problems = []
        if "device_id" not in names or "observed_at" not in names:
            shown = ",".join(names)[:200]
            raise UnreadableUpload(
                f"line {line} is not a CSV header: expected device_id,observed_at,<value names>… (found: {shown})"
            )
        self.device_id = names.index("device_id")
        self.observed_at = names.index("observed_at")
        self.values: list[tuple[int, str]] = []
        seen = set()
        for index, name in enumerate(names):
            if index in (self.device_id, self.observed_at):
                continue
            canonical = _VALUE_NAMES.get(name.lower())
            if canonical is None:
                problems.append(f"unknown column {name!r}" if name else f"column {index + 1} has no name")
            elif canonical in seen:
                problems.append(f"column {name!r} appears twice")
            else:
                seen.add(canonical)
                self.values.append((index, canonical))
        if names.count("device_id") > 1 or names.count("observed_at") > 1:
            problems.append("device_id and observed_at must appear once each")
        if problems:
            raise UnreadableUpload(
                "CSV header: "
                + "; ".join(problems)
                + f". Value columns are value names: {', '.join(sorted(_VALUE_NAMES.values()))}"
            )

    def candidate(self, cells: list[str]) -> tuple[dict[str, Any], list[dict[str, str]]]:
        errors: list[dict[str, str]] = []
        if len(cells) > self.width and any(c.strip() for c in cells[self.width :]):
            errors.append({"field": "line", "message": f"{len(cells)} cells; the header has {self.width} columns"})
        count = len(cells)
        values: dict[str, Any] = {}
        for index, name in self.values:
            cell = cells[index].strip() if index < count else ""
            if not cell:
                continue  # not measured
            if name in _BOOLEAN_VALUES:
                lowered = cell.lower()
                if lowered in _TRUE or lowered in _FALSE:
                    values[name] = lowered in _TRUE
                else:
                    errors.append({"field": f"values.{name}", "message": f"expected true or false, got {cell[:40]!r}"})
                continue
            try:
                values[name] = float(cell)
            except ValueError:
                errors.append({"field": f"values.{name}", "message": f"not a number: {cell[:40]!r}"})
        if not values and not errors:
            errors.append({"field": "values", "message": "no value measured: every value cell is empty"})
        device_id = cells[self.device_id].strip() if self.device_id < count else ""
        observed_at = cells[self.observed_at].strip() if self.observed_at < count else ""
        return {"device_id": device_id, "observed_at": observed_at, "values": values}, errors


def _line_problem(lines: list[Line]) -> list[dict[str, str]]:
    return [{"field": "line", "message": problem} for _, _, problem in lines if problem][:1]


def csv_rows(lines: Iterator[Line], header: Callable[[list[str], int], Any] = CsvColumns) -> Iterator[Row]:
    """Rows of a CSV file; the first non-blank row is the header. header(cells, line)
    reads it (raising UnreadableUpload) into columns whose candidate(cells) is a row's
    (candidate, errors)."""
    taken = _TakenLines(lines)
    reader = csv.reader(taken, delimiter=",")
    columns: Any = None
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            # A stray quote that swallows lines ends here (csv's field size limit
            # bounds it); the reader starts afresh at the next line.
            row_lines = taken.take()
            if columns is None:
                raise UnreadableUpload(f"line {row_lines[0][0]}: not CSV ({exc})") from None
            yield Row(
                row_lines[0][0],
                "\n".join(t for _, t, _ in row_lines),
                errors=[{"field": "line", "message": f"not CSV: {exc}"}],
            )
            continue
        row_lines = taken.take()
        problem = _line_problem(row_lines)
        if not problem and not any(c.strip() for c in cells):
            continue  # blank line
        line = row_lines[0][0]
        raw = row_lines[0][1] if len(row_lines) == 1 else "\n".join(t for _, t, _ in row_lines)
        if columns is None:
            if problem:
                raise UnreadableUpload(f"line {line}: {problem[0]['message']}")
            columns = header(cells, line)
            continue
        if problem:
            yield Row(line, raw, errors=problem)
            continue
        candidate, errors = columns.candidate(cells)
        yield Row(line, raw, candidate, errors)
    if columns is None:
        raise UnreadableUpload("the file is empty")


def jsonl_rows(lines: Iterator[Line]) -> Iterator[Row]:
    """Rows of a JSON Lines file: one reading object per line, blank lines skipped."""
    first = True
    for number, text, problem in lines:
        if not text.strip() and not problem:
            continue
        if problem:
            first = False
            yield Row(number, text, errors=[{"field": "line", "message": problem}])
            continue
        try:
            candidate = json.loads(text)
        except ValueError as exc:
            if first:
                raise UnreadableUpload(f"line {number} is not JSON, so the file is not JSON Lines ({exc})") from None
            yield Row(number, text, errors=[{"field": "line", "message": f"not valid JSON: {exc}"}])
            continue
        if first and not isinstance(candidate, dict):
            raise UnreadableUpload(f"line {number} is not a JSON object, so the file is not JSON Lines of readings")
        first = False
        yield Row(number, text, candidate)
    if first:
        raise UnreadableUpload("the file is empty")


def rows_of(
    lines: Iterable[Line], kind: str, header: Callable[[list[str], int], Any] = CsvColumns
) -> tuple[str, Iterator[Row]]:
    """kind "csv", "jsonl", or "auto" (a .txt: JSON Lines if its first text is `{`) ->
    (the format read, its rows); header reads a CSV header (see csv_rows)."""
    iterator = iter(lines)
    if kind == "auto":
        leading = []
        for line in iterator:
            leading.append(line)
            if line[1].strip():
                break
        kind = "jsonl" if leading and leading[-1][1].lstrip().startswith("{") else "csv"
        iterator = itertools.chain(leading, iterator)
    return kind, (jsonl_rows(iterator) if kind == "jsonl" else csv_rows(iterator, header))


# --------------------------------------------------------------------------- rows -> readings
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


class _Blocks:
    """Validates rows a block at a time: one registry lookup for the block's new
    devices, one forward of its good readings, one write of its rejections."""

    def __init__(
        self,
        report: UploadReport,
        validator: ReadingValidator,
        devices: dict[str, Any],
        get_devices: Callable[[list[str]], dict[str, dict[str, Any]]],
        forward: Callable[[list[Reading]], Any],
        record_rejections: Callable[[list[dict]], Any],
    ):
        self.report = report
        self.validator = validator
        self.devices = devices  # device id -> record, or None when unknown (asked once)
        self.get_devices = get_devices
        self.forward = forward
        self.record_rejections = record_rejections
        self.rows: list[Row] = []

    def add(self, row: Row) -> None:
        self.rows.append(row)
        if len(self.rows) >= BLOCK_ROWS:
            self.flush()

    def flush(self) -> None:
        rows, self.rows = self.rows, []
        if not rows:
            return
        self._look_up(rows)
        accepted: list[Reading] = []
        rejected: list[dict[str, Any]] = []
        for row in rows:
            errors = row.errors
            reading = None
            if not any(e["field"] == "line" for e in errors):
                reading, found = self.validator.validate(row.candidate)
                if any(e["field"].startswith("values") for e in errors):
                    # a value we could not parse was left out: "no values" is not news
                    found = [e for e in found if e["field"] != "values"]
                errors = errors + found
            if errors or reading is None:
                rejected.append({"position": row.line, "errors": errors, "raw": row.raw})
            else:
                accepted.append(reading)
        if accepted:
            self.forward(accepted)
        if rejected:
            self.record_rejections(rejected)
        self.report.count(len(accepted), rejected)

    def _look_up(self, rows: list[Row]) -> None:
        wanted = {
            row.candidate["device_id"]
            for row in rows
            if isinstance(row.candidate, dict) and isinstance(row.candidate.get("device_id"), str)
        }
        new = sorted(d for d in wanted if d not in self.devices and _DEVICE_ID.match(d))
        if not new:
            return
        if len(self.devices) + len(new) > MAX_CACHED_DEVICES:
            self.devices.clear()
        found = self.get_devices(new)
        for device_id in new:
            self.devices[device_id] = found.get(device_id)


def read_upload(
    chunks: Iterable[bytes],
    filename: str,
    *,
    department_id: str | None,
    get_devices: Callable[[list[str]], dict[str, dict[str, Any]]],
    forward: Callable[[list[Reading]], Any],
    record_rejections: Callable[[list[dict[str, Any]]], Any],
    now_ms: int | None = None,
    max_future_ms: int = 300_000,
) -> UploadReport:
    """Read one uploaded file, streaming, and account for every row.

    chunks: the file's bytes in pieces of any size. department_id: the uploader's
    department (None for the admin, who may send for any device). get_devices:
    device ids -> {id: device record} for those that exist. forward: called with
    up to BLOCK_ROWS valid readings at a time. record_rejections: called with
    [{position: line number, errors, raw: the line}] per block.

    Raises UnreadableUpload when the file as a whole is not readable (empty,
    binary, no CSV header, not JSON Lines) - before anything is forwarded."""
    lines = LineReader(chunks)
    kind, rows = rows_of(lines, format_of(filename) or "auto")
    report = UploadReport(format=kind)
    devices: dict[str, Any] = {}
    validator = ReadingValidator(devices, department_id, timeutil.now_ms() if now_ms is None else now_ms, max_future_ms)
    blocks = _Blocks(report, validator, devices, get_devices, forward, record_rejections)
    for row in rows:
        blocks.add(row)
    blocks.flush()
    report.encoding, report.lines = lines.encoding_name, lines.lines
    if report.accepted + report.rejected == 0:
        raise UnreadableUpload("the file has no rows of readings (only a header or blank lines)")
    return report


# --------------------------------------------------------------------------- the service
class UploadStore(Protocol):
    def create(self, record: dict[str, Any]) -> None: ...
    def get(self, upload_id: str) -> dict[str, Any] | None: ...
    def start(self, upload_id: str, fields: dict[str, Any]) -> None: ...
    def finish(self, upload_id: str, fields: dict[str, Any]) -> None: ...


class ObjectSuperseded(Exception):
    """The object was overwritten since the notification; the newer one's notification reads it."""


class ObjectGone(Exception):
    """The object no longer exists."""


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
    for optional in ("dataset", "version", "checksum", "format", "encoding", "lines", "size"):
        if optional in record:
            shown[optional] = record[optional]
    if record["status"] == "failed":
        shown["failure"] = record.get("failure", "unknown")
    return shown


class Uploads:
    """Announcing uploads (a presigned PUT) and reporting on them."""

    def __init__(
        self,
        store: UploadStore,
        presign_put: Callable[[str, int], str],
        url_expiry_seconds: int,
        check_target: Callable[[Principal, str], None] | None = None,
    ):
        self.store = store
        self.presign_put = presign_put  # (key, expires in seconds) -> URL
        self.url_expiry_seconds = url_expiry_seconds
        self.check_target = check_target  # (principal, dataset id): raises NotFound / Forbidden

    def create(self, principal: Principal, payload: UploadIn) -> dict[str, Any]:
        if payload.dataset is not None:
            if self.check_target is None:
                raise NotFound(f"no dataset {payload.dataset}")
            self.check_target(principal, payload.dataset)
        upload_id = str(uuid.uuid4())
        key = upload_key(principal.department_id, upload_id, payload.filename)
        now = timeutil.now_ms()
        expires = timeutil.local_iso(now + self.url_expiry_seconds * 1000)
        url = self.presign_put(key, self.url_expiry_seconds)
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
        # No header is signed: a plain PUT of the file's bytes is all a gateway sends.
        return {
            "id": upload_id,
            "filename": payload.filename,
            **target,
            "status": "pending",
            "url": url,
            "method": "PUT",
            "headers": {},
            "expires_at": expires,
        }

    def get(self, principal: Principal, upload_id: str) -> dict[str, Any]:
        record = self.store.get(upload_id)
        if record is None:
            raise NotFound(f"no upload {upload_id}")
        if not principal.may_manage(record["department"]):
            raise Forbidden("only the uploading department may see this upload")
        return view(record)


@dataclass
class Outcome:
    """What processing one notified object came to (stored as the idempotent result)."""

    status: str  # done | failed | ignored | superseded
    upload_id: str | None = None
    accepted: int = 0
    rejected: int = 0
    failure: str | None = None


class UploadIntake:
    """Reads the file an S3 notification names into the readings pipeline, or into
    its target dataset when the upload was announced with one."""

    def __init__(
        self,
        store: UploadStore,
        open_object: Callable[[S3Object], Iterable[bytes]],
        get_devices: Callable[[list[str]], dict[str, dict[str, Any]]],
        forward: Callable[[list[Reading], dict[str, Any]], Any],
        record_rejections: Callable[[str, list[dict[str, Any]]], Any],
        forget_rejections: Callable[[str], Any],
        max_future_ms: int = 300_000,
        load_dataset: Callable[[Iterable[bytes], dict[str, Any], S3Object, str], UploadReport] | None = None,
    ):
        self.store = store
        self.open_object = open_object  # raises ObjectSuperseded / ObjectGone
        self.get_devices = get_devices
        self.forward = forward  # (readings, source) -> sent
        self.record_rejections = record_rejections  # (source, rejections)
        self.forget_rejections = forget_rejections  # (source): drop what an earlier attempt recorded
        self.max_future_ms = max_future_ms
        self.load_dataset = load_dataset  # (chunks, upload record, object, rejections source) -> report

    def process(self, obj: S3Object) -> Outcome:
        upload_id = upload_id_of_key(obj.key)
        record = self.store.get(upload_id) if upload_id else None
        if record is None or record.get("key") != obj.key:
            # Written by something other than POST /v1/uploads: nothing to report to.
            logger.warning("object names no known upload; ignored", extra={"bucket": obj.bucket, "key": obj.key})
            return Outcome("ignored")
        assert upload_id is not None
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
        queue_source = {"kind": "upload", "id": upload_id, "department": record["department"]}
        try:
            if record.get("dataset"):
                if self.load_dataset is None:
                    raise UnreadableUpload("this function does not load datasets")
                report = self.load_dataset(chunks, record, obj, source)
            else:
                report = read_upload(
                    chunks,
                    record["filename"],
                    department_id=None if record.get("role") == "admin" else record["department"],
                    get_devices=self.get_devices,
                    forward=lambda readings: self.forward(readings, queue_source),
                    record_rejections=lambda rejections: self.record_rejections(source, rejections),
                    max_future_ms=self.max_future_ms,
                )
        except UnreadableUpload as exc:
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
