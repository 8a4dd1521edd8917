"""Storing readings exactly once, with the hourly rollup and the device's latest
state moving in the same DynamoDB transaction.

Why transactions: a reading, the rollup that counts it and the latest state it
may replace must change together, or a crash between them double-counts on
redelivery (or loses the count). Each reading is a conditional Put on its
identity (device, observed time): a duplicate fails its condition and is
dropped, so redelivered messages and re-sent batches never count twice. Rollups
and states are read once per message (BatchGetItem) and written back with an
optimistic version check, which makes min/max exact (DynamoDB cannot compute a
minimum in an update expression) and lets concurrent batches retry instead of
overwriting each other. One transaction carries up to 100 actions, so a message
of 100 readings costs about four requests instead of one per reading.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from citybrain import rollups, timeutil
from citybrain.aws import client
from citybrain.config import get_settings
from citybrain.dynamo import from_item, to_item
from citybrain.readings import Reading
from citybrain.vocabulary import DeviceType
from citybrain.storage.common import batch_get

TRANSACTION_LIMIT = 100
MAX_ATTEMPTS = 8


@dataclass
class StoreResult:
    stored: list[Reading] = field(default_factory=list)
    duplicates: int = 0


@dataclass
class _Chunk:
    """Readings of one device in one local hour, written with their rollup."""

    device_id: str
    hour: str
    readings: list[Reading]
    carries_state: bool = False


class ReadingWriter:
    """`on_events(device, events)` receives what the rules found, before the
    transaction that moves the device's rule state commits; it must be
    idempotent, since a retried transaction or a redelivered message repeats it."""

    def __init__(self, on_events: Callable[[dict[str, Any], list[Any]], None] | None = None) -> None:
        settings = get_settings()
        self.readings_table = settings.readings_table
        self.rollups_table = settings.rollups_table
        self.state_table = settings.device_state_table
        self.ttl_seconds = settings.readings_retention_days * 86400
        self.on_events = on_events

    # -- public -------------------------------------------------------------
    def store(self, readings: list[Reading], devices: Mapping[str, dict[str, Any]] | None = None) -> StoreResult:
        """Store readings; `devices` (id -> registry record) enables the rules and alerts."""
        result = StoreResult()
        unique: dict[tuple[str, int], Reading] = {}
        for reading in readings:
            if reading.key in unique:
                result.duplicates += 1
            else:
                unique[reading.key] = reading
        pending = sorted(unique.values(), key=lambda r: (r.device_id, r.t))
        if not pending:
            return result
        # Every reading of a device in this batch, in time order: the rules see all of
        # them that are newer than the stored state, even those committed by an earlier
        # transaction of this batch (the state moves only with the device's newest).
        series: dict[str, list[Reading]] = {}
        for reading in pending:
            series.setdefault(reading.device_id, []).append(reading)
        context = _Context(devices or {}, series)

        rollup_keys = sorted({(r.device_id, timeutil.local_hour(r.t)) for r in pending})
        rollup_state, device_state = self._read_current(rollup_keys, sorted(series))

        for attempt in range(MAX_ATTEMPTS):
            transactions = self._plan(pending)
            retry: list[Reading] = []
            for index, chunks in enumerate(transactions):
                actions, roles, planned = self._actions(chunks, rollup_state, device_state, context)
                if self.on_events:
                    for device_id, events in planned.events:
                        self.on_events(context.devices[device_id], events)
                outcome = self._execute(actions, roles)
                if outcome is None:  # committed
                    for chunk in chunks:
                        result.stored.extend(chunk.readings)
                    rollup_state.update(planned.rollups)
                    device_state.update(planned.states)
                    continue
                duplicates, stale_rollups, stale_states, conflict = outcome
                result.duplicates += len(duplicates)
                for later in transactions[index:]:
                    for chunk in later:
                        retry.extend(r for r in chunk.readings if r.key not in duplicates)
                if stale_rollups or stale_states:
                    fresh_rollups, fresh_states = self._read_current(sorted(stale_rollups), sorted(stale_states))
                    for key in stale_rollups:
                        rollup_state[key] = fresh_rollups.get(key)
                    for device in stale_states:
                        device_state[device] = fresh_states.get(device)
                if conflict:
                    time.sleep(random.uniform(0.02, 0.1) * (attempt + 1))
                break
            pending = retry
            if not pending:
                break
        else:
            raise RuntimeError(f"could not store {len(pending)} readings after {MAX_ATTEMPTS} attempts")
        return result

    # -- planning -----------------------------------------------------------
    def _plan(self, pending: list[Reading]) -> list[list[_Chunk]]:
        """Pack device-hour chunks into transactions of at most 100 actions."""
        chunks: list[_Chunk] = []
        newest: dict[str, tuple[int, int]] = {}  # device -> (t, index of chunk holding it)
        current: _Chunk | None = None
        room = TRANSACTION_LIMIT - 2  # a chunk also writes its rollup and maybe the state
        for reading in pending:
            hour = timeutil.local_hour(reading.t)
            if (
                current is None
                or current.device_id != reading.device_id
                or current.hour != hour
                or len(current.readings) >= room
            ):
                current = _Chunk(reading.device_id, hour, [])
                chunks.append(current)
            current.readings.append(reading)
            if reading.t >= newest.get(reading.device_id, (-1, 0))[0]:
                newest[reading.device_id] = (reading.t, len(chunks) - 1)
        for _, index in newest.values():
            chunks[index].carries_state = True

        transactions: list[list[_Chunk]] = []
        batch: list[_Chunk] = []
        size = 0
        items: set[tuple[str, str]] = set()
        for chunk in chunks:
            cost = len(chunk.readings) + 1 + (1 if chunk.carries_state else 0)
            # An item may appear only once per transaction: a split device-hour starts a new one.
            if batch and (size + cost > TRANSACTION_LIMIT or (chunk.device_id, chunk.hour) in items):
                transactions.append(batch)
                batch, size, items = [], 0, set()
            batch.append(chunk)
            size += cost
            items.add((chunk.device_id, chunk.hour))
        if batch:
            transactions.append(batch)
        return transactions

    def _actions(
        self, chunks: list[_Chunk], rollup_state: dict, device_state: dict, context: "_Context"
    ) -> tuple[list[dict], list[tuple], "_Planned"]:
        actions: list[dict] = []
        roles: list[tuple] = []  # what each action is, to read cancellation reasons back
        planned = _Planned()
        now = timeutil.local_iso(timeutil.now_ms())
        for chunk in chunks:
            for reading in chunk.readings:
                actions.append(
                    {
                        "Put": {
                            "TableName": self.readings_table,
                            "Item": to_item(self._reading_item(reading)),
                            "ConditionExpression": "attribute_not_exists(t)",
                        }
                    }
                )
                roles.append(("reading", reading.key))
            key = (chunk.device_id, chunk.hour)
            current = rollup_state.get(key)
            rollup = _copy_rollup(current) if current else rollups.new_rollup()
            rollups.fold(rollup, (r.values for r in chunk.readings))
            first = chunk.readings[0]
            item = {
                "device_id": chunk.device_id,
                "hour": chunk.hour,
                "count": rollup["count"],
                "values": rollup["values"],
                "type": first.type.value,
                "domain": first.domain,
                "town": first.town,
                "updated_at": now,
            }
            put, planned.rollups[key] = _versioned_put(self.rollups_table, item, current, "device_id")
            actions.append(put)
            roles.append(("rollup", key))
            if chunk.carries_state:
                newest = max(chunk.readings, key=lambda r: r.t)
                state = device_state.get(chunk.device_id)
                if state is None or newest.t > state.get("t", -1):
                    new_state = {
                        **(state or {}),
                        "device_id": chunk.device_id,
                        "t": newest.t,
                        "observed_at": timeutil.local_iso(newest.t),
                        "values": newest.values,
                        "received_at": now,
                    }
                    new_state.pop("derived", None)
                    derived = _derived(newest)
                    if derived:
                        new_state["derived"] = derived
                    device = context.devices.get(chunk.device_id)
                    if device is not None:
                        new_state["rules"], events = self._evaluate(device, state, context.series[chunk.device_id])
                        if not new_state["rules"]:
                            del new_state["rules"]
                        if events:
                            planned.events.append((chunk.device_id, events))
                    put, planned.states[chunk.device_id] = _versioned_put(
                        self.state_table, new_state, state, "device_id"
                    )
                    actions.append(put)
                    roles.append(("state", chunk.device_id))
        return actions, roles, planned

    @staticmethod
    def _evaluate(
        device: dict[str, Any], state: dict[str, Any] | None, series: list[Reading]
    ) -> tuple[dict[str, Any], list[Any]]:
        from citybrain.rules import engine

        previous = (state["t"], state.get("values") or {}) if state and "t" in state else None
        evaluation = engine.evaluate(
            device, (state or {}).get("rules"), [(r.t, r.values) for r in series], previous=previous
        )
        return evaluation.state, evaluation.events

    # -- storage ------------------------------------------------------------
    def _reading_item(self, reading: Reading) -> dict[str, Any]:
        return {
            "device_id": reading.device_id,
            "t": reading.t,
            "observed_at": timeutil.local_iso(reading.t),
            "values": reading.values,
            "derived": _derived(reading),
            "expires_at": reading.t // 1000 + self.ttl_seconds,
        }

    def _read_current(self, rollup_keys: list[tuple[str, str]], devices: list[str]) -> tuple[dict, dict]:
        requests = [(self.rollups_table, {"device_id": {"S": d}, "hour": {"S": h}}) for d, h in rollup_keys]
        requests += [(self.state_table, {"device_id": {"S": d}}) for d in devices]
        found = batch_get(requests)
        rollup_state = {(i["device_id"], i["hour"]): i for i in found.get(self.rollups_table, [])}
        device_state = {i["device_id"]: i for i in found.get(self.state_table, [])}
        return rollup_state, device_state

    def _execute(self, actions: list[dict], roles: list[tuple]):
        ddb = client("dynamodb")
        try:
            ddb.transact_write_items(TransactItems=actions)
            return None
        except ddb.exceptions.TransactionCanceledException as exc:
            reasons = exc.response.get("CancellationReasons") or []
        duplicates: set[tuple[str, int]] = set()
        stale_rollups: set[tuple[str, str]] = set()
        stale_states: set[str] = set()
        conflict = False
        for (kind, key), reason in zip(roles, reasons):
            code = reason.get("Code")
            if code == "ConditionalCheckFailed":
                if kind == "reading":
                    duplicates.add(key)
                elif kind == "rollup":
                    stale_rollups.add(key)
                else:
                    stale_states.add(key)
            elif code not in (None, "None"):
                conflict = True  # TransactionConflict, throttling: try again shortly
        if not reasons:
            conflict = True
        return duplicates, stale_rollups, stale_states, conflict


def _copy_rollup(current: dict[str, Any]) -> dict[str, Any]:
    return {"count": current.get("count", 0), "values": {k: dict(v) for k, v in current.get("values", {}).items()}}


@dataclass
class _Context:
    devices: Mapping[str, dict[str, Any]]
    series: dict[str, list[Reading]]


@dataclass
class _Planned:
    """What a transaction will have written once it commits."""

    rollups: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    states: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[tuple[str, list[Any]]] = field(default_factory=list)


def _derived(reading: Reading) -> dict[str, Any] | None:
    """Indicators computed from a reading and stored with it (the air quality index)."""
    if reading.type != DeviceType.air_quality:
        return None
    from citybrain.rules.aqi import air_quality

    return air_quality(reading.values)


def _versioned_put(
    table: str, item: dict[str, Any], current: dict[str, Any] | None, key_attr: str
) -> tuple[dict, dict[str, Any]]:
    """The Put that replaces `current` only if nobody else did meanwhile, and the item it writes."""
    version = (current or {}).get("version", 0)
    written = {**item, "version": version + 1}
    put: dict[str, Any] = {"TableName": table, "Item": to_item(written)}
    if current is None:
        put["ConditionExpression"] = f"attribute_not_exists({key_attr})"
    else:
        put["ConditionExpression"] = "version = :v"
        put["ExpressionAttributeValues"] = {":v": {"N": str(version)}}
    return {"Put": put}, written


class ReadingQuery:
    """The stored series of one device."""

    def series(
        self, device_id: str, start_ms: int, end_ms: int, limit: int, cursor: dict | None
    ) -> tuple[list[dict], dict | None]:
        kwargs: dict[str, Any] = {
            "TableName": get_settings().readings_table,
            "KeyConditionExpression": "device_id = :d AND t BETWEEN :a AND :b",
            "ExpressionAttributeValues": {":d": {"S": device_id}, ":a": {"N": str(start_ms)}, ":b": {"N": str(end_ms)}},
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
        item = (
            client("dynamodb")
            .get_item(TableName=get_settings().device_state_table, Key={"device_id": {"S": device_id}})
            .get("Item")
        )
        if not item:
            return None
        state = _shown(from_item(item))
        for internal in ("version", "rules"):
            state.pop(internal, None)
        return state

    def rollup(self, device_id: str, hour: str) -> dict[str, Any] | None:
        item = (
            client("dynamodb")
            .get_item(TableName=get_settings().rollups_table, Key={"device_id": {"S": device_id}, "hour": {"S": hour}})
            .get("Item")
        )
        return from_item(item) if item else None


def _shown(item: dict[str, Any]) -> dict[str, Any]:
    """Derived indicators sit beside the values, as FIWARE's AirQualityObserved has them."""
    derived = item.pop("derived", None)
    if derived:
        item.update(derived)
    return item
