"""Hostile input on every route that takes a body or a cursor: each answer is a 4xx
naming the field (never a 500), and a request answered with an error changed nothing.

"Nothing changed" is checked on the whole emulated AWS: every table's items, every
bucket's objects and every queue's messages are the same before and after."""

from __future__ import annotations

import base64
import hashlib
import json
import os

import boto3
import pytest

from tests.integration.exchange_helpers import ADMIN_KEY, call, dataset_body, department, person_records
from tests.integration.helpers import device, headers

DEEP_LIST = "[" * 10_000 + "]" * 10_000
DEEP_OBJECT = '{"a":' * 10_000 + "1" + "}" * 10_000


@pytest.fixture
def district(api):
    keys = {"env": department(api, "env-bureau"), "health": department(api, "health-bureau")}
    device(api, keys["env"], "gc-air-1")
    published = call(api, "POST", "/v1/datasets", keys["env"], dataset_body("dibao-h"))
    assert published.status_code == 201, published.body
    loaded = call(api, "POST", "/v1/datasets/dibao-h/records", keys["env"], {"records": person_records(3)})
    assert loaded.status_code == 200, loaded.body
    asked = call(api, "POST", "/v1/datasets/dibao-h/access-requests", keys["health"], {"purpose": "重点人群随访核对"})
    assert asked.status_code == 201, asked.body
    keys["request"] = asked.json_body["id"]
    return keys


def snapshot() -> str:
    """A digest of everything stored: items of every table, objects of every bucket, queued messages."""
    ddb, s3, sqs = boto3.client("dynamodb"), boto3.client("s3"), boto3.client("sqs")
    state: dict = {}
    for name in sorted(v for k, v in os.environ.items() if k.startswith("CITYBRAIN_") and k.endswith("_TABLE")):
        items = []
        for page in ddb.get_paginator("scan").paginate(TableName=name):
            items += page["Items"]
        state[name] = sorted(json.dumps(i, sort_keys=True) for i in items)
    for name in sorted(v for k, v in os.environ.items() if k.startswith("CITYBRAIN_") and k.endswith("_BUCKET")):
        state[name] = sorted((o["Key"], o["ETag"]) for o in s3.list_objects_v2(Bucket=name).get("Contents", []))
    for name in sorted(v for k, v in os.environ.items() if k.startswith("CITYBRAIN_") and k.endswith("_QUEUE")):
        attributes = sqs.get_queue_attributes(QueueUrl=name, AttributeNames=["All"])["Attributes"]
        state[name] = attributes["ApproximateNumberOfMessages"], attributes["ApproximateNumberOfMessagesNotVisible"]
    return hashlib.sha256(json.dumps(state, sort_keys=True, default=str).encode()).hexdigest()


def send(api, method: str, path: str, key: str, raw: str):
    return getattr(api.http, method.lower())(path, headers=headers(key), body=raw.encode("utf-8", "surrogatepass"))


def assert_refused(response, status: int, field: str | None = None, code: str = "ValidationError") -> None:
    assert response.status_code == status, response.body
    body = response.json_body
    assert body["code"] == code, body
    if field is not None:
        assert field in [e["field"] for e in body.get("errors", [])], body


# Every route that reads a body: (method, path, key name, a valid body, a string field of it).
BODY_ROUTES = [
    ("POST", "/v1/departments", "admin", {"name": "区水务局"}, "name"),
    (
        "POST",
        "/v1/devices",
        "env",
        {
            **{"id": "gc-air-9", "type": "air_quality", "domain": "environment"},
            "town": "桂城街道",
            "location": {"lat": 23.0, "lon": 113.1},
        },
        "id",
    ),
    (
        "PUT",
        "/v1/devices/gc-air-1",
        "env",
        {
            "id": "gc-air-1",
            "type": "air_quality",
            "domain": "environment",
            "town": "桂城街道",
            "location": {"lat": 23.0, "lon": 113.1},
        },
        "town",
    ),
    (
        "POST",
        "/v1/readings",
        "env",
        {"readings": [{"device_id": "gc-air-1", "observed_at": "2026-11-27T08:00:00+08:00", "values": {"pm25": 30.0}}]},
        "readings.0.device_id",
    ),
    ("POST", "/v1/uploads", "env", {"filename": "readings.csv"}, "filename"),
    ("POST", "/v1/datasets", "env", dataset_body("hostile-ds"), "title"),
    ("PATCH", "/v1/datasets/dibao-h", "env", {"title": "低保名单（更新）"}, "title"),
    ("POST", "/v1/datasets/dibao-h/records", "env", {"records": person_records(1, seed=7)}, "records.0.name"),
    ("POST", "/v1/datasets/dibao-h/access-requests", "health", {"purpose": "核对随访名单"}, "purpose"),
    ("POST", "/v1/access-requests/{request}/decision", "env", {"decision": "reject", "reason": "用途不明"}, "reason"),
    ("POST", "/v1/alerts/no-such-alert/acknowledge", "env", {"note": "已到场"}, "note"),
    ("POST", "/v1/alerts/no-such-alert/resolve", "env", {"note": "已处置"}, "note"),
    ("DELETE", "/v1/grants/no-such-grant", "env", {"reason": "停止共享"}, "reason"),
    ("POST", "/v1/reports", "env", {"kind": "daily", "date": "2026-11-26", "town": "九江镇"}, "date"),
    (
        "POST",
        "/v1/risk-points",
        "env",
        {
            "name": "九江大桥",
            "category": "lifeline",
            "kind": "桥梁",
            "town": "九江镇",
            "location": {"lat": 22.84, "lon": 113.04},
            "risk_level": "major",
        },
        "name",
    ),
    (
        "POST",
        "/v1/cases",
        "env",
        {
            "category": "部件",
            "subcategory": "井盖缺失",
            "description": "井盖缺失",
            "town": "桂城街道",
            "location": {"lat": 23.03, "lon": 113.14},
        },
        "subcategory",
    ),
]


def _key(district, name: str) -> str:
    return ADMIN_KEY if name == "admin" else district[name]


def _with_string(body, dotted: str, raw_value: str) -> str:
    """The body as JSON text with the string at `dotted` replaced by raw JSON text."""
    marker = "\u2603MARK\u2603"
    target = body = json.loads(json.dumps(body))
    parts = dotted.split(".")
    for part in parts[:-1]:
        target = target[int(part)] if isinstance(target, list) else target[part]
    last = parts[-1]
    target[int(last) if isinstance(target, list) else last] = marker
    return json.dumps(body, ensure_ascii=False).replace(json.dumps(marker, ensure_ascii=False), raw_value)


@pytest.mark.parametrize(
    ("method", "path", "who", "body", "field"), BODY_ROUTES, ids=[f"{m} {p}" for m, p, *_ in BODY_ROUTES]
)
def test_hostile_bodies_are_refused_and_change_nothing(api, district, method, path, who, body, field):
    path = path.replace("{request}", district["request"])
    key = _key(district, who)
    before = snapshot()
    cases = [
        (DEEP_LIST, 400, "body"),
        (DEEP_OBJECT, 400, "body"),
        (_with_string(body, field, '"\\ud800"'), 400, field),  # a lone surrogate
        (_with_string(body, field, '"ok\\udfff"'), 400, field),
        (json.dumps({**body, "z": "__NUM__"}).replace('"__NUM__"', "NaN"), 400, "body"),
        (json.dumps({**body, "z": "__NUM__"}).replace('"__NUM__"', "Infinity"), 400, "body"),
        (json.dumps({**body, "z": "__NUM__"}).replace('"__NUM__"', "-Infinity"), 400, "body"),
        (json.dumps({**body, "z": "__NUM__"}).replace('"__NUM__"', "1e400"), 400, "body"),
        ("{not json", 400, "body"),
    ]
    for raw, status, where in cases:
        assert_refused(send(api, method, path, key, raw), status, where)
    too_big = json.dumps({**body, "z": "x" * (6 * 1024 * 1024)})
    assert_refused(send(api, method, path, key, too_big), 413, "body", code="PayloadTooLarge")
    assert snapshot() == before


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        (
            "POST",
            "/v1/devices",
            {
                "id": "gc-air-8",
                "type": "air_quality",
                "domain": "environment",
                "town": "桂城街道",
                "location": {"lat": True, "lon": 113.1},
            },
            "location.lat",
        ),
        (
            "POST",
            "/v1/devices",
            {
                "id": "gc-air-8",
                "type": "air_quality",
                "domain": "environment",
                "town": "桂城街道",
                "location": {"lat": "23.0", "lon": 113.1},
            },
            "location.lat",
        ),
        (
            "POST",
            "/v1/devices",
            {
                "id": "gc-wl-8",
                "type": "water_level",
                "domain": "safety",
                "town": "九江镇",
                "location": {"lat": 22.8, "lon": 113.0},
                "thresholds": {"warning": False, "guarantee": 5},
            },
            "thresholds.warning",
        ),
        (
            "POST",
            "/v1/devices",
            {
                "id": "gc-air-8",
                "type": "air_quality",
                "domain": "environment",
                "town": "桂城街道",
                "location": {"lat": 23.0, "lon": 113.1},
                "reporting_interval_seconds": True,
            },
            "reporting_interval_seconds",
        ),
        (
            "POST",
            "/v1/readings",
            {"readings": [{"device_id": "gc-air-1", "observed_at": True, "values": {"pm25": 30.0}}]},
            "observed_at",
        ),
        (
            "POST",
            "/v1/readings",
            {
                "readings": [
                    {"device_id": "gc-air-1", "observed_at": "2026-11-27T08:00:00+08:00", "values": {"pm25": True}}
                ]
            },
            "values.pm25",
        ),
        ("POST", "/v1/datasets/dibao-h/access-requests", {"purpose": "核对随访名单", "expires_at": True}, "expires_at"),
        ("POST", "/v1/datasets/dibao-h/access-requests", {"purpose": "核对随访名单", "expires_at": 1.5}, "expires_at"),
        ("POST", "/v1/datasets", {**dataset_body("typed-ds"), "temporal": {"start": 1700006400}}, "temporal.start"),
        (
            "POST",
            "/v1/datasets",
            {
                **dataset_body("typed-ds"),
                "schema": [{**dataset_body("typed-ds")["schema"][0], "required": "yes"}]
                + dataset_body("typed-ds")["schema"][1:],
            },
            "schema.fields.0.required",
        ),
    ],
)
def test_booleans_and_strings_are_never_numbers(api, district, method, path, body, field):
    """(Also: booleans are JSON booleans, dates ISO strings.)"""
    before = snapshot()
    key = district["health"] if "access-requests" in path else district["env"]
    response = call(api, method, path, key, body)
    if path == "/v1/readings":  # a batch answers per reading: 202 with the reading rejected, nothing queued
        assert response.status_code == 202, response.body
        assert response.json_body["accepted"] == 0
        fields = [e["field"] for r in response.json_body["rejected"] for e in r["errors"]]
        assert fields and all(f.startswith(field) for f in fields), response.body
        return
    assert response.status_code == 400, response.body
    fields = [e["field"] for e in response.json_body["errors"]]
    assert fields and all(f.startswith(field) for f in fields), response.body  # "expires_at.int": the union's member
    assert snapshot() == before


@pytest.mark.parametrize(
    "bad", ["a\u0000b", "环保\u202e局", "零\u200b宽", "环\u061c保", "环\u2028保", "环\U000e0041保", "\u009b", "换\n行"]
)
@pytest.mark.parametrize(
    ("method", "path", "who", "body", "field"),
    [
        ("POST", "/v1/departments", "admin", {"name": "@@X@@"}, "name"),
        (
            "POST",
            "/v1/devices",
            "env",
            {
                "id": "gc-air-7",
                "type": "air_quality",
                "domain": "environment",
                "town": "桂城街道",
                "location": {"lat": 23.0, "lon": 113.1},
                "name": "@@X@@",
            },
            "name",
        ),
        ("POST", "/v1/datasets", "env", dataset_body("named-ds", title="@@X@@"), "title"),
        ("PATCH", "/v1/datasets/dibao-h", "env", {"title": "@@X@@"}, "title"),
        ("PATCH", "/v1/datasets/dibao-h", "env", {"keywords": ["@@X@@"]}, "keywords.0"),
        ("POST", "/v1/uploads", "env", {"filename": "@@X@@.csv"}, "filename"),
        ("POST", "/v1/alerts/no-such-alert/acknowledge", "env", {"note": "@@X@@"}, "note"),
    ],
)
def test_names_and_titles_reject_invisible_characters(api, district, bad, method, path, who, body, field):
    before = snapshot()
    text = json.dumps(body, ensure_ascii=False).replace("@@X@@", json.dumps(bad)[1:-1])
    response = send(api, method, path, _key(district, who), text)
    if field == "note" and bad == "换\n行":  # free text may hold line breaks: the note is fine, the alert unknown
        assert_refused(response, 404, code="NotFound")
    else:
        assert_refused(response, 400, field)
    assert snapshot() == before


@pytest.mark.parametrize("field", ["title", "domain", "sensitivity"])
def test_patching_a_required_field_to_null_is_a_400(api, district, field):
    before = snapshot()
    assert_refused(call(api, "PATCH", "/v1/datasets/dibao-h", district["env"], {field: None}), 400, field)
    assert snapshot() == before
    assert call(api, "GET", "/v1/datasets/dibao-h", district["env"]).json_body[field] is not None


def test_patching_an_optional_field_to_null_resets_it_and_keeps_the_dataset_readable(api, district):
    key = district["env"]
    for body in (
        {"update_frequency": None, "spatial": None},
        {"description": None, "keywords": None},
        {"license": None, "temporal": None},
    ):
        response = call(api, "PATCH", "/v1/datasets/dibao-h", key, body)
        assert response.status_code == 200, response.body
    shown = call(api, "GET", "/v1/datasets/dibao-h", key).json_body
    assert (shown["update_frequency"], shown["spatial"], shown["description"], shown["keywords"]) == (
        "irregular",
        [],
        "",
        [],
    )
    assert "license" not in shown and "temporal" not in shown
    assert call(api, "GET", "/v1/datasets", key).status_code == 200


def test_a_load_whose_every_record_is_rejected_leaves_no_version(api, district):
    before = snapshot()
    versions = call(api, "GET", "/v1/datasets/dibao-h/versions", district["env"]).json_body["items"]
    response = call(api, "POST", "/v1/datasets/dibao-h/records", district["env"], {"records": [{"name": "无证号"}]})
    assert_refused(response, 400, "records.0.id_card")
    response = call(api, "POST", "/v1/datasets/dibao-h/records", district["env"], {"records": []})
    assert_refused(response, 400, "records")
    assert snapshot() == before
    assert call(api, "GET", "/v1/datasets/dibao-h/versions", district["env"]).json_body["items"] == versions


def test_another_departments_exchange_stats_are_forbidden(api, district):
    response = call(api, "GET", "/v1/exchange/stats", district["health"], department="env-bureau")
    assert_refused(response, 403, code="Forbidden")


def _forged(payload) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


CURSOR_ROUTES = [
    ("/v1/devices", "env"),
    ("/v1/devices/gc-air-1/readings", "env"),
    ("/v1/alerts", "env"),
    ("/v1/datasets", "env"),
    ("/v1/datasets/dibao-h/versions", "env"),
    ("/v1/datasets/dibao-h/records", "env"),
    ("/v1/access-requests", "env"),
    ("/v1/grants", "env"),
    ("/v1/audit", "env"),
    ("/v1/audit/anchors", "env"),
    ("/v1/catalog.jsonld", "env"),
    ("/v1/reports", "env"),
    ("/v1/risk-points", "env"),
    ("/v1/incidents", "env"),
    ("/v1/cases", "env"),
]
FORGED = [
    _forged({"a": 1}),
    _forged({"id": 1}),
    _forged({"t": "x"}),
    _forged({"t": True}),
    _forged([1, 2]),
    _forged({"i": True, "id": 5}),
    _forged({"k": "", "id": ""}),
    _forged({"t": 10**40}),
    _forged({"id": "x" * 2000}),
    base64.urlsafe_b64encode(b'{"i": Infinity, "id": "x"}').decode(),
    base64.urlsafe_b64encode(b'{"t": NaN}').decode(),
    _forged({"below": "1"}),
    _forged({"below": 0}),
    _forged("cursor"),
    "not*base64",
    base64.urlsafe_b64encode(b"[" * 5000).decode(),
]


@pytest.mark.parametrize(("path", "who"), CURSOR_ROUTES, ids=[p for p, _ in CURSOR_ROUTES])
def test_forged_cursors_are_a_400(api, district, path, who):
    before = snapshot()
    for cursor in FORGED:
        response = call(api, "GET", path, district[who], cursor=cursor)
        assert_refused(response, 400, "cursor")
    assert snapshot() == before


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from_seq": "0"}, "from_seq"),
        ({"from_seq": "-1"}, "from_seq"),
        ({"from_seq": "1.5"}, "from_seq"),
        ({"from_seq": "٣"}, "from_seq"),
        ({"from_seq": "1" * 40}, "from_seq"),
        ({"to_seq": "abc"}, "to_seq"),
        ({"from_seq": "10", "to_seq": "9"}, "to_seq"),
        ({"from_seq": "1", "to_seq": "1001"}, "to_seq"),
    ],
)
def test_bad_audit_export_bounds_are_a_400_naming_the_field(api, district, params, field):
    before = snapshot()
    response = call(api, "GET", "/v1/audit/export", ADMIN_KEY, **params)
    assert_refused(response, 400, field)
    assert snapshot() == before


@pytest.mark.parametrize(("params", "field"), [({"after_seq": "-1"}, "after_seq"), ({"limit": "0"}, "limit")])
def test_bad_anchor_listing_parameters_are_a_400_naming_the_field(api, district, params, field):
    before = snapshot()
    assert_refused(call(api, "GET", "/v1/audit/anchors", district["env"], **params), 400, field)
    assert snapshot() == before
