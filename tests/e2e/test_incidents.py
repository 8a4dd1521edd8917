"""Incidents on the running local stack: an alert on a device bound to a risk point travels
from the readings queue through the alerts topic to the incidents queue, and `fuse_alerts`
makes it the point's incident — as in the cloud, with the emulated SNS delivering to SQS."""

from __future__ import annotations

from citybrain.core import timeutil

FUSED_WITHIN = 60


def test_a_flood_alert_at_a_risk_point_becomes_its_incident(stack):
    water = stack.department("e2e-flood-water", "区水利局（端到端·事件）")
    stack.device(
        water,
        "e2e-jj-water",
        type_="water_level",
        domain="urban",
        town="九江镇",
        thresholds={"warning": 5.0, "guarantee": 6.5},
    )
    point = stack.post(
        "/v1/risk-points",
        water,
        {
            "name": "九江下穿隧道（端到端）",
            "category": "natural_disaster",
            "kind": "下穿隧道",
            "town": "九江镇",
            "location": {"lat": 22.84, "lon": 113.03},
            "risk_level": "major",
            "devices": ["e2e-jj-water"],
        },
    )
    assert point.status_code == 201, point.text
    reading = {"device_id": "e2e-jj-water", "observed_at": timeutil.now_ms(), "values": {"waterLevel": 6.9}}
    assert stack.post("/v1/readings", water, {"readings": [reading]}).status_code == 202

    def fused():
        items = stack.get("/v1/incidents", water, town="九江镇").json()["items"]
        return [i for i in items if point.json()["id"] in i["risk_points"]]

    (incident,) = stack.eventually(fused, timeout=FUSED_WITHIN, interval=1, what="the risk point's incident")
    assert (incident["grade"], incident["category"], incident["status"]) == ("III", "natural_disaster", "open")
    detail = stack.get(f"/v1/risk-points/{point.json()['id']}", water).json()
    assert [a["device_id"] for a in detail["state"]["open_alerts"]] == ["e2e-jj-water"]
    assert detail["state"]["open_incident"]["id"] == incident["id"]
