"""The big-safety view through the API on the emulated AWS: the public page and its assets,
and GET /v1/safety/overview from risk points, a fused incident, an alert and cases made over
HTTP."""

from __future__ import annotations

import pytest

from citybrain.core import timeutil
from citybrain.dashboard.page import CONTENT_SECURITY_POLICY
from tests.conftest import ADMIN_KEY
from tests.integration.helpers import department, device, headers, post, process_all

MINUTE = 60_000


def test_the_safety_page_is_public_with_the_dashboard_s_policy_and_links_both_ways(api):
    response = api.http.get("/dashboard/safety")
    assert response.status_code == 200, response.body
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    html = response.body.decode("utf-8")
    assert "大安全态势" in html and 'data-refresh-seconds="30"' in html
    assert 'href="../dashboard"' in html and 'src="safety.js"' in html
    assert 'href="dashboard/safety"' in api.http.get("/dashboard").body.decode("utf-8")
    assert 'data-refresh-seconds="5"' in api.http.get("/dashboard/safety?refresh=5").body.decode("utf-8")
    bad = api.http.get("/dashboard/safety?refresh=1")
    assert bad.status_code == 400 and bad.json_body["errors"][0]["field"] == "refresh"
    for name, content_type in (("safety.js", "text/javascript"), ("safety.css", "text/css")):
        asset = api.http.get(f"/dashboard/{name}")
        assert asset.status_code == 200 and asset.headers["Content-Type"] == f"{content_type}; charset=utf-8"
    for path in ("/dashboard/safety.html", "/dashboard/safety/safety.js"):
        assert api.http.get(path).status_code in (403, 404), path


def test_the_overview_needs_a_key(api):
    assert api.http.get("/v1/safety/overview").status_code == 401
    assert api.http.get("/v1/safety/overview", headers=headers("cb_not_a_key")).status_code == 401


@pytest.fixture
def district(api):
    keys = {
        name: department(api, name, title)
        for name, title in (
            ("water", "区水利局"),
            ("transport", "区交通运输局"),
            ("urban", "区城管局"),
            ("emergency", "区应急管理局"),
            ("health", "区卫生健康局"),
        )
    }
    gauge = {"thresholds": {"warning": 5.0, "guarantee": 6.5}}
    device(api, keys["water"], "jj-water-01", type_="water_level", domain="urban", town="九江镇", **gauge)
    device(api, keys["transport"], "dl-road-01", type_="traffic_flow", domain="traffic", town="大沥镇")
    return keys


def register(api, key, name, town, level, devices, lat, lon):
    body = {
        "name": name,
        "category": "natural_disaster",
        "kind": "下穿隧道",
        "town": town,
        "location": {"lat": lat, "lon": lon},
        "risk_level": level,
        "devices": devices,
    }
    response = post(api, "/v1/risk-points", key, body)
    assert response.status_code == 201, response.body
    return response.json_body["id"]


def test_the_overview_shows_points_by_state_the_incident_by_grade_overdue_cases_and_rates(api, district):
    from citybrain.composition import cases

    flood = register(api, district["water"], "九江下穿隧道", "九江镇", "major", ["jj-water-01"], 22.84, 113.03)
    market = register(api, district["transport"], "大沥市场路口", "大沥镇", "general", ["dl-road-01"], 23.1, 113.12)
    quiet = register(api, district["water"], "西樵水库", "西樵镇", "large", [], 22.93, 112.97)
    now = timeutil.now_ms()
    readings = [
        {"device_id": "jj-water-01", "observed_at": now - MINUTE, "values": {"waterLevel": 6.9}},
    ]
    assert post(api, "/v1/readings", district["water"], {"readings": readings}).status_code == 202
    jam = [
        {
            "device_id": "dl-road-01",
            "observed_at": now - (3 - i) * MINUTE,
            "values": {"averageVehicleSpeed": 8.0, "occupancy": 0.9},
        }
        for i in range(3)
    ]
    assert post(api, "/v1/readings", district["transport"], {"readings": jam}).status_code == 202
    process_all(api)
    process_all(api, "fuse_alerts", "CITYBRAIN_INCIDENTS_QUEUE")
    # The market's incident is closed by people while its jam alert is still active: it is alerting.
    listed = api.http.get("/v1/incidents?status=open", headers=headers(ADMIN_KEY)).json_body["items"]
    (jam_incident,) = [i for i in listed if market in i["risk_points"]]
    closed = post(api, f"/v1/incidents/{jam_incident['id']}/close", ADMIN_KEY, {"note": "已疏导"})
    assert closed.status_code == 200, closed.body

    # A case dispatched three hours ago and never acknowledged (事件: 60 minutes to acknowledge).
    service = cases()
    service.clock = lambda: now - 180 * MINUTE
    try:
        body = {
            "category": "事件",
            "subcategory": "占道经营",
            "description": "大沥市场路口占道经营",
            "town": "大沥镇",
            "location": {"lat": 23.1, "lon": 113.12},
        }
        reported = post(api, "/v1/cases", district["urban"], body)
        assert reported.status_code == 201, reported.body
        case_id = reported.json_body["id"]
        assert post(api, f"/v1/cases/{case_id}/register", ADMIN_KEY, {}).status_code == 200
        dispatched = post(
            api, f"/v1/cases/{case_id}/dispatch", ADMIN_KEY, {"lead": "urban", "supporting": ["transport"]}
        )
        assert dispatched.status_code == 200, dispatched.body
        service.clock = lambda: now - 170 * MINUTE
        assert post(api, f"/v1/cases/{case_id}/acknowledge", district["transport"], {}).status_code == 200
    finally:
        service.clock = timeutil.now_ms

    response = api.http.get("/v1/safety/overview", headers=headers(district["health"]))  # any department
    assert response.status_code == 200, response.body
    found = response.json_body

    points = {p["id"]: p for p in found["risk_points"]["items"]}
    assert [p["id"] for p in found["risk_points"]["items"]] == [flood, market, quiet]
    assert (points[flood]["state"], points[flood]["rgb"], points[flood]["department_name"]) == (
        "incident",
        "#D7191C",
        "区水利局",
    )
    assert points[market]["state"] == "alerting" and points[market]["rgb"] == "#FFD700"
    assert points[quiet]["state"] == "normal" and points[quiet]["rgb"] == "#FF8C00"
    assert found["risk_points"]["by_state"] == {"normal": 1, "alerting": 1, "incident": 1}

    (incident,) = found["incidents"]["items"]
    assert (incident["grade"], incident["grade_name"], incident["rgb"], incident["town"]) == (
        "III",
        "较大",
        "#FFD700",
        "九江镇",
    )
    assert incident["risk_points"] == [flood] and incident["domain_names"] == ["城管"]
    assert points[flood]["incident_id"] == incident["id"]
    assert [g["count"] for g in found["incidents"]["by_grade"]] == [0, 0, 1, 0]
    jiujiang = next(t for t in found["towns"] if t["town"] == "九江镇")
    assert (jiujiang["worst_grade"], jiujiang["open_incidents"], jiujiang["in_incident"]) == ("III", 1, 1)

    (overdue,) = found["cases"]["items"]
    assert overdue["id"] == case_id and overdue["lead_name"] == "区城管局"
    (step,) = overdue["steps"]  # transport acknowledged in time; the lead did not
    assert (step["step"], step["department"], step["department_name"]) == ("acknowledge", "urban", "区城管局")
    assert 115 <= step["overdue_minutes"] <= 125 and "marked_at" not in step

    rates = {d["department"]: d for d in found["departments"]["items"]}
    assert set(rates) == {"urban", "transport"} and found["departments"]["days"] == 30
    assert (rates["transport"]["received"], rates["transport"]["acknowledged_on_time_rate"]) == (1, 1.0)
    assert rates["transport"]["closed_on_time_rate"] is None  # never a lead
    assert (rates["urban"]["received_as_lead"], rates["urban"]["acknowledged_on_time_rate"]) == (1, 0.0)
    assert rates["urban"]["closed_on_time_rate"] == 0.0

    # the scheduled check marks the step; the overview then says when
    api.lambda_.invoke("check_overdue_cases", api.events.generate_cw_event("aws.events", "Scheduled Event", {}, []))
    again = api.http.get("/v1/safety/overview", headers=headers(ADMIN_KEY)).json_body
    (marked,) = again["cases"]["items"][0]["steps"]
    assert marked["step"] == "acknowledge" and marked["marked_at"]
