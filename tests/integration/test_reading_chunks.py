"""Readings stored as one item per device-hour (chunk), deduplicated through the rollups'
lists of stored readings, a whole SQS batch at a time."""

from __future__ import annotations

import json
import os

import boto3

from citybrain.core import timeutil
from citybrain.sensing.queue import pack_messages
from citybrain.sensing.reading_store import DynamoReadingStore
from citybrain.sensing.readings import Reading
from tests.integration.helpers import reading_writer, receive_event, send_raw

HOUR = "2026-11-27T08"
BASE = timeutil.parse_instant("2026-11-27T08:00:00+08:00")


def reading(device_id: str, t: int, value: float) -> Reading:
    return Reading(
        device_id=device_id, t=t, values={"pm25": value}, type="air_quality", domain="environment", town="桂城街道"
    )


def readings_items(device_id: str) -> list[dict]:
    table = os.environ["CITYBRAIN_READINGS_TABLE"]
    return boto3.client("dynamodb").query(
        TableName=table,
        KeyConditionExpression="device_id = :d",
        ExpressionAttributeValues={":d": {"S": device_id}},
    )["Items"]


def test_a_batch_of_time_steps_is_one_item_per_device_hour(api):
    steps = [[reading(f"aq-{d}", BASE + step * 60_000, 10.0 + step) for d in range(3)] for step in range(5)]
    send_raw([body for step, rs in enumerate(steps) for body in pack_messages(rs, {"kind": "test", "id": f"s{step}"})])
    event = receive_event()
    assert len(event["Records"]) == 5
    assert api.lambda_.invoke("process_readings", event).payload == {"batchItemFailures": []}
    items = readings_items("aq-1")
    assert len(items) == 1 and items[0]["n"] == {"N": "5"}
    rollup = DynamoReadingStore().rollup("aq-1", HOUR)
    assert rollup["count"] == 5 and rollup["values"]["pm25"]["min"] == 10.0 and rollup["values"]["pm25"]["max"] == 14.0
    assert "ids" not in rollup
    assert api.lambda_.invoke("process_readings", event).payload == {"batchItemFailures": []}  # redelivered
    assert DynamoReadingStore().rollup("aq-1", HOUR)["count"] == 5 and len(readings_items("aq-1")) == 1


def test_partial_overlaps_and_late_readings_count_once_and_read_back_in_order(aws_stack):
    writer = reading_writer()
    writer.store_readings([reading("aq-1", BASE + i * 1000, float(i)) for i in range(0, 60, 2)])  # even seconds
    result = writer.store_readings([reading("aq-1", BASE + i * 1000, float(i)) for i in range(0, 60)])  # all
    assert len(result.stored) == 30 and result.duplicates == 30
    late = BASE - 500  # the hour before
    writer.store_readings([reading("aq-1", late, 99.0), reading("aq-1", BASE + 3_600_000, 1.0)])
    rollup = DynamoReadingStore().rollup("aq-1", HOUR)
    assert rollup["count"] == 60 and rollup["values"]["pm25"]["sum"] == sum(range(60))
    assert rollup["values"]["pm25"]["min"] == 0.0 and rollup["values"]["pm25"]["max"] == 59.0
    store = DynamoReadingStore()
    everything, _ = store.series("aq-1", late, BASE + 3_600_000, 1000, None)
    expected = [late] + [BASE + i * 1000 for i in range(60)] + [BASE + 3_600_000]
    assert [r["t"] for r in everything] == expected
    assert everything[1]["observed_at"] == "2026-11-27T08:00:00+08:00" and "airQualityIndex" in everything[1]
    paged, cursor = [], None
    while True:
        page, cursor = store.series("aq-1", late, BASE + 3_600_000, 7, cursor)
        paged.extend(page)
        if not cursor:
            break
    assert paged == everything
    window, _ = store.series("aq-1", BASE + 10_500, BASE + 20_000, 100, None)  # inside chunks
    assert [r["t"] for r in window] == [BASE + i * 1000 for i in range(11, 21)]


def test_readings_stored_one_per_item_before_chunks_are_read_and_not_counted_again(aws_stack):
    """The local stack's saved district keeps items of one reading and rollups without ids."""
    ddb = boto3.client("dynamodb")
    for i in range(3):
        t = BASE + i * 60_000
        ddb.put_item(
            TableName=os.environ["CITYBRAIN_READINGS_TABLE"],
            Item={
                "device_id": {"S": "aq-old"},
                "t": {"N": str(t)},
                "observed_at": {"S": timeutil.local_iso(t)},
                "values": {"M": {"pm25": {"N": str(20 + i)}}},
                "expires_at": {"N": str(t // 1000 + 86400)},
            },
        )
    ddb.put_item(
        TableName=os.environ["CITYBRAIN_ROLLUPS_TABLE"],
        Item={
            "device_id": {"S": "aq-old"},
            "hour": {"S": HOUR},
            "count": {"N": "3"},
            "values": {
                "M": {
                    "pm25": {"M": {"n": {"N": "3"}, "sum": {"N": "63.0"}, "min": {"N": "20.0"}, "max": {"N": "22.0"}}}
                }
            },
            "version": {"N": "3"},
        },
    )
    result = reading_writer().store_readings([reading("aq-old", BASE + i * 60_000, 20.0 + i) for i in range(5)])
    assert len(result.stored) == 2 and result.duplicates == 3
    rollup = DynamoReadingStore().rollup("aq-old", HOUR)
    assert rollup["count"] == 5 and rollup["values"]["pm25"] == {"n": 5, "sum": 110.0, "min": 20.0, "max": 24.0}
    series, _ = DynamoReadingStore().series("aq-old", BASE, BASE + 3_600_000, 100, None)
    assert [r["values"]["pm25"] for r in series] == [20, 21, 22, 24.0 - 1, 24.0]
    assert json.dumps(series[0], sort_keys=True) == json.dumps(
        {"device_id": "aq-old", "t": BASE, "observed_at": "2026-11-27T08:00:00+08:00", "values": {"pm25": 20}},
        sort_keys=True,
    )


def test_rollups_and_states_keep_nested_values_as_json_and_read_maps_stored_before(aws_stack):
    ddb = boto3.client("dynamodb")
    state_table = os.environ["CITYBRAIN_DEVICE_STATE_TABLE"]
    ddb.put_item(  # a latest state stored with maps, as before
        TableName=state_table,
        Item={
            "device_id": {"S": "aq-map"},
            "t": {"N": str(BASE)},
            "observed_at": {"S": timeutil.local_iso(BASE)},
            "values": {"M": {"pm25": {"N": "20.0"}}},
            "derived": {"M": {"airQualityIndex": {"N": "29"}}},
            "version": {"N": "1"},
        },
    )
    store = DynamoReadingStore()
    assert store.latest("aq-map")["values"] == {"pm25": 20.0} and store.latest("aq-map")["airQualityIndex"] == 29
    reading_writer().store_readings([reading("aq-map", BASE + 60_000, 35.5)])
    raw_state = ddb.get_item(TableName=state_table, Key={"device_id": {"S": "aq-map"}})["Item"]
    assert json.loads(raw_state["values"]["S"]) == {"pm25": 35.5} and "S" in raw_state["derived"]
    raw_rollup = ddb.get_item(
        TableName=os.environ["CITYBRAIN_ROLLUPS_TABLE"], Key={"device_id": {"S": "aq-map"}, "hour": {"S": HOUR}}
    )["Item"]
    assert json.loads(raw_rollup["values"]["S"]) == {"pm25": {"n": 1, "sum": 35.5, "min": 35.5, "max": 35.5}}
    latest = store.latest("aq-map")
    assert latest["values"] == {"pm25": 35.5} and latest["t"] == BASE + 60_000 and "version" not in latest
    assert latest["airQualityIndex"] > 29
    assert store.states(["aq-map"])["aq-map"]["values"] == {"pm25": 35.5}
    assert store.rollups(["aq-map"], [HOUR])[("aq-map", HOUR)]["values"]["pm25"]["max"] == 35.5
    assert store.rollup("aq-map", HOUR)["values"]["pm25"]["n"] == 1


def test_a_poison_message_among_many_fails_alone(api):
    good = [
        body
        for step in range(4)
        for body in pack_messages([reading("aq-1", BASE + step * 1000, 1.0)], {"id": f"{step}"})
    ]
    send_raw(good[:2] + ["{not json"] + good[2:])
    event = receive_event()
    poison = next(r["messageId"] for r in event["Records"] if r["body"] == "{not json")
    assert api.lambda_.invoke("process_readings", event).payload == {"batchItemFailures": [{"itemIdentifier": poison}]}
    assert DynamoReadingStore().rollup("aq-1", HOUR)["count"] == 4
