"""A pollution episode in the demo feed, followed through the API as the district's
environment bureau follows it: an airPollution alert opens at high, escalates in
place to critical and resolves by itself once the air is normal again.

The shared demo runs quickened (conftest.DEMO_PACE), and a quickened demo's first
pollution episode is a severe one (PM2.5 280-350 µg/m³, AQI over 300)."""

from __future__ import annotations

import json

from citybrain.core.timeutil import parse_instant

# From the feed's start: set-up, the first episode (~9 s in), its rise, hold and fall.
OPENED_WITHIN = 150
ESCALATED_WITHIN = 90
RESOLVED_WITHIN = 150


def opened_at(alert: dict) -> int:
    return int(alert["id"].split("-")[1])  # al-<ms>-<rule>-<device>


def test_a_pollution_episode_opens_escalates_and_auto_resolves_an_alert(demo):
    keys = json.loads((demo.local_dir / "demo-keys.json").read_text())
    key = keys["departments"]["environment"]["api_key"]
    response = demo.get("/v1/devices", key, type="air_quality", limit="100")
    assert response.status_code == 200, response.text
    stations = [d["id"] for d in response.json()["items"]]
    assert len(stations) == 7  # one in each town

    def air_pollution_alerts(device: str) -> list[dict]:
        response = demo.get("/v1/alerts", key, device=device)
        assert response.status_code == 200, response.text
        return [a for a in response.json()["items"] if a["subCategory"] == "airPollution"]

    def opened():
        return [a for station in stations for a in air_pollution_alerts(station)]

    found = demo.eventually(opened, timeout=OPENED_WITHIN, interval=1, what="an airPollution alert at a station")
    # Other modules may have watched the shared demo for a while: later episodes may have
    # opened alerts too. The first alert is the first episode's (an alert's id holds its time).
    alert = min(found, key=opened_at)
    station = alert["alertSource"]
    assert (alert["category"], alert["domain"], alert["device_id"]) == ("environment", "environment", station)
    first = demo.get(f"/v1/alerts/{alert['id']}", key).json()
    assert first["history"][0]["action"] == "opened" and first["history"][0]["severity"] == "high", first

    def fetched() -> dict:
        response = demo.get(f"/v1/alerts/{alert['id']}", key)
        assert response.status_code == 200, response.text
        return response.json()

    def escalated() -> dict | None:
        current = fetched()
        return current if any(h["action"] == "escalated" for h in current["history"]) else None

    critical = demo.eventually(
        escalated,
        timeout=ESCALATED_WITHIN,
        interval=1,
        what=f"alert {alert['id']} escalated to critical",
    )
    escalation = critical["history"][1]
    assert (escalation["action"], escalation["from"], escalation["severity"]) == ("escalated", "high", "critical")
    assert critical["severity"] == "critical" and critical["peakValue"] > 300 and critical["occurrences"] >= 2
    # Escalated in place: no second alert was opened for the station while the first was open.
    at_station = air_pollution_alerts(station)
    assert alert["id"] in [a["id"] for a in at_station]
    assert [a["id"] for a in at_station if opened_at(alert) < opened_at(a) <= parse_instant(escalation["at"])] == []

    resolved = demo.eventually(
        lambda: (a := fetched())["status"] == "resolved" and a,
        timeout=RESOLVED_WITHIN,
        interval=1,
        what=f"alert {alert['id']} resolved after the episode",
    )
    assert resolved["resolvedBy"] == "auto", resolved
    assert [h["action"] for h in resolved["history"]] == ["opened", "escalated", "resolved"]
    assert resolved["history"][-1]["by"] == "auto"
    active = demo.get("/v1/alerts", key, device=station, status="active").json()["items"]
    assert alert["id"] not in [a["id"] for a in active]
