"""Alerts on DynamoDB. One table holds three kinds of item:

- an alert: `pk` = its id; listed newest first through the issued-index
  (`feed` = "alerts", `issued_key` = "<issued ms, 13 digits>#<id>") and per device
  through the device-index (`device_id`, `issued_key`);
- a slot: `pk` = "open#<device>#<rule>", present while that device and rule have an
  active alert, holding a copy of it (`alert_id`, its `version`, the record). Every
  alert write is one transaction that also checks or moves the slot, so two writers
  can never both open an alert for one device and rule; and continuing an alert
  costs one read, of its slot. Slots carry no `issued_key`, so no index lists them;
- a pending notification (the outbox): `pk` = "notify#<alert id>#<n>", written in
  the transaction that makes the transition it announces and deleted once SNS has
  it; the sparse outbox-index (`outbox`, `queued_ms`) lists only those still waiting.

An alert and its slot copy carry the same `version`, bumped by every write and
checked by the next (optimistic locking)."""

from __future__ import annotations

import builtins
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from citybrain.alerts import lifecycle as alerts
from citybrain.core import timeutil
from citybrain.core.aws import client
from citybrain.core.config import get_settings
from citybrain.core.dynamo import batch_get, from_item, query_all, query_page, to_item

FEED = "alerts"
PENDING = "pending"
SLOT_PREFIX = "open#"
NOTIFY_PREFIX = "notify#"
STORAGE_ONLY = ("pk", "feed", "issued_key", "alert_id", "active_feed", "active_key")


def slot_key(device_id: str, rule: str) -> str:
    return SLOT_PREFIX + alerts.open_key(device_id, rule)


def issued_key(alert: dict[str, Any]) -> str:
    return f"{int(alert['issued_ms']):013d}#{alert['id']}"


@dataclass
class AlertWrite:
    """What one transaction stores for one device and rule."""

    device_id: str
    rule: str
    before: dict[str, Any] | None  # the active alert it continues, as read (with its version); None: no active alert
    records: list[dict[str, Any]]  # records to store: `before`'s id replaces it, any other id is new
    notifications: list[dict[str, Any]] = field(default_factory=list)  # outbox entries


class AlertConflict(Exception):
    """The write was cancelled because the stored alerts moved under it."""

    def __init__(self) -> None:
        super().__init__("alerts changed meanwhile")
        self.slot = False  # the slot no longer holds what `before` said
        self.existing: list[str] = []  # ids the write meant to create that are already stored
        self.stale: list[str] = []  # ids whose stored version moved on
        self.busy = False  # a concurrent transaction or throttling: try again shortly


class AlertStore:
    @property
    def table(self) -> str:
        return get_settings().alerts_table

    # -- reads -----------------------------------------------------------------
    def active(self, device_id: str, rules: Iterable[str]) -> dict[str, dict[str, Any]]:
        """rule -> the active alert of that device and rule, from the slots (strongly consistent)."""
        return {rule: alert for (_, rule), alert in self.active_many((device_id, r) for r in rules).items()}

    def active_many(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        keys = sorted(set(pairs))
        if not keys:
            return {}
        found = batch_get((self.table, {"pk": {"S": slot_key(d, r)}}) for d, r in keys)
        out = {}
        for item in found.get(self.table, []):  # batch_get decodes the items
            alert = _record(item, raw=False)
            out[(alert["device_id"], alert["rule"])] = alert
        return out

    def get(self, alert_id: str) -> dict[str, Any] | None:
        if not alert_id or alert_id.startswith((SLOT_PREFIX, NOTIFY_PREFIX)):
            return None  # only alerts are addressable by id
        item = (
            client("dynamodb")
            .get_item(TableName=self.table, Key={"pk": {"S": alert_id}}, ConsistentRead=True)
            .get("Item")
        )
        return _record(item) if item else None

    def list(
        self,
        *,
        device: str | None,
        filters: dict[str, list[str]],
        start_ms: int,
        end_ms: int,
        limit: int,
        cursor: dict[str, str] | None,
    ) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
        """A page of alerts issued in [start_ms, end_ms], newest first, matching every filter
        (attribute -> allowed values). The cursor is {"k": issued_key, "id": alert id}."""
        hash_name, hash_value = ("device_id", device) if device else ("feed", FEED)
        names = {"#h": hash_name, "#k": "issued_key"}
        values = {":h": {"S": hash_value}, ":a": {"S": f"{start_ms:013d}"}, ":b": {"S": f"{end_ms + 1:013d}"}}
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "device-index" if device else "issued-index",
            "KeyConditionExpression": "#h = :h AND #k BETWEEN :a AND :b",
            "ScanIndexForward": False,
        }
        clauses = []
        for i, (attribute, allowed) in enumerate(sorted(filters.items())):
            names[f"#f{i}"] = attribute
            placeholders = []
            for j, value in enumerate(allowed):
                values[f":f{i}_{j}"] = {"S": value}
                placeholders.append(f":f{i}_{j}")
            clauses.append(f"#f{i} IN ({', '.join(placeholders)})")
        if clauses:
            kwargs["FilterExpression"] = " AND ".join(clauses)
        kwargs.update(ExpressionAttributeNames=names, ExpressionAttributeValues=values)

        def start_key(k: str, alert_id: str) -> dict[str, Any]:
            return {hash_name: {"S": hash_value}, "issued_key": {"S": k}, "pk": {"S": alert_id}}

        start = start_key(cursor["k"], cursor["id"]) if cursor else None
        raw, after = query_page(
            kwargs, limit, start, lambda item: {"k": item["issued_key"]["S"], "id": item["pk"]["S"]}
        )
        return [_record(item) for item in raw], after

    def active_alerts(self) -> builtins.list[dict[str, Any]]:
        """Every open or acknowledged alert, newest first (at most one per device and rule)."""
        items = query_all(
            TableName=self.table,
            IndexName="active-index",
            KeyConditionExpression="active_feed = :f",
            ExpressionAttributeValues={":f": {"S": FEED}},
            ScanIndexForward=False,
        )
        return [_record(item) for item in items]

    def overlapping(self, start_ms: int, end_ms: int, since_ms: int) -> builtins.list[dict[str, Any]]:
        """Every alert issued in [since_ms, end_ms) not resolved before start_ms: the alerts a
        report of [start_ms, end_ms) counts (opened, acknowledged or resolved in it, or still open)."""
        items = query_all(
            TableName=self.table,
            IndexName="issued-index",
            KeyConditionExpression="feed = :f AND issued_key BETWEEN :a AND :b",
            # resolvedAt is ISO-8601 at +08:00, so its text orders as its time does
            FilterExpression="attribute_not_exists(resolvedAt) OR resolvedAt >= :s",
            ExpressionAttributeValues={
                ":f": {"S": FEED},
                ":a": {"S": f"{since_ms:013d}"},
                ":b": {"S": f"{end_ms:013d}"},
                ":s": {"S": timeutil.local_iso(start_ms)},
            },
        )
        return [_record(item) for item in items]

    def pending_notifications(self, queued_before_ms: int, limit: int) -> builtins.list[dict[str, Any]]:
        """Outbox entries queued at or before the time, oldest first."""
        response = client("dynamodb").query(
            TableName=self.table,
            IndexName="outbox-index",
            KeyConditionExpression="outbox = :p AND queued_ms <= :t",
            ExpressionAttributeValues={":p": {"S": PENDING}, ":t": {"N": str(queued_before_ms)}},
            ScanIndexForward=True,
            Limit=limit,
        )
        out = []
        for raw in response["Items"]:
            item = from_item(raw)
            out.append(
                {
                    "id": item["pk"].removeprefix(NOTIFY_PREFIX),
                    "alert_id": item["alert_id"],
                    "queued_ms": item["queued_ms"],
                    "subject": item["subject"],
                    "message": json.loads(item["message"]),
                    "attributes": item.get("attributes") or {},
                }
            )
        return out

    # -- writes ----------------------------------------------------------------
    def write(self, change: AlertWrite) -> builtins.list[dict[str, Any]]:
        """Store the records, move the slot and queue the notifications, all or nothing.
        Returns the records as stored (with their new versions); raises AlertConflict."""
        before = change.before
        actions: list[dict[str, Any]] = []
        roles: list[tuple[str, str]] = []  # what each action is, to read cancellation reasons back
        written = []
        for record in change.records:
            put: dict[str, Any] = {"TableName": self.table}
            if before and record["id"] == before["id"]:
                version = before["version"] + 1
                put.update(
                    ConditionExpression="version = :v", ExpressionAttributeValues={":v": {"N": str(before["version"])}}
                )
                roles.append(("alert", record["id"]))
            else:
                version = 1
                put["ConditionExpression"] = "attribute_not_exists(pk)"
                roles.append(("new", record["id"]))
            stored = {**record, "version": version}
            written.append(stored)
            put["Item"] = to_item({**stored, "pk": record["id"], "feed": FEED, "issued_key": issued_key(record)})
            actions.append({"Put": put})

        active = [r for r in written if alerts.is_active(r)]
        if len(active) > 1:
            raise ValueError(f"two active alerts for {change.device_id}/{change.rule}: {[r['id'] for r in active]}")
        key = slot_key(change.device_id, change.rule)
        guard: dict[str, Any] = {"TableName": self.table}
        if before:
            guard.update(
                ConditionExpression="alert_id = :a AND version = :sv",
                ExpressionAttributeValues={":a": {"S": before["id"]}, ":sv": {"N": str(before["version"])}},
            )
        else:
            guard["ConditionExpression"] = "attribute_not_exists(pk)"
        if active:
            # The slot mirrors its active alert; only slots carry active_feed, so the sparse
            # active-index lists exactly the active alerts, whatever the alerts' history
            # (its own sort key: an issued_key would put slots in the device-index too).
            slot = {**active[0], "pk": key, "alert_id": active[0]["id"], "active_feed": FEED}
            slot["active_key"] = issued_key(active[0])
            actions.append({"Put": {**guard, "Item": to_item(slot)}})
        elif before:
            actions.append({"Delete": {**guard, "Key": {"pk": {"S": key}}}})
        else:  # opened and resolved within one batch: still, nobody else may hold the slot
            actions.append({"ConditionCheck": {**guard, "Key": {"pk": {"S": key}}}})
        roles.append(("slot", key))

        for note in change.notifications:
            actions.append(
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": to_item(
                            {
                                "pk": NOTIFY_PREFIX + note["id"],
                                "outbox": PENDING,
                                "queued_ms": note["queued_ms"],
                                "alert_id": note["alert_id"],
                                "subject": note["subject"],
                                "message": json.dumps(note["message"], ensure_ascii=False, separators=(",", ":")),
                                "attributes": note["attributes"],
                            }
                        ),
                    }
                }
            )
            roles.append(("notify", note["id"]))
        self._transact(actions, roles)
        return written

    def clear_notification(self, notification_id: str) -> None:
        client("dynamodb").delete_item(TableName=self.table, Key={"pk": {"S": NOTIFY_PREFIX + notification_id}})

    def _transact(self, actions: builtins.list[dict[str, Any]], roles: builtins.list[tuple[str, str]]) -> None:
        ddb = client("dynamodb")
        try:
            ddb.transact_write_items(TransactItems=actions)
            return
        except ddb.exceptions.TransactionCanceledException as exc:
            reasons = exc.response.get("CancellationReasons") or []
        conflict = AlertConflict()
        for (kind, ref), reason in zip(roles, reasons, strict=False):
            code = reason.get("Code")
            if code in (None, "None"):
                continue
            if code != "ConditionalCheckFailed":
                conflict.busy = True  # TransactionConflict, throttling
            elif kind == "slot":
                conflict.slot = True
            elif kind == "new":
                conflict.existing.append(ref)
            elif kind == "alert":
                conflict.stale.append(ref)
        if not reasons:
            conflict.busy = True
        raise conflict


def _record(item: dict[str, Any], raw: bool = True) -> dict[str, Any]:
    record = from_item(item) if raw else dict(item)
    for name in STORAGE_ONLY:
        record.pop(name, None)
    return record
