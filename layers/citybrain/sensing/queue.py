"""The readings queue: validated readings packed into messages.

A message carries up to 1,000 readings and at most 200 KB (device profiles
included), sorted by device and time. The processing function stores a whole
batch of messages together, so the size of a message decides only the per-message
costs: each message is a send, a receive, a delete and an archive object (an S3
PUT, about 2 ms of a function's CPU). At 100 readings a message those were a
third of the processing CPU; at 1,000 a tenth as much. SendMessageBatch takes 10
messages and 256 KB at a time."""

from __future__ import annotations

import json
import uuid
from typing import Any

from citybrain.core.aws import client
from citybrain.core.config import get_settings
from citybrain.core.retry import pause
from citybrain.sensing.devices import device_profile
from citybrain.sensing.readings import Reading

READINGS_PER_MESSAGE = 1000
MESSAGE_BYTES = 200_000
BATCH_ENTRIES = 10
BATCH_BYTES = 250_000  # under SQS's 262,144 with room for attributes


class QueueUnavailable(RuntimeError):
    pass


def pack_messages(
    readings: list[Reading], source: dict[str, Any], devices: dict[str, dict[str, Any]] | None = None
) -> list[str]:
    """Message bodies: {"source", "readings", "devices"}, each within the limits.

    `devices` (id -> registry record) travel with the readings as profiles, so the
    processing function evaluates the rules without looking devices up."""
    ordered = sorted(readings, key=lambda r: (r.device_id, r.t))
    head = json.dumps({"source": source}, ensure_ascii=False, separators=(",", ":"))[:-1]
    bodies: list[str] = []
    current: list[str] = []
    profiles: dict[str, str] = {}
    size = len(head) + 32

    def flush() -> None:
        nonlocal current, profiles, size
        if current:
            described = ",".join(json.dumps(d, ensure_ascii=False) + ":" + p for d, p in profiles.items())
            bodies.append(head + ',"readings":[' + ",".join(current) + '],"devices":{' + described + "}}")
        current, profiles, size = [], {}, len(head) + 32

    for reading in ordered:
        encoded = reading.model_dump_json()
        profile = ""
        if devices and reading.device_id not in profiles and reading.device_id in devices:
            profile = json.dumps(device_profile(devices[reading.device_id]), ensure_ascii=False, separators=(",", ":"))
        added = len(encoded) + len(profile) + len(reading.device_id) + 8
        if current and (len(current) >= READINGS_PER_MESSAGE or size + added > MESSAGE_BYTES):
            flush()
            if devices and reading.device_id in devices:
                profile = json.dumps(
                    device_profile(devices[reading.device_id]), ensure_ascii=False, separators=(",", ":")
                )
        current.append(encoded)
        if profile:
            profiles[reading.device_id] = profile
        size += added
    flush()
    return bodies


def send_messages(bodies: list[str], queue_url: str | None = None) -> int:
    """Send with SendMessageBatch, retrying entries SQS reports as failed. Returns requests made."""
    queue_url = queue_url or get_settings().readings_queue
    sqs = client("sqs")
    requests = 0
    batches: list[list[str]] = []
    batch: list[str] = []
    size = 0
    for body in bodies:
        length = len(body.encode())
        if batch and (len(batch) == BATCH_ENTRIES or size + length > BATCH_BYTES):
            batches.append(batch)
            batch, size = [], 0
        batch.append(body)
        size += length
    if batch:
        batches.append(batch)
    for batch in batches:
        entries = {str(i): body for i, body in enumerate(batch)}
        for attempt in range(5):
            response = sqs.send_message_batch(
                QueueUrl=queue_url, Entries=[{"Id": i, "MessageBody": body} for i, body in entries.items()]
            )
            requests += 1
            failed = response.get("Failed") or []
            if not failed:
                break
            if any(f.get("SenderFault") for f in failed):
                raise QueueUnavailable(f"readings queue refused messages: {failed[0].get('Message')}")
            entries = {f["Id"]: entries[f["Id"]] for f in failed}
            pause(attempt, 0.05)
        else:
            raise QueueUnavailable("readings queue kept failing to accept messages")
    return requests


def enqueue_readings(
    readings: list[Reading], source: dict[str, Any], devices: dict[str, dict[str, Any]] | None = None
) -> int:
    return send_messages(pack_messages(readings, {"id": source.get("id") or str(uuid.uuid4()), **source}, devices))
