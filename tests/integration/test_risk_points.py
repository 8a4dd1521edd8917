"""The risk registry (风险清单) over HTTP on the emulated AWS: a department registers its risk
points with their monitoring devices (any department's), changes them at the version it
read, and every department reads their state."""

from __future__ import annotations

import pytest

from tests.conftest import ADMIN_KEY
from tests.integration.helpers import department, device, headers, post, process_all

BRIDGE = {
    "name": "九江大桥",
    "category": "lifeline",
    "kind": "桥梁",
    "town": "九江镇",
    "location": {"lat": 22.84, "lon": 113.04},
    "risk_level": "major",
    "contacts": [{"name": "陈工", "phone": "0757-86333110", "role": "值班负责人"}],
}


@pytest.fixture
def district(api):
    keys = {
        "housing": department(api, "housing", "区住建水利局"),
        "transport": department(api, "transport", "区交通运输局"),
    }
    device(
        api,
        keys["housing"],
        "jj-struct-01",
        type_="structure",
        domain="housing",
        town="九江镇",
        rules={"tilt_limit_deg": 0.5},
    )
    device(api, keys["transport"], "jj-road-01", type_="traffic_flow", domain="traffic", town="九江镇")
    return keys


def put(api, path, key, body):
    import json

    return api.http.put(path, headers=headers(key), body=json.dumps(body, ensure_ascii=False))


def test_a_department_registers_a_point_binding_its_own_and_another_departments_device(api, district):
    body = {**BRIDGE, "devices": ["jj-struct-01", "jj-road-01"]}
    response = post(api, "/v1/risk-points", district["housing"], body)
    assert response.status_code == 201, response.body
    point = response.json_body
    assert point["id"].startswith("rp-") and point["department"] == "housing" and point["version"] == 1
    assert (point["risk_level_name"], point["colour"], point["category_name"]) == ("重大风险", "红", "城市生命线")
    # the transport bureau's road sensor is bound by housing: recorded with who and when
    assert [(b["device_id"], b["owner"], b["bound_by"]) for b in point["bindings"]] == [
        ("jj-road-01", "transport", "housing")
    ]

    (entry,) = [e for e in api.http.get("/v1/audit", headers=headers(ADMIN_KEY)).json_body["items"]
                if e["action"] == "risk_point.registered"]  # fmt: skip
    assert entry["actor"] == "housing" and entry["details"]["risk_point"] == point["id"]
    assert entry["details"]["bound_from_other_departments"] == ["jj-road-01"]
    assert api.http.get("/v1/audit/verify", headers=headers(ADMIN_KEY)).json_body["ok"] is True

    listed = api.http.get("/v1/risk-points?town=九江镇&level=major", headers=headers(district["transport"]))
    assert [p["id"] for p in listed.json_body["items"]] == [point["id"]]
    assert (
        api.http.get("/v1/risk-points?category=public_safety", headers=headers(district["transport"])).json_body[
            "items"
        ]
        == []
    )


def test_reading_a_point_shows_its_devices_latest_readings_and_open_alerts(api, district):
    point = post(api, "/v1/risk-points", district["housing"], {**BRIDGE, "devices": ["jj-struct-01", "jj-road-01"]})
    point_id = point.json_body["id"]
    readings = [
        {"device_id": "jj-struct-01", "observed_at": "2026-12-01T08:00:00+08:00", "values": {"tilt": 0.9}},
    ]
    assert post(api, "/v1/readings", district["housing"], {"readings": readings}).status_code == 202
    process_all(api)
    detail = api.http.get(f"/v1/risk-points/{point_id}", headers=headers(district["transport"])).json_body
    states = {d["device_id"]: d["latest"] for d in detail["state"]["devices"]}
    assert states["jj-struct-01"]["values"] == {"tilt": 0.9} and states["jj-road-01"] is None
    (alert,) = detail["state"]["open_alerts"]
    assert alert["device_id"] == "jj-struct-01" and alert["subCategory"] == "buildingRisk"
    assert "history" not in alert
    assert detail["state"]["open_incident"] is None  # fused from the alerts topic: not delivered yet
    process_all(api, "fuse_alerts", "CITYBRAIN_INCIDENTS_QUEUE")
    incident = api.http.get(f"/v1/risk-points/{point_id}", headers=headers(district["transport"])).json_body["state"][
        "open_incident"
    ]
    assert incident["risk_points"] == [point_id] and incident["alerts"] == [alert["id"]]


def test_only_its_department_or_the_data_bureau_changes_a_point_at_the_version_it_read(api, district):
    point = post(api, "/v1/risk-points", district["housing"], {**BRIDGE, "devices": ["jj-road-01"]}).json_body
    path = f"/v1/risk-points/{point['id']}"
    changed = {**BRIDGE, "risk_level": "large", "devices": ["jj-road-01"], "version": 1}
    assert put(api, path, district["transport"], changed).status_code == 403
    response = put(api, path, district["housing"], changed)
    assert response.status_code == 200, response.body
    updated = response.json_body
    assert updated["version"] == 2 and updated["colour"] == "橙"
    assert updated["bindings"] == point["bindings"]  # a binding kept keeps who made it and when
    stale = put(api, path, ADMIN_KEY, changed)
    assert stale.status_code == 409 and stale.json_body["errors"][0]["field"] == "version"
    by_admin = put(api, path, ADMIN_KEY, {**changed, "version": 2, "risk_level": "general"})
    assert by_admin.status_code == 200 and by_admin.json_body["updated_by"] == "data-bureau"


@pytest.mark.parametrize(
    "change, field",
    [
        ({"category": "weather"}, "category"),
        ({"risk_level": "extreme"}, "risk_level"),
        ({"town": "火星镇"}, "town"),
        ({"devices": ["no-such-device"]}, "devices.0"),
        ({"devices": ["jj-road-01", "jj-road-01"]}, "devices"),
        ({"contacts": [{"name": "陈工", "phone": "call me"}]}, "contacts.0.phone"),
        ({"department": "transport"}, None),  # 403: a department registers its own
        ({"department": "no-such-dept"}, None),
        ({"version": 3}, "version"),
        ({"location": {"lat": 91, "lon": 113}}, "location.lat"),
        ({"name": "九江\u200b大桥"}, "name"),
    ],
)
def test_a_wrong_point_is_refused_naming_its_field_and_stores_nothing(api, district, change, field):
    response = post(api, "/v1/risk-points", district["housing"], {**BRIDGE, **change})
    assert response.status_code in (400, 403), response.body
    if field:
        assert response.status_code == 400 and field in [e["field"] for e in response.json_body["errors"]]
    assert api.http.get("/v1/risk-points", headers=headers(district["housing"])).json_body["items"] == []


def test_unknown_and_malformed_ids_and_cursors(api, district):
    assert api.http.get("/v1/risk-points/rp-000000000000", headers=headers(district["housing"])).status_code == 404
    bad = api.http.get("/v1/risk-points/..", headers=headers(district["housing"]))
    assert bad.status_code == 400 and bad.json_body["errors"][0]["field"] == "point_id"
    assert api.http.get("/v1/risk-points?cursor=xyz", headers=headers(district["housing"])).status_code == 400
    assert api.http.get("/v1/risk-points?level=huge", headers=headers(district["housing"])).status_code == 400
    assert api.http.get("/v1/risk-points").status_code == 401


def test_a_contact_without_a_role_is_shown_without_one(api, district):
    body = {**BRIDGE, "contacts": [{"name": "陈工", "phone": "0757-86333110"}]}
    point = post(api, "/v1/risk-points", district["housing"], body)
    assert point.status_code == 201, point.body
    assert point.json_body["contacts"] == [{"name": "陈工", "phone": "0757-86333110"}]
