"""Access requests and grants in DynamoDB.

Requests are indexed by owner, by consumer and by status (the owners' and
consumers' inboxes, and the data bureau's queue of `pending_bureau`); grants by
dataset and consumer (the check on every pull), by consumer and by owner.
A decision moves a request from the status it was read in, and issues its
grant, in one transaction with its audit entry (the writes are built here and
committed by the audit store): two decisions racing cannot both win, and none
is ever written without its entry.
"""

from __future__ import annotations

from typing import Any

from citybrain.core import paging
from citybrain.core.aws import client
from citybrain.core.config import get_settings
from citybrain.core.dynamo import from_item, query_all, to_attr, to_item
from citybrain.exchange.audit import Write

MAX_PAGES = 10


def _start_key(
    cursor: dict | None, key_names: list[str], partition: tuple[str, str | None] | None
) -> dict[str, Any] | None:
    """A cursor back into the key DynamoDB resumes from, if it is one this listing could have returned."""
    if not cursor:
        return None
    valid = set(cursor) == set(key_names) and all(
        isinstance(v, (str, int)) and not isinstance(v, bool) for v in cursor.values()
    )
    if valid and partition is not None:
        valid = cursor.get(partition[0]) == partition[1]
    if not valid:
        raise paging.bad_cursor()
    return to_item(cursor)


def _paged(
    operation: str,
    kwargs: dict[str, Any],
    limit: int,
    cursor: dict | None,
    key_names: list[str],
    partition: tuple[str, str | None] | None = None,
) -> tuple[list[dict], dict | None]:
    """Read until `limit` items passed the filter (or the reads cap); the cursor is
    the key of the last item returned (table key + index key), or where reading stopped."""
    start = _start_key(cursor, key_names, partition)
    found: list[dict] = []
    call = getattr(client("dynamodb"), operation)
    kwargs = {**kwargs, "Limit": limit if "FilterExpression" not in kwargs else max(limit, 100)}
    for _ in range(MAX_PAGES):
        if start:
            kwargs["ExclusiveStartKey"] = start
        response = call(**kwargs)
        items = response["Items"]
        for n, raw in enumerate(items):
            found.append(from_item(raw))
            if len(found) == limit:
                more = n < len(items) - 1 or bool(response.get("LastEvaluatedKey"))
                return found, ({k: found[-1][k] for k in key_names} if more else None)
        last = response.get("LastEvaluatedKey")
        if not last:
            return found, None
        start = last
    return found, from_item(last)


# index -> its (partition, sort) attributes
REQUEST_INDEXES = {
    "owner-index": ["owner", "created_ms"],
    "consumer-index": ["consumer", "created_ms"],
    "status-index": ["status", "created_ms"],
}
GRANT_INDEXES = {
    "dataset-index": ["dataset_id", "consumer"],
    "consumer-index": ["consumer", "granted_ms"],
    "owner-index": ["owner", "granted_ms"],
}


class DynamoAccessStore:
    @property
    def requests_table(self) -> str:
        return get_settings().access_requests_table

    @property
    def grants_table(self) -> str:
        return get_settings().grants_table

    # -- requests --------------------------------------------------------------------
    def new_request(self, record: dict[str, Any]) -> list[Write]:
        return [
            {
                "Put": {
                    "TableName": self.requests_table,
                    "Item": to_item(record),
                    "ConditionExpression": "attribute_not_exists(id)",
                }
            }
        ]

    def get_request(self, request_id: str) -> dict[str, Any] | None:
        item = (
            client("dynamodb")
            .get_item(TableName=self.requests_table, Key={"id": {"S": request_id}}, ConsistentRead=True)
            .get("Item")
        )
        return from_item(item) if item else None

    def transition(
        self, request_id: str, expected_status: str, changes: dict[str, Any], grant: dict[str, Any] | None
    ) -> list[Write]:
        """The request moved on from `expected_status` (its condition) and the grant issued."""
        names = {"#status": "status"}
        values: dict[str, Any] = {":expected": {"S": expected_status}}
        sets = []
        for n, (name, value) in enumerate(changes.items()):
            names[f"#f{n}"] = name
            values[f":v{n}"] = to_attr(value)
            sets.append(f"#f{n} = :v{n}")
        actions: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": self.requests_table,
                    "Key": {"id": {"S": request_id}},
                    "UpdateExpression": "SET " + ", ".join(sets),
                    "ConditionExpression": "#status = :expected",
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": values,
                }
            }
        ]
        if grant:
            actions.append(
                {
                    "Put": {
                        "TableName": self.grants_table,
                        "Item": to_item(grant),
                        "ConditionExpression": "attribute_not_exists(id)",
                    }
                }
            )
        return actions

    def requests(
        self, index: str | None, key: str | None, status: str | None, limit: int, cursor: dict | None
    ) -> tuple[list[dict], dict | None]:
        kwargs: dict[str, Any] = {"TableName": self.requests_table}
        if index is None:
            if status:
                kwargs.update(
                    FilterExpression="#s = :s",
                    ExpressionAttributeNames={"#s": "status"},
                    ExpressionAttributeValues={":s": {"S": status}},
                )
            return _paged("scan", kwargs, limit, cursor, ["id"])
        partition = REQUEST_INDEXES[index][0]
        kwargs.update(
            IndexName=index,
            KeyConditionExpression="#p = :p",
            ScanIndexForward=False,
            ExpressionAttributeNames={"#p": partition},
            ExpressionAttributeValues={":p": {"S": key}},
        )
        if status and index != "status-index":
            kwargs["FilterExpression"] = "#s = :s"
            kwargs["ExpressionAttributeNames"]["#s"] = "status"
            kwargs["ExpressionAttributeValues"][":s"] = {"S": status}
        return _paged("query", kwargs, limit, cursor, ["id", *REQUEST_INDEXES[index]], (partition, key))

    # -- grants ----------------------------------------------------------------------
    def get_grant(self, grant_id: str) -> dict[str, Any] | None:
        item = (
            client("dynamodb")
            .get_item(TableName=self.grants_table, Key={"id": {"S": grant_id}}, ConsistentRead=True)
            .get("Item")
        )
        return from_item(item) if item else None

    def grants_for(self, dataset_id: str, consumer: str) -> list[dict[str, Any]]:
        """Every grant one department ever had on one dataset (a handful)."""
        kwargs: dict[str, Any] = {
            "TableName": self.grants_table,
            "IndexName": "dataset-index",
            "KeyConditionExpression": "dataset_id = :d AND consumer = :c",
            "ExpressionAttributeValues": {":d": {"S": dataset_id}, ":c": {"S": consumer}},
        }
        return [from_item(raw) for raw in query_all(**kwargs)]

    def grants(
        self, index: str | None, key: str | None, dataset_id: str | None, limit: int, cursor: dict | None
    ) -> tuple[list[dict], dict | None]:
        kwargs: dict[str, Any] = {"TableName": self.grants_table}
        if index is None:
            return _paged("scan", kwargs, limit, cursor, ["id"])
        partition = GRANT_INDEXES[index][0]
        kwargs.update(
            IndexName=index,
            KeyConditionExpression="#p = :p",
            ExpressionAttributeNames={"#p": partition},
            ExpressionAttributeValues={":p": {"S": key}},
        )
        if index != "dataset-index":
            kwargs["ScanIndexForward"] = False
        if dataset_id:
            kwargs["FilterExpression"] = "#d = :d"
            kwargs["ExpressionAttributeNames"]["#d"] = "dataset_id"
            kwargs["ExpressionAttributeValues"][":d"] = {"S": dataset_id}
        return _paged("query", kwargs, limit, cursor, ["id", *GRANT_INDEXES[index]], (partition, key))

    def revocation(self, grant_id: str, changes: dict[str, Any]) -> list[Write]:
        """The grant revoked, on condition that it is still active."""
        names = {"#status": "status"}
        values: dict[str, Any] = {":active": {"S": "active"}}
        sets = []
        for n, (name, value) in enumerate(changes.items()):
            names[f"#f{n}"] = name
            values[f":v{n}"] = to_attr(value)
            sets.append(f"#f{n} = :v{n}")
        return [
            {
                "Update": {
                    "TableName": self.grants_table,
                    "Key": {"id": {"S": grant_id}},
                    "UpdateExpression": "SET " + ", ".join(sets),
                    "ConditionExpression": "#status = :active",
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": values,
                }
            }
        ]
