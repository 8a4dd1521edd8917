"""What every response body is built from: the base of the response models, the
error body, the health body and the page of a listing.

A handler's result passes through its route's response model on the way out
(`shaped`): the body holds the fields the model lists, exactly as the service
gave them (a field the service left out stays out), and the OpenAPI document
(functions/openapi.py) is generated from the same models, so what clients read
and what they get cannot drift apart.

Models list their fields; `Open` is for payloads that are open by nature (a
dataset's records, a reading's values and derived indicators, audit details).
A field the service returns that the model does not list is dropped, and is an
error when `CITYBRAIN_STRICT_RESPONSES=1` (the tests), so a model that falls
behind its service fails the tests rather than hiding a field from clients.

Imported only when a response is built or the document generated, never at a
function's cold start.
"""

from __future__ import annotations

import os
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, WithJsonSchema, model_validator

STRICT_ENV = "CITYBRAIN_STRICT_RESPONSES"

# Local time as the API writes it: 2026-11-27T08:30:00+08:00 (milliseconds only when present).
Instant = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
Day = Annotated[str, WithJsonSchema({"type": "string", "format": "date"})]
# A JSON number as the service computed it: an integer stays an integer.
Number = Annotated[int | float, WithJsonSchema({"type": "number"})]


def _not_null(schema: dict[str, Any]) -> None:
    """The schema of a field that is left out when it has no value (never null)."""
    schema.pop("default", None)
    variants = schema.pop("anyOf", None)
    if variants is None:
        return
    kept = [v for v in variants if v != {"type": "null"}]
    if len(kept) == 1:
        schema.update(kept[0])
    else:
        schema["anyOf"] = kept


def optional(description: str | None = None, **constraints: Any) -> Any:
    """A field that may be absent (but is never null): `x: str | None = optional()`."""
    return Field(default=None, description=description, json_schema_extra=_not_null, **constraints)


class ResponseShapeError(RuntimeError):
    """A result its response model does not describe: a bug (500), never the client's mistake."""


class Shape(BaseModel):
    """The base of every response model: the fields it lists."""

    model_config = ConfigDict(populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _listed(cls, data: Any, info: ValidationInfo) -> Any:
        if isinstance(data, dict) and info.context and info.context.get("strict"):
            if cls.model_config.get("extra") != "allow":
                unlisted = sorted(set(data) - _known(cls))
                if unlisted:
                    raise ValueError(f"fields the response model {cls.__name__} does not list: {', '.join(unlisted)}")
        return data


_KNOWN: dict[type, frozenset[str]] = {}


def _known(model: type[BaseModel]) -> frozenset[str]:
    names = _KNOWN.get(model)
    if names is None:
        names = frozenset(
            name
            for field_name, info in model.model_fields.items()
            for name in (field_name, info.alias or field_name, info.serialization_alias or field_name)
        )
        _KNOWN[model] = names
    return names


class Open(Shape):
    """An object open by nature: the listed fields and whatever else it holds."""

    model_config = ConfigDict(extra="allow")


def strict() -> bool:
    return os.environ.get(STRICT_ENV) == "1"


def shaped(model: type[BaseModel], result: Any, where: str = "") -> Any:
    """`result` as the JSON value the model describes: its fields, as set, by alias."""
    try:
        built = model.model_validate(result, context={"strict": strict()})
    except ValidationError as exc:
        # Without the input values: a result may hold what must not reach the logs (a new API key).
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}"
            for e in exc.errors(include_url=False, include_input=False)
        )
        raise ResponseShapeError(f"{where or model.__name__} does not fit {model.__name__}: {problems}") from None
    return built.model_dump(mode="json", exclude_unset=True, by_alias=True)


# -- shared bodies -------------------------------------------------------------------------
class FieldError(Shape):
    field: str = Field(description="the offending field's path, e.g. readings.3.values.pm25; body for the whole body")
    message: str


class ErrorBody(Shape):
    """Every error: a code, a human message, the offending fields when there are any."""

    code: str = Field(
        description="BadRequest, ValidationError, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge or "
        "InternalError",
        examples=["ValidationError"],
    )
    message: str = Field(examples=["invalid request body"])
    errors: list[FieldError] | None = optional("the offending fields")
    request_id: str | None = Field(default=None, description="on an internal error: the id to find it in the logs")


class Health(Shape):
    status: Literal["ok"]


class Page[ItemT](Shape):
    """One page of a listing; pass `next_cursor` back as `cursor` for the next one."""

    items: list[ItemT]
    next_cursor: str | None = Field(description="opaque; null on the last page")


class OpenAPIDocument(Open):
    """This API's OpenAPI 3.1 document."""

    openapi: Literal["3.1.0"]
