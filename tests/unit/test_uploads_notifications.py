"""S3 notifications through SQS, object keys and file names."""

import json
from pathlib import Path
from urllib.parse import quote_plus

import pytest
from pydantic import ValidationError

from citybrain.uploads.models import (
    BadNotification,
    S3Object,
    UploadIn,
    decode_key,
    parse_s3_notification,
    upload_id_of_key,
    upload_key,
    why_not_read,
)

EVENTS = Path(__file__).resolve().parents[2] / "events"
KEY = "uploads/environment/6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b/桂城街道 空气质量 2026-11-27.csv"


def body_of(sample: str) -> str:
    return json.loads((EVENTS / sample).read_text())["Records"][0]["body"]


def test_the_real_shaped_sample_gives_the_decoded_key_and_the_object_identity():
    (obj,) = parse_s3_notification(body_of("s3-upload-notification.json"))
    assert obj.key == KEY
    assert obj.bucket == "citybrain-prod-uploadsbucket-1q2w3e4r5t6y"
    assert (obj.etag, obj.size, obj.version_id, obj.event) == (
        "701575d6cafbc5891d8057c61642316b",
        187,
        None,
        "ObjectCreated:Put",
    )
    assert upload_id_of_key(obj.key) == "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b"


def test_the_sample_carries_what_real_notifications_carry():
    record = json.loads(body_of("s3-upload-notification.json"))["Records"][0]
    assert {"userIdentity", "requestParameters", "responseElements"} <= set(record)
    assert {"sequencer", "eTag", "size"} <= set(record["s3"]["object"])
    assert "+" in record["s3"]["object"]["key"] and "%E6%A1%82" in record["s3"]["object"]["key"]


def test_s3_test_event_names_no_object():
    assert parse_s3_notification(body_of("s3-test-event.json")) == []


def test_moto_shaped_record_without_the_optional_fields_is_read():
    body = json.dumps(
        {
            "Records": [
                {
                    "eventVersion": "2.1",
                    "eventSource": "aws:s3",
                    "eventName": "ObjectCreated:Put",
                    "s3": {"bucket": {"name": "b"}, "object": {"key": quote_plus(KEY), "size": 3, "eTag": "abc"}},
                }
            ]
        }
    )
    (obj,) = parse_s3_notification(body)
    assert obj.key == KEY  # quote_plus also encoded the slashes


def test_other_events_are_skipped():
    body = json.dumps(
        {"Records": [{"eventName": "ObjectRemoved:Delete", "s3": {"bucket": {"name": "b"}, "object": {"key": "k"}}}]}
    )
    assert parse_s3_notification(body) == []


@pytest.mark.parametrize(
    "body, where",
    [
        ("not json", "not JSON"),
        ("[]", "not a JSON object"),
        ('{"Message": "x"}', "no Records"),
        ('{"Records": [{"eventName": "ObjectCreated:Put", "s3": {"bucket": {}}}]}', "Records.0.s3.bucket.name"),
    ],
)
def test_a_message_that_is_no_notification_is_a_poison_message(body, where):
    with pytest.raises(BadNotification, match=where):
        parse_s3_notification(body)


@pytest.mark.parametrize(
    "encoded, key",
    [
        ("a+b.csv", "a b.csv"),
        ("a%2Bb.csv", "a+b.csv"),
        ("uploads%2Fenv%2Fx%2F%E6%A1%82%E5%9F%8E+%E7%AB%99.csv", "uploads/env/x/桂城 站.csv"),
        ("uploads/env/x/%E6%A1%82%E5%9F%8E+%E7%AB%99.csv", "uploads/env/x/桂城 站.csv"),
    ],
)
def test_keys_are_form_decoded(encoded, key):
    assert decode_key(encoded) == key


def test_keys_name_department_and_upload_and_round_trip():
    key = upload_key("environment", "u-1", "桂城 空气 质量.csv")
    assert key == "uploads/environment/u-1/桂城 空气 质量.csv"
    assert upload_id_of_key(decode_key(quote_plus(key))) == "u-1"
    assert upload_id_of_key("other/environment/u-1/x.csv") is None
    assert upload_id_of_key("uploads/environment/u-1") is None


@pytest.mark.parametrize("name", ["桂城街道 空气质量 2026-11.csv", "export.JSONL", "a.ndjson", "b.json-lines", "c.txt"])
def test_good_file_names(name):
    assert UploadIn(filename=f"  {name} ").filename == name


@pytest.mark.parametrize(
    "name, message",
    [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("data/readings.csv", "not a path"),
        ("..\\readings.csv", "not a path"),
        ("readings.xlsx", "must end in one of"),
        (".csv", "must end in one of"),
        ("read\nings.csv", "control characters"),
        ("x" * 300 + ".csv", "at most"),
    ],
)
def test_bad_file_names_name_the_field(name, message):
    with pytest.raises(ValidationError) as caught:
        UploadIn(filename=name)
    (error,) = caught.value.errors()
    assert error["loc"] == ("filename",) and message in error["msg"]


# -- an upload is read once ------------------------------------------------------------------------
def _object(etag: str | None) -> S3Object:
    return S3Object(bucket="uploads", key="uploads/environment/u-1/a.csv", etag=etag, size=10)


@pytest.mark.parametrize(
    "record, etag, reason",
    [
        ({"status": "pending"}, "e1", None),  # the first object
        ({"status": "processing", "etag": "e1"}, "e1", None),  # a retry of an unfinished read
        ({"status": "processing", "etag": "e1"}, "e2", "second object (eTag e2)"),
        ({"status": "done", "etag": "e1"}, "e2", "read from the first (eTag e1)"),
        ({"status": "done", "etag": "e1"}, "e1", "already done"),  # re-notified after its idempotency expired
        ({"status": "failed"}, "e1", "already failed"),  # failed before reading (too big, gone)
    ],
)
def test_an_upload_is_read_from_its_first_object_only(record, etag, reason):
    found = why_not_read(record, _object(etag))
    assert (found is None) if reason is None else (found is not None and reason in found)
