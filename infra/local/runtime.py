"""Calling the app's handlers as Lambda does: the event shapes Lambda builds,
a Lambda context, and the handler table of the Chalice app."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from infra.local.settings import ACCOUNT_ID, ROOT, STAGE


def load_app():
    """Import app.py as Lambda would (the environment must already be set:
    modules read it at import time)."""
    import sys

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from app import app

    return app


def function_name(handler_name: str, stage: str = STAGE) -> str:
    """Chalice names a function <app>-<stage>-<handler>."""
    return f"citybrain-{stage}-{handler_name}"


def lambda_context(handler_name: str, region: str, timeout_seconds: int = 60, memory_mb: int = 128):
    from chalice.local import LambdaContext

    context = LambdaContext(function_name(handler_name), memory_mb, max_runtime_ms=timeout_seconds * 1000)
    context.invoked_function_arn = f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{context.function_name}"
    context.log_group_name = f"/aws/lambda/{context.function_name}"
    context.log_stream_name = datetime.now(UTC).strftime("%Y/%m/%d/[$LATEST]") + uuid.uuid4().hex
    return context


def function_settings(handler_name: str, stage: str = STAGE) -> dict[str, int]:
    """lambda_timeout and lambda_memory_size of chalice.json (stage, then function, override)."""
    config = json.loads((ROOT / "chalice.json").read_text())
    stage_config = config.get("stages", {}).get(stage, {})
    layers = [
        config,
        config.get("lambda_functions", {}).get(handler_name, {}),
        stage_config,
        stage_config.get("lambda_functions", {}).get(handler_name, {}),
    ]
    settings = {"timeout_seconds": 60, "memory_mb": 128}
    for layer in layers:
        if "lambda_timeout" in layer:
            settings["timeout_seconds"] = int(layer["lambda_timeout"])
        if "lambda_memory_size" in layer:
            settings["memory_mb"] = int(layer["lambda_memory_size"])
    return settings


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """SQS API attribute -> the shape Lambda puts in an event (camelCase, binary as base64)."""

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    shaped: dict[str, Any] = {}
    if "StringValue" in value:
        shaped["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        shaped["binaryValue"] = b64(value["BinaryValue"])
    shaped["stringListValues"] = list(value.get("StringListValues", []))
    shaped["binaryListValues"] = [b64(v) for v in value.get("BinaryListValues", [])]
    shaped["dataType"] = value["DataType"]
    return shaped


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """ReceiveMessage results -> the event Lambda's SQS event source mapping delivers."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": dict(m.get("Attributes", {})),
                "messageAttributes": {
                    name: _message_attribute(v) for name, v in m.get("MessageAttributes", {}).items()
                },
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for m in messages
        ]
    }


def scheduled_event(handler_name: str, scheduled_at: datetime, region: str, stage: str = STAGE) -> dict[str, Any]:
    """The EventBridge event a schedule rule sends; `time` is the scheduled instant in UTC."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": scheduled_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{ACCOUNT_ID}:rule/{function_name(handler_name, stage)}-event"],
        "detail": {},
    }


def failed_message_ids(event: dict[str, Any], response: Any) -> set[str]:
    """Which messages of a batch Lambda would leave on the queue, given the
    handler's response (ReportBatchItemFailures): the listed ones; all of them
    if an entry is empty or names no message of the batch."""
    ids = {r["messageId"] for r in event["Records"]}
    if not isinstance(response, dict):
        return set()
    failures = response.get("batchItemFailures") or []
    listed = {f.get("itemIdentifier") if isinstance(f, dict) else None for f in failures}
    if not listed <= ids:
        return ids
    return ids & listed  # that is `listed`, now known to hold message ids only
