"""Readings posted over HTTP open, escalate and auto-resolve alerts that the
API shows and the alerts topic announces."""

from __future__ import annotations

import json

import boto3

from citybrain.core import timeutil
from tests.integration.alert_helpers import subscribe
from tests.integration.helpers import department, device, headers, post, process_all

BASE = timeutil.now_ms() - 3_600_000


def gauge_readings(levels: list[float], start_minute: int = 0) -> dict:
    return {
        "readings": [
            {
                "device_id": "jj-water-01",
                "observed_at": BASE + (start_minute + i) * 60_000,
                "values": {"waterLevel": level},
            }
            for i, level in enumerate(levels)
        ]
    }


def alerts(api, key: str, **params) -> list[dict]:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    response = api.http.get(f"/v1/alerts?{query}", headers=headers(key))
    assert response.status_code == 200, response.body
    return response.json_body["items"]


def test_a_flood_opens_escalates_and_resolves_itself(api):
    key = department(api, "safety", "区应急管理局")
    device(
        api,
        key,
        "jj-water-01",
        type_="water_level",
        domain="safety",
        town="九江镇",
        thresholds={"warning": 5.0, "guarantee": 6.5},
    )
    inbox = subscribe({"severity": ["critical"]}, name="flood-duty")

    post(api, "/v1/readings", key, gauge_readings([4.2, 5.3]))
    process_all(api)
    [alert] = alerts(api, key, status="open")
    assert (alert["category"], alert["subCategory"], alert["severity"]) == ("weather", "floodRisk", "high")
    assert alert["alertSource"] == "jj-water-01" and alert["town"] == "九江镇"

    post(api, "/v1/readings", key, gauge_readings([5.9, 6.8], start_minute=2))
    process_all(api)
    [alert] = alerts(api, key, status="open")  # escalated in place, not duplicated
    assert alert["severity"] == "critical" and alert["occurrences"] == 3 and alert["peakValue"] == 6.8

    post(api, "/v1/readings", key, gauge_readings([4.0, 3.9, 3.8], start_minute=4))
    process_all(api)
    assert alerts(api, key, status="open") == []
    resolved = api.http.get(f"/v1/alerts/{alert['id']}", headers=headers(key)).json_body
    assert resolved["status"] == "resolved" and resolved["resolvedBy"] == "auto"
    assert [h["action"] for h in resolved["history"]] == ["opened", "escalated", "resolved"]

    # The duty queue filters on critical: the escalation and the resolution of the (now critical)
    # alert reach it, the opening at high did not.
    messages = boto3.client("sqs").receive_message(QueueUrl=inbox, MaxNumberOfMessages=10).get("Messages", [])
    notes = [json.loads(m["Body"]) for m in messages]
    assert {n["MessageAttributes"]["severity"]["Value"] for n in notes} == {"critical"}
    assert sorted(json.loads(n["Message"])["event"] for n in notes) == ["escalated", "resolved"]


def test_a_redelivered_message_does_not_open_a_second_alert(api):
    key = department(api, "safety", "区应急管理局")
    device(
        api,
        key,
        "jj-water-01",
        type_="water_level",
        domain="safety",
        town="九江镇",
        thresholds={"warning": 5.0, "guarantee": 6.5},
    )
    post(api, "/v1/readings", key, gauge_readings([5.5]))
    from tests.integration.helpers import receive_event

    event = receive_event()
    api.lambda_.invoke("process_readings", event)
    api.lambda_.invoke("process_readings", event)
    [alert] = alerts(api, key)
    assert alert["occurrences"] == 1


def test_the_latest_air_reading_shows_its_index_level_and_primary_pollutant(api):
    key = department(api, "environment", "区生态环境局")
    device(api, key, "gc-air-01")
    post(
        api,
        "/v1/readings",
        key,
        {
            "readings": [
                {"device_id": "gc-air-01", "observed_at": BASE, "values": {"pm25": 180.0, "pm10": 150.0, "no2": 40.0}}
            ]
        },
    )
    process_all(api)
    latest = api.http.get("/v1/devices/gc-air-01", headers=headers(key)).json_body["latest"]
    assert (latest["airQualityIndex"], latest["airQualityLevel"], latest["primaryPollutant"]) == (
        230,
        "重度污染",
        ["pm25"],
    )
    [alert] = alerts(api, key, domain="environment")
    assert (alert["subCategory"], alert["severity"]) == ("airPollution", "high")
