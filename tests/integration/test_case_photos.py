"""Photos of a case on the emulated AWS: announced on the case (audited), PUT to the presigned
URL with its signed headers, shown on GET with a link, and named by the feedback."""

from __future__ import annotations

import os

import boto3
import pytest
import requests

from tests.conftest import ADMIN_KEY
from tests.integration.helpers import department, headers, post

MANHOLE = {
    "category": "部件",
    "subcategory": "井盖缺失",
    "description": "桂澜路与南海大道交叉口东北角井盖缺失",
    "town": "桂城街道",
    "location": {"lat": 23.03, "lon": 113.14},
}
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 500 + b"\xff\xd9"


@pytest.fixture
def district(api):
    return {name: department(api, name, title) for name, title in (("urban", "区城管局"), ("water", "区水利局"))}


def announce(api, key, case_id, stage="report", content=JPEG, content_type="image/jpeg"):
    return post(
        api, f"/v1/cases/{case_id}/photos", key, {"content_type": content_type, "size": len(content), "stage": stage}
    )


def put(ticket, content=JPEG, **changed) -> requests.Response:
    return requests.put(ticket["url"], data=content, headers={**ticket["headers"], **changed})


def read(api, key, case_id):
    return api.http.get(f"/v1/cases/{case_id}", headers=headers(key)).json_body


def audited(api):
    items = api.http.get("/v1/audit?limit=100", headers=headers(ADMIN_KEY)).json_body["items"]
    return [e["action"] for e in reversed(items) if e["action"].startswith("case.")]


def test_report_and_feedback_photos_from_announcement_to_feedback(api, district):
    case_id = post(api, "/v1/cases", district["urban"], MANHOLE).json_body["id"]
    announced = announce(api, district["urban"], case_id)
    assert announced.status_code == 201, announced.body
    ticket = announced.json_body
    assert ticket["method"] == "PUT" and ticket["stage"] == "report" and ticket["expires_at"]
    assert ticket["headers"] == {"If-None-Match": "*", "Content-Type": "image/jpeg", "Content-Length": str(len(JPEG))}
    signed = requests.utils.unquote(ticket["url"].split("X-Amz-SignedHeaders=", 1)[1].split("&", 1)[0])
    assert set(signed.split(";")) == {"content-length", "content-type", "host", "if-none-match"}

    # The signed headers hold: another type, another length, or no write-once condition is refused.
    assert put(ticket, **{"Content-Type": "image/png"}).status_code == 403
    assert put(ticket, JPEG + b"more").status_code == 403
    bare = requests.put(ticket["url"], data=JPEG, headers={"Content-Type": "image/jpeg"})
    assert bare.status_code == 403 and "SignatureDoesNotMatch" in bare.text
    assert put(ticket).status_code == 200
    again = put(ticket)
    assert again.status_code == 412  # the URL writes the photo once

    # Its own bucket, under photos/<case>/: nothing lands in the uploads bucket (whose queue reads files).
    s3 = boto3.client("s3")
    key = f"photos/{case_id}/{ticket['id']}.jpg"
    stored = s3.get_object(Bucket=os.environ["CITYBRAIN_CASE_PHOTOS_BUCKET"], Key=key)
    assert stored["Body"].read() == JPEG and stored["ContentType"] == "image/jpeg"
    assert s3.list_objects_v2(Bucket=os.environ["CITYBRAIN_UPLOADS_BUCKET"]).get("KeyCount", 0) == 0

    case = read(api, district["urban"], case_id)
    (shown,) = case["photos"]
    assert (shown["id"], shown["stage"], shown["added_by"], shown["size"]) == (
        ticket["id"],
        "report",
        "urban",
        len(JPEG),
    )
    assert requests.get(shown["url"]).content == JPEG and shown["url_expires_at"]
    assert [h["action"] for h in case["history"]] == ["reported", "photo_added"]
    listed = api.http.get("/v1/cases", headers=headers(district["urban"])).json_body["items"]
    assert [p["id"] for p in listed[0]["photos"]] == [ticket["id"]] and "url" not in listed[0]["photos"][0]

    post(api, f"/v1/cases/{case_id}/register", ADMIN_KEY, {})
    post(api, f"/v1/cases/{case_id}/dispatch", ADMIN_KEY, {"lead": "water"})
    post(api, f"/v1/cases/{case_id}/acknowledge", district["water"], {})
    done = announce(api, district["water"], case_id, "feedback", JPEG[:300])
    assert done.status_code == 201, done.body
    waiting = post(
        api,
        f"/v1/cases/{case_id}/feedback",
        district["water"],
        {"note": "已更换井盖", "photos": [done.json_body["id"]]},
    )
    assert waiting.status_code == 400 and waiting.json_body["errors"][0]["field"] == "photos.0"  # not PUT yet
    assert put(done.json_body, JPEG[:300]).status_code == 200
    unknown = post(
        api, f"/v1/cases/{case_id}/feedback", district["water"], {"note": "x", "photos": ["ph-000000000000"]}
    )
    assert unknown.status_code == 400 and unknown.json_body["errors"][0]["field"] == "photos.0"
    report_photo = post(
        api, f"/v1/cases/{case_id}/feedback", district["water"], {"note": "x", "photos": [ticket["id"]]}
    )
    assert report_photo.status_code == 400 and report_photo.json_body["errors"][0]["field"] == "photos.0"

    fed_back = post(
        api,
        f"/v1/cases/{case_id}/feedback",
        district["water"],
        {"note": "已更换井盖", "photos": [done.json_body["id"]]},
    )
    assert fed_back.status_code == 200, fed_back.body
    assert fed_back.json_body["history"][-1]["photos"] == [done.json_body["id"]]
    case = read(api, ADMIN_KEY, case_id)
    assert [(p["stage"], p["added_by"]) for p in case["photos"]] == [("report", "urban"), ("feedback", "water")]
    assert all(requests.get(p["url"]).status_code == 200 for p in case["photos"])
    assert audited(api) == [
        "case.reported", "case.photo_added", "case.register", "case.dispatch",
        "case.acknowledge", "case.photo_added", "case.feedback",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "body, field",
    [
        ({"content_type": "image/gif", "size": 100, "stage": "report"}, "content_type"),
        ({"content_type": "image/jpeg", "size": 10 * 1024 * 1024 + 1, "stage": "report"}, "size"),
        ({"content_type": "image/jpeg", "size": -1, "stage": "report"}, "size"),
        ({"content_type": "image/jpeg", "size": 100, "stage": "closing"}, "stage"),
        ({"content_type": "image/jpeg", "size": 100, "stage": "report", "url": "x"}, "url"),
    ],
)
def test_a_bad_announcement_is_a_400_naming_the_field_and_changes_nothing(api, district, body, field):
    case_id = post(api, "/v1/cases", district["urban"], MANHOLE).json_body["id"]
    refused = post(api, f"/v1/cases/{case_id}/photos", district["urban"], body)
    assert refused.status_code == 400, refused.body
    assert [e["field"] for e in refused.json_body["errors"]] == [field]
    case = read(api, district["urban"], case_id)
    assert case["version"] == 1 and "photos" not in case


def test_wrong_department_wrong_step_and_too_many_change_nothing(api, district):
    case_id = post(api, "/v1/cases", district["urban"], MANHOLE).json_body["id"]
    assert announce(api, district["water"], case_id).status_code == 403  # not the reporter
    assert announce(api, district["urban"], case_id, "feedback").status_code == 403  # no lead yet
    for _ in range(10):
        assert announce(api, district["urban"], case_id).status_code == 201
    full = announce(api, district["urban"], case_id)
    assert full.status_code == 409 and full.json_body["errors"][0]["field"] == "stage"
    post(api, f"/v1/cases/{case_id}/register", ADMIN_KEY, {})
    before, entries = read(api, ADMIN_KEY, case_id), audited(api)
    late = announce(api, district["urban"], case_id)
    assert late.status_code == 409 and late.json_body["errors"][0]["field"] == "status"
    assert announce(api, ADMIN_KEY, case_id, "feedback").status_code == 403  # no lead department
    assert (
        post(
            api,
            "/v1/cases/case-20261201-0000000000/photos",
            ADMIN_KEY,
            {"content_type": "image/png", "size": 1, "stage": "report"},
        ).status_code
        == 404
    )
    after = read(api, ADMIN_KEY, case_id)
    assert after["version"] == before["version"] and len(after["photos"]) == 10
    assert [p["id"] for p in after["photos"]] == [p["id"] for p in before["photos"]]
    assert after["history"] == before["history"] and audited(api) == entries
