"""Compact JSON text for what is written per reading (chunk rows, archive lines,
rollup and state values).

pydantic's Rust encoder (pydantic_core.to_json) writes the same JSON as
json.dumps(..., ensure_ascii=False, separators=(",", ":")) about five times
faster; floats round-trip exactly either way. It would write a non-finite number
as NaN or Infinity, which is not JSON: such text goes through json.dumps, which
refuses the number (allow_nan=False) and passes a string that merely says so."""

from __future__ import annotations

import json
from typing import Any

from pydantic_core import to_json


def compact(value: Any) -> str:
    text = to_json(value).decode()
    if "NaN" in text or "Infinity" in text:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text
