"""Files of readings from gateways: rows -> readings validated in blocks.

Good readings are forwarded a block at a time, bad rows recorded with their line
number; nothing holds more than a block of rows, so a file of any size reads in
flat memory. No AWS here: the device registry, the readings queue and the
rejections arrive as callables.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from citybrain.core import timeutil
from citybrain.files.decoding import LineReader, UnreadableFile
from citybrain.files.tables import FALSE_WORDS, TRUE_WORDS, Row, format_of, rows_of
from citybrain.sensing.devices import DEVICE_ID
from citybrain.sensing.readings import Reading, ReadingValidator
from citybrain.sensing.vocabulary import VALUES
from citybrain.uploads.models import BLOCK_ROWS, UploadReport

MAX_CACHED_DEVICES = 50_000  # a district has thousands; a file of random ids must not grow memory

_DEVICE_ID = re.compile(DEVICE_ID)


_BOOLEAN_VALUES = {name for specs in VALUES.values() for name, spec in specs.items() if spec.boolean}


_VALUE_NAMES = {name.lower(): name for specs in VALUES.values() for name in specs}


class ReadingColumns:
    """The header of a CSV file of readings: where device_id and observed_at are, and the value columns."""

    def __init__(self, cells: list[str], line: int = 1):
        names = [c.strip() for c in cells]
        self.width = len(names)
        problems = []
        if "device_id" not in names or "observed_at" not in names:
            shown = ",".join(names)[:200]
            raise UnreadableFile(
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
            raise UnreadableFile(
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
                if lowered in TRUE_WORDS or lowered in FALSE_WORDS:
                    values[name] = lowered in TRUE_WORDS
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

    Raises UnreadableFile when the file as a whole is not readable (empty,
    binary, no CSV header, not JSON Lines) - before anything is forwarded."""
    lines = LineReader(chunks)
    kind, rows = rows_of(lines, format_of(filename) or "auto", ReadingColumns)
    report = UploadReport(format=kind)
    devices: dict[str, Any] = {}
    validator = ReadingValidator(devices, department_id, timeutil.now_ms() if now_ms is None else now_ms, max_future_ms)
    blocks = _Blocks(report, validator, devices, get_devices, forward, record_rejections)
    for row in rows:
        blocks.add(row)
    blocks.flush()
    report.encoding, report.lines = lines.encoding_name, lines.lines
    if report.accepted + report.rejected == 0:
        raise UnreadableFile("the file has no rows of readings (only a header or blank lines)")
    return report


class ReadingFiles:
    """The uploads' reader for files of readings (uploads.service.FileReader)."""

    def __init__(
        self,
        get_devices: Callable[[list[str]], dict[str, dict[str, Any]]],
        send: Callable[[list[Reading], dict[str, Any], dict[str, dict[str, Any]]], Any],
        record_rejections: Callable[[str, list[dict[str, Any]]], Any],
        max_future_ms: int,
    ):
        self.get_devices = get_devices
        self.send = send  # (readings, source, device records) -> messages on the readings queue
        self.record_rejections = record_rejections  # (source, rejections)
        self.max_future_ms = max_future_ms

    def __call__(self, chunks: Iterable[bytes], upload: dict[str, Any], obj: Any, source: str) -> UploadReport:
        known: dict[str, dict[str, Any]] = {}  # the devices the file names, sent along as profiles for the rules

        def get_devices(ids: list[str]) -> dict[str, dict[str, Any]]:
            found = self.get_devices(ids)
            known.update(found)
            return found

        queue_source = {"kind": "upload", "id": upload["id"], "department": upload["department"]}
        return read_upload(
            chunks,
            upload["filename"],
            department_id=None if upload.get("role") == "admin" else upload["department"],
            get_devices=get_devices,
            forward=lambda readings: self.send(readings, queue_source, known),
            record_rejections=lambda rejections: self.record_rejections(source, rejections),
            max_future_ms=self.max_future_ms,
        )
