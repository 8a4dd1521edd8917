"""The local trigger pump against real (moto) queues: batches, partial failures,
redelivery and the dead-letter queue, as Lambda's SQS event source mapping does."""

from __future__ import annotations

import json
from datetime import datetime

import boto3
import pytest
from chalice import Chalice

from citybrain.core.timeutil import LOCAL_TZ
from infra.local import pump, runtime


@pytest.fixture
def queues(monkeypatch):
    from moto import mock_aws

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        sqs = boto3.client("sqs")
        dlq = sqs.create_queue(QueueName="things-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        queue = sqs.create_queue(
            QueueName="things",
            Attributes={
                "VisibilityTimeout": "180",
                "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"}),
            },
        )["QueueUrl"]
        yield sqs, queue, dlq


def things_app(seen: list, explode: bool = False) -> Chalice:
    app = Chalice("pump-test")

    @app.on_sqs_message(queue="citybrain-things", batch_size=10)
    def handle_things(event):
        from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

        if explode:
            raise RuntimeError("the whole invocation fails")

        def handle(record):
            seen.append((record.body, int(record.attributes.approximate_receive_count)))
            if record.body == "bad":
                raise ValueError("unreadable")

        return process_partial_response(
            event=event.to_dict(),
            record_handler=handle,
            processor=BatchProcessor(event_type=EventType.SQS),
            context=event.context,
        )

    @app.schedule("cron(0 8 * * ? *)")
    def morning_report(event):
        return event.time

    return app


def triggers(app: Chalice, queue: str):
    found = pump.discover(
        app,
        {"CITYBRAIN_THINGS_QUEUE": queue},
        pump.Invoker(app, "ap-east-1"),
        "ap-east-1",
        retry_delay=0,
        now=datetime(2026, 11, 27, 7, 0, tzinfo=LOCAL_TZ),
    )
    return {trigger.name: trigger for trigger in found}


def bodies(sqs, url: str) -> list[str]:
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
    return sorted(m["Body"] for m in messages)


def send(sqs, queue: str, *texts: str) -> None:
    sqs.send_message_batch(QueueUrl=queue, Entries=[{"Id": str(i), "MessageBody": t} for i, t in enumerate(texts)])


def test_discovers_queue_and_schedule_handlers(queues):
    _, queue, _ = queues
    found = triggers(things_app([]), queue)
    assert isinstance(found["handle_things"], pump.SqsTrigger)
    assert found["handle_things"].queue_url == queue and found["handle_things"].batch_size == 10
    assert found["morning_report"].schedule.next_after(datetime(2026, 11, 27, 7, 0, tzinfo=LOCAL_TZ)) == datetime(
        2026, 11, 27, 8, 0, tzinfo=LOCAL_TZ
    )


def test_a_queue_missing_from_the_stack_is_named():
    app = things_app([])
    with pytest.raises(SystemExit, match="CITYBRAIN_THINGS_QUEUE"):
        pump.discover(app, {}, pump.Invoker(app, "ap-east-1"), "ap-east-1", 0, datetime.now(LOCAL_TZ))


def test_failed_messages_stay_then_go_to_the_dead_letter_queue(queues):
    sqs, queue, dlq = queues
    seen: list = []
    trigger = triggers(things_app(seen), queue)["handle_things"]
    send(sqs, queue, "good-1", "bad", "good-2")

    assert trigger.poll_once() == 3
    assert sorted(seen) == [("bad", 1), ("good-1", 1), ("good-2", 1)]
    assert trigger.poll_once() == 1  # only the failed one came back
    assert seen[-1] == ("bad", 2)
    assert trigger.poll_once() == 0  # received maxReceiveCount times: parked on this receive
    assert bodies(sqs, queue) == []
    assert bodies(sqs, dlq) == ["bad"]


def test_a_handler_that_raises_leaves_the_whole_batch(queues):
    sqs, queue, _ = queues
    trigger = triggers(things_app([], explode=True), queue)["handle_things"]
    send(sqs, queue, "a", "b")
    assert trigger.poll_once() == 2
    assert bodies(sqs, queue) == ["a", "b"]


def test_events_have_the_shape_lambda_delivers(queues):
    from aws_lambda_powertools.utilities.parser.models import EventBridgeModel, SqsModel

    sqs, queue, _ = queues
    sqs.send_message(
        QueueUrl=queue,
        MessageBody="{}",
        MessageAttributes={
            "kind": {"DataType": "String", "StringValue": "http"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
    )
    message = sqs.receive_message(QueueUrl=queue, AttributeNames=["All"], MessageAttributeNames=["All"])["Messages"]
    event = runtime.sqs_event(message, "arn:aws:sqs:ap-east-1:123456789012:things", "ap-east-1")
    record = SqsModel.model_validate(event).Records[0]
    assert record.attributes.ApproximateReceiveCount == "1"
    assert record.messageAttributes["kind"].stringValue == "http"
    assert record.messageAttributes["blob"].binaryValue == "AAE="
    assert record.eventSourceARN.endswith(":things")

    scheduled = runtime.scheduled_event("morning_report", datetime(2026, 11, 27, 8, 0, tzinfo=LOCAL_TZ), "ap-east-1")
    assert EventBridgeModel.model_validate(scheduled).detail_type == "Scheduled Event"
    assert scheduled["time"] == "2026-11-27T00:00:00Z"


@pytest.mark.parametrize(
    "response, failed",
    [
        ({"batchItemFailures": []}, set()),
        (None, set()),
        ({"batchItemFailures": [{"itemIdentifier": "m2"}]}, {"m2"}),
        ({"batchItemFailures": [{"itemIdentifier": "elsewhere"}]}, {"m1", "m2"}),
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, {"m1", "m2"}),
    ],
)
def test_batch_item_failures_read_as_lambda_reads_them(response, failed):
    event = {"Records": [{"messageId": "m1"}, {"messageId": "m2"}]}
    assert runtime.failed_message_ids(event, response) == failed


def test_a_batching_window_gathers_what_arrives_within_it(queues):
    import threading

    sqs, queue, _ = queues
    seen: list = []
    app = things_app(seen)
    trigger = pump.SqsTrigger("handle_things", queue, 25, pump.Invoker(app, "ap-east-1"), 0, "ap-east-1", 2)
    send(sqs, queue, *[f"early-{i}" for i in range(8)])
    later = threading.Timer(0.8, lambda: send(sqs, queue, *[f"late-{i}" for i in range(5)]))
    later.start()
    assert trigger.poll_once() == 13  # one batch: the first 8 and the 5 sent within the window
    later.join()
    assert bodies(sqs, queue) == []  # all deleted: the handler succeeded on every one


def test_the_event_sources_batching_window_is_kept_or_shortened_locally(queues):
    _, queue, _ = queues
    app = Chalice("windows")

    @app.on_sqs_message(queue="citybrain-things", batch_size=50, maximum_batching_window_in_seconds=5)
    def handle_things(event):
        return None

    def window(environ):
        found = pump.discover(app, environ, pump.Invoker(app, "ap-east-1"), "ap-east-1", 0, datetime.now(LOCAL_TZ))
        (trigger,) = found
        return trigger.batch_size, trigger.batching_window

    assert window({"CITYBRAIN_THINGS_QUEUE": queue}) == (50, 5)
    assert window({"CITYBRAIN_THINGS_QUEUE": queue, "CITYBRAIN_PUMP_BATCHING_WINDOW_SECONDS": "0.5"}) == (50, 0.5)
    assert window({"CITYBRAIN_THINGS_QUEUE": queue, "CITYBRAIN_PUMP_BATCHING_WINDOW_SECONDS": "60"}) == (50, 5)
    with pytest.raises(SystemExit, match="CITYBRAIN_PUMP_BATCHING_WINDOW_SECONDS"):
        window({"CITYBRAIN_THINGS_QUEUE": queue, "CITYBRAIN_PUMP_BATCHING_WINDOW_SECONDS": "soon"})


def test_the_readings_trigger_is_served_by_worker_processes():
    sqs_trigger = pump.SqsTrigger.__new__(pump.SqsTrigger)
    readings, uploads = (sqs_trigger, pump.SqsTrigger.__new__(pump.SqsTrigger))
    readings.name, uploads.name = "process_readings", "process_uploads"
    schedule = pump.ScheduleTrigger.__new__(pump.ScheduleTrigger)
    schedule.name = "daily_report"
    found = [readings, uploads, schedule]
    assert pump.worker_groups(found, 2) == [["process_readings"], ["process_readings"], ["process_uploads"]]
    assert pump.worker_groups(found, 0) == []  # everything in the pump's own process
    assert pump.workers_wanted({}) == pump.DEFAULT_WORKERS
    assert pump.workers_wanted({"CITYBRAIN_PUMP_WORKERS": "3"}) == 3
    with pytest.raises(SystemExit, match="CITYBRAIN_PUMP_WORKERS"):
        pump.workers_wanted({"CITYBRAIN_PUMP_WORKERS": "two"})
