"""Uploads end to end on moto: POST /v1/uploads, PUT to the presigned URL, the
bucket's own notification off the uploads queue into process_uploads, the
readings queue into process_readings, then the series and the upload's report."""

from __future__ import annotations

import codecs
import json
import os
from pathlib import Path

import boto3
import pytest
import requests

from citybrain.core import timeutil
from citybrain.core.rejections import RejectionStore
from citybrain.sensing.reading_store import DynamoReadingStore
from tests.conftest import ADMIN_KEY
from tests.integration.helpers import department, device, post, process_all, receive_event

EVENTS = Path(__file__).resolve().parents[2] / "events"
BASE = timeutil.parse_instant("2026-11-27T08:00:00+08:00")
FILENAME = "桂城街道 空气质量 2026-11-27.csv"


def csv_text(rows: list[tuple[str, int, str]]) -> str:
    return "device_id,observed_at,pm25,pm10\r\n" + "".join(f"{d},{t},{v}\r\n" for d, t, v in rows)


def announce(api, key: str, filename: str = FILENAME):
    response = post(api, "/v1/uploads", key, {"filename": filename})
    assert response.status_code == 201, response.body
    return response.json_body


def put(upload: dict, content: bytes) -> None:
    response = requests.request(upload["method"], upload["url"], data=content, headers=upload["headers"])
    assert response.status_code == 200, response.text


def deliver_uploads(api) -> list[dict]:
    """Every message on the uploads queue to process_uploads, one per invocation (batch_size=1)."""
    responses = []
    while (event := receive_event("CITYBRAIN_UPLOADS_QUEUE", max_messages=1))["Records"]:
        responses.append(api.lambda_.invoke("process_uploads", event).payload)
    return responses


def status(api, key: str, upload_id: str) -> dict:
    response = api.http.get(f"/v1/uploads/{upload_id}", headers={"X-Api-Key": key})
    assert response.status_code == 200, response.body
    return response.json_body


def series(api, key: str, device_id: str) -> list[dict]:
    response = api.http.get(
        f"/v1/devices/{device_id}/readings?from={BASE}&to={BASE + 86_400_000}&limit=1000", headers={"X-Api-Key": key}
    )
    assert response.status_code == 200, response.body
    return response.json_body["items"]


@pytest.fixture
def env_dept(api):
    key = department(api, "environment", "区生态环境局")
    device(api, key, "aq-1")
    device(api, key, "nz-1", type_="noise", acoustic_zone="2")
    return key


def test_upload_of_a_gbk_csv_with_a_chinese_name_ends_in_stored_readings(api, env_dept):
    upload = announce(api, env_dept)
    assert upload["method"] == "PUT" and upload["headers"] == {"If-None-Match": "*"} and upload["expires_at"]
    assert "uploads/environment/" in requests.utils.unquote(upload["url"])
    assert status(api, env_dept, upload["id"])["status"] == "pending"

    content = (
        "device_id,observed_at,pm25,pm10,LAeq\r\n"
        "aq-1,2026-11-27T08:00:00+08:00,35,61,\r\n"
        "aq-1,2026-11-27T09:00:00+08:00,41.5,,\r\n"
        "nz-1,2026-11-27T09:00:00+08:00,,,55.5\r\n"
        "\r\n"
        "桂城-未登记站,2026-11-27T09:00:00+08:00,20,30,\r\n"
        "aq-1,2026-11-27T10:00:00+08:00,-5,,\r\n"
    ).encode("gbk")
    put(upload, content)

    # The first message is the s3:TestEvent moto sent when the notification was set up.
    assert deliver_uploads(api) == [{"batchItemFailures": []}, {"batchItemFailures": []}]
    report = status(api, env_dept, upload["id"])
    assert report["status"] == "done", report
    assert (report["accepted"], report["rejected"]) == (3, 2)
    assert [e["line"] for e in report["errors"]] == [6, 7]
    assert report["errors"][0]["errors"][0]["field"] == "device_id"
    assert report["errors"][1]["errors"][0]["field"] == "values.pm25"
    assert report["encoding"] == "GB18030/GBK" and report["filename"] == FILENAME
    assert report["started_at"] and report["finished_at"] and "failure" not in report

    responses = process_all(api)
    assert responses and all(r == {"batchItemFailures": []} for r in responses)
    assert [(r["observed_at"], r["values"]) for r in series(api, env_dept, "aq-1")] == [
        ("2026-11-27T08:00:00+08:00", {"pm25": 35, "pm10": 61}),
        ("2026-11-27T09:00:00+08:00", {"pm25": 41.5}),
    ]
    assert [r["values"] for r in series(api, env_dept, "nz-1")] == [{"LAeq": 55.5}]

    kept = RejectionStore().list(f"upload#{upload['id']}")
    assert [(k["position"], k["raw"]) for k in kept] == [
        (6, "桂城-未登记站,2026-11-27T09:00:00+08:00,20,30,"),
        (7, "aq-1,2026-11-27T10:00:00+08:00,-5,,"),
    ]


def test_json_lines_upload_with_bom_by_the_admin_for_any_department_device(api, env_dept):
    upload = announce(api, ADMIN_KEY, "网关 导出.jsonl")
    lines = [{"device_id": "aq-1", "observed_at": BASE + i * 60_000, "values": {"pm25": float(i)}} for i in range(3)]
    put(upload, codecs.BOM_UTF8 + "\n".join(json.dumps(line) for line in lines).encode())
    deliver_uploads(api)
    report = status(api, ADMIN_KEY, upload["id"])
    assert (report["status"], report["accepted"], report["format"], report["encoding"]) == (
        "done",
        3,
        "jsonl",
        "UTF-8 with BOM",
    )
    process_all(api)
    assert [r["values"]["pm25"] for r in series(api, env_dept, "aq-1")] == [0, 1, 2]


def test_an_unreadable_file_fails_with_its_reason(api, env_dept):
    upload = announce(api, env_dept, "readings.csv")
    put(upload, b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 64)
    assert deliver_uploads(api)[-1] == {"batchItemFailures": []}
    report = status(api, env_dept, upload["id"])
    assert report["status"] == "failed" and "Excel workbook" in report["failure"]
    assert report["accepted"] == 0 and receive_event()["Records"] == []


def test_a_redelivered_notification_does_not_read_the_file_again(api, env_dept):
    upload = announce(api, env_dept)
    put(upload, csv_text([("aq-1", BASE, "1"), ("nope", BASE, "2")]).encode())
    receive_event("CITYBRAIN_UPLOADS_QUEUE", max_messages=1)  # the s3:TestEvent
    event = receive_event("CITYBRAIN_UPLOADS_QUEUE", max_messages=1)
    assert api.lambda_.invoke("process_uploads", event).payload == {"batchItemFailures": []}
    first = status(api, env_dept, upload["id"])
    assert api.lambda_.invoke("process_uploads", event).payload == {"batchItemFailures": []}
    assert status(api, env_dept, upload["id"]) == first
    assert sum(len(json.loads(m["body"])["readings"]) for m in receive_event(max_messages=10)["Records"]) == 1
    assert len(RejectionStore().list(f"upload#{upload['id']}")) == 1


def test_a_crash_midway_is_retried_from_scratch_without_counting_twice(api, env_dept, monkeypatch):
    from citybrain.sensing import queue
    from citybrain.sensing import reading_files as uploads

    monkeypatch.setattr(uploads, "BLOCK_ROWS", 10)  # three blocks out of a small file
    rows = [("ghost", BASE, "1")] + [("aq-1", BASE + i * 1000, str(i)) for i in range(25)]
    upload = announce(api, env_dept)
    put(upload, csv_text(rows).encode())
    receive_event("CITYBRAIN_UPLOADS_QUEUE", max_messages=1)  # the s3:TestEvent
    event = receive_event("CITYBRAIN_UPLOADS_QUEUE", max_messages=1)

    real_send, sent = queue.send_messages, []

    def send_then_crash(bodies, queue_url=None):
        if sent:
            raise ConnectionError("network lost after the first block")
        sent.append(len(bodies))
        return real_send(bodies, queue_url)

    monkeypatch.setattr(queue, "send_messages", send_then_crash)  # block 1 (with the ghost row rejected) is sent
    failed = api.lambda_.invoke("process_uploads", event).payload  # the message failed: SQS delivers it again
    assert failed == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    assert status(api, env_dept, upload["id"])["status"] == "processing"
    assert len(RejectionStore().list(f"upload#{upload['id']}")) == 1  # block 1's rejection was recorded
    monkeypatch.setattr(queue, "send_messages", real_send)

    assert api.lambda_.invoke("process_uploads", event).payload == {"batchItemFailures": []}  # SQS retried
    report = status(api, env_dept, upload["id"])
    assert (report["status"], report["accepted"], report["rejected"]) == ("done", 25, 1)
    assert len(RejectionStore().list(f"upload#{upload['id']}")) == 1
    process_all(api)
    rollup = DynamoReadingStore().rollup("aq-1", "2026-11-27T08")
    # the first block was queued twice and stored once
    assert rollup["count"] == 25 and rollup["values"]["pm25"]["sum"] == sum(range(25))


def test_a_file_too_big_for_one_invocation_fails_without_being_read(api, env_dept):
    upload = announce(api, env_dept)
    put(upload, csv_text([("aq-1", BASE, "1")]).encode())
    receive_event("CITYBRAIN_UPLOADS_QUEUE", max_messages=1)  # the s3:TestEvent
    event = receive_event("CITYBRAIN_UPLOADS_QUEUE", max_messages=1)
    body = json.loads(event["Records"][0]["body"])
    body["Records"][0]["s3"]["object"]["size"] = 600 * 1048576  # as S3 would announce a 600 MB file
    event["Records"][0]["body"] = json.dumps(body)
    assert api.lambda_.invoke("process_uploads", event).payload == {"batchItemFailures": []}
    report = status(api, env_dept, upload["id"])
    assert report["status"] == "failed" and "at most 512 MB" in report["failure"]
    assert receive_event()["Records"] == []


def test_objects_that_name_no_upload_are_ignored(api, env_dept):
    s3 = boto3.client("s3")
    bucket = os.environ["CITYBRAIN_UPLOADS_BUCKET"]
    s3.put_object(Bucket=bucket, Key="uploads/environment/no-such-upload/x.csv", Body=b"device_id,observed_at\n")
    s3.put_object(Bucket=bucket, Key="stray.csv", Body=b"hello")
    assert deliver_uploads(api) == [{"batchItemFailures": []}] * 3


def test_sample_events_go_through_the_handler(api, env_dept):
    from citybrain.uploads.store import DynamoUploadStore

    test_event = json.loads((EVENTS / "s3-test-event.json").read_text())
    assert api.lambda_.invoke("process_uploads", test_event).payload == {"batchItemFailures": []}

    # The real-shaped notification, pointed at this stack's bucket; the object is
    # the GBK file whose eTag and size the sample carries.
    event = json.loads((EVENTS / "s3-upload-notification.json").read_text())
    bucket = os.environ["CITYBRAIN_UPLOADS_BUCKET"]
    body = json.loads(event["Records"][0]["body"])
    body["Records"][0]["s3"]["bucket"].update(name=bucket, arn=f"arn:aws:s3:::{bucket}")
    event["Records"][0]["body"] = json.dumps(body, ensure_ascii=False)
    key = "uploads/environment/6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b/桂城街道 空气质量 2026-11-27.csv"
    DynamoUploadStore().create(
        {
            "id": "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b",
            "department": "environment",
            "role": "department",
            "filename": FILENAME,
            "key": key,
            "status": "pending",
            "created_at": "2026-11-27T09:29:00+08:00",
        }
    )
    device(api, env_dept, "aq-guicheng-01")
    content = (
        "device_id,observed_at,pm25,pm10,no2\r\n"
        "aq-guicheng-01,2026-11-27T08:00:00+08:00,35,61,22\r\n"
        "aq-guicheng-01,2026-11-27T09:00:00+08:00,41.5,,24\r\n"
        "桂城-未登记站,2026-11-27T09:00:00+08:00,20,30,\r\n"
    ).encode("gbk")
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=content)

    assert api.lambda_.invoke("process_uploads", event).payload == {"batchItemFailures": []}
    report = status(api, env_dept, "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b")
    assert (report["status"], report["accepted"], report["rejected"]) == ("done", 2, 1)
    assert report["errors"][0]["line"] == 4


def test_a_message_that_is_no_notification_fails_and_is_retried(api):
    event = json.loads((EVENTS / "s3-test-event.json").read_text())
    good = dict(event["Records"][0], messageId="good")
    event["Records"][0]["body"] = '{"hello": "world"}'
    event["Records"].append(good)
    result = api.lambda_.invoke("process_uploads", event).payload
    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}


def test_who_may_announce_and_see_uploads(api, env_dept):
    other = department(api, "transport", "区交通运输局")
    assert api.http.post("/v1/uploads", body=json.dumps({"filename": "a.csv"})).status_code == 401
    response = post(api, "/v1/uploads", "cb_unknown", {"filename": "a.csv"})
    assert response.status_code == 401

    upload = announce(api, env_dept)
    assert api.http.get(f"/v1/uploads/{upload['id']}", headers={"X-Api-Key": other}).status_code == 403
    assert status(api, ADMIN_KEY, upload["id"])["department"] == "environment"
    missing = api.http.get("/v1/uploads/0000", headers={"X-Api-Key": env_dept})
    assert missing.status_code == 404 and missing.json_body["code"] == "NotFound"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"filename": "../etc/passwd.csv"}, "filename"),
        ({"filename": "readings.xlsx"}, "filename"),
        ({"filename": ""}, "filename"),
        ({}, "filename"),
        ({"filename": "a.csv", "size": 3}, "size"),
    ],
)
def test_bad_announcements_are_400_with_the_field(api, env_dept, body, field):
    response = post(api, "/v1/uploads", env_dept, body)
    assert response.status_code == 400, response.body
    assert [e["field"] for e in response.json_body["errors"]] == [field]


# -- an upload URL writes one object, for its own key, until it expires ------------------------------------


def put_status(url: str, content: bytes, headers: dict[str, str]) -> requests.Response:
    return requests.put(url, data=content, headers=headers)


def test_a_second_put_to_the_url_is_refused_and_the_upload_counted_once(api, env_dept):
    upload = announce(api, env_dept)
    put(upload, csv_text([("aq-1", BASE, "1"), ("aq-1", BASE + 60_000, "2")]).encode())
    deliver_uploads(api)
    assert status(api, env_dept, upload["id"])["accepted"] == 2

    again = put_status(upload["url"], csv_text([("aq-1", BASE + 120_000, "3")]).encode(), upload["headers"])
    assert again.status_code == 412 and "<Code>PreconditionFailed</Code>" in again.text
    # Without the signed If-None-Match the URL's signature no longer holds.
    bare = put_status(upload["url"], csv_text([("aq-1", BASE + 120_000, "3")]).encode(), {})
    assert bare.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in bare.text
    assert deliver_uploads(api) == []
    report = status(api, env_dept, upload["id"])
    assert (report["status"], report["accepted"]) == ("done", 2) and "ignored_writes" not in report


def test_a_second_object_under_a_read_uploads_key_is_ignored_with_its_reason(api, env_dept):
    """What holds when the URL's condition does not (a writer with its own credentials)."""
    upload = announce(api, env_dept)
    put(upload, csv_text([("aq-1", BASE, "1"), ("aq-1", BASE + 60_000, "2")]).encode())
    deliver_uploads(api)
    first = status(api, env_dept, upload["id"])
    assert (first["status"], first["accepted"]) == ("done", 2)

    key = f"uploads/environment/{upload['id']}/{FILENAME}"
    second = csv_text([("aq-1", BASE + 120_000, "3")]).encode()
    boto3.client("s3").put_object(Bucket=os.environ["CITYBRAIN_UPLOADS_BUCKET"], Key=key, Body=second)
    assert deliver_uploads(api) == [{"batchItemFailures": []}]

    report = status(api, env_dept, upload["id"])
    assert (report["status"], report["accepted"], report["rejected"]) == ("done", 2, 0)
    [ignored] = report["ignored_writes"]
    assert ignored["size"] == len(second) and ignored["etag"] and ignored["at"]
    assert "second object" in ignored["reason"] and "one file" in ignored["reason"]
    process_all(api)
    assert [r["values"]["pm25"] for r in series(api, env_dept, "aq-1")] == [1, 2]


def test_a_read_object_notified_again_after_its_idempotency_is_forgotten_is_not_read_twice(api, env_dept):
    upload = announce(api, env_dept)
    put(upload, csv_text([("aq-1", BASE, "1")]).encode())
    receive_event("CITYBRAIN_UPLOADS_QUEUE", max_messages=1)  # the s3:TestEvent
    event = receive_event("CITYBRAIN_UPLOADS_QUEUE", max_messages=1)
    api.lambda_.invoke("process_uploads", event)
    # The notification's idempotency record expires (after 7 days) or is lost.
    dynamodb, table = boto3.client("dynamodb"), os.environ["CITYBRAIN_IDEMPOTENCY_TABLE"]
    for item in dynamodb.scan(TableName=table)["Items"]:
        dynamodb.delete_item(TableName=table, Key={"id": item["id"]})
    assert api.lambda_.invoke("process_uploads", event).payload == {"batchItemFailures": []}
    report = status(api, env_dept, upload["id"])
    assert report["accepted"] == 1
    assert report["ignored_writes"][0]["reason"] == "the upload is already done; an upload is read once"


def test_a_url_for_one_departments_key_cannot_write_anothers(api, env_dept):
    department(api, "transport", "区交通运输局")
    upload = announce(api, env_dept)
    content = csv_text([("aq-1", BASE, "1")]).encode()
    elsewhere = upload["url"].replace("/uploads/environment/", "/uploads/transport/", 1)
    assert elsewhere != upload["url"]
    refused = put_status(elsewhere, content, upload["headers"])
    assert refused.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in refused.text
    other_file = upload["url"].replace(requests.utils.quote(FILENAME), "other.csv", 1)
    assert put_status(other_file, content, upload["headers"]).status_code == 403
    bucket = boto3.client("s3").list_objects_v2(Bucket=os.environ["CITYBRAIN_UPLOADS_BUCKET"])
    assert bucket.get("KeyCount", 0) == 0


def test_a_corrupted_signature_or_an_unknown_key_is_refused(api, env_dept):
    upload = announce(api, env_dept)
    content = csv_text([("aq-1", BASE, "1")]).encode()
    signature = upload["url"].rsplit("X-Amz-Signature=", 1)[1]
    flipped = ("0" if signature[0] != "0" else "1") + signature[1:]
    corrupted = upload["url"].replace(f"X-Amz-Signature={signature}", f"X-Amz-Signature={flipped}")
    refused = put_status(corrupted, content, upload["headers"])
    assert refused.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in refused.text
    stranger = upload["url"].replace("X-Amz-Credential=", "X-Amz-Credential=AKIASTRANGER", 1)
    assert "<Code>InvalidAccessKeyId</Code>" in put_status(stranger, content, upload["headers"]).text
    put(upload, content)  # the URL as handed out still works


def test_an_expired_url_is_refused(api, env_dept, monkeypatch):
    from infra import moto_presigned

    upload = announce(api, env_dept)
    expires_in = int(upload["url"].split("X-Amz-Expires=", 1)[1].split("&", 1)[0])
    signed_at = moto_presigned.now()
    monkeypatch.setattr(moto_presigned, "now", lambda: signed_at + expires_in + 1)
    refused = put_status(upload["url"], csv_text([("aq-1", BASE, "1")]).encode(), upload["headers"])
    assert refused.status_code == 403 and "Request has expired" in refused.text
    monkeypatch.setattr(moto_presigned, "now", lambda: signed_at + expires_in - 5)
    put(upload, csv_text([("aq-1", BASE, "1")]).encode())  # just before it expires
