"""Query parameters shared by the listing routes: opaque page cursors (DynamoDB's
LastEvaluatedKey, base64url-encoded), page limits, and time bounds."""

from __future__ import annotations

import base64
import json
from typing import Any

from citybrain import timeutil
from citybrain.errors import ValidationFailed

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


def encode_cursor(last_key: dict[str, Any] | None) -> str | None:
    if not last_key:
        return None
    raw = json.dumps(last_key, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded))
        if not isinstance(key, dict):
            raise ValueError
        return key
    except ValueError:
        raise ValidationFailed(
            "invalid cursor", [{"field": "cursor", "message": "not a cursor this API returned"}]
        ) from None


def parse_limit(value: str | None, default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT) -> int:
    if value in (None, ""):
        return default
    try:
        limit = int(value)
    except ValueError:
        limit = 0
    if not 1 <= limit <= maximum:
        raise ValidationFailed("invalid limit", [{"field": "limit", "message": f"an integer from 1 to {maximum}"}])
    return limit


def parse_instant(params: dict[str, str], name: str, default: int | None = None) -> int | None:
    """A time bound such as `from`/`to`: ISO-8601 or epoch milliseconds; absent -> default."""
    if not params.get(name):
        return default
    try:
        return timeutil.parse_instant(params[name])
    except timeutil.BadTime as exc:
        raise ValidationFailed(f"invalid {name}", [{"field": name, "message": str(exc)}]) from None
