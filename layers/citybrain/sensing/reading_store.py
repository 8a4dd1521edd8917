"""Readings on DynamoDB: the readings, their hourly rollups and each device's latest
state, written together in transactions; and the queries that read them back.

Only storage here: what to write is decided by citybrain.sensing.pipeline and
arrives as a list of Writes. Each reading is a conditional Put on its identity
(device, observed time), so a duplicate fails its condition; rollups and states
are Puts guarded by the version they were read at (optimistic concurrency), so
concurrent batches retry instead of overwriting each other. One transaction
carries up to 100 actions, so a message of 100 readings costs a few requests.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from citybrain.core.aws import client
from citybrain.core.config import get_settings
from citybrain.core.dynamo import batch_get, from_item, to_item
from citybrain.sensing.readings import CommitConflict, RollupKey, Write


class DynamoReadingStore:
    def __init__(self) -> None:
        settings = get_settings()
        self.readings_table = settings.readings_table
        self.rollups_table = settings.rollups_table
        self.state_table = settings.device_state_table
        self.ttl_seconds = settings.readings_retention_days * 86400

    # -- the pipeline's reads and writes -------------------------------------------------
    def current(
        self, rollup_keys: list[RollupKey], devices: list[str]
    ) -> tuple[dict[RollupKey, dict[str, Any]], dict[str, dict[str, Any]]]:
        """The stored rollups and latest states (with their versions), consistently read."""
        requests = [(self.rollups_table, {"device_id": {"S": d}, "hour": {"S": h}}) for d, h in rollup_keys]
        requests += [(self.state_table, {"device_id": {"S": d}}) for d in devices]
        found = batch_get(requests)
        rollups = {(i["device_id"], i["hour"]): i for i in found.get(self.rollups_table, [])}
        states = {i["device_id"]: i for i in found.get(self.state_table, [])}
        return rollups, states

    def commit(self, writes: list[Write]) -> CommitConflict | None:
        """Write all or nothing; None when committed, else what stood in the way."""
        ddb = client("dynamodb")
        try:
            ddb.transact_write_items(TransactItems=[self._action(w) for w in writes])
            return None
        except ddb.exceptions.TransactionCanceledException as exc:
            reasons = exc.response.get("CancellationReasons") or []
        conflict = CommitConflict(busy=not reasons)
        for write, reason in zip(writes, reasons, strict=False):
            code = reason.get("Code")
            if code == "ConditionalCheckFailed":
                if write.kind == "reading":
                    conflict.duplicates.add(write.key)
                elif write.kind == "rollup":
                    conflict.stale_rollups.add(write.key)
                else:
                    conflict.stale_states.add(write.key)
            elif code not in (None, "None"):
                conflict.busy = True  # TransactionConflict, throttling: try again shortly
        return conflict

    def _action(self, write: Write) -> dict[str, Any]:
        if write.kind == "reading":
            item = {**write.item, "expires_at": write.item["t"] // 1000 + self.ttl_seconds}
            return {
                "Put": {
                    "TableName": self.readings_table,
                    "Item": to_item(item),
                    "ConditionExpression": "attribute_not_exists(t)",
                }
            }
        table = self.rollups_table if write.kind == "rollup" else self.state_table
        put: dict[str, Any] = {"TableName": table, "Item": to_item(write.item)}
        if write.expected_version is None:
            put["ConditionExpression"] = "attribute_not_exists(device_id)"
        else:
            put["ConditionExpression"] = "version = :v"
            put["ExpressionAttributeValues"] = {":v": {"N": str(write.expected_version)}}
        return {"Put": put}

    # -- reading back ---------------------------------------------------------------------
    def series(
        self, device_id: str, start_ms: int, end_ms: int, limit: int, cursor: dict | None
    ) -> tuple[list[dict], dict | None]:
        kwargs: dict[str, Any] = {
            "TableName": self.readings_table,
            "KeyConditionExpression": "device_id = :d AND t BETWEEN :a AND :b",
            "ExpressionAttributeValues": {
                ":d": {"S": device_id},
                ":a": {"N": str(start_ms)},
                ":b": {"N": str(end_ms)},
            },
            "Limit": limit,
        }
        if cursor:
            kwargs["ExclusiveStartKey"] = {"device_id": {"S": device_id}, "t": {"N": str(int(cursor["t"]))}}
        response = client("dynamodb").query(**kwargs)
        items = [_shown(from_item(i)) for i in response["Items"]]
        for item in items:
            item.pop("expires_at", None)
        last = response.get("LastEvaluatedKey")
        return items, ({"t": int(last["t"]["N"])} if last else None)

    def latest(self, device_id: str) -> dict[str, Any] | None:
        """The device's newest reading with its derived indicators (without the rule state)."""
        item = client("dynamodb").get_item(TableName=self.state_table, Key={"device_id": {"S": device_id}}).get("Item")
        if not item:
            return None
        state = _shown(from_item(item))
        for internal in ("version", "rules"):
            state.pop(internal, None)
        return state

    def rollup(self, device_id: str, hour: str) -> dict[str, Any] | None:
        item = (
            client("dynamodb")
            .get_item(TableName=self.rollups_table, Key={"device_id": {"S": device_id}, "hour": {"S": hour}})
            .get("Item")
        )
        return from_item(item) if item else None

    def rollups(self, device_ids: Iterable[str], hours: Iterable[str]) -> dict[tuple[str, str], dict[str, Any]]:
        """The stored rollups of every (device, local hour) pair, keyed by it; pairs without
        a reading are absent. Reports and the dashboard read devices x hours, never readings."""
        hours = list(hours)
        keys = [(self.rollups_table, {"device_id": {"S": d}, "hour": {"S": h}}) for d in device_ids for h in hours]
        found = batch_get(keys).get(self.rollups_table, [])
        return {(item["device_id"], item["hour"]): item for item in found}

    def states(self, device_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The latest state of each device that has one (as `latest` shows it)."""
        found = batch_get((self.state_table, {"device_id": {"S": d}}) for d in device_ids).get(self.state_table, [])
        shown = {}
        for item in found:
            state = _shown(item)
            for internal in ("version", "rules"):
                state.pop(internal, None)
            shown[state["device_id"]] = state
        return shown


def _shown(item: dict[str, Any]) -> dict[str, Any]:
    """Derived indicators sit beside the values, as FIWARE's AirQualityObserved has them."""
    derived = item.pop("derived", None)
    if derived:
        item.update(derived)
    return item
