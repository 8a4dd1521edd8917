"""Incidents on the safety SNS topic: every new incident, grade change and closing, with the
message attributes a department's duty system filters on (`town`, `grade`, `category`, and
`departments` as a String.Array, so a filter policy `{"departments": ["water"]}` matches
every incident that involves the water bureau)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from citybrain.core.aws import client
from citybrain.core.config import get_settings


def attributes(incident: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    found = {
        "town": {"DataType": "String", "StringValue": str(incident.get("town") or "")},
        "grade": {"DataType": "String", "StringValue": incident["grade"]},
        "category": {"DataType": "String", "StringValue": incident["category"]},
    }
    if incident.get("departments"):
        found["departments"] = {
            "DataType": "String.Array",
            "StringValue": json.dumps(sorted(incident["departments"]), ensure_ascii=False),
        }
    return {name: value for name, value in found.items() if value["StringValue"]}  # SNS refuses empty values


class SnsSafetyPublisher:
    def publish(self, incident: Mapping[str, Any], event: str) -> None:
        subject = f"[{incident['grade']}] incident {event}: {incident['id']}"
        client("sns").publish(
            TopicArn=get_settings().safety_topic,
            Subject=subject[:99],
            Message=json.dumps({**incident, "event": event}, ensure_ascii=False, separators=(",", ":")),
            MessageAttributes=attributes(incident),
        )
