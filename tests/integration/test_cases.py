"""Cases through the seven steps of digital city management, between three departments and
the command centre, on the emulated AWS."""

from __future__ import annotations

import json
import os

import boto3
import pytest

from tests.conftest import ADMIN_KEY
from tests.integration.helpers import department, headers, post

MANHOLE = {
    "category": "部件",
    "subcategory": "井盖缺失",
    "description": "桂澜路与南海大道交叉口东北角井盖缺失，已有行人绊倒",
    "town": "桂城街道",
    "location": {"lat": 23.03, "lon": 113.14},
}


@pytest.fixture
def district(api):
    return {
        name: department(api, name, title)
        for name, title in (
            ("urban", "区城管局"),
            ("water", "区水利局"),
            ("transport", "区交通运输局"),
            ("health", "区卫生健康局"),
            ("safety", "区应急管理局"),
        )
    }


def act(api, key, case_id, action, body=None):
    path = f"/v1/cases/{case_id}/{action}"
    if body is None:
        return api.http.post(path, headers=headers(key))
    return post(api, path, key, body)


def test_a_case_runs_the_seven_steps_with_three_departments(api, district):
    reported = post(api, "/v1/cases", district["urban"], MANHOLE)
    assert reported.status_code == 201, reported.body
    case_id = reported.json_body["id"]
    assert reported.json_body["status"] == "reported"

    assert act(api, district["urban"], case_id, "register").status_code == 403  # the command centre registers
    assert act(api, district["safety"], case_id, "register").json_body["status"] == "registered"
    dispatched = act(
        api, ADMIN_KEY, case_id, "dispatch", {"lead": "water", "supporting": ["transport"], "note": "请水利局牵头处置"}
    )
    assert dispatched.status_code == 200, dispatched.body
    case = dispatched.json_body
    assert case["status"] == "dispatched" and case["lead"] == "water"
    assert [(a["department"], a["role"]) for a in case["assignments"]] == [("water", "lead"), ("transport", "support")]
    assert case["acknowledge_by"] and case["close_by"]  # 部件: 120 minutes, 5 days

    assert act(api, district["health"], case_id, "acknowledge").status_code == 403  # not assigned
    assert act(api, district["transport"], case_id, "acknowledge").json_body["status"] == "dispatched"
    assert act(api, district["water"], case_id, "acknowledge").json_body["status"] == "processing"
    again = act(api, district["water"], case_id, "acknowledge")
    assert again.status_code == 409 and again.json_body["errors"][0]["field"] == "status"

    assert act(api, district["transport"], case_id, "feedback", {"note": "已设置围挡"}).status_code == 403  # lead only
    assert act(api, district["water"], case_id, "feedback", {"note": "已更换井盖"}).json_body["status"] == "fed_back"
    back = act(api, district["safety"], case_id, "send-back", {"note": "井盖型号不符，请返工"})
    assert back.json_body["status"] == "processing" and back.json_body["sent_back"] == 1
    act(api, district["water"], case_id, "feedback", {"note": "已按标准更换球墨铸铁井盖"})
    closed = act(api, district["safety"], case_id, "close")
    assert closed.status_code == 200 and closed.json_body["status"] == "closed"
    actions = [h["action"] for h in closed.json_body["history"]]
    assert actions == [
        "reported", "register", "dispatch", "acknowledge", "acknowledge",
        "feedback", "send_back", "feedback", "close",
    ]  # fmt: skip
    assert all(h["by"] and h["at"] for h in closed.json_body["history"])
    audited = [
        (e["actor"], e["action"])
        for e in reversed(api.http.get("/v1/audit?limit=100", headers=headers(ADMIN_KEY)).json_body["items"])
        if e["action"].startswith("case.")
    ]
    assert audited == [
        ("urban", "case.reported"), ("safety", "case.register"), ("data-bureau", "case.dispatch"),
        ("transport", "case.acknowledge"), ("water", "case.acknowledge"), ("water", "case.feedback"),
        ("safety", "case.send_back"), ("water", "case.feedback"), ("safety", "case.close"),
    ]  # fmt: skip

    stats = api.http.get("/v1/cases/stats", headers=headers(ADMIN_KEY)).json_body["departments"]
    assert stats["water"]["received"] == 1 and stats["water"]["acknowledged_on_time"] == 1
    assert stats["water"]["closed_on_time"] == 1 and stats["water"]["sent_back"] == 1
    assert stats["transport"]["received"] == 1 and stats["transport"]["closed_on_time"] == 0
    own = api.http.get("/v1/cases/stats?department=water", headers=headers(district["water"]))
    assert set(own.json_body["departments"]) == {"water"}
    assert api.http.get("/v1/cases/stats", headers=headers(district["water"])).status_code == 403


def test_wrong_moves_are_409_naming_status_and_other_departments_get_403(api, district):
    case_id = post(api, "/v1/cases", district["urban"], MANHOLE).json_body["id"]
    early = act(api, ADMIN_KEY, case_id, "close")
    assert early.status_code == 409 and early.json_body["errors"][0]["field"] == "status"
    no_reason = act(api, ADMIN_KEY, case_id, "cancel", {})
    assert no_reason.status_code == 400 and no_reason.json_body["errors"][0]["field"] == "note"
    assert api.http.get(f"/v1/cases/{case_id}", headers=headers(district["health"])).status_code == 403
    assert api.http.get(f"/v1/cases/{case_id}", headers=headers(district["urban"])).status_code == 200
    assert act(api, ADMIN_KEY, case_id, "cancel", {"note": "重复上报"}).json_body["status"] == "cancelled"
    assert act(api, ADMIN_KEY, case_id, "register").status_code == 409
    listed = api.http.get("/v1/cases?status=cancelled", headers=headers(district["health"])).json_body["items"]
    assert listed == []  # not its case
    assert len(api.http.get("/v1/cases?status=cancelled", headers=headers(ADMIN_KEY)).json_body["items"]) == 1


def test_dispatch_names_existing_departments(api, district):
    case_id = post(api, "/v1/cases", district["urban"], MANHOLE).json_body["id"]
    act(api, ADMIN_KEY, case_id, "register")
    bad = act(api, ADMIN_KEY, case_id, "dispatch", {"lead": "water", "supporting": ["nobody"]})
    assert bad.status_code == 400 and bad.json_body["errors"][0]["field"] == "supporting.0"
    assert act(api, ADMIN_KEY, case_id, "dispatch", {}).json_body["errors"][0]["field"] == "lead"


def test_overdue_steps_are_marked_announced_and_escalate_a_big_safety_case(api, district, monkeypatch):
    from citybrain.composition import cases
    from citybrain.core import timeutil

    sqs, sns = boto3.client("sqs"), boto3.client("sns")
    url = sqs.create_queue(QueueName="supervisor")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=os.environ["CITYBRAIN_SUPERVISION_TOPIC"], Protocol="sqs", Endpoint=arn)

    body = {**MANHOLE, "category": "事件", "subcategory": "道路积水", "grade": "III"}
    case_id = post(api, "/v1/cases", district["safety"], body).json_body["id"]
    act(api, ADMIN_KEY, case_id, "register")
    act(api, ADMIN_KEY, case_id, "dispatch", {"lead": "water"})
    service = cases()
    later = timeutil.now_ms() + 61 * 60_000  # III: acknowledge within 60 minutes
    monkeypatch.setattr(service, "clock", lambda: later)
    assert service.check_overdue() == {"overdue_steps": 1, "escalated": 1}
    assert service.check_overdue() == {"overdue_steps": 0, "escalated": 0}  # marked once
    case = api.http.get(f"/v1/cases/{case_id}", headers=headers(ADMIN_KEY)).json_body
    assert case["grade"] == "II" and [o["step"] for o in case["overdue"]] == ["acknowledge"]
    (message,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    announced = json.loads(json.loads(message["Body"])["Message"])
    assert announced["event"] == "overdue" and announced["steps"] == ["acknowledge"]


def test_a_case_for_an_incident_takes_its_grade_and_names_must_exist(api, district):
    bad = post(api, "/v1/cases", district["safety"], {**MANHOLE, "incident_id": "inc-20261201-0000000000"})
    assert bad.status_code == 400 and bad.json_body["errors"][0]["field"] == "incident_id"
    bad = post(api, "/v1/cases", district["urban"], {**MANHOLE, "alert_id": "al-1-aqi-nothing"})
    assert bad.status_code == 400 and bad.json_body["errors"][0]["field"] == "alert_id"


def test_unknown_and_malformed_cases(api, district):
    assert api.http.get("/v1/cases/case-20261201-0000000000", headers=headers(ADMIN_KEY)).status_code == 404
    assert api.http.get("/v1/cases/nope", headers=headers(ADMIN_KEY)).json_body["errors"][0]["field"] == "case_id"
    assert post(api, "/v1/cases", district["urban"], {**MANHOLE, "category": "其他"}).status_code == 400
    assert api.http.get("/v1/cases?cursor=zz", headers=headers(ADMIN_KEY)).status_code == 400


def test_the_command_centre_escalates_a_case_to_an_incident(api, district):
    body = {
        **MANHOLE,
        "category": "事件",
        "subcategory": "路面塌陷",
        "description": "桂澜路出现路面塌陷，面积约 4 平方米",
    }
    case_id = post(api, "/v1/cases", district["urban"], body).json_body["id"]
    act(api, ADMIN_KEY, case_id, "register")
    escalation = {"category": "accident", "grade": "III"}
    assert post(api, f"/v1/cases/{case_id}/escalate", district["urban"], escalation).status_code == 403
    escalated = post(api, f"/v1/cases/{case_id}/escalate", district["safety"], escalation)
    assert escalated.status_code == 200, escalated.body
    case = escalated.json_body
    assert case["grade"] == "III" and case["history"][-1]["action"] == "escalate"
    incident = api.http.get(f"/v1/incidents/{case['incident_id']}", headers=headers(ADMIN_KEY)).json_body
    assert (incident["source"], incident["case_id"], incident["grade"]) == ("case", case_id, "III")
    assert incident["town"] == "桂城街道" and "路面塌陷" in incident["description"]
    again = post(api, f"/v1/cases/{case_id}/escalate", district["safety"], escalation)
    assert again.status_code == 409 and again.json_body["errors"][0]["field"] == "incident_id"


def test_a_department_reports_an_incident_of_its_own_grade(api, district):
    body = {
        "category": "public_health",
        "grade": "IV",
        "town": "大沥镇",
        "location": {"lat": 23.1, "lon": 113.1},
        "description": "大沥镇某学校出现聚集性腹泻病例 12 例",
    }
    reported = post(api, "/v1/incidents", district["health"], body)
    assert reported.status_code == 201, reported.body
    incident = reported.json_body
    assert (incident["source"], incident["reported_by"], incident["category_name"]) == (
        "report",
        "health",
        "公共卫生事件",
    )
    bad = post(api, "/v1/incidents", district["health"], {**body, "grade": "V"})
    assert bad.status_code == 400 and bad.json_body["errors"][0]["field"] == "grade"
