"""A gateway's file end to end on the local stack: presigned PUT, bucket
notification, upload function, readings queue, processing, HTTP out."""

from __future__ import annotations

import time

import requests

from citybrain.core import timeutil


def test_an_excel_style_gbk_csv_with_a_chinese_name_becomes_readings(stack):
    key = stack.department("e2e-urban", "区城市管理和综合执法局（端到端）")
    stack.device(key, "e2e-noise-01", "noise", "urban", "大沥镇", acoustic_zone="2")
    start = int(time.time() * 1000) - 600_000
    rows = [f"e2e-noise-01,{timeutil.local_iso(start + i * 60_000)},{55 + i}.5,{70 + i}.0" for i in range(3)]
    rows.append("e2e-noise-01,2026-13-45T99:00:00,50,60")  # line 5: a date that does not exist
    rows.append("无此设备,2026-11-27T08:00:00+08:00,50,60")  # line 6: a device nobody registered
    content = ("device_id,observed_at,LAeq,LAmax\r\n" + "\r\n".join(rows) + "\r\n").encode("gb18030")

    upload_id = stack.upload(key, "大沥 噪声 监测 11月.csv", content)

    def finished():
        body = stack.get(f"/v1/uploads/{upload_id}", key).json()
        return body if body["status"] in ("done", "failed") else None

    report = stack.eventually(finished, what=f"upload {upload_id} finished")
    assert report["status"] == "done", report
    assert (report["accepted"], report["rejected"]) == (3, 2)
    assert [(e["line"], e["errors"][0]["field"]) for e in report["errors"]] == [(5, "observed_at"), (6, "device_id")]

    def stored():
        items = stack.get("/v1/devices/e2e-noise-01/readings", key, limit="100").json()["items"]
        return items if len(items) == 3 else None

    items = stack.eventually(stored, what="3 readings of e2e-noise-01")
    assert [i["values"]["LAeq"] for i in items] == [55.5, 56.5, 57.5]


def test_the_emulator_checks_upload_urls_as_s3_does(stack):
    """A URL writes one object, under exactly its department's key, with its signature intact, until it expires."""
    key = stack.department("e2e-water", "区水利局（端到端）")
    stack.department("e2e-other", "区其他局（端到端）")
    response = stack.post("/v1/uploads", key, {"filename": "水位.csv"})
    assert response.status_code == 201, response.text
    grant = response.json()
    assert grant["headers"] == {"If-None-Match": "*"}
    content = b"device_id,observed_at,waterLevel\r\n"

    def put(url: str, headers: dict[str, str]) -> requests.Response:
        return stack.http.put(url, data=content, headers=headers, timeout=30)

    elsewhere = grant["url"].replace("/uploads/e2e-water/", "/uploads/e2e-other/", 1)
    assert elsewhere != grant["url"]
    assert "<Code>SignatureDoesNotMatch</Code>" in put(elsewhere, grant["headers"]).text
    signature = grant["url"].rsplit("X-Amz-Signature=", 1)[1]
    corrupted = grant["url"].replace(signature, signature[::-1])
    assert put(corrupted, grant["headers"]).status_code == 403
    assert put(grant["url"], {}).status_code == 403  # the signed If-None-Match left out

    assert put(grant["url"], grant["headers"]).status_code == 200
    second = put(grant["url"], grant["headers"])
    assert second.status_code == 412 and "PreconditionFailed" in second.text

    s3 = stack.client("s3")
    bucket = stack.resources()["CITYBRAIN_UPLOADS_BUCKET"]
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="uploads/e2e-other/").get("Contents", [])]
    assert keys == []
    short = s3.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "uploads/e2e-water/x/short.csv"}, ExpiresIn=1
    )
    time.sleep(2.1)
    expired = put(short, {})
    assert expired.status_code == 403 and "Request has expired" in expired.text
