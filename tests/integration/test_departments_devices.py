"""Departments, keys and the device registry through the HTTP API."""

from __future__ import annotations

import json

from tests.conftest import ADMIN_KEY
from tests.integration.helpers import department, device, headers, post

AIR = {
    "id": "aq-1",
    "type": "air_quality",
    "domain": "environment",
    "town": "桂城街道",
    "location": {"lat": 23.03, "lon": 113.15},
}


def test_missing_or_unknown_key_is_401_and_known_but_not_allowed_is_403(api):
    assert api.http.get("/v1/devices").status_code == 401
    r = api.http.get("/v1/devices", headers={"X-Api-Key": "cb_nonsense"})
    assert r.status_code == 401 and r.json_body["code"] == "Unauthorized"
    key = department(api, "transport", "区交通运输局")
    r = post(api, "/v1/departments", key, {"name": "伪造部门"})
    assert r.status_code == 403 and r.json_body["code"] == "Forbidden"


def test_department_key_is_shown_once_and_stored_hashed(api, aws_stack):
    import boto3

    key = department(api, "environment", "区生态环境局")
    items = boto3.client("dynamodb").scan(TableName=aws_stack["CITYBRAIN_DEPARTMENTS_TABLE"])["Items"]
    assert key not in json.dumps(items)
    r = api.http.get("/v1/departments", headers=headers(key))
    assert {"environment", "data-bureau"} <= {d["id"] for d in r.json_body["items"]}
    assert "api_key" not in json.dumps(r.json_body)


def test_duplicate_department_is_409_with_the_field(api):
    department(api, "health", "区卫生健康局")
    r = post(api, "/v1/departments", ADMIN_KEY, {"id": "health", "name": "again"})
    assert r.status_code == 409 and r.json_body["errors"] == [{"field": "id", "message": "already exists"}]


def test_device_validation_names_each_wrong_field(api):
    key = department(api, "environment")
    r = post(api, "/v1/devices", key, {**AIR, "type": "radar", "town": "广州", "location": {"lat": 123, "lon": 113}})
    assert r.status_code == 400
    assert {e["field"] for e in r.json_body["errors"]} == {"type", "town", "location.lat"}
    r = post(api, "/v1/devices", key, {**AIR, "id": "n-1", "type": "noise"})
    assert r.status_code == 400 and "acoustic_zone" in r.json_body["errors"][0]["message"]
    r = post(
        api,
        "/v1/devices",
        key,
        {
            **AIR,
            "id": "w-1",
            "type": "water_level",
            "domain": "safety",
            "thresholds": {"warning": 5.0, "guarantee": 4.0},
        },
    )
    assert r.status_code == 400 and r.json_body["errors"][0]["field"] == "thresholds"


def test_device_belongs_to_its_department(api):
    env = department(api, "environment")
    transport = department(api, "transport")
    device(api, env, "aq-1")
    r = api.http.put("/v1/devices/aq-1", headers=headers(transport), body=json.dumps({**AIR, "name": "x"}))
    assert r.status_code == 403
    r = api.http.put("/v1/devices/aq-1", headers=headers(env), body=json.dumps({**AIR, "name": "桂城监测站"}))
    assert r.status_code == 200 and r.json_body["name"] == "桂城监测站" and r.json_body["owner"] == "environment"
    r = post(
        api,
        "/v1/readings",
        transport,
        {"readings": [{"device_id": "aq-1", "observed_at": "2026-11-27T08:00:00+08:00", "values": {"pm25": 3}}]},
    )
    assert r.json_body["accepted"] == 0 and r.json_body["rejected"][0]["errors"][0]["field"] == "device_id"
    assert post(api, "/v1/devices", env, AIR).status_code == 409


def test_get_device_shows_state_and_404_for_unknown(api):
    key = department(api, "safety", "区应急管理局")
    device(
        api,
        key,
        "wl-1",
        type_="water_level",
        domain="safety",
        town="九江镇",
        thresholds={"warning": 7.5, "guarantee": 9.2},
    )
    body = api.http.get("/v1/devices/wl-1", headers=headers(key)).json_body
    assert body["thresholds"] == {"warning": 7.5, "guarantee": 9.2} and body["status"] == "never_reported"
    r = api.http.get("/v1/devices/nope", headers=headers(key))
    assert r.status_code == 404 and r.json_body["code"] == "NotFound"


def test_list_devices_filters_and_pages(api):
    key = department(api, "urban", "区城管局")
    towns = ["桂城街道", "大沥镇", "里水镇"]
    for i in range(7):
        device(api, key, f"ns-{i}", type_="noise", domain="urban", town=towns[i % 3], acoustic_zone="2")
    seen, cursor = [], None
    while True:
        url = "/v1/devices?type=noise&limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = api.http.get(url, headers=headers(key)).json_body
        assert len(page["items"]) <= 2
        seen += [d["id"] for d in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == [f"ns-{i}" for i in range(7)]
    from urllib.parse import quote

    page = api.http.get(f"/v1/devices?town={quote('大沥镇')}", headers=headers(key)).json_body
    assert sorted(d["id"] for d in page["items"]) == ["ns-1", "ns-4"]
    r = api.http.get("/v1/devices?town=atlantis", headers=headers(key))
    assert r.status_code == 400 and r.json_body["errors"][0]["field"] == "town"
    r = api.http.get("/v1/devices?cursor=%%%", headers=headers(key))
    assert r.status_code == 400 and r.json_body["errors"][0]["field"] == "cursor"
