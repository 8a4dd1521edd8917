"""Incidents fused from alerts on the emulated AWS: the alerts topic delivers each opened or
escalated alert to the incidents queue, `fuse_alerts` folds it into its place's incident,
and new incidents and grade changes reach the safety topic with their filter attributes."""

from __future__ import annotations

import json
import os

import boto3
import pytest

from citybrain.core import timeutil
from tests.conftest import ADMIN_KEY
from tests.integration.helpers import department, device, headers, post, process_all

T0 = timeutil.parse_instant("2026-12-01T08:00:00+08:00")
MINUTE = 60_000
UNDERPASS = {
    "name": "九江下穿隧道",
    "category": "natural_disaster",
    "kind": "下穿隧道",
    "town": "九江镇",
    "location": {"lat": 22.84, "lon": 113.03},
    "risk_level": "major",
}


def subscribe_safety(filter_policy: dict | None, name: str) -> str:
    sqs, sns = boto3.client("sqs"), boto3.client("sns")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    attributes = {"FilterPolicy": json.dumps(filter_policy)} if filter_policy else {}
    sns.subscribe(TopicArn=os.environ["CITYBRAIN_SAFETY_TOPIC"], Protocol="sqs", Endpoint=arn, Attributes=attributes)
    return url


def announced(url: str) -> list[tuple[str, str]]:
    sqs = boto3.client("sqs")
    seen = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            body = json.loads(json.loads(message["Body"])["Message"])
            seen.append((body["event"], body["grade"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return seen


@pytest.fixture
def district(api):
    keys = {
        name: department(api, name, title)
        for name, title in (
            ("water", "区水利局"),
            ("transport", "区交通运输局"),
            ("housing", "区住建局"),
            ("safety", "区应急管理局"),
        )
    }
    gauge = {"thresholds": {"warning": 5.0, "guarantee": 6.5}}
    device(api, keys["water"], "jj-water-01", type_="water_level", domain="urban", town="九江镇", **gauge)
    device(api, keys["transport"], "jj-road-01", type_="traffic_flow", domain="traffic", town="九江镇")
    device(api, keys["housing"], "jj-struct-01", type_="structure", domain="housing", town="九江镇")
    device(api, keys["water"], "xq-water-01", type_="water_level", domain="urban", town="西樵镇", **gauge)
    device(api, keys["transport"], "xq-road-01", type_="traffic_flow", domain="traffic", town="西樵镇")
    point = post(api, "/v1/risk-points", keys["water"], {**UNDERPASS, "devices": ["jj-water-01"]})
    assert point.status_code == 201, point.body
    keys["point"] = point.json_body["id"]
    return keys


def send(api, key, device_id, minute, values, times=1):
    readings = [
        {"device_id": device_id, "observed_at": T0 + (minute + i) * MINUTE, "values": values} for i in range(times)
    ]
    response = post(api, "/v1/readings", key, {"readings": readings})
    assert response.status_code == 202 and not response.json_body["rejected"], response.body


def settle(api):
    """Store the readings (alerts publish to the alerts topic), then fuse what it delivered."""
    process_all(api)
    process_all(api, "fuse_alerts", "CITYBRAIN_INCIDENTS_QUEUE")


def incidents(api, key, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return api.http.get(f"/v1/incidents?{query}", headers=headers(key)).json_body["items"]


def test_a_flood_at_a_risk_point_then_traffic_and_a_structure_in_its_town_make_one_incident(api, district):
    duty = subscribe_safety({"departments": ["transport"]}, "transport-duty")
    everyone = subscribe_safety(None, "command-centre")
    send(api, district["water"], "jj-water-01", 0, {"waterLevel": 6.9})  # over the guarantee level: critical
    settle(api)
    (incident,) = incidents(api, district["transport"])
    assert incident["risk_points"] == [district["point"]] and incident["town"] == "九江镇"
    assert (incident["category"], incident["category_name"]) == ("natural_disaster", "自然灾害")
    assert (incident["grade"], incident["grade_name"], incident["colour"]) == ("III", "较大", "黄")
    assert announced(everyone) == [("opened", "III")] and announced(duty) == []  # transport not involved yet

    send(api, district["transport"], "jj-road-01", 10, {"averageVehicleSpeed": 8.0, "occupancy": 0.9}, times=3)
    settle(api)
    send(api, district["housing"], "jj-struct-01", 20, {"tilt": 0.9})
    settle(api)
    (incident,) = incidents(api, district["transport"])
    assert sorted(incident["domains"]) == ["housing", "traffic", "urban"] and len(incident["alerts"]) == 3
    assert incident["grade"] == "II"  # three domains at once raise it one level
    assert sorted(incident["departments"]) == ["housing", "transport", "water"]
    assert announced(everyone) == [("graded", "II")]
    assert announced(duty) == [("graded", "II")]
    actions = [
        e["action"]
        for e in api.http.get(f"/v1/incidents/{incident['id']}", headers=headers(ADMIN_KEY)).json_body["timeline"]
    ]
    assert actions[:2] == ["opened", "alert joined"] and actions.count("alert joined") == 3 and "graded" in actions

    # a redelivered notification folds in once
    process_all(api, "fuse_alerts", "CITYBRAIN_INCIDENTS_QUEUE")
    assert len(incidents(api, ADMIN_KEY)[0]["alerts"]) == 3
    audited = [e["action"] for e in api.http.get("/v1/audit?limit=100", headers=headers(ADMIN_KEY)).json_body["items"]]
    assert audited.count("incident.opened") == 1 and audited.count("incident.alert_joined") == 2
    assert api.http.get("/v1/audit/verify", headers=headers(ADMIN_KEY)).json_body["ok"] is True


def test_people_close_an_incident_not_the_resolution_of_its_alerts(api, district):
    send(api, district["water"], "jj-water-01", 0, {"waterLevel": 6.9})
    settle(api)
    send(api, district["water"], "jj-water-01", 1, {"waterLevel": 3.0}, times=3)  # the alert resolves itself
    settle(api)
    (incident,) = incidents(api, district["water"], status="open")
    path = f"/v1/incidents/{incident['id']}/close"
    assert api.http.post(path, headers=headers(district["transport"])).status_code == 403
    closed = post(api, path, district["safety"], {"note": "积水已排除，隧道恢复通行"})
    assert closed.status_code == 200, closed.body
    assert closed.json_body["status"] == "closed" and closed.json_body["closed_by"] == "safety"
    again = api.http.post(path, headers=headers(ADMIN_KEY))
    assert again.status_code == 409 and again.json_body["errors"][0]["field"] == "status"
    assert incidents(api, ADMIN_KEY, status="open") == []


def test_two_domains_in_a_town_within_the_window_fuse_and_one_domain_alone_does_not(api, district):
    send(api, district["water"], "xq-water-01", 0, {"waterLevel": 5.5})  # over warning: high, no risk point
    settle(api)
    assert incidents(api, ADMIN_KEY, town="西樵镇") == []  # one domain waits in the window
    send(api, district["transport"], "xq-road-01", 30, {"averageVehicleSpeed": 8.0, "occupancy": 0.9}, times=3)
    settle(api)
    (incident,) = incidents(api, ADMIN_KEY, town="西樵镇")
    assert sorted(incident["domains"]) == ["traffic", "urban"] and incident["risk_points"] == []
    assert incident["grade"] == "IV" and incident["category"] == "natural_disaster"  # floodRisk


def test_alerts_further_apart_than_the_window_do_not_fuse(api, district):
    send(api, district["water"], "xq-water-01", 0, {"waterLevel": 5.5})
    settle(api)
    send(api, district["transport"], "xq-road-01", 61, {"averageVehicleSpeed": 8.0, "occupancy": 0.9}, times=3)
    settle(api)
    assert incidents(api, ADMIN_KEY, town="西樵镇") == []


def test_concurrent_alerts_on_one_risk_point_never_open_two_incidents(api, district):
    """Writer A reads the slots, writer B opens the point's incident, then A commits: A's guard
    fails, A reads again and joins B's incident."""
    from citybrain.composition import incidents as service
    from citybrain.safety.incidents import AlertFact

    fusion = service()
    real_commit = fusion.store.commit
    interleaved = {"done": False}

    def facts(alert_id, minute, severity):
        return AlertFact(
            alert_id,
            "water",
            "floodRisk",
            severity,
            "urban",
            "九江镇",
            T0 + minute * MINUTE,
            "jj-water-01",
            "water",
            {"lat": 22.84, "lon": 113.03},
            "opened",
        )

    def commit_after_b(writes):
        if not interleaved["done"]:
            interleaved["done"] = True
            fusion.store.commit = real_commit
            fusion.fuse(facts("al-b", 1, "critical"))  # B runs to the end between A's read and write
        return real_commit(writes)

    fusion.store.commit = commit_after_b
    outcome = fusion.fuse(facts("al-a", 0, "high"))
    (incident,) = incidents(api, ADMIN_KEY)
    assert outcome["incident"] == incident["id"] and sorted(incident["alerts"]) == ["al-a", "al-b"]


def test_unknown_and_malformed_incidents(api, district):
    assert api.http.get("/v1/incidents/inc-20261201-0000000000", headers=headers(ADMIN_KEY)).status_code == 404
    bad = api.http.get("/v1/incidents/nope", headers=headers(ADMIN_KEY))
    assert bad.status_code == 400 and bad.json_body["errors"][0]["field"] == "incident_id"
    assert api.http.get("/v1/incidents?grade=V", headers=headers(ADMIN_KEY)).status_code == 400
    assert api.http.get("/v1/incidents?cursor=zz", headers=headers(ADMIN_KEY)).status_code == 400


def test_an_incidents_case_takes_its_grade_and_runs_to_its_close(api, district):
    send(api, district["water"], "jj-water-01", 0, {"waterLevel": 6.9})
    settle(api)
    (incident,) = incidents(api, ADMIN_KEY)
    body = {
        "category": "事件",
        "subcategory": "下穿隧道积水",
        "description": "九江下穿隧道积水，需封闭交通并排水",
        "town": "九江镇",
        "location": {"lat": 22.84, "lon": 113.03},
        "incident_id": incident["id"],
    }
    case = post(api, "/v1/cases", district["safety"], body).json_body
    assert case["grade"] == incident["grade"] == "III" and case["incident_id"] == incident["id"]
    for key, action, payload in (
        (district["safety"], "register", None),
        (district["safety"], "dispatch", {"lead": "water", "supporting": ["transport"]}),
        (district["water"], "acknowledge", None),
        (district["transport"], "acknowledge", None),
        (district["water"], "feedback", {"note": "排水完毕，隧道恢复通行"}),
        (district["safety"], "close", None),
    ):
        path = f"/v1/cases/{case['id']}/{action}"
        response = post(api, path, key, payload) if payload else api.http.post(path, headers=headers(key))
        assert response.status_code == 200, (action, response.body)
    assert response.json_body["status"] == "closed"


def test_three_domains_in_a_town_fuse_into_one_incident_under_concurrency(api, district, monkeypatch):
    """Writer A (a traffic alert) reads the town's slot; writer B (a water alert) runs to its end
    before A writes; A's guard fails, A reads again and opens the cross-domain incident with B's
    alert; a third domain then joins it and raises its grade."""
    from citybrain.composition import incidents as service
    from citybrain.safety.incidents import AlertFact

    fusion = service()
    real_commit, real_append = fusion.store.commit, fusion.audit.append
    interleaved = {"done": False}

    def fact(alert_id, rule, sub, domain, device, minute):
        return AlertFact(
            alert_id, rule, sub, "high", domain, "西樵镇", T0 + minute * MINUTE, device, None, None, "opened"
        )

    def b_first():
        if not interleaved["done"]:
            interleaved["done"] = True
            fusion.fuse(fact("al-b", "water", "floodRisk", "urban", "xq-water-01", 1))

    monkeypatch.setattr(fusion.store, "commit", lambda writes: (b_first(), real_commit(writes))[1])
    monkeypatch.setattr(fusion.audit, "append", lambda **kw: (b_first(), real_append(**kw))[1])
    opened = fusion.fuse(fact("al-a", "traffic", "trafficJam", "traffic", "xq-road-01", 0))
    joined = fusion.fuse(fact("al-c", "structure", "buildingRisk", "housing", "xq-struct-01", 2))
    (incident,) = incidents(api, ADMIN_KEY, town="西樵镇")
    assert opened["created"] and joined["incident"] == opened["incident"] == incident["id"]
    assert sorted(incident["alerts"]) == ["al-a", "al-b", "al-c"]
    assert sorted(incident["domains"]) == ["housing", "traffic", "urban"] and incident["grade"] == "III"


REPORTED = {
    "category": "public_health",
    "grade": "III",
    "town": "桂城街道",
    "location": {"lat": 23.03, "lon": 113.14},
    "description": "学校食堂疑似食物中毒，12 名学生就医",
}


def test_a_reported_incident_stands_when_the_topic_fails_and_the_schedule_announces_it(api, district, monkeypatch):
    from citybrain.composition import incidents as incidents_service
    from citybrain.safety.notifications import SnsSafetyPublisher

    url = subscribe_safety({"town": ["桂城街道"]}, "duty-guicheng")
    real_publish = SnsSafetyPublisher.publish

    def unreachable(self, incident, event):
        raise ConnectionError("sns unreachable")

    monkeypatch.setattr(SnsSafetyPublisher, "publish", unreachable)
    reported = post(api, "/v1/incidents", district["safety"], REPORTED)
    assert reported.status_code == 201, reported.body  # stored with its audit entry; the announcement is owed
    with pytest.raises(RuntimeError, match="1 incident announcements still owed"):
        incidents_service().announce_pending()
    assert announced(url) == []

    monkeypatch.setattr(SnsSafetyPublisher, "publish", real_publish)
    event = api.events.generate_cw_event("aws.events", "Scheduled Event", {}, [])
    outcome = api.lambda_.invoke("announce_incidents", event).payload
    assert outcome == {"announced": 1} and announced(url) == [("opened", "III")]
    assert api.lambda_.invoke("announce_incidents", event).payload == {"announced": 0}

    monkeypatch.setattr(SnsSafetyPublisher, "publish", unreachable)
    path = f"/v1/incidents/{reported.json_body['id']}/close"
    closed = post(api, path, district["safety"], {"note": "已处置"})
    assert closed.status_code == 200 and closed.json_body["status"] == "closed"
    monkeypatch.setattr(SnsSafetyPublisher, "publish", real_publish)
    assert api.lambda_.invoke("announce_incidents", event).payload == {"announced": 1}
    assert announced(url) == [("closed", "III")]
    assert api.lambda_.invoke("announce_incidents", event).payload == {"announced": 0}
    shown = api.http.get(f"/v1/incidents/{reported.json_body['id']}", headers=headers(ADMIN_KEY))
    assert shown.status_code == 200 and shown.json_body["status"] == "closed"
    assert not {"notified_grade", "notified_closed"} & set(shown.json_body)  # bookkeeping, not an answer
    assert api.http.get("/v1/incidents?status=closed", headers=headers(ADMIN_KEY)).status_code == 200
