"""Large loads of a dataset through the upload path on moto: POST /v1/uploads with
the dataset as target, PUT to the presigned URL, the bucket's notification into
process_uploads, and the whole file as one version of the dataset."""

from __future__ import annotations

import hashlib
import json

import pytest

from citybrain.composition import exchange
from citybrain.core import timeutil
from citybrain.core.errors import Conflict
from citybrain.core.rejections import RejectionStore
from citybrain.exchange.records import LEASE_MS
from citybrain.exchange.schema import canonical
from tests.integration.exchange_helpers import ADMIN_KEY, call, dataset_body, department, person_records
from tests.integration.test_uploads import deliver_uploads, put, status

COLUMNS = ["id_card", "name", "phone", "address", "town", "household_size", "allowance"]
FILENAME = "低保名单 2026-11.csv"


@pytest.fixture
def district(api):
    keys = {d: department(api, d, n) for d, n in (("civil-affairs", "区民政局"), ("health", "区卫生健康局"))}
    response = call(api, "POST", "/v1/datasets", keys["civil-affairs"], dataset_body("dibao"))
    assert response.status_code == 201, response.body
    return keys


def announce(api, key, dataset="dibao", filename=FILENAME):
    return call(api, "POST", "/v1/uploads", key, {"filename": filename, "dataset": dataset})


def csv_of(rows: list[dict]) -> str:
    return ",".join(COLUMNS) + "\r\n" + "".join(",".join(str(r.get(c, "")) for c in COLUMNS) + "\r\n" for r in rows)


def file_checksum(records: list[dict]) -> str:
    return hashlib.sha256(b"".join(canonical(r).encode() + b"\n" for r in records)).hexdigest()


def test_a_gb18030_csv_becomes_one_version_and_its_bad_row_is_kept_with_its_line(api, district):
    owner = district["civil-affairs"]
    people = person_records(5)
    bad = {**person_records(6)[5], "household_size": "三"}
    rows = people[:2] + [bad] + people[2:]  # the bad row is line 4 (the header is line 1)

    response = announce(api, owner)
    assert response.status_code == 201, response.body
    upload = response.json_body
    assert upload["dataset"] == "dibao"
    put(upload, csv_of(rows).encode("gb18030"))
    assert all(r == {"batchItemFailures": []} for r in deliver_uploads(api))

    report = status(api, owner, upload["id"])
    assert report["status"] == "done", report
    assert (report["dataset"], report["encoding"], report["format"]) == ("dibao", "GB18030/GBK", "csv")
    assert (report["accepted"], report["rejected"], report["version"]) == (5, 1, 1)
    assert report["errors"] == [{"line": 4, "errors": [{"field": "household_size", "message": "expected an integer"}]}]
    assert report["checksum"] == file_checksum(people)

    versions = call(api, "GET", "/v1/datasets/dibao/versions", owner).json_body["items"]
    assert len(versions) == 1
    version = versions[0]
    assert (version["version"], version["rows"], version["inserted"], version["rejected"]) == (1, 5, 5, 1)
    assert version["checksum"] == report["checksum"] and version["source"] == "upload" and version["at"]
    assert call(api, "GET", "/v1/datasets/dibao", owner).json_body["record_count"] == 5

    kept = RejectionStore().list(f"upload#{upload['id']}")
    assert [(k["position"], k["errors"][0]["field"]) for k in kept] == [(4, "household_size")]
    assert "三" in kept[0]["raw"]

    pulled = call(api, "GET", "/v1/datasets/dibao/records", owner, limit=100, fields="id_card,household_size,allowance")
    assert pulled.status_code == 200, pulled.body
    assert sorted((r["id_card"], r["household_size"], r["allowance"]) for r in pulled.json_body["items"]) == sorted(
        (p["id_card"], p["household_size"], p["allowance"]) for p in people
    )

    entries = call(api, "GET", "/v1/audit", owner, dataset="dibao").json_body["items"]
    loaded = [e for e in entries if e["action"] == "records.loaded"]
    assert len(loaded) == 1 and loaded[0]["actor"] == "civil-affairs"
    assert loaded[0]["details"]["rows"] == 5 and loaded[0]["details"]["checksum"] == report["checksum"]
    assert call(api, "GET", "/v1/audit/verify", ADMIN_KEY).json_body["ok"] is True


def test_the_same_file_again_is_a_second_version_with_nothing_changed(api, district):
    owner = district["civil-affairs"]
    content = csv_of(person_records(3)).encode("utf-8")
    for _ in range(2):
        upload = announce(api, owner).json_body
        put(upload, content)
        deliver_uploads(api)
    report = status(api, owner, upload["id"])
    assert (report["version"], report["accepted"], report["rejected"]) == (2, 3, 0)
    latest = call(api, "GET", "/v1/datasets/dibao/versions", owner).json_body["items"][0]
    assert (latest["version"], latest["rows"], latest["inserted"], latest["unchanged"]) == (2, 3, 0, 3)
    assert call(api, "GET", "/v1/datasets/dibao", owner).json_body["record_count"] == 3


def test_a_header_naming_no_field_of_the_dataset_fails_the_upload(api, district):
    owner = district["civil-affairs"]
    upload = announce(api, owner).json_body
    put(upload, "身份证号,姓名\r\n440605199001011234,张三\r\n".encode("gb18030"))
    deliver_uploads(api)
    report = status(api, owner, upload["id"])
    assert report["status"] == "failed" and "unknown column '身份证号'" in report["failure"]
    assert call(api, "GET", "/v1/datasets/dibao/versions", owner).json_body["items"] == []
    # the lease was released: a records POST goes through at once
    assert call(api, "POST", "/v1/datasets/dibao/records", owner, {"records": person_records(1)}).status_code == 200


def test_only_the_owner_or_the_data_bureau_announces_a_load(api, district):
    refused = announce(api, district["health"])
    assert refused.status_code == 403, refused.body
    entries = call(api, "GET", "/v1/audit", district["civil-affairs"], dataset="dibao").json_body["items"]
    assert ("health", "refused") in [(e["actor"], e["action"]) for e in entries]

    assert announce(api, district["health"], dataset="no-such-set").status_code == 404
    bad = announce(api, district["civil-affairs"], dataset="Not A Dataset!")
    assert bad.status_code == 400 and "dataset" in bad.body.decode()
    assert announce(api, ADMIN_KEY).status_code == 201


def test_a_file_of_several_blocks_is_one_version_and_a_repeated_key_updates_its_row(api, district):
    owner = district["civil-affairs"]
    people = person_records(1001)
    moved = {**people[5], "town": "里水镇"}  # line 1002, in the second block: the same key as line 6
    upload = announce(api, owner, filename="低保名单.jsonl").json_body
    put(upload, "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in [*people, moved]).encode())
    deliver_uploads(api)

    report = status(api, owner, upload["id"])
    assert (report["status"], report["format"], report["accepted"], report["rejected"]) == ("done", "jsonl", 1002, 0)
    versions = call(api, "GET", "/v1/datasets/dibao/versions", owner).json_body["items"]
    assert [(v["version"], v["rows"], v["inserted"], v["updated"]) for v in versions] == [(1, 1002, 1001, 1)]
    assert call(api, "GET", "/v1/datasets/dibao", owner).json_body["record_count"] == 1001
    town = call(api, "GET", "/v1/datasets/dibao/records", owner, id_card=moved["id_card"]).json_body["items"]
    assert [r["town"] for r in town] == ["里水镇"]


def test_a_long_load_renews_its_lease_and_stops_once_another_load_took_it_over(api, district):
    records = exchange().records
    store = records.catalog.store
    load = records.begin_load(records.catalog.get("dibao"))
    granted = store.get("dibao")["load_until"]
    load._renewed_ms -= LEASE_MS  # as if the load had been running for a while
    load.upsert([])
    assert store.get("dibao")["load_until"] > granted

    # the lease ran out (a stalled load) and another load took it: this one must stop, not write a version
    assert store.begin_load("dibao", "another", timeutil.now_ms() + 2 * LEASE_MS, LEASE_MS)["version_counter"] == 2
    load._renewed_ms -= LEASE_MS
    with pytest.raises(Conflict):
        load.upsert([])
    load.abort()
    assert store.get("dibao")["load_token"] == "another"
    store.abort_load("dibao", "another")
