"""Shared DynamoDB helpers: batched reads and writes that honour unprocessed items, all pages of a query."""

from __future__ import annotations

import time
from typing import Any, Iterable, Iterator

from citybrain.aws import client
from citybrain.dynamo import from_item

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
            time.sleep(min(0.05 * 2**attempt, 2.0))
        else:
            raise RuntimeError(f"DynamoDB kept writes to {table} unprocessed after retries")


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
            time.sleep(min(0.05 * 2**attempt, 1.0))
        else:
            raise RuntimeError("DynamoDB kept keys unprocessed after retries")
    return found
