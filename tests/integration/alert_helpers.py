"""Helpers for the alert tests: devices, rule events, and a department's queue subscribed to the
alerts topic with a filter policy (SNS -> SQS on moto)."""

from __future__ import annotations

import json
import os

import boto3

from citybrain.alerts.rules.catalogue import Event
from citybrain.core import timeutil

T0 = timeutil.parse_instant("2026-11-27T08:00:00+08:00")
MINUTE = 60_000
AIR = {
    "id": "gc-air-01",
    "type": "air_quality",
    "domain": "environment",
    "town": "桂城街道",
    "owner": "environment",
    "location": {"lat": 23.03, "lon": 113.15},
}
GAUGE = {
    "id": "jj-water-01",
    "type": "water_level",
    "domain": "safety",
    "town": "九江镇",
    "owner": "safety",
    "location": {"lat": 22.85, "lon": 113.03},
    "thresholds": {"warning": 5.0, "guarantee": 6.5},
}


def aqi(minute: int, value: int, severity: str = "high") -> Event:
    return Event("fire", "aqi", T0 + minute * MINUTE, severity, value, {"airQualityIndex": value}, f"AQI {value}")


def water(minute: int, level: float, severity: str) -> Event:
    return Event("fire", "water", T0 + minute * MINUTE, severity, level, {"waterLevel": level}, f"water {level} m")


def clear(minute: int, rule: str = "aqi") -> Event:
    return Event("clear", rule, T0 + minute * MINUTE, data={"normalReadings": 3})


class Clock:
    def __init__(self, now: int):
        self.now = now

    def __call__(self) -> int:
        return self.now


def service(clock=None):
    """The alert service as the functions build it, on a clock the test moves."""
    from citybrain.alerts.notifications import SnsPublisher
    from citybrain.alerts.service import AlertService
    from citybrain.alerts.store import AlertStore
    from citybrain.sensing.sweep_store import DeviceSweep

    return AlertService(AlertStore(), SnsPublisher(), DeviceSweep(), clock or Clock(T0 + 60 * MINUTE))


def subscribe(filter_policy: dict | None = None, name: str = "dept-alerts") -> str:
    """A queue subscribed to the alerts topic (raw delivery off: the SNS envelope, as an email
    or HTTPS endpoint would see it); returns its URL."""
    sqs, sns = boto3.client("sqs"), boto3.client("sns")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    attributes = {"FilterPolicy": json.dumps(filter_policy)} if filter_policy else {}
    sns.subscribe(TopicArn=os.environ["CITYBRAIN_ALERTS_TOPIC"], Protocol="sqs", Endpoint=arn, Attributes=attributes)
    return url


def received(url: str) -> list[dict]:
    """The SNS envelopes waiting in the queue, with Message parsed."""
    sqs = boto3.client("sqs")
    out = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return out
        for message in messages:
            envelope = json.loads(message["Body"])
            envelope["Message"] = json.loads(envelope["Message"])
            out.append(envelope)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def events_of(envelopes: list[dict]) -> list[tuple[str, str, str]]:
    return [(e["Message"]["id"], e["Message"]["event"], e["Message"]["severity"]) for e in envelopes]


def stored_items(prefix: str) -> list[dict]:
    from citybrain.core.dynamo import from_item

    items = boto3.client("dynamodb").scan(TableName=os.environ["CITYBRAIN_ALERTS_TABLE"])["Items"]
    return [from_item(i) for i in items if i["pk"]["S"].startswith(prefix)]
