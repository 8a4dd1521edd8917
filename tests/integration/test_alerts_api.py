"""The alerts API: listing with filters and pages (newest first), one alert with its
history, and acknowledge/resolve for the responsible department or the admin only."""

from __future__ import annotations

import json

import pytest

from tests.conftest import ADMIN_KEY
from tests.integration.alert_helpers import MINUTE, T0, aqi, clear, received, service, subscribe, water
from tests.integration.helpers import department, device, headers, post


@pytest.fixture
def city(api):
    """Three departments; five alerts, issued at 08:00, 08:01, 08:02, 08:03 and 08:07."""
    keys = {d: department(api, d) for d in ("environment", "safety", "transport")}
    air = [device(api, keys["environment"], f"gc-air-0{i}") for i in (1, 2)]
    air.append(device(api, keys["environment"], "jj-air-01", town="九江镇"))
    gauge = device(
        api,
        keys["safety"],
        "jj-water-01",
        "water_level",
        "safety",
        "九江镇",
        thresholds={"warning": 5.0, "guarantee": 6.5},
    )
    alerts = service()
    alerts.apply(air[0], [aqi(0, 210)])
    alerts.apply(air[1], [aqi(1, 320, "critical")])
    alerts.apply(gauge, [water(2, 5.4, "high")])
    alerts.apply(air[2], [aqi(3, 230)])
    alerts.apply(air[0], [aqi(4, 240)])  # a repeat
    alerts.apply(gauge, [water(5, 6.9, "critical")])  # an escalation
    alerts.apply(air[1], [clear(6)])
    alerts.apply(air[1], [aqi(7, 250)])  # a new episode, a new alert
    return keys


def get(api, path, key, **params):
    from urllib.parse import urlencode

    return api.http.get(path + ("?" + urlencode(params) if params else ""), headers=headers(key))


def ids(response):
    assert response.status_code == 200, response.body
    return [a["alertSource"] + "@" + a["dateIssued"][11:16] for a in response.json_body["items"]]


def test_the_listing_needs_a_key_and_any_department_may_read_it(api, city):
    assert api.http.get("/v1/alerts").status_code == 401
    everything = ids(get(api, "/v1/alerts", city["transport"]))
    assert everything == [
        "gc-air-02@08:07",
        "jj-air-01@08:03",
        "jj-water-01@08:02",
        "gc-air-02@08:01",
        "gc-air-01@08:00",
    ]  # newest first


def test_filters(api, city):
    key = city["transport"]
    assert ids(get(api, "/v1/alerts", key, status="resolved")) == ["gc-air-02@08:01"]
    assert ids(get(api, "/v1/alerts", key, status="active")) == [
        "gc-air-02@08:07",
        "jj-air-01@08:03",
        "jj-water-01@08:02",
        "gc-air-01@08:00",
    ]
    assert ids(get(api, "/v1/alerts", key, domain="safety")) == ["jj-water-01@08:02"]
    assert ids(get(api, "/v1/alerts", key, town="九江镇", severity="critical")) == ["jj-water-01@08:02"]
    assert ids(get(api, "/v1/alerts", key, device="gc-air-02")) == ["gc-air-02@08:07", "gc-air-02@08:01"]
    assert ids(get(api, "/v1/alerts", key, device="gc-air-02", status="open")) == ["gc-air-02@08:07"]
    assert ids(get(api, "/v1/alerts", key, **{"from": "2026-11-27T08:01:00+08:00", "to": str(T0 + 3 * MINUTE)})) == [
        "jj-air-01@08:03",
        "jj-water-01@08:02",
        "gc-air-02@08:01",
    ]
    assert ids(get(api, "/v1/alerts", key, device="nobody")) == []
    listed = get(api, "/v1/alerts", key, limit="1").json_body["items"][0]
    assert "history" not in listed and "version" not in listed and listed["status"] == "open"


def test_pages_follow_each_other_newest_first(api, city):
    key, seen, cursor = city["transport"], [], None
    for _ in range(5):
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        response = get(api, "/v1/alerts", key, **params)
        seen += ids(response)
        cursor = response.json_body["next_cursor"]
        if not cursor:
            break
    assert seen == ids(get(api, "/v1/alerts", key))
    # A filtered listing pages the same way.
    first = get(api, "/v1/alerts", key, status="active", limit="3")
    rest = get(api, "/v1/alerts", key, status="active", limit="3", cursor=first.json_body["next_cursor"])
    assert ids(first) + ids(rest) == ids(get(api, "/v1/alerts", key, status="active"))
    assert rest.json_body["next_cursor"] is None


@pytest.mark.parametrize(
    "params, field",
    [
        ({"status": "closed"}, "status"),
        ({"domain": "weather"}, "domain"),
        ({"town": "佛山"}, "town"),
        ({"severity": "urgent"}, "severity"),
        ({"from": "yesterday"}, "from"),
        ({"to": "12"}, "to"),
        ({"from": "2026-11-28T00:00:00+08:00", "to": "2026-11-27T00:00:00+08:00"}, "from"),
        ({"limit": "0"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "eyJ4IjoxfQ"}, "cursor"),
    ],
)
def test_bad_query_parameters_are_400_naming_the_field(api, city, params, field):
    response = get(api, "/v1/alerts", city["transport"], **params)
    assert response.status_code == 400, response.body
    assert response.json_body["errors"][0]["field"] == field


def test_one_alert_with_its_history(api, city):
    listed = get(api, "/v1/alerts", city["transport"], domain="safety").json_body["items"][0]
    response = get(api, f"/v1/alerts/{listed['id']}", city["transport"])
    assert response.status_code == 200
    alert = response.json_body
    assert alert["severity"] == "critical" and alert["occurrences"] == 2 and alert["owner"] == "safety"
    assert [(h["action"], h["severity"]) for h in alert["history"]] == [("opened", "high"), ("escalated", "critical")]
    assert alert["location"] == {"type": "Point", "coordinates": [113.15, 23.03]}
    assert get(api, "/v1/alerts/al-0-aqi-nothing", city["transport"]).status_code == 404
    assert get(api, "/v1/alerts/open%23jj-water-01%23water", city["transport"]).status_code == 404


def test_only_the_responsible_department_or_the_admin_acknowledges_and_resolves(api, city):
    inbox = subscribe()
    alert_id = get(api, "/v1/alerts", city["transport"], domain="safety").json_body["items"][0]["id"]
    path = f"/v1/alerts/{alert_id}"
    for action in ("acknowledge", "resolve"):
        refused = post(api, f"{path}/{action}", city["environment"], {"note": "not ours"})
        assert refused.status_code == 403 and refused.json_body["code"] == "Forbidden"
    done = api.http.post(f"{path}/acknowledge", headers={"X-Api-Key": city["safety"]})  # no body at all
    assert done.status_code == 200, done.body
    assert done.json_body["status"] == "acknowledged" and done.json_body["acknowledgedBy"] == "safety"
    again = post(api, f"{path}/acknowledge", city["safety"], {})
    assert again.status_code == 409 and again.json_body["errors"][0]["field"] == "status"
    resolved = post(api, f"{path}/resolve", ADMIN_KEY, {"note": "  堤防加固完成 "})
    assert resolved.status_code == 200
    alert = resolved.json_body
    assert alert["status"] == "resolved" and alert["resolvedBy"] == "data-bureau"
    assert alert["history"][-1] == {
        "action": "resolved",
        "at": alert["resolvedAt"],
        "by": "data-bureau",
        "note": "堤防加固完成",
    }
    assert post(api, f"{path}/resolve", city["safety"], {}).status_code == 409
    assert post(api, f"{path}/acknowledge", city["safety"], {}).status_code == 409
    assert post(api, "/v1/alerts/al-0-aqi-nothing/resolve", city["safety"], {}).status_code == 404
    # Acknowledging notifies nobody; resolving does, and frees the slot for a new alert.
    assert [m["Message"]["event"] for m in received(inbox)] == ["resolved"]
    assert get(api, "/v1/alerts", city["safety"], domain="safety", status="active").json_body["items"] == []


@pytest.mark.parametrize(
    "body, field",
    [
        ({"note": "x" * 1001}, "note"),
        ({"note": 5}, "note"),
        ({"comment": "hi"}, "comment"),
        ("[1]", "body"),
    ],
)
def test_a_bad_action_body_is_400_naming_the_field(api, city, body, field):
    alert_id = get(api, "/v1/alerts", city["environment"], device="gc-air-01").json_body["items"][0]["id"]
    raw = body if isinstance(body, str) else json.dumps(body)
    response = api.http.post(f"/v1/alerts/{alert_id}/resolve", headers=headers(city["environment"]), body=raw)
    assert response.status_code == 400, response.body
    assert response.json_body["errors"][0]["field"] == field
