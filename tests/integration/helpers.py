"""Helpers for integration tests: departments, devices, and SQS events taken off the real (moto) queues."""

from __future__ import annotations

import json
import os

import boto3

from tests.conftest import ADMIN_KEY


def headers(key: str) -> dict[str, str]:
    return {"X-Api-Key": key, "Content-Type": "application/json"}


def post(api, path: str, key: str, body) -> object:
    return api.http.post(path, headers=headers(key), body=json.dumps(body, ensure_ascii=False))


def department(api, dept_id: str, name: str = "部门") -> str:
    response = post(api, "/v1/departments", ADMIN_KEY, {"id": dept_id, "name": name})
    assert response.status_code == 201, response.body
    return response.json_body["api_key"]


def device(
    api,
    key: str,
    device_id: str,
    type_: str = "air_quality",
    domain: str = "environment",
    town: str = "桂城街道",
    **extra,
) -> dict:
    body = {
        "id": device_id,
        "type": type_,
        "domain": domain,
        "town": town,
        "location": {"lat": 23.03, "lon": 113.15},
        **extra,
    }
    response = post(api, "/v1/devices", key, body)
    assert response.status_code == 201, response.body
    return response.json_body


def receive_event(queue_env: str = "CITYBRAIN_READINGS_QUEUE", max_messages: int = 10) -> dict:
    """Take up to 10 messages off a queue and shape them as Lambda's SQS event."""
    from infra.local.runtime import sqs_event

    sqs = boto3.client("sqs")
    url = os.environ[queue_env]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    messages = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=max_messages, AttributeNames=["All"], MessageAttributeNames=["All"]
    ).get("Messages", [])
    return sqs_event(messages, arn, os.environ.get("AWS_DEFAULT_REGION", "ap-east-1"))


def send_raw(bodies: list[str], queue_env: str = "CITYBRAIN_READINGS_QUEUE") -> None:
    sqs = boto3.client("sqs")
    for body in bodies:
        sqs.send_message(QueueUrl=os.environ[queue_env], MessageBody=body)


def process_all(
    api, function: str = "process_readings", queue_env: str = "CITYBRAIN_READINGS_QUEUE", delete: bool = False
) -> list[dict]:
    """Deliver every queued message to the function; returns each invocation's response.
    `delete`: then delete the messages it did not report failed, as Lambda's poller does
    (otherwise they stay in flight, counted by the queue, until their visibility ends)."""
    responses = []
    sqs = boto3.client("sqs")
    while True:
        event = receive_event(queue_env)
        if not event["Records"]:
            return responses
        response = api.lambda_.invoke(function, event).payload
        responses.append(response)
        if delete:
            failed = {f["itemIdentifier"] for f in (response or {}).get("batchItemFailures", [])}
            for record in event["Records"]:
                if record["messageId"] not in failed:
                    sqs.delete_message(QueueUrl=os.environ[queue_env], ReceiptHandle=record["receiptHandle"])


def reading_writer(on_events=None):
    """The readings pipeline's storing step on the real store, as the processing function runs it."""
    from citybrain.sensing.pipeline import ReadingPipeline
    from citybrain.sensing.reading_store import DynamoReadingStore

    return ReadingPipeline(DynamoReadingStore(), None, None, lambda ids: {}, alert_effects=on_events)
