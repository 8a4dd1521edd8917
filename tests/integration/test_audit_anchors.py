"""The anchored audit chain on moto: anchors in the Object Lock bucket (on demand and on
schedule), verify against them incrementally and paged, the full re-verification job,
the export and the offline verifier run on it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from citybrain.exchange import anchors as anchors_module
from citybrain.exchange.audit_store import CHAIN
from tests.integration.exchange_helpers import ADMIN_KEY, call, department
from tests.integration.helpers import receive_event
from tests.integration.test_exchange_audit import append_some

ROOT = Path(__file__).resolve().parents[2]


def audit_table():
    return boto3.client("dynamodb"), os.environ["CITYBRAIN_AUDIT_TABLE"]


def delete_entries(*seqs: int) -> None:
    ddb, table = audit_table()
    for seq in seqs:
        ddb.delete_item(TableName=table, Key={"chain": {"S": CHAIN}, "seq": {"N": str(seq)}})


def verify_until_complete(api, key=ADMIN_KEY, most=20) -> list[dict]:
    steps = []
    for _ in range(most):
        response = call(api, "GET", "/v1/audit/verify", key)
        assert response.status_code == 200, response.body
        steps.append(response.json_body)
        if response.json_body["complete"]:
            return steps
    raise AssertionError(f"verify never completed: {steps[-1]}")


def test_the_bucket_is_object_locked_in_compliance_mode(aws_stack):
    s3 = boto3.client("s3")
    config = s3.get_object_lock_configuration(Bucket=os.environ["CITYBRAIN_ANCHORS_BUCKET"])["ObjectLockConfiguration"]
    assert config["ObjectLockEnabled"] == "Enabled"
    retention = config["Rule"]["DefaultRetention"]
    assert retention["Mode"] == "COMPLIANCE" and retention["Days"] == 3650  # the parameter's default


def test_the_admin_anchors_on_demand_and_everyone_lists(api):
    key = department(api, "reader")
    assert call(api, "POST", "/v1/audit/anchors", ADMIN_KEY).status_code == 409  # nothing to anchor yet
    entries = append_some(3)
    refused = call(api, "POST", "/v1/audit/anchors", key)
    assert refused.status_code == 403 and refused.json_body["code"] == "Forbidden"
    made = call(api, "POST", "/v1/audit/anchors", ADMIN_KEY)
    assert made.status_code == 201, made.body
    anchor = made.json_body
    assert anchor["seq"] == 3 and anchor["hash"] == entries[-1]["hash"] and anchor["entries"] == 3
    assert anchor["created"] is True and anchor["trigger"] == "admin" and anchor["anchored_at"].endswith("+08:00")
    again = call(api, "POST", "/v1/audit/anchors", ADMIN_KEY).json_body
    assert again["created"] is False and again["seq"] == 3

    s3 = boto3.client("s3")
    bucket = os.environ["CITYBRAIN_ANCHORS_BUCKET"]
    stored = s3.get_object(Bucket=bucket, Key="anchors/000000000003.json")
    assert json.loads(stored["Body"].read())["hash"] == entries[-1]["hash"]
    assert stored["ObjectLockMode"] == "COMPLIANCE"
    with pytest.raises(s3.exceptions.ClientError):  # written once: a second Put of the key is refused
        s3.put_object(Bucket=bucket, Key="anchors/000000000003.json", Body=b"{}", IfNoneMatch="*")

    append_some(2)
    call(api, "POST", "/v1/audit/anchors", ADMIN_KEY)
    listed = call(api, "GET", "/v1/audit/anchors", key, limit=1)
    assert listed.status_code == 200 and [a["seq"] for a in listed.json_body["items"]] == [3]
    rest = call(api, "GET", "/v1/audit/anchors", key, cursor=listed.json_body["next_cursor"]).json_body
    assert [a["seq"] for a in rest["items"]] == [5] and rest["next_cursor"] is None
    after = call(api, "GET", "/v1/audit/anchors", key, after_seq=3).json_body
    assert [a["seq"] for a in after["items"]] == [5]


def test_the_schedule_anchors_the_head_when_it_moved(api):
    with open(ROOT / "events" / "schedule-anchor.json") as sample:
        event = json.load(sample)
    assert api.lambda_.invoke("anchor_audit_chain", event).payload is None  # an empty chain: nothing
    entries = append_some(4)
    anchored = api.lambda_.invoke("anchor_audit_chain", event).payload
    assert anchored["seq"] == 4 and anchored["hash"] == entries[-1]["hash"] and anchored["trigger"] == "schedule"
    assert api.lambda_.invoke("anchor_audit_chain", event).payload["created"] is False


def test_verify_detects_deleted_newest_entries_down_to_the_last_anchor(api):
    append_some(10)
    call(api, "POST", "/v1/audit/anchors", ADMIN_KEY)
    append_some(3)
    assert verify_until_complete(api)[-1]["ok"] is True
    delete_entries(13, 12)  # after the last anchor: the chain is shorter than verified -> still caught
    result = call(api, "GET", "/v1/audit/verify", ADMIN_KEY).json_body
    assert result["ok"] is False and result["broken_at"] == 12
    delete_entries(11, 10)  # below the anchor
    result = call(api, "GET", "/v1/audit/verify", ADMIN_KEY).json_body
    assert result["ok"] is False and result["broken_at"] == 10 and "deleted" in result["reason"]
    assert result["last_anchor"]["seq"] == 10
    refused = call(api, "POST", "/v1/audit/anchors", ADMIN_KEY)  # anchoring the shorter chain would hide it
    assert refused.status_code == 409 and "deleted" in refused.json_body["message"]


def test_verify_detects_a_consistent_rewrite_of_the_tail(api):
    from citybrain.core.dynamo import to_item
    from citybrain.exchange.audit_store import DynamoAuditStore

    append_some(8)
    call(api, "POST", "/v1/audit/anchors", ADMIN_KEY)
    from citybrain.exchange.chain import entry_hash

    # Rewrite entries 4..8 consistently, as someone with write access to the table could.
    ddb, table = audit_table()
    entries = list(DynamoAuditStore().walk())
    previous = entries[2]["hash"]
    for entry in entries[3:]:
        entry["actor"] = "forger" if entry["seq"] == 4 else entry["actor"]
        entry["prev_hash"] = previous
        entry["hash"] = previous = entry_hash(entry)
        ddb.put_item(TableName=table, Item=to_item({"chain": CHAIN, **entry}))
    from citybrain.exchange.audit import verify as walk_links

    assert walk_links(DynamoAuditStore().walk())["ok"] is True  # the links alone do not tell
    result = call(api, "GET", "/v1/audit/verify", ADMIN_KEY).json_body
    assert result["ok"] is False and result["broken_at"] == 8 and "anchor" in result["reason"]


def test_verify_pages_a_long_chain_and_continues_where_it_stopped(api, monkeypatch):
    monkeypatch.setattr(anchors_module, "VERIFY_PAGE", 7)
    key = department(api, "reader")
    entries = append_some(20)
    call(api, "POST", "/v1/audit/anchors", ADMIN_KEY)
    steps = verify_until_complete(api, key)
    assert [s["verified_to_seq"] for s in steps] == [7, 14, 20]
    assert [s["checked"] for s in steps] == [7, 7, 6] and [s["entries"] for s in steps] == [7, 14, 20]
    assert [s["complete"] for s in steps] == [False, False, True]
    assert steps[-1]["head"] == entries[-1]["hash"] and steps[-1]["anchors_checked"] == 1
    append_some(2)
    assert call(api, "GET", "/v1/audit/verify", key).json_body["verified_to_seq"] == 22


def test_a_full_reverification_runs_as_a_job(api, monkeypatch):
    key = department(api, "reader")
    append_some(12)
    call(api, "POST", "/v1/audit/anchors", ADMIN_KEY)
    assert call(api, "POST", "/v1/audit/verifications", key).status_code == 403
    asked = call(api, "POST", "/v1/audit/verifications", ADMIN_KEY)
    assert asked.status_code == 202, asked.body
    job_id = asked.json_body["id"]
    assert asked.json_body["status"] == "queued"

    real = anchors_module.ChainAnchors.run_slice
    monkeypatch.setattr(anchors_module.ChainAnchors, "run_slice", lambda self, job: real(self, job, slice_size=5))
    for _ in range(10):
        event = receive_event("CITYBRAIN_AUDIT_VERIFICATIONS_QUEUE")
        if not event["Records"]:
            break
        assert api.lambda_.invoke("verify_audit_chain", event).payload == {"batchItemFailures": []}
    done = call(api, "GET", f"/v1/audit/verifications/{job_id}", key)
    assert done.status_code == 200, done.body
    body = done.json_body
    assert body["status"] == "done" and body["ok"] is True and body["entries"] == 12 and body["anchors_checked"] == 1
    assert call(api, "GET", "/v1/audit/verifications/ver_nope", key).status_code == 404
    assert call(api, "GET", "/v1/audit/verifications/checkpoint", key).status_code == 404


def test_the_sample_event_of_the_job_queue_is_handled(api):
    with open(ROOT / "events" / "sqs-audit-verification.json") as sample:
        event = json.load(sample)
    # the sample names a job this stack does not have: handled (nothing to do), not a failure
    assert api.lambda_.invoke("verify_audit_chain", event).payload == {"batchItemFailures": []}


def test_the_export_pages_and_the_offline_command_checks_it(api, tmp_path):
    key = department(api, "reader")
    append_some(25)
    call(api, "POST", "/v1/audit/anchors", ADMIN_KEY)
    append_some(5)
    call(api, "POST", "/v1/audit/anchors", ADMIN_KEY)
    assert call(api, "GET", "/v1/audit/export", key).status_code == 403
    pages, start = [], 1
    while start:
        response = call(api, "GET", "/v1/audit/export", ADMIN_KEY, from_seq=start, to_seq=start + 11)
        assert response.status_code == 200, response.body
        assert response.headers["Content-Type"].startswith("application/x-ndjson")
        pages.append(response.body.decode() if isinstance(response.body, bytes) else response.body)
        start = int(response.headers.get("X-Next-From-Seq", 0))
    assert len(pages) == 3
    export = tmp_path / "export.jsonl"
    export.write_text("".join(pages), encoding="utf-8")
    assert len(export.read_text().splitlines()) == 30
    anchors = call(api, "GET", "/v1/audit/anchors", key).json_body
    anchor_file = tmp_path / "anchors.json"
    anchor_file.write_text(json.dumps(anchors), encoding="utf-8")

    def offline(*paths):
        return subprocess.run(
            [sys.executable, "-S", "-m", "citybrain.exchange.verify_export", *map(str, paths)],
            capture_output=True,
            text=True,
            env={"PYTHONPATH": str(ROOT / "layers")},
            check=False,
        )

    good = offline(export, anchor_file)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "OK: entries 1..30 verified from genesis; 2 anchors match" in good.stdout
    lines = export.read_text().splitlines()
    entry = json.loads(lines[9])
    entry["details"]["rows"] = 7
    lines[9] = json.dumps(entry)
    tampered = tmp_path / "tampered.jsonl"
    tampered.write_text("\n".join(lines) + "\n")
    bad = offline(tampered, anchor_file)
    assert bad.returncode == 1 and "BROKEN at entry 10" in bad.stdout
    short = tmp_path / "short.jsonl"
    short.write_text("\n".join(export.read_text().splitlines()[:20]) + "\n")
    assert offline(short, anchor_file).returncode == 1  # cut short of the anchor at 25


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from_seq": "0"}, "from_seq"),
        ({"from_seq": "abc"}, "from_seq"),
        ({"from_seq": "１"}, "from_seq"),
        ({"to_seq": "-3"}, "to_seq"),
        ({"from_seq": "9", "to_seq": "3"}, "to_seq"),
        ({"from_seq": "1", "to_seq": "5000"}, "to_seq"),
        ({"from_seq": "99999999999999999999999"}, "from_seq"),
    ],
)
def test_bad_export_bounds_are_a_400_naming_the_field(api, params, field):
    response = call(api, "GET", "/v1/audit/export", ADMIN_KEY, **params)
    assert response.status_code == 400, response.body
    assert response.json_body["errors"][0]["field"] == field
