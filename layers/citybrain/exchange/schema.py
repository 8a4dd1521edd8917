"""A dataset's schema and the validation of its records against it.

Types are those of DCAT/Frictionless table schemas: string, integer, number,
boolean, date, datetime. A field may carry personal data (`pii`: id_card,
phone, name, address), which is checked for shape on the way in and masked on
the way out. Records are validated one by one: a bad record is reported with
its field paths and never blocks the good ones of the same batch.
"""

from __future__ import annotations

import hashlib
import math
import re
from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator, model_validator

from citybrain.core import timeutil
from citybrain.core.validation import Name, Text
from citybrain.exchange import masking
from citybrain.exchange.chain import canonical, digest  # noqa: F401  (re-exported: one hash for everything)

FIELD_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
# Query parameters of a pull; a field of that name could not be filtered on.
RESERVED_NAMES = frozenset({"cursor", "limit", "fields"})
MAX_STRING = 4000


class FieldType(StrEnum):
    string = "string"
    integer = "integer"
    number = "number"
    boolean = "boolean"
    date = "date"
    datetime = "datetime"


class PII(StrEnum):
    none = "none"
    id_card = "id_card"  # 居民身份证号码
    phone = "phone"
    name = "name"
    address = "address"


class FieldSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(pattern=FIELD_NAME)
    type: FieldType
    unit: Name | None = Field(default=None, max_length=40)
    description: Text | None = Field(default=None, max_length=500)
    pii: PII = PII.none
    required: StrictBool = False

    @field_validator("name")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value in RESERVED_NAMES:
            raise ValueError(f"{value} is reserved for paging; choose another name")
        return value

    @model_validator(mode="after")
    def _pii_is_text(self) -> FieldSpec:
        if self.pii != PII.none and self.type != FieldType.string:
            raise ValueError("personal data fields (pii) must have type string")
        return self


class DatasetSchema(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fields: list[FieldSpec] = Field(min_length=1, max_length=200)

    @field_validator("fields")
    @classmethod
    def _unique(cls, fields: list[FieldSpec]) -> list[FieldSpec]:
        seen: set[str] = set()
        for field in fields:
            if field.name in seen:
                raise ValueError(f"field {field.name} appears twice")
            seen.add(field.name)
        return fields

    @model_validator(mode="before")
    @classmethod
    def _bare_list(cls, value: Any) -> Any:
        # `schema: [...]` is accepted as shorthand for `schema: {"fields": [...]}`.
        return {"fields": value} if isinstance(value, list) else value

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]

    @property
    def pii_fields(self) -> dict[str, str]:
        return {f.name: f.pii.value for f in self.fields if f.pii != PII.none}


# -- canonical forms ---------------------------------------------------------------
# canonical(value) and digest(value): citybrain.exchange.chain (stdlib-only, shared with the offline verifier)


def key_text(values: list[Any]) -> str:
    """The primary key of a record as one string: the value itself, or a JSON array of a composite key."""
    if len(values) == 1:
        return values[0] if isinstance(values[0], str) else canonical(values[0])
    return canonical(values)


# -- values ------------------------------------------------------------------------
class BadValue(ValueError):
    pass


def coerce(spec: FieldSpec, value: Any) -> Any:
    """A JSON value -> the value stored for a field of this type, or BadValue."""
    kind = spec.type
    if kind == FieldType.string:
        if not isinstance(value, str):
            if isinstance(value, int) and not isinstance(value, bool) and spec.pii in (PII.id_card, PII.phone):
                value = str(value)  # an ID or phone number sent as a number
            else:
                raise BadValue("expected a string")
        value = value.strip()
        if len(value) > MAX_STRING:
            raise BadValue(f"at most {MAX_STRING} characters")
        return _personal(spec.pii, value)
    if kind == FieldType.integer:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise BadValue("expected an integer")
        if isinstance(value, float):
            if not value.is_integer():
                raise BadValue("expected an integer")
            value = int(value)
        if abs(value) >= 2**63:
            raise BadValue("out of range")
        return value
    if kind == FieldType.number:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise BadValue("expected a finite number")
        return float(value)
    if kind == FieldType.boolean:
        if not isinstance(value, bool):
            raise BadValue("expected true or false")
        return value
    if kind == FieldType.date:
        if not isinstance(value, str):
            raise BadValue("expected a date YYYY-MM-DD")
        try:
            return date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            raise BadValue("expected a date YYYY-MM-DD") from None
    if kind == FieldType.datetime:
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise BadValue("expected an ISO-8601 time or epoch milliseconds")
        try:
            return timeutil.local_iso(timeutil.parse_instant(value))
        except timeutil.BadTime as exc:
            raise BadValue(str(exc)) from None
    raise BadValue(f"unknown type {kind}")


def _personal(kind: PII, value: str) -> str:
    if kind == PII.id_card:
        problem = masking.id_card_problem(value)
        if problem:
            raise BadValue(f"not a valid identity card number: {problem}")
        return masking.normalize_id_card(value)
    if kind == PII.phone:
        problem = masking.phone_problem(value)
        if problem:
            raise BadValue(f"not a valid phone number: {problem}")
        return masking.phone_digits(value)
    if kind == PII.name and not value:
        raise BadValue("a name must not be empty")
    return value


def parse_filter(spec: FieldSpec, raw: str) -> Any:
    """A query-string value -> the typed value a stored field is compared with."""
    if spec.type == FieldType.integer:
        if not re.fullmatch(r"-?\d+", raw.strip()):
            raise BadValue("expected an integer")
        return int(raw)
    if spec.type == FieldType.number:
        try:
            number = float(raw)
        except ValueError:
            raise BadValue("expected a number") from None
        if not math.isfinite(number):
            raise BadValue("expected a finite number")
        return number
    if spec.type == FieldType.boolean:
        if raw not in ("true", "false"):
            raise BadValue("expected true or false")
        return raw == "true"
    return coerce(spec, raw)


# -- records -----------------------------------------------------------------------
class RecordValidator:
    """Validates records of one dataset; knows its primary key."""

    def __init__(self, schema: DatasetSchema, primary_key: list[str]):
        self.schema = schema
        self.primary_key = primary_key
        self.specs = {f.name: f for f in schema.fields}
        self.required = {f.name for f in schema.fields if f.required} | set(primary_key)

    def validate(self, record: Any, path: str) -> tuple[dict[str, Any] | None, list[dict[str, str]]]:
        """-> (clean record, []) or (None, [{field, message}]); field paths start with `path`
        (none: the bare field name, as for a row of an uploaded file)."""
        if not isinstance(record, dict):
            return None, [{"field": path or "record", "message": "expected an object"}]

        def at(name: str) -> str:
            return f"{path}.{name}" if path else name

        clean: dict[str, Any] = {}
        errors: list[dict[str, str]] = []
        for name, value in record.items():
            spec = self.specs.get(name) if isinstance(name, str) else None
            if spec is None:
                errors.append({"field": at(name), "message": "not a field of this dataset's schema"})
                continue
            if value is None:
                continue
            try:
                clean[name] = coerce(spec, value)
            except BadValue as exc:
                errors.append({"field": at(name), "message": str(exc)})
        for name in self.schema.names:
            if name in self.required and name not in clean and not any(e["field"] == at(name) for e in errors):
                why = "part of the primary key" if name in self.primary_key else "required"
                errors.append({"field": at(name), "message": f"missing ({why})"})
        if errors:
            return None, errors
        return clean, []

    def key_of(self, record: dict[str, Any]) -> str:
        return key_text([record[name] for name in self.primary_key])


def records_checksum(records: list[dict[str, Any]], validator: RecordValidator) -> str:
    """SHA-256 over the records as canonical JSON lines, in primary-key order: the
    owner can recompute it from its own copy (the order does not depend on how
    the batch was sent)."""
    ordered = sorted(records, key=lambda r: validator.key_of(r))
    hasher = hashlib.sha256()
    for record in ordered:
        hasher.update(canonical(record).encode("utf-8"))
        hasher.update(b"\n")
    return hasher.hexdigest()
