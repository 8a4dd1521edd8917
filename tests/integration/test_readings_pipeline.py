"""Readings from POST /v1/readings through the readings queue into storage."""

from __future__ import annotations

import json
import os

import boto3

from citybrain.core import timeutil
from citybrain.sensing.queue import pack_messages
from citybrain.sensing.reading_store import DynamoReadingStore
from citybrain.sensing.readings import Reading
from tests.integration.helpers import department, device, post, process_all, reading_writer, receive_event, send_raw

HOUR = "2026-11-27T08"
BASE = timeutil.parse_instant("2026-11-27T08:00:00+08:00")


def readings(device_id: str, values: list[float], start: int = BASE, step_ms: int = 60_000) -> list[dict]:
    return [
        {"device_id": device_id, "observed_at": start + i * step_ms, "values": {"pm25": v}}
        for i, v in enumerate(values)
    ]


def setup_env_device(api, device_id="aq-1"):
    key = department(api, "environment", "区生态环境局")
    device(api, key, device_id)
    return key


def test_posted_readings_are_stored_with_rollup_and_latest(api):
    key = setup_env_device(api)
    response = post(api, "/v1/readings", key, {"readings": readings("aq-1", [30, 10, 50, 20])})
    assert response.status_code == 202
    assert response.json_body["accepted"] == 4 and response.json_body["rejected"] == []
    process_all(api)

    series = api.http.get(
        f"/v1/devices/aq-1/readings?from={BASE}&to={BASE + 3_600_000}", headers={"X-Api-Key": key}
    ).json_body
    assert [r["values"]["pm25"] for r in series["items"]] == [30, 10, 50, 20]
    assert series["items"][0]["observed_at"] == "2026-11-27T08:00:00+08:00"

    rollup = DynamoReadingStore().rollup("aq-1", HOUR)
    assert rollup["count"] == 4
    assert rollup["values"]["pm25"] == {"n": 4, "sum": 110.0, "min": 10.0, "max": 50.0}

    latest = api.http.get("/v1/devices/aq-1", headers={"X-Api-Key": key}).json_body["latest"]
    assert latest["values"] == {"pm25": 20} and latest["observed_at"] == "2026-11-27T08:03:00+08:00"


def test_resent_batch_and_redelivered_message_never_count_twice(api):
    key = setup_env_device(api)
    batch = {"readings": readings("aq-1", [30, 40, 50])}
    post(api, "/v1/readings", key, batch)
    event = receive_event()
    api.lambda_.invoke("process_readings", event)
    api.lambda_.invoke("process_readings", event)  # SQS delivered it again
    post(api, "/v1/readings", key, batch)  # the gateway re-sent the batch
    process_all(api)
    rollup = DynamoReadingStore().rollup("aq-1", HOUR)
    assert rollup["count"] == 3 and rollup["values"]["pm25"]["sum"] == 120.0
    items = DynamoReadingStore().series("aq-1", BASE, BASE + 3_600_000, 100, None)[0]
    assert len(items) == 3


def test_latest_is_the_newest_observation_whatever_the_arrival_order(api):
    key = setup_env_device(api)
    post(api, "/v1/readings", key, {"readings": readings("aq-1", [70], start=BASE + 600_000)})
    process_all(api)
    post(api, "/v1/readings", key, {"readings": readings("aq-1", [5, 6], start=BASE)})  # arrives late
    process_all(api)
    latest = DynamoReadingStore().latest("aq-1")
    assert latest["values"] == {"pm25": 70} and latest["t"] == BASE + 600_000


def test_poison_message_fails_alone_and_the_rest_of_the_batch_is_stored(api):
    setup_env_device(api)
    good = [
        Reading(
            device_id="aq-1",
            t=BASE + i * 1000,
            values={"pm25": 12.0},
            type="air_quality",
            domain="environment",
            town="桂城街道",
        )
        for i in range(3)
    ]
    send_raw(["{not json"] + pack_messages(good, {"kind": "test", "id": "t1"}))
    event = receive_event()
    poison_id = next(r["messageId"] for r in event["Records"] if r["body"] == "{not json")
    result = api.lambda_.invoke("process_readings", event).payload
    assert result == {"batchItemFailures": [{"itemIdentifier": poison_id}]}
    assert DynamoReadingStore().rollup("aq-1", "2026-11-27T08")["count"] == 3


def test_a_bad_reading_inside_a_good_message_is_kept_with_its_reason(api):
    setup_env_device(api)
    body = json.dumps(
        {
            "source": {"kind": "test", "id": "late-1"},
            "readings": [
                {
                    "device_id": "aq-1",
                    "t": BASE,
                    "values": {"pm25": 9.0},
                    "type": "air_quality",
                    "domain": "environment",
                    "town": "桂城街道",
                },
                {
                    "device_id": "aq-1",
                    "t": BASE + 1000,
                    "values": {"pm25": 99999.0},
                    "type": "air_quality",
                    "domain": "environment",
                    "town": "桂城街道",
                },
            ],
        }
    )
    send_raw([body])
    assert process_all(api) == [{"batchItemFailures": []}]
    from citybrain.core.rejections import RejectionStore

    kept = RejectionStore().list("test#late-1")
    assert kept[0]["position"] == 1 and kept[0]["errors"][0]["field"] == "values.pm25"
    assert DynamoReadingStore().rollup("aq-1", "2026-11-27T08")["count"] == 1


def test_edge_rejections_are_answered_and_kept(api):
    key = setup_env_device(api)
    response = post(
        api,
        "/v1/readings",
        key,
        {
            "readings": [
                {"device_id": "aq-1", "observed_at": BASE, "values": {"pm25": 1}},
                {"device_id": "nope", "observed_at": BASE, "values": {"pm25": 1}},
                {"device_id": "aq-1", "observed_at": "soon", "values": {"pm25": 1}},
            ]
        },
    )
    body = response.json_body
    assert response.status_code == 202 and body["accepted"] == 1
    assert [(r["index"], r["errors"][0]["field"]) for r in body["rejected"]] == [(1, "device_id"), (2, "observed_at")]
    from citybrain.core.rejections import RejectionStore

    kept = RejectionStore().list(f"http#{body['request_id']}")
    assert [k["position"] for k in kept] == [1, 2]


def test_too_many_readings_is_413_and_malformed_body_400(api):
    key = setup_env_device(api)
    response = post(api, "/v1/readings", key, {"readings": readings("aq-1", [1.0] * 1001)})
    assert response.status_code == 413 and response.json_body["errors"][0]["field"] == "readings"
    response = api.http.post("/v1/readings", headers={"X-Api-Key": key}, body="{oops")
    assert response.status_code == 400 and response.json_body["code"] == "ValidationError"
    response = post(api, "/v1/readings", key, {"data": []})
    assert response.status_code == 400 and response.json_body["errors"][0]["field"] == "readings"


def test_archive_holds_each_reading_once_partitioned_by_local_date(api):
    key = setup_env_device(api)
    late_evening = timeutil.parse_instant("2026-11-27T23:59:00+08:00")
    batch = {"readings": readings("aq-1", [1, 2, 3], start=late_evening)}  # crosses local midnight
    post(api, "/v1/readings", key, batch)
    event = receive_event()
    api.lambda_.invoke("process_readings", event)
    api.lambda_.invoke("process_readings", event)
    s3 = boto3.client("s3")
    bucket = os.environ["CITYBRAIN_ARCHIVE_BUCKET"]
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert [k.split("/")[1] for k in keys] == ["date=2026-11-27", "date=2026-11-28"]
    lines = [json.loads(line) for k in keys for line in s3.get_object(Bucket=bucket, Key=k)["Body"].read().splitlines()]
    assert sorted(line["values"]["pm25"] for line in lines) == [1, 2, 3]


def test_concurrent_writers_of_the_same_device_hour_keep_exact_counts(aws_stack):
    """Writer A reads the rollup, writer B commits in between: A's version check
    fails, A re-reads and retries, and overlapping readings are counted once."""

    def reading(i, value):
        return Reading(
            device_id="aq-9",
            t=BASE + i * 1000,
            values={"pm25": value},
            type="air_quality",
            domain="environment",
            town="桂城街道",
        )

    batch_a = [reading(i, 10.0) for i in range(0, 6)]
    batch_b = [reading(i, 10.0) for i in range(3, 9)]  # overlaps A on 3, 4, 5
    writer_a, writer_b = reading_writer(), reading_writer()
    original = writer_a.store.current
    interleaved = []

    def read_then_let_b_commit(*args):
        state = original(*args)
        if not interleaved:
            interleaved.append(writer_b.store_readings(batch_b))
        return state

    writer_a.store.current = read_then_let_b_commit
    result_a = writer_a.store_readings(batch_a)
    assert len(interleaved[0].stored) == 6
    assert len(result_a.stored) == 3 and result_a.duplicates == 3
    rollup = DynamoReadingStore().rollup("aq-9", HOUR)
    assert rollup["count"] == 9 and rollup["values"]["pm25"] == {"n": 9, "sum": 90.0, "min": 10.0, "max": 10.0}


def test_large_device_hour_spans_several_transactions(aws_stack):
    batch = [
        Reading(
            device_id="aq-big",
            t=BASE + i * 1000,
            values={"pm25": float(i)},
            type="air_quality",
            domain="environment",
            town="桂城街道",
        )
        for i in range(250)
    ]
    result = reading_writer().store_readings(batch)
    assert len(result.stored) == 250
    rollup = DynamoReadingStore().rollup("aq-big", HOUR)
    assert rollup["count"] == 250 and rollup["values"]["pm25"]["max"] == 249.0
    assert rollup["values"]["pm25"]["sum"] == sum(range(250))
    assert DynamoReadingStore().latest("aq-big")["t"] == BASE + 249_000
