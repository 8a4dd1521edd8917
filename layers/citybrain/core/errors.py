"""Errors a client can cause or see. Each maps to one HTTP status and a code."""

from __future__ import annotations

from typing import Any


class ClientError(Exception):
    status = 400
    code = "BadRequest"

    def __init__(self, message: str, errors: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or []

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.errors:
            body["errors"] = self.errors
        return body


class ValidationFailed(ClientError):
    status = 400
    code = "ValidationError"


class Unauthenticated(ClientError):
    status = 401
    code = "Unauthorized"


class Forbidden(ClientError):
    status = 403
    code = "Forbidden"


class NotFound(ClientError):
    status = 404
    code = "NotFound"


class Conflict(ClientError):
    status = 409
    code = "Conflict"


class PayloadTooLarge(ClientError):
    status = 413
    code = "PayloadTooLarge"


def field_errors(exc: Any, prefix: tuple[Any, ...] = ()) -> list[dict[str, str]]:
    """pydantic ValidationError -> [{field: "readings.3.values.pm25", message}]."""
    out = []
    for err in exc.errors(include_url=False):
        loc = prefix + tuple(err.get("loc", ()))
        field = ".".join(str(p) for p in loc) or "body"
        message = err.get("msg", "invalid")
        out.append({"field": field, "message": message})
    return out
