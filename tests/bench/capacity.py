"""DynamoDB capacity from request parameters: what a write costs, computed from what is sent.

Pure functions on the low-level (DynamoDB JSON) shapes boto3 clients take, following
DynamoDB's item-size rules: an item's size is the sum over its attributes of the UTF-8
length of the name plus the value's size; a string is its UTF-8 length, a binary its
length, a number about 1 byte per 2 significant digits plus 1, a boolean or null 1
byte, a list or map 3 bytes plus 1 per element plus its elements (a map's element
includes its key name), a set the sum of its members. A write costs 1 unit per KB
(rounded up, at least 1) of the item; a transactional write costs twice that.
"""

from __future__ import annotations

import math
from typing import Any

KB = 1024


def number_size(text: str) -> int:
    """Bytes of a DynamoDB number: about 1 byte per 2 significant digits, plus 1."""
    digits = text.lstrip("+-").lower().split("e", 1)[0].replace(".", "").strip("0")
    return (max(1, len(digits)) + 1) // 2 + 1


def attr_size(value: dict[str, Any]) -> int:
    ((kind, raw),) = value.items()
    if kind == "S":
        return len(raw.encode("utf-8"))
    if kind == "N":
        return number_size(raw)
    if kind == "B":
        return len(raw)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode("utf-8")) for s in raw)
    if kind == "NS":
        return sum(number_size(n) for n in raw)
    if kind == "BS":
        return sum(len(b) for b in raw)
    if kind == "L":
        return 3 + sum(1 + attr_size(v) for v in raw)
    if kind == "M":
        return 3 + sum(1 + len(k.encode("utf-8")) + attr_size(v) for k, v in raw.items())
    raise ValueError(f"unknown attribute type {kind}")


def item_size(item: dict[str, Any]) -> int:
    """Bytes of an item in DynamoDB JSON ({name: {"S": ...}, ...})."""
    return sum(len(name.encode("utf-8")) + attr_size(value) for name, value in item.items())


def units(size: int) -> int:
    """Write units of one item write: per KB, rounded up, at least one."""
    return max(1, math.ceil(size / KB))


def write_units(operation: str, params: dict[str, Any]) -> int:
    """Write units a request consumes (its condition checks and deletes count 1 unit per item,
    as their item sizes are not known from the request)."""
    if operation == "PutItem":
        return units(item_size(params["Item"]))
    if operation in ("UpdateItem", "DeleteItem"):
        return 1
    if operation == "BatchWriteItem":
        total = 0
        for requests in params["RequestItems"].values():
            for request in requests:
                put = request.get("PutRequest")
                total += units(item_size(put["Item"])) if put else 1
        return total
    if operation == "TransactWriteItems":
        total = 0
        for action in params["TransactItems"]:
            put = action.get("Put")
            total += 2 * (units(item_size(put["Item"])) if put else 1)
        return total
    return 0


def read_units(operation: str, params: dict[str, Any], parsed: dict[str, Any]) -> float:
    """Read units a request consumed: per 4 KB read (per item for the batch and transactional
    reads, per response for a query or scan), 1 if strongly consistent, 0.5 if not, 2 in a
    transaction; a read that finds nothing still costs its minimum."""

    def per_4kb(size: int, unit: float) -> float:
        return unit * max(1, math.ceil(size / (4 * KB)))

    if operation == "BatchGetItem":
        total = 0.0
        for table, found in parsed.get("Responses", {}).items():
            unit = 1.0 if params["RequestItems"].get(table, {}).get("ConsistentRead") else 0.5
            total += sum(per_4kb(item_size(i), unit) for i in found)
        return total or 0.5
    unit = 1.0 if params.get("ConsistentRead") else 0.5
    if operation == "GetItem":
        return per_4kb(item_size(parsed.get("Item") or {}), unit)
    if operation in ("Query", "Scan"):
        return per_4kb(sum(item_size(i) for i in parsed.get("Items", [])), unit)
    if operation == "TransactGetItems":
        return sum(per_4kb(item_size(r.get("Item") or {}), 2.0) for r in parsed.get("Responses", []))
    return 0.0
