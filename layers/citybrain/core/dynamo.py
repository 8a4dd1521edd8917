"""DynamoDB for every store: plain Python values <-> attribute values, and batched
reads and writes that honour unprocessed items, all pages of a query.

boto3's TypeSerializer insists on Decimal and hands Decimal back; readings are
floats end to end, so this keeps them floats (numbers travel as their repr,
which round-trips exactly)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
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


def batch_get(
    requests: Iterable[tuple[str, dict[str, Any]]], attributes: Mapping[str, Sequence[str]] | None = None
) -> dict[str, list[dict[str, Any]]]:
    """[(table, key attrs)] -> {table: [items found]}; missing keys are simply absent.
    `attributes`: table -> the only attributes to read of its items."""
    wanted = list(requests)
    found: dict[str, list[dict[str, Any]]] = {}
    for part in chunks(wanted, BATCH_GET_LIMIT):
        pending: dict[str, Any] = {}
        for table, key in part:
            if table not in pending:
                pending[table] = {"Keys": [], "ConsistentRead": True}
                if attributes and table in attributes:
                    names = {f"#a{i}": name for i, name in enumerate(attributes[table])}
                    pending[table]["ProjectionExpression"] = ", ".join(names)
                    pending[table]["ExpressionAttributeNames"] = names
            pending[table]["Keys"].append(key)
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


QUERY_PAGES_PER_CALL = 10


def query_page(
    kwargs: dict[str, Any],
    limit: int,
    start: dict[str, Any] | None,
    cursor_of: Callable[[dict[str, Any]], dict[str, str]],
) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
    """One page of a listing: up to `limit` raw items of a Query (in its own order), and the
    cursor after the last one (`cursor_of` a raw item or key; None on the last page).

    Without a FilterExpression every item read is returned, so each call asks for what is
    missing; with one, it reads ahead in larger pages, at most QUERY_PAGES_PER_CALL of them,
    so a filter that matches little still answers within bounded work."""
    filtered = "FilterExpression" in kwargs
    items: list[dict[str, Any]] = []
    last: dict[str, Any] | None = None
    for _ in range(QUERY_PAGES_PER_CALL):
        kwargs["Limit"] = max(limit, 200) if filtered else limit - len(items)
        if start:
            kwargs["ExclusiveStartKey"] = start
        response = client("dynamodb").query(**kwargs)
        page = response["Items"]
        last = response.get("LastEvaluatedKey")
        for index, raw in enumerate(page):
            items.append(raw)
            if len(items) == limit:
                more = index + 1 < len(page) or last
                return items, (cursor_of(raw) if more else None)
        if not last:
            return items, None
        start = last
    assert last is not None
    return items, cursor_of(last)


def newest_in_feed(table: str, index: str, feed: str, filters: dict[str, str]) -> dict[str, Any]:
    """Query arguments for a feed index (hash `feed`, its range the time an item was made)
    newest first, keeping only the items whose attributes equal `filters`."""
    names = {"#feed": "feed"}
    values: dict[str, Any] = {":feed": {"S": feed}}
    clauses = []
    for i, (name, value) in enumerate(sorted(filters.items())):
        names[f"#f{i}"], values[f":f{i}"] = name, {"S": value}
        clauses.append(f"#f{i} = :f{i}")
    kwargs: dict[str, Any] = {
        "TableName": table,
        "IndexName": index,
        "KeyConditionExpression": "#feed = :feed",
        "ScanIndexForward": False,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }
    if clauses:
        kwargs["FilterExpression"] = " AND ".join(clauses)
    return kwargs
