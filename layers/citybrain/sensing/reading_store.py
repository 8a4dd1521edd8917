"""Readings on DynamoDB: the readings, their hourly rollups and each device's latest
state, written together in transactions; and the queries that read them back.

Only storage here: what to write is decided by citybrain.sensing.pipeline and
arrives as a list of Writes. The readings of one device in one local hour that a
batch brings are ONE item of the readings table (a chunk), keyed by the device and
its first reading's time: `r` holds the readings as one compact JSON string (a list
of [t, values] or [t, values, derived]), with `n`, `t_last` and `expires_at`. Items
written before chunks hold one reading each (observed_at, values, derived); both
shapes are read back alike. A chunk is a conditional Put on its key.

The hour's rollup lists the identities of the readings stored in that hour (`ids`,
see citybrain.sensing.readings.encode_offsets), so the pipeline recognises a stored
reading before writing; rollups and states are Puts guarded by the version they
were read at (optimistic concurrency), so concurrent batches retry instead of
overwriting each other or counting a reading twice. A rollup stored before it kept
`ids` gets them from the hour's stored readings when it is first read for a write.
One transaction carries up to 100 actions: a chunk, its rollup and maybe the state.

A rollup's `values` (per value: n, sum, min, max) and a state's `values` and
`derived` are stored as compact JSON strings, not nested maps: the same numbers
in fewer bytes (a map spends a type tag and a name on each), and a string is one
value to serialise, send and parse where a map is twenty. Items stored as maps
before are read alike. A state's `rules` stay a map: the offline sweep updates
them in place.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from citybrain.core import timeutil
from citybrain.core.aws import client
from citybrain.core.config import get_settings
from citybrain.core.dynamo import batch_get, from_item, query_all, to_item
from citybrain.core.jsontext import compact
from citybrain.sensing.readings import HOUR_MS, CommitConflict, RollupKey, Write, encode_offsets

PAGE_ITEMS = 100  # items a Query of the series reads at a time
PACKED = ("values", "derived")  # attributes of rollups and states stored as JSON strings


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
        # Of each, what the next one is made from: the rest (a state's newest reading's indicators
        # and times, a rollup's labels) is written anew from the readings, so it is not read (nor parsed).
        found = batch_get(
            requests,
            {
                self.state_table: ("device_id", "t", "version", "rules", "values"),
                self.rollups_table: ("device_id", "hour", "count", "values", "ids", "version"),
            },
        )
        rollups = {(i["device_id"], i["hour"]): _unpacked(i) for i in found.get(self.rollups_table, [])}
        states = {i["device_id"]: _unpacked(i) for i in found.get(self.state_table, [])}
        for rollup in rollups.values():
            if "ids" not in rollup and rollup.get("count"):  # stored before rollups kept them
                rollup["ids"] = encode_offsets(
                    t % HOUR_MS for t in self._stored_times(rollup["device_id"], rollup["hour"])
                )
        return rollups, states

    def _stored_times(self, device_id: str, hour: str) -> list[int]:
        """The observed times of a device-hour's stored readings, of either item shape."""
        start = timeutil.parse_instant(f"{hour}:00:00+08:00")
        times: list[int] = []
        for raw in query_all(
            TableName=self.readings_table,
            KeyConditionExpression="device_id = :d AND t BETWEEN :a AND :b",
            ExpressionAttributeValues={
                ":d": {"S": device_id},
                ":a": {"N": str(start)},
                ":b": {"N": str(start + HOUR_MS - 1)},
            },
            ConsistentRead=True,
        ):
            times.extend(r["t"] for r in _readings_of(from_item(raw)))
        return times

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
                if write.kind == "chunk":  # an item holds its first reading already
                    conflict.duplicates.add(write.key)
                elif write.kind == "rollup":
                    conflict.stale_rollups.add(write.key)
                else:
                    conflict.stale_states.add(write.key)
            elif code not in (None, "None"):
                conflict.busy = True  # TransactionConflict, throttling: try again shortly
        return conflict

    def _action(self, write: Write) -> dict[str, Any]:
        if write.kind == "chunk":
            item = {**write.item, "expires_at": write.item["t"] // 1000 + self.ttl_seconds}
            return {
                "Put": {
                    "TableName": self.readings_table,
                    "Item": to_item(item),
                    "ConditionExpression": "attribute_not_exists(t)",
                }
            }
        table = self.rollups_table if write.kind == "rollup" else self.state_table
        put: dict[str, Any] = {"TableName": table, "Item": to_item(_packed(write.item))}
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
        """Readings from start to end (inclusive), oldest first, `limit` at a time; the
        cursor is the last reading's time. A chunk holds one local hour, keyed by its
        first reading, and chunks of an hour may interleave (late readings): the query
        starts at the hour of the first wanted reading and reads whole hours."""
        low = max(start_ms, int(cursor["t"]) + 1) if cursor else start_ms
        if low > end_ms:
            return [], None
        kwargs: dict[str, Any] = {
            "TableName": self.readings_table,
            "KeyConditionExpression": "device_id = :d AND t BETWEEN :a AND :b",
            "ExpressionAttributeValues": {
                ":d": {"S": device_id},
                ":a": {"N": str(low - low % HOUR_MS)},
                ":b": {"N": str(end_ms)},
            },
            "Limit": PAGE_ITEMS,
        }
        found: list[dict[str, Any]] = []
        more = False
        hour = None  # the hour of the last chunk read
        ddb = client("dynamodb")
        while True:
            response = ddb.query(**kwargs)
            for raw in response["Items"]:
                t = int(raw["t"]["N"])
                if len(found) >= limit and t - t % HOUR_MS != hour:
                    more = True  # whole hours read and enough of them: the rest is later
                    break
                hour = t - t % HOUR_MS
                found.extend(r for r in _readings_of(from_item(raw)) if low <= r["t"] <= end_ms)
            else:
                last = response.get("LastEvaluatedKey")
                if last:
                    kwargs["ExclusiveStartKey"] = last
                    continue
            break
        found.sort(key=lambda r: r["t"])
        more = more or len(found) > limit
        page = [_shown(r) for r in found[:limit]]
        return page, ({"t": page[-1]["t"]} if more and page else None)

    def latest(self, device_id: str) -> dict[str, Any] | None:
        """The device's newest reading with its derived indicators (without the rule state)."""
        item = client("dynamodb").get_item(TableName=self.state_table, Key={"device_id": {"S": device_id}}).get("Item")
        if not item:
            return None
        return _shown_state(from_item(item))

    def rollup(self, device_id: str, hour: str) -> dict[str, Any] | None:
        item = (
            client("dynamodb")
            .get_item(TableName=self.rollups_table, Key={"device_id": {"S": device_id}, "hour": {"S": hour}})
            .get("Item")
        )
        if not item:
            return None
        rollup = _unpacked(from_item(item))
        rollup.pop("ids", None)  # the pipeline's, not an answer's
        return rollup

    def rollups(self, device_ids: Iterable[str], hours: Iterable[str]) -> dict[tuple[str, str], dict[str, Any]]:
        """The stored rollups of every (device, local hour) pair, keyed by it; pairs without
        a reading are absent. Reports and the dashboard read devices x hours, never readings."""
        hours = list(hours)
        keys = [(self.rollups_table, {"device_id": {"S": d}, "hour": {"S": h}}) for d in device_ids for h in hours]
        found = batch_get(keys).get(self.rollups_table, [])
        for item in found:
            _unpacked(item).pop("ids", None)
        return {(item["device_id"], item["hour"]): item for item in found}

    def states(self, device_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The latest state of each device that has one (as `latest` shows it)."""
        found = batch_get((self.state_table, {"device_id": {"S": d}}) for d in device_ids).get(self.state_table, [])
        return {item["device_id"]: _shown_state(item) for item in found}


def _packed(item: dict[str, Any]) -> dict[str, Any]:
    """A rollup or state as stored: its nested values as compact JSON strings."""
    packed = dict(item)
    for name in PACKED:
        if isinstance(packed.get(name), dict):
            packed[name] = compact(packed[name])
    return packed


def _unpacked(item: dict[str, Any]) -> dict[str, Any]:
    """A stored rollup or state with its nested values as read (in place; returns it)."""
    for name in PACKED:
        if isinstance(item.get(name), str):
            item[name] = json.loads(item[name])
    return item


def _readings_of(item: dict[str, Any]) -> list[dict[str, Any]]:
    """The readings of a readings-table item, a chunk or one reading, as one reading was stored."""
    rows = item.get("r")
    if rows is None:
        item.pop("expires_at", None)
        return [item]
    device_id = item["device_id"]
    readings = []
    for row in json.loads(rows):
        reading = {"device_id": device_id, "t": row[0], "observed_at": timeutil.local_iso(row[0]), "values": row[1]}
        if len(row) > 2:
            reading["derived"] = row[2]
        readings.append(reading)
    return readings


def _shown_state(item: dict[str, Any]) -> dict[str, Any]:
    """A stored latest state as answers show it: values read, indicators beside them, the
    pipeline's own fields (version, rule state) left out."""
    state = _shown(_unpacked(item))
    for internal in ("version", "rules"):
        state.pop(internal, None)
    return state


def _shown(item: dict[str, Any]) -> dict[str, Any]:
    """Derived indicators sit beside the values, as FIWARE's AirQualityObserved has them."""
    derived = item.pop("derived", None)
    if derived:
        item.update(derived)
    return item
