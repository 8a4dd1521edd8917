"""What the scheduled offline check reads and writes: every registered device, every
device's latest state, the rule state of one device, and how many readings messages
are accepted but not yet stored (the readings queue's backlog).

A district has thousands of devices, not millions: two paginated scans every few
minutes cost less than keeping an index of "last heard" times up to date on every
reading. The state item belongs to the readings writer, which moves it with an
optimistic `version`; the only change made here (marking an offline alert open in
its rule state) checks and bumps that version the same way."""

from __future__ import annotations

from typing import Any

from citybrain.core.aws import client
from citybrain.core.config import get_settings
from citybrain.core.dynamo import from_item, scan_all, to_attr

STATE_FIELDS = {"#d": "device_id", "#t": "t", "#r": "rules", "#v": "version"}


class DeviceSweep:
    def devices(self) -> list[dict[str, Any]]:
        return list(scan_all(TableName=get_settings().devices_table))

    def states(self) -> dict[str, dict[str, Any]]:
        """device id -> {device_id, t, rules, version} of its latest state."""
        return {
            s["device_id"]: s
            for s in scan_all(
                TableName=get_settings().device_state_table,
                ProjectionExpression="#d, #t, #r, #v",
                ExpressionAttributeNames=STATE_FIELDS,
            )
        }

    def backlog(self) -> int:
        """Readings messages accepted and not yet stored: waiting, in flight or delayed."""
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        names.append("ApproximateNumberOfMessagesDelayed")
        found = (
            client("sqs")
            .get_queue_attributes(QueueUrl=get_settings().readings_queue, AttributeNames=names)
            .get("Attributes", {})
        )
        return sum(int(found.get(name, 0)) for name in names)

    def state(self, device_id: str) -> dict[str, Any] | None:
        item = (
            client("dynamodb")
            .get_item(
                TableName=get_settings().device_state_table,
                Key={"device_id": {"S": device_id}},
                ConsistentRead=True,
                ProjectionExpression="#d, #t, #r, #v",
                ExpressionAttributeNames=STATE_FIELDS,
            )
            .get("Item")
        )
        return from_item(item) if item else None

    def save_rules(self, device_id: str, rules: dict[str, Any], version: int) -> bool:
        """Replace the device's rule state if its state is still at `version`; False if it moved."""
        ddb = client("dynamodb")
        try:
            ddb.update_item(
                TableName=get_settings().device_state_table,
                Key={"device_id": {"S": device_id}},
                UpdateExpression="SET #r = :r, #v = :next",
                ConditionExpression="#v = :v",
                ExpressionAttributeNames={"#r": "rules", "#v": "version"},
                ExpressionAttributeValues={
                    ":r": to_attr(rules),
                    ":v": {"N": str(version)},
                    ":next": {"N": str(version + 1)},
                },
            )
            return True
        except ddb.exceptions.ConditionalCheckFailedException:
            return False
