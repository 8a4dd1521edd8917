"""Incidents on DynamoDB, in one table with the slots that keep fusion race-free:

- `inc-…`: an incident (listed newest first through `opened-index`: feed + opened_key);
- `rp#<risk point>`: the risk point's incident;
- `town#<town>`: the town's current incident and the alerts waiting in its fusion window.

Every write is one transaction of the incident and the slots it moves, each guarded by the
version it was read at (or by its absence), so two concurrent writers never both win."""

from __future__ import annotations

from typing import Any

from citybrain.core.aws import client
from citybrain.core.config import get_settings
from citybrain.core.dynamo import batch_get, from_item, newest_in_feed, query_page, to_item

FEED = "incidents"
INTERNAL = ("pk", "feed", "opened_key")


class IncidentConflict(Exception):
    """Another writer moved the incident or a slot first: read again and retry."""


class DynamoIncidentStore:
    @property
    def table(self) -> str:
        return get_settings().incidents_table

    def items(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        """Incidents and slots by key (consistent reads); absent keys are absent."""
        found = batch_get((self.table, {"pk": {"S": k}}) for k in dict.fromkeys(keys)).get(self.table, [])
        return {item["pk"]: _plain(item) for item in found}

    def get(self, incident_id: str) -> dict[str, Any] | None:
        item = (
            client("dynamodb")
            .get_item(TableName=self.table, Key={"pk": {"S": incident_id}}, ConsistentRead=True)
            .get("Item")
        )
        return _plain(from_item(item)) if item else None

    def commit(self, writes: list[tuple[str, dict[str, Any], int | None]]) -> None:
        """[(key, item, the version it was read at or None when new)], all or nothing; each
        item is stored at version + 1. Raises IncidentConflict when a guard fails."""
        ddb = client("dynamodb")
        try:
            ddb.transact_write_items(TransactItems=self.puts(writes))
        except ddb.exceptions.TransactionCanceledException as exc:
            raise IncidentConflict(str(exc)) from None

    def puts(self, writes: list[tuple[str, dict[str, Any], int | None]]) -> list[dict[str, Any]]:
        """The transaction's actions of `commit`, for a caller that commits them with more
        (an audited change: with its audit entry)."""
        actions = []
        for key, item, read_version in writes:
            stored = {**item, "pk": key, "version": (read_version or 0) + 1}
            if key.startswith("inc-"):
                stored.update(feed=FEED, opened_key=f"{int(item['opened_ms']):013d}#{key}")
            put: dict[str, Any] = {"TableName": self.table, "Item": to_item(stored)}
            if read_version is None:
                put["ConditionExpression"] = "attribute_not_exists(pk)"
            else:
                put["ConditionExpression"] = "version = :v"
                put["ExpressionAttributeValues"] = {":v": {"N": str(read_version)}}
            actions.append({"Put": put})
        return actions

    def list(
        self, filters: dict[str, str], limit: int, cursor: dict[str, str] | None
    ) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
        kwargs = newest_in_feed(self.table, "opened-index", FEED, filters)
        start = {"pk": {"S": cursor["id"]}, "feed": {"S": FEED}, "opened_key": {"S": cursor["k"]}} if cursor else None
        raw, after = query_page(
            kwargs, limit, start, lambda item: {"k": item["opened_key"]["S"], "id": item["pk"]["S"]}
        )
        return [_plain(from_item(item)) for item in raw], after


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    """An item without its storage-only attributes; `key` names it (incident id or slot)."""
    return {k: v for k, v in item.items() if k not in INTERNAL} | {"key": item["pk"]}
