"""The processing function's logic: one readings-queue message in, readings stored.

A message that cannot be read at all (not JSON, no readings list) raises, so the
batch processor reports it failed and SQS redelivers it, then parks it in the
dead-letter queue. A single bad reading inside a good message is recorded in
the rejections store with its reason and the rest are stored."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from citybrain.errors import field_errors
from citybrain.readings import Reading, check_values


class PoisonMessage(ValueError):
    pass


class Envelope(BaseModel):
    model_config = ConfigDict(extra="ignore")
    source: dict[str, Any]
    readings: list[dict[str, Any]]
    devices: dict[str, dict[str, Any]] = {}  # registry records of the devices, as the ingest saw them


@dataclass
class ProcessOutcome:
    stored: int
    duplicates: int
    rejected: int


def parse_message(body: str) -> tuple[Envelope, list[Reading], list[dict[str, Any]]]:
    try:
        envelope = Envelope.model_validate_json(body)
    except ValidationError as exc:
        raise PoisonMessage(f"unreadable readings message: {field_errors(exc)[:3]}") from None
    good: list[Reading] = []
    rejected: list[dict[str, Any]] = []
    for position, raw in enumerate(envelope.readings):
        try:
            reading = Reading.model_validate(raw)
        except ValidationError as exc:
            rejected.append({"position": position, "errors": field_errors(exc), "raw": raw})
            continue
        errors = check_values(reading.type, reading.values)
        if errors:
            rejected.append({"position": position, "errors": errors, "raw": raw})
        else:
            good.append(reading)
    return envelope, good, rejected


class ReadingProcessor:
    def __init__(self, writer, rejections, archive, get_devices) -> None:
        self.writer = writer  # ReadingWriter-like: store(readings, devices) -> StoreResult
        self.rejections = rejections  # RejectionStore-like: record(source, rejections)
        self.archive = archive  # callable(readings) -> objects written
        self.get_devices = get_devices  # callable(ids) -> {id: device record}

    def process(self, body: str, message_id: str) -> ProcessOutcome:
        envelope, good, rejected = parse_message(body)
        source = envelope.source.get("id") or message_id
        if rejected:
            self.rejections.record(f"{envelope.source.get('kind', 'message')}#{source}", rejected)
        devices = dict(envelope.devices)
        missing = sorted({r.device_id for r in good} - devices.keys())
        if missing:  # a message from elsewhere than the ingest path: one lookup for the rules
            devices.update(self.get_devices(missing))
        result = self.writer.store(good, devices)
        if good:
            # All valid readings, not only the new ones: the archive object is
            # named by content, so a redelivery rewrites it whole.
            self.archive(good)
        return ProcessOutcome(stored=len(result.stored), duplicates=result.duplicates, rejected=len(rejected))


def message_body(record: dict[str, Any]) -> str:
    return record["body"] if isinstance(record.get("body"), str) else json.dumps(record.get("body"))
