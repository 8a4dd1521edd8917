"""Readings end to end on the local stack: HTTP in, queue, trigger pump,
processing function, tables, HTTP out — and a poison message's way to the
dead-letter queue."""

from __future__ import annotations

import time

from citybrain.sensing.queue import pack_messages
from citybrain.sensing.readings import Reading


def series(stack, key: str, device_id: str) -> list[dict]:
    response = stack.get(f"/v1/devices/{device_id}/readings", key, limit="100")
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_readings_posted_over_http_come_out_of_the_api(stack):
    key = stack.department("e2e-environment", "区生态环境局（端到端）")
    stack.device(key, "e2e-air-01")
    start = int(time.time() * 1000) - 120_000
    readings = [
        {
            "device_id": "e2e-air-01",
            "observed_at": start + i * 30_000,
            "values": {"pm25": 30.0 + i, "pm10": 50.0 + i, "no2": 20.0},
        }
        for i in range(4)
    ]
    readings.append({"device_id": "e2e-air-01", "observed_at": start, "values": {"pm25": -3}})

    response = stack.post("/v1/readings", key, {"readings": readings})
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["accepted"] == 4
    assert [(r["index"], r["errors"][0]["field"]) for r in body["rejected"]] == [(4, "values.pm25")]

    stored = stack.eventually(
        lambda: (items := series(stack, key, "e2e-air-01")) and len(items) == 4 and items,
        what="4 readings of e2e-air-01",
    )
    assert [item["values"]["pm25"] for item in stored] == [30.0, 31.0, 32.0, 33.0]
    assert [item["t"] for item in stored] == [start + i * 30_000 for i in range(4)]

    device = stack.get("/v1/devices/e2e-air-01", key).json()
    assert device["latest"]["t"] == start + 90_000
    assert device["latest"]["values"]["pm25"] == 33.0
    assert device["status"] == "online"


def test_a_poison_message_goes_to_the_dead_letter_queue_and_its_batch_is_stored(stack):
    key = stack.department("e2e-housing", "区住房城乡建设和水利局（端到端）")
    stack.device(key, "e2e-water-01", "water_level", "safety", "九江镇", thresholds={"warning": 5.6, "guarantee": 7.2})
    now = int(time.time() * 1000)
    source = {"kind": "e2e", "department": "e2e-housing"}

    def message(t: int, level: float) -> str:
        reading = Reading(
            device_id="e2e-water-01",
            t=t,
            values={"waterLevel": level},
            type="water_level",
            domain="safety",
            town="九江镇",
        )
        [body] = pack_messages([reading], {**source, "id": f"e2e-{t}"})
        return body

    poison = "this is not a readings message {"
    resources = stack.resources()
    sqs = stack.client("sqs")
    sent = sqs.send_message_batch(
        QueueUrl=resources["CITYBRAIN_READINGS_QUEUE"],
        Entries=[
            {"Id": "0", "MessageBody": message(now - 20_000, 4.10)},
            {"Id": "1", "MessageBody": poison},
            {"Id": "2", "MessageBody": message(now - 10_000, 4.15)},
        ],
    )
    assert not sent.get("Failed")

    stored = stack.eventually(
        lambda: (items := series(stack, key, "e2e-water-01")) and len(items) == 2 and items,
        what="the two good messages stored",
    )
    assert [item["values"]["waterLevel"] for item in stored] == [4.10, 4.15]

    def parked() -> list[str]:
        messages = sqs.receive_message(
            QueueUrl=resources["CITYBRAIN_READINGS_DEAD_LETTER_QUEUE"], MaxNumberOfMessages=10, VisibilityTimeout=0
        ).get("Messages", [])
        return [m["Body"] for m in messages if m["Body"] == poison]

    stack.eventually(parked, what="the poison message in the readings dead-letter queue")
    remaining = sqs.get_queue_attributes(
        QueueUrl=resources["CITYBRAIN_READINGS_QUEUE"],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    assert remaining == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}
