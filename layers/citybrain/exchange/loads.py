"""Large loads of a dataset: a file uploaded with the dataset as target
(POST /v1/uploads {filename, dataset}) becomes one version of it.

The file is read with the uploads' streaming reader (UTF-8, UTF-8 with BOM or
GB18030; CSV or JSON Lines). A CSV header names the schema's fields and its
cells are converted to the fields' types (an empty cell is an absent value);
a JSON Lines object is a record as the records API takes it. Rows are
validated and upserted a block at a time under the dataset's load lease, so
memory stays one block however large the file; the whole file is one version,
visible only once it commits with its `records.loaded` audit entry (records.py).
A bad row never blocks the good ones: it is kept with its line and reason.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable, Iterable
from typing import Any

from citybrain.departments.models import Principal
from citybrain.exchange.audit import RequestFacts
from citybrain.exchange.records import Records, VersionLoad
from citybrain.exchange.schema import DatasetSchema, FieldType, RecordValidator, canonical
from citybrain.files.decoding import LineReader, UnreadableFile
from citybrain.files.tables import FALSE_WORDS, TRUE_WORDS, Row, format_of, rows_of
from citybrain.uploads.models import BLOCK_ROWS, S3Object, UploadReport

_INTEGER = re.compile(r"^[+-]?\d+$")


def check_target(records: Records, principal: Principal, dataset_id: str, request: RequestFacts) -> None:
    """Only the dataset's owner, or the data bureau, may announce a load of it (404 for an unknown dataset)."""
    dataset = records.catalog.get(dataset_id)
    if not principal.may_manage(dataset["owner"]):
        records.refuse_load(principal, dataset, request)


def cell_value(kind: FieldType, cell: str) -> Any:
    """A CSV cell as the JSON value the records API would receive; a cell that does not
    convert is passed on as text, so the schema's validation names what was expected."""
    if kind == FieldType.integer and _INTEGER.match(cell):
        return int(cell)
    if kind == FieldType.number:
        try:
            return float(cell)
        except ValueError:
            return cell
    if kind == FieldType.boolean and cell.lower() in TRUE_WORDS | FALSE_WORDS:
        return cell.lower() in TRUE_WORDS
    if kind == FieldType.datetime and _INTEGER.match(cell):
        return int(cell)  # epoch milliseconds
    return cell


class DatasetColumns:
    """A CSV header naming the dataset's fields (in any order, unknown names refused)."""

    def __init__(self, schema: DatasetSchema, primary_key: list[str], cells: list[str], line: int = 1):
        names = [c.strip() for c in cells]
        self.width = len(names)
        problems = []
        seen: set[str] = set()
        columns: list[tuple[int, FieldType]] = []
        for index, name in enumerate(names):
            spec = schema.field(name) if name else None
            if not name:
                problems.append(f"column {index + 1} has no name")
            elif spec is None:
                problems.append(f"unknown column {name!r}")
            elif name in seen:
                problems.append(f"column {name!r} appears twice")
            else:
                columns.append((index, spec.type))
            seen.add(name)
        missing = [k for k in primary_key if k not in seen]
        if missing:
            problems.append(f"no column for the primary key {', '.join(missing)}")
        if problems:
            raise UnreadableFile(
                f"line {line}, CSV header: "
                + "; ".join(problems)
                + f". The dataset's fields are {', '.join(schema.names)}"
            )
        self.columns = columns
        self.names = names

    def candidate(self, cells: list[str]) -> tuple[dict[str, Any], list[dict[str, str]]]:
        errors = []
        if len(cells) > self.width and any(c.strip() for c in cells[self.width :]):
            errors.append({"field": "line", "message": f"{len(cells)} cells; the header has {self.width} columns"})
        record = {}
        for index, kind in self.columns:
            cell = cells[index].strip() if index < len(cells) else ""
            if cell:
                record[self.names[index]] = cell_value(kind, cell)
        return record, errors


class DatasetUpload:
    """Reads an uploaded file into its target dataset as one version."""

    def __init__(self, records: Records, record_rejections: Callable[[str, list[dict[str, Any]]], Any]):
        self.records = records
        self.record_rejections = record_rejections  # (source, [{position: line, errors, raw}])

    def read(self, chunks: Iterable[bytes], upload: dict[str, Any], obj: S3Object, source: str) -> UploadReport:
        dataset = self.records.catalog.get(upload["dataset"])
        schema = DatasetSchema.model_validate(dataset["schema"])
        validator = RecordValidator(schema, dataset["primary_key"])
        lines = LineReader(chunks)
        kind, rows = rows_of(
            lines,
            format_of(upload["filename"]) or "auto",
            header=functools.partial(DatasetColumns, schema, dataset["primary_key"]),
        )
        report = UploadReport(format=kind)
        # Over the accepted records as canonical JSON lines, in the file's order:
        # the owner recomputes it from the file without sorting it.
        checksum = hashlib.sha256()
        facts = RequestFacts(
            "POST",
            "/v1/uploads",
            body={
                "upload": upload["id"],
                "filename": upload["filename"],
                "dataset": dataset["id"],
                "etag": obj.etag,
                "size": obj.size,
            },
        )
        load = self.records.begin_load(dataset)
        try:
            block: list[Row] = []
            for row in rows:
                block.append(row)
                if len(block) >= BLOCK_ROWS:
                    self._load_block(block, validator, load, checksum, report, source)
                    block = []
            self._load_block(block, validator, load, checksum, report, source)
            report.encoding, report.lines = lines.encoding_name, lines.lines
            if report.accepted + report.rejected == 0:
                raise UnreadableFile("the file has no records (only a header or blank lines)")
            summary = load.finish(
                upload["department"],
                facts,
                rejected=report.rejected,
                checksum=checksum.hexdigest(),
                checksum_order="file",
                source="upload",
                upload=upload["id"],
                loaded_by=upload["department"],
            )
        except BaseException:
            load.abort()
            raise
        report.extra = {"version": summary["version"], "checksum": summary["checksum"]}
        return report

    def _load_block(
        self,
        block: list[Row],
        validator: RecordValidator,
        load: VersionLoad,
        checksum: Any,
        report: UploadReport,
        source: str,
    ) -> None:
        if not block:
            return
        accepted: dict[str, dict[str, Any]] = {}
        rejected: list[dict[str, Any]] = []
        for row in block:
            errors, clean = list(row.errors), None
            if not any(e["field"] == "line" for e in errors):
                clean, found = validator.validate(row.candidate, "")
                errors += found
            if errors or clean is None:
                rejected.append({"position": row.line, "errors": errors, "raw": row.raw})
                continue
            # A key met again later in the file updates the earlier row, as a second load would.
            accepted[validator.key_of(clean)] = clean
            checksum.update(canonical(clean).encode("utf-8") + b"\n")
        accepted_rows = len(block) - len(rejected)
        if accepted:
            load.upsert(list(accepted.items()), rows=accepted_rows)
        if rejected:
            self.record_rejections(source, rejected)
        report.count(accepted_rows, rejected)
