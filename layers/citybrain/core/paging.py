"""Query parameters shared by the listing routes: opaque page cursors (where the
next page starts: a store's last key or a listing's own position, as base64url
JSON, checked against the shape each listing hands out), page limits, and time
bounds."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from citybrain.core import timeutil
from citybrain.core.errors import ValidationFailed
from citybrain.core.validation import is_text

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


def encode_cursor(last_key: dict[str, Any] | None) -> str | None:
    if not last_key:
        return None
    raw = json.dumps(last_key, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def bad_cursor() -> ValidationFailed:
    """The one answer to a cursor this API did not hand out."""
    return ValidationFailed("invalid cursor", [{"field": "cursor", "message": "not a cursor this API returned"}])


def decode_cursor(cursor: str | None, shape: Mapping[str, type] | None = None) -> dict[str, Any] | None:
    """The key a cursor carries; with `shape` ({name: str or int}), exactly those
    fields of those types (a forged cursor is a 400, never a store's KeyError)."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, RecursionError):
        raise bad_cursor() from None
    if not isinstance(key, dict):
        raise bad_cursor()
    if shape is not None and not _fits(key, shape):
        raise bad_cursor()
    return key


def _fits(key: dict[str, Any], shape: Mapping[str, type]) -> bool:
    if set(key) != set(shape):
        return False
    for name, kind in shape.items():
        value = key[name]
        if isinstance(value, bool) or not isinstance(value, kind):
            return False
        if isinstance(value, int) and not -(2**63) <= value < 2**63:
            return False  # no key this API hands out is larger; DynamoDB would refuse it
        if isinstance(value, str) and (not value or not is_text(value) or len(value.encode()) > 1024):
            return False
    return True


def parse_limit(value: str | None, default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT) -> int:
    if value in (None, ""):
        return default
    limit = int(value) if value.isascii() and value.isdigit() else 0  # not "1_0", " 5 " or "٥"
    if not 1 <= limit <= maximum:
        raise ValidationFailed("invalid limit", [{"field": "limit", "message": f"an integer from 1 to {maximum}"}])
    return limit


def parse_range(params: Mapping[str, str], default_from: int, default_to: int) -> tuple[int, int]:
    """`from`/`to` with their defaults; `from` after `to` is a 400 naming `from`."""
    start = parse_instant(params, "from", default_from)
    end = parse_instant(params, "to", default_to)
    assert start is not None and end is not None
    if start > end:
        raise ValidationFailed("from is after to", [{"field": "from", "message": "must not be after to"}])
    return start, end


def parse_instant(params: Mapping[str, str], name: str, default: int | None = None) -> int | None:
    """A time bound such as `from`/`to`: ISO-8601 or epoch milliseconds; absent -> default."""
    if not params.get(name):
        return default
    try:
        return timeutil.parse_instant(params[name])
    except timeutil.BadTime as exc:
        raise ValidationFailed(f"invalid {name}", [{"field": name, "message": str(exc)}]) from None
