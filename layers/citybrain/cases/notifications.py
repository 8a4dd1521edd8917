"""Overdue steps on the supervision SNS topic (督办): what is late, whose it is, and the
case's grade, as message attributes a supervisor filters on (`town`, `status`, `grade`,
`departments` as a String.Array)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from citybrain.core.aws import client
from citybrain.core.config import get_settings


class SnsSupervision:
    def publish(self, case: Mapping[str, Any], event: str, steps: list[str]) -> None:
        departments = sorted({a["department"] for a in case.get("assignments", [])})
        attributes = {
            "town": {"DataType": "String", "StringValue": str(case["town"])},
            "status": {"DataType": "String", "StringValue": str(case["status"])},
            "grade": {"DataType": "String", "StringValue": str(case.get("grade") or "none")},
        }
        if departments:
            attributes["departments"] = {"DataType": "String.Array", "StringValue": json.dumps(departments)}
        client("sns").publish(
            TopicArn=get_settings().supervision_topic,
            Subject=f"case {event}: {case['id']}"[:99],
            Message=json.dumps({**case, "event": event, "steps": steps}, ensure_ascii=False, separators=(",", ":")),
            MessageAttributes=attributes,
        )
