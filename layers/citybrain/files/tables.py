"""Numbered text lines -> rows of a CSV or JSON Lines file.

A row keeps where it starts and its raw text, so a rejected row is reported by
line number; what a row means (a reading, a dataset record) is the header
reader's business, passed in by the feature that reads the file.
"""

from __future__ import annotations

import csv
import itertools
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from citybrain.files.decoding import Line, UnreadableFile

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json-lines": "jsonl", ".txt": "auto"}
TRUE_WORDS, FALSE_WORDS = {"true", "1"}, {"false", "0"}  # what a CSV cell of a boolean may say


def format_of(filename: str) -> str | None:
    lower = filename.lower()
    for extension, kind in FORMATS.items():
        if lower.endswith(extension) and len(lower) > len(extension):
            return kind
    return None


@dataclass
class Row:
    line: int  # where the row starts (1-based; a CSV header is line 1)
    raw: str  # the row's text as in the file
    candidate: Any = None  # the reading as the HTTP API would receive it
    errors: list[dict[str, str]] = field(default_factory=list)  # found before validation


class _TakenLines:
    """Feeds csv.reader text lines and remembers which lines the current row took."""

    def __init__(self, lines: Iterator[Line]):
        self._lines = lines
        self.taken: list[Line] = []

    def __iter__(self) -> _TakenLines:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.taken.append(line)
        return line[1]

    def take(self) -> list[Line]:
        taken, self.taken = self.taken, []
        return taken


def _line_problem(lines: list[Line]) -> list[dict[str, str]]:
    return [{"field": "line", "message": problem} for _, _, problem in lines if problem][:1]


def csv_rows(lines: Iterator[Line], header: Callable[[list[str], int], Any]) -> Iterator[Row]:
    """Rows of a CSV file; the first non-blank row is the header. header(cells, line)
    reads it (raising UnreadableFile) into columns whose candidate(cells) is a row's
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
                raise UnreadableFile(f"line {row_lines[0][0]}: not CSV ({exc})") from None
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
                raise UnreadableFile(f"line {line}: {problem[0]['message']}")
            columns = header(cells, line)
            continue
        if problem:
            yield Row(line, raw, errors=problem)
            continue
        candidate, errors = columns.candidate(cells)
        yield Row(line, raw, candidate, errors)
    if columns is None:
        raise UnreadableFile("the file is empty")


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
                raise UnreadableFile(f"line {number} is not JSON, so the file is not JSON Lines ({exc})") from None
            yield Row(number, text, errors=[{"field": "line", "message": f"not valid JSON: {exc}"}])
            continue
        if first and not isinstance(candidate, dict):
            raise UnreadableFile(f"line {number} is not a JSON object, so the file is not JSON Lines of readings")
        first = False
        yield Row(number, text, candidate)
    if first:
        raise UnreadableFile("the file is empty")


def rows_of(lines: Iterable[Line], kind: str, header: Callable[[list[str], int], Any]) -> tuple[str, Iterator[Row]]:
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
