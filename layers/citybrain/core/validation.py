"""Input rules every route shares (README, "Input rules").

- A body is UTF-8 JSON of at most MAX_BODY_BYTES (413) nested at most MAX_DEPTH
  levels (400): a parser that recurses must never meet a body 10,000 levels deep.
- Strings are valid Unicode: a lone surrogate (JSON's "\\ud800") cannot be
  encoded as UTF-8, stored or hashed, so it is a 400 naming the field.
- Numbers are finite and storable: NaN, Infinity, numbers too large for a
  double (1e400), and numbers DynamoDB cannot hold (a magnitude under 1e-130 or
  over 9.9e125, an integer of more than 38 digits) are a 400; booleans are never
  numbers (models use strict types for that).
- Names and titles carry no character a reader cannot see or that reorders the
  text: Unicode categories Cc (C0, C1, DEL), Cf (zero-width characters,
  bidirectional marks, overrides and isolates, the BOM, tags), Zl, Zp and Co
  (`Name` below); free text (`Text`) may also hold tabs and line breaks.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Iterable
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StrictInt

from citybrain.core.errors import PayloadTooLarge, ValidationFailed

MAX_BODY_BYTES = 6 * 1024 * 1024  # Lambda's synchronous payload limit
MAX_DEPTH = 32

# Characters a person cannot see or that reorder what they see: controls (Cc), format
# characters (Cf: zero-width, bidirectional marks, overrides and isolates, BOM, tags),
# line and paragraph separators (Zl, Zp) and private use (Co).
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Co"})
_LINE_BREAKS = frozenset("\t\n\r")  # allowed in free text, not in a name
_SURROGATE = re.compile("[\ud800-\udfff]")


def is_text(value: str) -> bool:
    """Valid Unicode: no lone surrogate."""
    return _SURROGATE.search(value) is None


def one_of(name: str, value: str, allowed: Iterable[str]) -> str:
    """`value` if it is one of `allowed`, else a 400 naming the parameter and listing them."""
    allowed = list(allowed)
    if value not in allowed:
        raise ValidationFailed(
            f"unknown {name} {value!r}", [{"field": name, "message": f"one of: {', '.join(allowed)}"}]
        )
    return value


def _reject_constant(name: str) -> Any:
    raise _NotFinite(name)


class _NotFinite(ValueError):
    pass


# What a DynamoDB number can hold: 38 significant digits, magnitudes from 1e-130 to 9.9e125.
_SMALLEST, _LARGEST, _DIGITS = 1e-130, 9.9e125, 38


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or (value != 0 and not _SMALLEST <= abs(value) <= _LARGEST):
        raise _NotFinite(text)
    return value


def _storable_int(text: str) -> int:
    if len(text.lstrip("-").lstrip("0")) > _DIGITS:
        raise _NotFinite(text)
    return int(text)


def parse_body(raw: bytes | str | None) -> Any:
    """The request body as JSON under the rules above; every breach is a ClientError naming where."""
    if not raw:
        raise ValidationFailed("a JSON body is required", [{"field": "body", "message": "empty"}])
    size = len(raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw)
    if size > MAX_BODY_BYTES:
        raise PayloadTooLarge(
            f"the body is {size} bytes; at most {MAX_BODY_BYTES}",
            [{"field": "body", "message": f"at most {MAX_BODY_BYTES} bytes"}],
        )
    text = raw
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValidationFailed("body is not UTF-8", [{"field": "body", "message": str(exc)}]) from None
    assert isinstance(text, str)
    depth = _nesting(text)
    if depth > MAX_DEPTH:
        raise ValidationFailed(
            "body is nested too deeply", [{"field": "body", "message": f"nested at most {MAX_DEPTH} levels"}]
        )
    try:
        body = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float, parse_int=_storable_int)
    except _NotFinite as exc:
        raise ValidationFailed(
            "numbers must be finite and storable",
            [{"field": "body", "message": f"not a number that can be stored: {str(exc)[:40]}"}],
        ) from None
    except (ValueError, RecursionError) as exc:
        raise ValidationFailed("body is not valid JSON", [{"field": "body", "message": str(exc)[:200]}]) from None
    problem = _first_problem(body, ())
    if problem:
        where, message = problem
        raise ValidationFailed(
            "invalid request body", [{"field": ".".join(map(str, where)) or "body", "message": message}]
        )
    return body


def _nesting(text: str) -> int:
    """The deepest nesting of [ and { outside strings (cheap: one pass, no recursion)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_DEPTH:
                    return deepest
        elif char in "]}":
            depth -= 1
    return deepest


def _first_problem(value: Any, where: tuple[Any, ...]) -> tuple[tuple[Any, ...], str] | None:
    """The first string that is not valid Unicode (key or value), with its path."""
    if isinstance(value, str):
        return None if is_text(value) else (where, "not valid Unicode (a lone surrogate)")
    if isinstance(value, dict):
        for key, item in value.items():
            if not is_text(key):
                return (*where, key.encode("utf-8", "replace").decode()), "a key that is not valid Unicode"
            found = _first_problem(item, (*where, key))
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _first_problem(item, (*where, index))
            if found:
                return found
    return None


def check_query(params: dict[str, str]) -> dict[str, str]:
    """Query parameters (and path parameters) are text too."""
    for name, value in params.items():
        if not is_text(name) or not is_text(value):
            field = name if is_text(name) else "query"
            raise ValidationFailed(
                "invalid query parameter", [{"field": field, "message": "not valid Unicode (a lone surrogate)"}]
            )
    return params


def invisible(value: str, allowed: frozenset[str] = frozenset()) -> str | None:
    """The first character of `value` a reader cannot see (or that reorders the text), if any."""
    if value.isascii() and value.isprintable():
        return None  # the common case, without a look at each character
    for char in value:
        if char not in allowed and unicodedata.category(char) in _INVISIBLE_CATEGORIES:
            return char
    return None


def _visible(value: str) -> str:
    found = invisible(value)
    if found is not None:
        raise ValueError(f"must not contain control, format or invisible characters (U+{ord(found):04X})")
    return value


def _readable(value: str) -> str:
    found = invisible(value, _LINE_BREAKS)
    if found is not None:
        raise ValueError(f"must not contain control, format or invisible characters (U+{ord(found):04X})")
    return value


# A name or a title: what a person reads in a list.
Name = Annotated[str, AfterValidator(_visible)]
# Free text: a description, a purpose, a note (line breaks allowed).
Text = Annotated[str, AfterValidator(_readable)]
# Why something was done, as people write it beside an action.
Note = Annotated[Text, Field(max_length=1000)]
# JSON numbers only: never a boolean, never a string of digits, always finite.
Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]
Integer = StrictInt
