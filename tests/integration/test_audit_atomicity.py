"""Every audited action of the exchange is atomic with its audit entry, shown by fault injection.

For each action, for N = 1, 2, … the Nth DynamoDB write the action makes (PutItem,
UpdateItem, DeleteItem, BatchWriteItem, TransactWriteItems) fails, until N passes the
number of writes the action makes; once before the write reaches the table, once after
DynamoDB did it (its answer lost). After each failure: either nothing visible changed,
or the change and its audit entry both exist (exactly one new entry, of that action);
`GET /v1/audit/verify` is ok; and when nothing changed, the same action sent again
succeeds normally. The hook is this module's fixture, which patches
botocore's client; no production code knows about it.

"Visible" is what the exchange shows: every table item as stored, with two things a
failed load leaves behind by design and that no reader can see taken out — rows
staged under a version that never committed (records.py: staged rows become visible
only with the version's audit entry), and a load's bookkeeping on the dataset
(version counter, versions never committed, lease), along with the rejections kept
for a version or an uploaded file whose load never committed (the upload intake
drops an upload's rejections and rewrites them when it reads the file again). The
statistics table is compared like any other: its counters are written in the audit
entry's own transaction.
"""

from __future__ import annotations

import json
import os

import boto3
import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from citybrain.composition import exchange
from citybrain.core.config import get_settings
from citybrain.core.dynamo import from_item
from citybrain.core.rejections import RejectionStore
from citybrain.exchange import loads as loads_module
from citybrain.exchange.audit import AuditLog
from citybrain.exchange.audit_store import DynamoAuditStore
from citybrain.exchange.loads import DatasetUpload
from citybrain.exchange.rows import Committed
from citybrain.exchange.stats import ExchangeStats, replay
from citybrain.exchange.stats_store import DynamoStatsStore
from citybrain.uploads.models import S3Object
from tests.integration.exchange_helpers import ADMIN_KEY, call, dataset_body, department, person_records

WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
LOAD_BOOKKEEPING = {"version_counter", "abandoned", "load_token", "load_until"}


class WriteFaults:
    """Fails the Nth DynamoDB write made while armed, counting every write: before it is
    sent, or (`after`) once DynamoDB has done it — the answer lost on its way back."""

    def __init__(self, after: bool) -> None:
        self.after = after
        self.fail_at: int | None = None
        self.writes = 0
        self.failed = False

    def arm(self, n: int) -> None:
        self.fail_at, self.writes, self.failed = n, 0, False

    def disarm(self) -> None:
        self.fail_at = None


@pytest.fixture(params=["before", "after"])
def faults(request, monkeypatch):
    hook = WriteFaults(after=request.param == "after")
    original = BaseClient._make_api_call

    def make_api_call(client, operation, params):
        if hook.fail_at is not None and operation in WRITES and client.meta.service_model.service_name == "dynamodb":
            hook.writes += 1
            if hook.writes == hook.fail_at:
                hook.failed = True
                if hook.after:
                    original(client, operation, params)
                raise ClientError({"Error": {"Code": "InternalServerError", "Message": "injected fault"}}, operation)
        return original(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", make_api_call)
    return hook


@pytest.fixture
def district(api):
    keys = {
        "owner": department(api, "civil-affairs", "区民政局"),
        "consumer": department(api, "health", "区卫生健康局"),
        "stranger": department(api, "urban", "区城管局"),
    }
    for dataset_id, sensitivity in (("dibao", "sensitive"), ("wubao", "internal")):
        assert (
            call(api, "POST", "/v1/datasets", keys["owner"], dataset_body(dataset_id, sensitivity)).status_code == 201
        )
        loaded = call(api, "POST", f"/v1/datasets/{dataset_id}/records", keys["owner"], {"records": person_records(20)})
        assert loaded.status_code == 200, loaded.body
    asked = call(api, "POST", "/v1/datasets/wubao/access-requests", keys["consumer"], {"purpose": "重点人群随访核对"})
    granted = call(
        api, "POST", f"/v1/access-requests/{asked.json_body['id']}/decision", keys["owner"], {"decision": "approve"}
    )
    assert granted.status_code == 200 and granted.json_body["status"] == "approved", granted.body
    return keys


# -- what is visible ---------------------------------------------------------------------
def _scan(table: str) -> list[dict]:
    items: list[dict] = []
    for page in boto3.client("dynamodb").get_paginator("scan").paginate(TableName=table):
        items += [from_item(raw) for raw in page["Items"]]
    return items


def visible_state() -> dict[str, list[str]]:
    settings = get_settings()
    tables = sorted(v for k, v in os.environ.items() if k.startswith("CITYBRAIN_") and k.endswith("_TABLE"))
    datasets = {
        item["pk"][3:]: item for item in _scan(settings.datasets_table) if item.get("sk") == "META"
    }  # DS#<id> -> metadata
    views = {dataset_id: Committed.of(meta) for dataset_id, meta in datasets.items()}
    # uploads whose load committed (every upload of this module targets a dataset)
    uploaded = {item["upload"] for item in _scan(settings.datasets_table) if "upload" in item}
    state: dict[str, list[str]] = {}
    for table in tables:
        shown = []
        for item in _scan(table):
            if table == settings.records_table:
                view = views[item["part"].rsplit("#", 1)[0]]
                if item.get("next_ver") is not None and view.includes(item["next_ver"]):
                    item = {"part": item["part"], "row": item["row"], "data": item["next"], "sum": item["next_sum"]}
                elif "ver" in item:
                    item = {"part": item["part"], "row": item["row"], "data": item["data"], "sum": item["sum"]}
                else:
                    continue  # only ever staged by a load that did not commit
            elif table == settings.datasets_table and item.get("sk") == "META":
                item = {k: v for k, v in item.items() if k not in LOAD_BOOKKEEPING}
            elif table == settings.rejections_table and item["source"].startswith("dataset:"):
                _, dataset_id, version = item["source"].split(":")
                if not views[dataset_id].includes(int(version[1:])):
                    continue
            elif table == settings.rejections_table and item["source"].startswith("upload#"):
                if item["source"][len("upload#") :] not in uploaded:
                    continue  # the intake drops and rewrites them when it reads the file again
            shown.append(json.dumps(item, sort_keys=True, ensure_ascii=False, default=str))
        state[table] = sorted(shown)
    return state


def chain() -> list[dict]:
    return list(DynamoAuditStore().walk())


def assert_verifies(api) -> None:
    response = call(api, "GET", "/v1/audit/verify", ADMIN_KEY)
    assert response.status_code == 200 and response.json_body["ok"] is True, response.body


# -- the driver ------------------------------------------------------------------------
def each_write_fails(api, faults, audited: str, act, prepare=lambda n: None, observe=None) -> int:
    """Run `act(n, prepared)` with its Nth write failing, N = 1, 2, … until it makes fewer
    writes than N (then it must have succeeded). `act` returns True once the action
    succeeded; `observe()`, if given, is what the API shows of the change (compared too,
    independently of how the tables are read here). -> the number of writes the action makes."""
    n = 0
    while True:
        n += 1
        prepared = prepare(n)
        seen = observe() if observe else None
        before, before_chain = visible_state(), len(chain())
        faults.arm(n)
        try:
            succeeded = act(n, prepared)
        except Exception:  # an action called directly (not over HTTP) raises the fault itself
            succeeded = False
        finally:
            faults.disarm()
        if not faults.failed:
            assert succeeded, f"{audited}: made {n - 1} writes and then failed without a fault"
            return n - 1
        assert not succeeded, f"{audited}: write {n} failed, yet the action reported success"
        after, entries = visible_state(), chain()[before_chain:]
        if after != before:
            changed = sorted(t for t in after if after[t] != before[t])
            assert [e["action"] for e in entries] == [audited], (n, changed, entries)
        else:
            assert entries == []
        if observe and not entries:
            assert observe() == seen, f"{audited}: write {n} failed and the API shows a change without its entry"
        assert_verifies(api)
        if entries:
            # Only when the answer of the committing write was lost: the action happened,
            # with its entry; sending it again is a new action (or a conflict with this one).
            assert faults.after
        else:
            assert act(n, prepared), f"{audited}: sending it again after write {n} failed did not succeed"


def assert_writes(faults, made: int, expected: int) -> None:
    """The writes an action makes, counted on its last run; after a lost answer that run
    also retries the audit entry its process thought was the head's successor."""
    if not faults.after:
        assert made == expected


def ok(response, *statuses: int) -> bool:
    if response.status_code == 500:
        return False
    assert response.status_code in statuses, response.body
    return True


def wubao(api, district) -> tuple:
    """The dataset as its owner sees it over the API: metadata, versions, every record."""
    owner = district["owner"]
    meta = call(api, "GET", "/v1/datasets/wubao", owner).json_body
    versions = call(api, "GET", "/v1/datasets/wubao/versions", owner, limit=100).json_body["items"]
    records = call(api, "GET", "/v1/datasets/wubao/records", owner, limit=1000).json_body["items"]
    return meta, versions, sorted(json.dumps(r, sort_keys=True, ensure_ascii=False) for r in records)


# -- the actions -------------------------------------------------------------------------
def test_publication(api, district, faults):
    def act(n, _):
        return ok(call(api, "POST", "/v1/datasets", district["owner"], dataset_body(f"published-{n}", "internal")), 201)

    assert_writes(faults, each_write_fails(api, faults, "dataset.published", act), 1)


def test_metadata_change(api, district, faults):
    def act(n, _):
        return ok(call(api, "PATCH", "/v1/datasets/wubao", district["owner"], {"title": f"五保名单（第{n}版）"}), 200)

    assert_writes(faults, each_write_fails(api, faults, "dataset.updated", act), 1)


def test_records_load_by_http(api, district, faults):
    """New rows and changed ones (a changed row keeps its committed content visible until
    the load commits), a rejected record, several batches."""
    known = person_records(20)

    def act(n, _):
        records = [{**r, "allowance": 1000.0 + n} for r in known[:10]] + person_records(40, seed=100 + n)
        body = {"records": [*records, {"name": "无身份证号"}]}
        response = call(api, "POST", "/v1/datasets/wubao/records", district["owner"], body)
        if not ok(response, 200):
            return False
        assert (response.json_body["inserted"], response.json_body["updated"]) == (40, 10), response.body
        return True

    writes = each_write_fails(api, faults, "records.loaded", act, observe=lambda: wubao(api, district))
    assert_writes(faults, writes, 5)  # the lease, two batches of staged rows, the rejection kept, the commit
    pulled = call(api, "GET", "/v1/datasets/wubao/records", district["owner"], limit=1000).json_body["items"]
    assert len(pulled) == call(api, "GET", "/v1/datasets/wubao", district["owner"]).json_body["record_count"]
    # the last run (N = writes + 1) went through: its changes are the ones shown
    assert {r["allowance"] for r in pulled if r["id_card"] in {k["id_card"] for k in known[:10]}} == {1001.0 + writes}


def test_records_load_by_upload(api, district, faults, monkeypatch):
    """The exchange's side of the upload intake: a file read in blocks into one version."""
    monkeypatch.setattr(loads_module, "BLOCK_ROWS", 20)  # a few blocks from a small file
    columns = ["id_card", "name", "phone", "address", "town", "household_size", "allowance"]
    reader = DatasetUpload(exchange().records, RejectionStore().record)

    def act(n, _):
        people = person_records(45, seed=200 + n)
        rows = [*people, {**people[3], "town": "九江镇"}, {**people[0], "household_size": "三"}]
        text = ",".join(columns) + "\r\n" + "".join(",".join(str(r.get(c, "")) for c in columns) + "\r\n" for r in rows)
        upload = {"id": f"up-{n}", "filename": "五保.csv", "dataset": "wubao", "department": "civil-affairs"}
        obj = S3Object(bucket="uploads", key=f"uploads/civil-affairs/up-{n}/五保.csv", size=len(text), etag=f"e{n}")
        report = reader.read([text.encode("utf-8")], upload, obj, f"upload#up-{n}")
        assert (report.accepted, report.rejected) == (46, 1)
        return True

    # the lease, three blocks staged, the rejection kept, the commit
    assert_writes(faults, each_write_fails(api, faults, "records.loaded", act, observe=lambda: wubao(api, district)), 6)


def test_access_request(api, district, faults):
    def act(n, _):
        body = {"purpose": f"第{n}次随访核对", "clear_fields": ["phone"]}
        return ok(call(api, "POST", "/v1/datasets/dibao/access-requests", district["consumer"], body), 201)

    assert_writes(faults, each_write_fails(api, faults, "access.requested", act), 1)


def _request(api, district, dataset="wubao", **extra) -> str:
    body = {"purpose": "随访核对名单", **extra}
    response = call(api, "POST", f"/v1/datasets/{dataset}/access-requests", district["consumer"], body)
    assert response.status_code == 201, response.body
    return response.json_body["id"]


@pytest.mark.parametrize(
    ("audited", "decision", "key"),
    [
        ("access.approved", {"decision": "approve"}, "owner"),
        ("access.rejected", {"decision": "reject", "reason": "用途不明"}, "owner"),
        ("access.bureau_approved", {"decision": "approve"}, "admin"),
    ],
)
def test_decisions(api, district, faults, audited, decision, key):
    def prepare(n):
        if key == "admin":  # the owner approved clear data: the request waits for the data bureau
            request_id = _request(api, district, "dibao", clear_fields=["phone"])
            owner = call(api, "POST", f"/v1/access-requests/{request_id}/decision", district["owner"], decision)
            assert owner.json_body["status"] == "pending_bureau", owner.body
            return request_id
        return _request(api, district)

    def act(n, request_id):
        decider = ADMIN_KEY if key == "admin" else district[key]
        return ok(call(api, "POST", f"/v1/access-requests/{request_id}/decision", decider, decision), 200)

    assert_writes(faults, each_write_fails(api, faults, audited, act, prepare), 1)


def test_revocation(api, district, faults):
    def prepare(n):
        request_id = _request(api, district)
        decided = call(
            api, "POST", f"/v1/access-requests/{request_id}/decision", district["owner"], {"decision": "approve"}
        )
        return decided.json_body["grant_id"]

    def act(n, grant_id):
        response = call(api, "DELETE", f"/v1/grants/{grant_id}", district["owner"], {"reason": "停止共享"})
        if not ok(response, 200):
            return False
        assert response.json_body["status"] == "revoked"
        return True

    assert_writes(faults, each_write_fails(api, faults, "grant.revoked", act, prepare), 1)


def test_pull(api, district, faults):
    """The entry is written before any data leaves: a pull whose entry failed returns none."""

    def act(n, _):
        response = call(api, "GET", "/v1/datasets/wubao/records", district["consumer"], limit=5)
        if response.status_code == 500:
            assert "items" not in response.json_body
        return ok(response, 200)

    assert_writes(faults, each_write_fails(api, faults, "records.pulled", act), 1)


@pytest.mark.parametrize(
    ("audited", "method", "path", "body"),
    [
        ("records.refused", "GET", "/v1/datasets/dibao/records", None),
        ("refused", "POST", "/v1/datasets/wubao/records", {"records": person_records(1)}),
        ("refused", "PATCH", "/v1/datasets/wubao", {"title": "改名"}),
    ],
)
def test_refusals(api, district, faults, audited, method, path, body):
    """A 403 that is audited: without its entry it is a 500, never a silent refusal."""

    def act(n, _):
        return ok(call(api, method, path, district["stranger"], body), 403)

    assert_writes(faults, each_write_fails(api, faults, audited, act), 1)


# -- concurrency -------------------------------------------------------------------------
def test_concurrent_pulls_never_fork_the_chain_and_count_once(api, district):
    """Writer A reads the head, writer B appends a pull (with its counters, one transaction)
    before A writes: A's transaction fails on the taken sequence number as a whole — its
    counters with it — A reads the head again and appends after B. Played out
    deterministically (moto in one process is not safe under threads)."""
    store_a = DynamoAuditStore()
    stats = ExchangeStats(DynamoStatsStore())
    writer_a, writer_b = AuditLog(store_a, stats.writes), AuditLog(DynamoAuditStore(), stats.writes)

    def pull(writer, n):
        return writer.append(
            actor="health", action="records.pulled", dataset="wubao", dataset_owner="civil-affairs", details={"rows": n}
        )

    pull(writer_a, 1)  # A now remembers the head
    original_head = store_a.head
    interleaved = []
    pull(writer_b, 2)  # B appends behind A's back: A's remembered head is stale

    def head_then_b_appends():
        head = original_head()
        if not interleaved:
            interleaved.append(pull(writer_b, 3))
        return head

    store_a.head = head_then_b_appends  # type: ignore[method-assign]
    entry_a = pull(writer_a, 4)
    assert entry_a["prev_hash"] == interleaved[0]["hash"] and entry_a["seq"] == interleaved[0]["seq"] + 1
    entries = chain()
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    assert_verifies(api)
    ddb = boto3.client("dynamodb")
    stored = {}
    for item in ddb.scan(TableName=get_settings().exchange_stats_table)["Items"]:
        stored[(item["subject"]["S"], item["period"]["S"])] = {k: int(v["N"]) for k, v in item.items() if "N" in v}
    assert stored == replay(entries)
