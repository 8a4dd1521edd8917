"""DynamoDB for every store: plain Python values <-> attribute values, and batched
reads and writes that honour unprocessed items, all pages of a query.

boto3's TypeSerializer insists on Decimal and hands Decimal back; readings are
floats end to end, so this keeps them floats (numbers travel as their repr,
which round-trips exactly)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import Any

from citybrain.core.aws import client
from citybrain.core.retry import pause


def to_attr(value: Any) -> dict[str, Any]:
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int):
        return {"N": str(value)}
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("DynamoDB cannot store a non-finite number")
        return {"N": repr(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, dict):
        return {"M": {k: to_attr(v) for k, v in value.items()}}
    if isinstance(value, (list, tuple)):
        return {"L": [to_attr(v) for v in value]}
    raise TypeError(f"cannot store {type(value).__name__}")


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    return {k: to_attr(v) for k, v in values.items() if v is not None}


def from_attr(attr: dict[str, Any]) -> Any:
    ((kind, value),) = attr.items()
    if kind == "S":
        return value
    if kind == "N":
        number = float(value)
        return int(value) if number.is_integer() and "." not in value and "e" not in value.lower() else number
    if kind == "BOOL":
        return value
    if kind == "NULL":
        return None
    if kind == "M":
        return {k: from_attr(v) for k, v in value.items()}
    if kind == "L":
        return [from_attr(v) for v in value]
    if kind in ("SS", "NS"):
        return [from_attr({kind[0]: v}) for v in value]
    raise TypeError(f"unsupported attribute type {kind}")


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: from_attr(v) for k, v in item.items()}


BATCH_GET_LIMIT = 100
BATCH_WRITE_LIMIT = 25


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def batch_write(table: str, requests: list[dict[str, Any]]) -> None:
    """Put/Delete requests in batches of 25, retrying what DynamoDB leaves unprocessed."""
    ddb = client("dynamodb")
    for part in chunks(requests, BATCH_WRITE_LIMIT):
        pending: dict[str, Any] = {table: part}
        for attempt in range(10):
            pending = ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if not pending:
                break
            pause(attempt, 0.05, 2.0)
        else:
            raise RuntimeError(f"DynamoDB kept writes to {table} unprocessed after retries")


def scan_all(**kwargs: Any) -> Iterator[dict[str, Any]]:
    """Every item a Scan returns, page after page, decoded."""
    while True:
        response = client("dynamodb").scan(**kwargs)
        for item in response["Items"]:
            yield from_item(item)
        if not response.get("LastEvaluatedKey"):
            return
        kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def query_all(**kwargs: Any) -> Iterator[dict[str, Any]]:
    """Every raw item a Query returns, page after page."""
    while True:
        response = client("dynamodb").query(**kwargs)
        yield from response["Items"]
        if not response.get("LastEvaluatedKey"):
            return
        kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def batch_get(requests: Iterable[tuple[str, dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """[(table, key attrs)] -> {table: [items found]}; missing keys are simply absent."""
    wanted = list(requests)
    found: dict[str, list[dict[str, Any]]] = {}
    for part in chunks(wanted, BATCH_GET_LIMIT):
        pending: dict[str, Any] = {}
        for table, key in part:
            pending.setdefault(table, {"Keys": [], "ConsistentRead": True})["Keys"].append(key)
        for attempt in range(8):
            response = client("dynamodb").batch_get_item(RequestItems=pending)
            for table, items in response.get("Responses", {}).items():
                found.setdefault(table, []).extend(from_item(i) for i in items)
            pending = response.get("UnprocessedKeys") or {}
            if not pending:
                break
            pause(attempt, 0.05)
        else:
            raise RuntimeError("DynamoDB kept keys unprocessed after retries")
    return found
