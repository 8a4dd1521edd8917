"""Alert notifications on the alerts SNS topic.

Departments subscribe with a filter policy on the message attributes (domain, town,
severity, category), so each receives exactly what concerns it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from citybrain.core.aws import client
from citybrain.core.config import get_settings


class SnsPublisher:
    def publish(self, notification: Mapping[str, Any]) -> str:
        """Publish one {subject, message, attributes}; returns SNS's message id."""
        attributes = {
            name: {"DataType": "String", "StringValue": value}
            for name, value in notification["attributes"].items()
            if value
        }  # SNS refuses empty values
        response = client("sns").publish(
            TopicArn=get_settings().alerts_topic,
            Subject=notification["subject"],
            Message=json.dumps(notification["message"], ensure_ascii=False, separators=(",", ":")),
            MessageAttributes=attributes,
        )
        return response["MessageId"]
