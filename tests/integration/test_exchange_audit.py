"""The audit chain on moto: tampering is detected, racing appends never fork,
each department sees its own view, and the statistics match the chain."""

from __future__ import annotations

import os

import boto3
import pytest

from citybrain.exchange.audit import AuditLog, RequestFacts
from citybrain.exchange.audit_store import CHAIN, DynamoAuditStore
from citybrain.exchange.stats import replay
from tests.integration.exchange_helpers import ADMIN_KEY, approve_all, call, dataset_body, department, person_records


def append_some(n: int, log: AuditLog | None = None) -> list[dict]:
    log = log or AuditLog(DynamoAuditStore())
    return [
        log.append(
            actor="health",
            action="records.pulled",
            dataset="dibao",
            dataset_owner="civil-affairs",
            request=RequestFacts("GET", "/v1/datasets/dibao/records", {"cursor": str(i)}),
            details={"rows": 100, "fields": ["name", "town"]},
        )
        for i in range(n)
    ]


def verify(api) -> dict:
    department(api, "reader")
    response = call(api, "GET", "/v1/audit/verify", ADMIN_KEY)
    assert response.status_code == 200
    return response.json_body


def audit_table():
    return boto3.client("dynamodb"), os.environ["CITYBRAIN_AUDIT_TABLE"]


def key(seq: int) -> dict:
    return {"chain": {"S": CHAIN}, "seq": {"N": str(seq)}}


def test_an_intact_chain_verifies(api):
    entries = append_some(12)
    assert [e["seq"] for e in entries] == list(range(1, 13))
    assert verify(api) == {
        "ok": True,
        "entries": 12,
        "head": entries[-1]["hash"],
        "checked": 12,
        "complete": True,
        "from_seq": 1,
        "verified_to_seq": 12,
        "head_seq": 12,
        "anchors_checked": 0,
    }


def test_an_entry_edited_in_the_table_is_the_first_broken_link(api):
    append_some(8)
    ddb, table = audit_table()
    ddb.update_item(
        TableName=table,
        Key=key(5),
        UpdateExpression="SET details.#r = :r",
        ExpressionAttributeNames={"#r": "rows"},
        ExpressionAttributeValues={":r": {"N": "1"}},
    )
    result = verify(api)
    assert result["ok"] is False and result["broken_at"] == 5 and result["entries"] == 4
    assert "does not match its hash" in result["reason"]


def test_an_edited_entry_with_a_recomputed_hash_breaks_the_next_link(api):
    entries = append_some(8)
    from citybrain.exchange.audit import entry_hash

    forged = {**entries[2], "actor": "urban"}
    forged["hash"] = entry_hash(forged)
    ddb, table = audit_table()
    ddb.update_item(
        TableName=table,
        Key=key(3),
        UpdateExpression="SET actor = :a, #h = :h",
        ExpressionAttributeNames={"#h": "hash"},
        ExpressionAttributeValues={":a": {"S": "urban"}, ":h": {"S": forged["hash"]}},
    )
    result = verify(api)
    assert result["broken_at"] == 4 and "prev_hash" in result["reason"]


def test_a_deleted_entry_is_detected(api):
    append_some(8)
    ddb, table = audit_table()
    ddb.delete_item(TableName=table, Key=key(6))
    result = verify(api)
    assert result["broken_at"] == 6 and "missing" in result["reason"] and result["entries"] == 5


def test_racing_appends_never_fork_the_chain(aws_stack):
    """Writer A reads the head, writer B appends before A writes: A's conditional
    Put on the same sequence number fails, A reads the head again and appends
    after B. (moto in one process is not safe under threads, so the race is
    played out deterministically.)"""
    store_a, store_b = DynamoAuditStore(), DynamoAuditStore()
    writer_a, writer_b = AuditLog(store_a), AuditLog(store_b)
    append_some(3, writer_b)
    original_head = store_a.head
    interleaved = []

    def head_then_b_appends():
        head = original_head()
        if not interleaved:
            interleaved.append(append_some(1, writer_b)[0])
        return head

    store_a.head = head_then_b_appends
    entry_a = writer_a.append(actor="urban", action="records.pulled", dataset="firms", dataset_owner="urban")
    assert interleaved[0]["seq"] == 4 and entry_a["seq"] == 5
    assert entry_a["prev_hash"] == interleaved[0]["hash"]

    # Many writers, each with a stale idea of the head, taking turns: still one chain.
    writers = [AuditLog(DynamoAuditStore()) for _ in range(4)]
    for round_ in range(6):
        for n, writer in enumerate(writers):
            writer.append(actor=f"dept-{n}", action="records.pulled", details={"round": round_})
    chain = list(DynamoAuditStore().walk())
    assert [e["seq"] for e in chain] == list(range(1, 30))
    from citybrain.exchange.audit import verify as verify_chain

    assert verify_chain(chain)["ok"] is True


def test_each_department_sees_its_own_view_page_by_page(api):
    for dept in ("civil-affairs", "health", "urban"):
        department(api, dept)
    keys = {}
    log = AuditLog(DynamoAuditStore())
    plan = [
        ("health", "civil-affairs"),
        ("civil-affairs", "civil-affairs"),
        ("urban", "urban"),
        ("health", "urban"),
        ("urban", "civil-affairs"),
    ] * 5
    for n, (actor, owner) in enumerate(plan):
        log.append(actor=actor, action="records.pulled", dataset=f"{owner}-data", dataset_owner=owner, details={"n": n})
    keys["health"] = department(api, "health2")  # a department with no entries

    def walk(key, **params):
        seen, cursor = [], None
        while True:
            body = call(
                api, "GET", "/v1/audit", key, limit=4, **params, **({"cursor": cursor} if cursor else {})
            ).json_body
            seen += [e["seq"] for e in body["items"]]
            cursor = body["next_cursor"]
            if not cursor:
                return seen

    everything = walk(ADMIN_KEY)
    assert everything == list(range(25, 0, -1))
    expected_civil = [n + 1 for n, (actor, owner) in enumerate(plan) if "civil-affairs" in (actor, owner)]
    assert walk(ADMIN_KEY, actor="health") == [n + 1 for n, (a, _) in reversed(list(enumerate(plan))) if a == "health"]
    assert walk(ADMIN_KEY, dataset="urban-data", actor="health") == [
        n + 1 for n, (a, o) in reversed(list(enumerate(plan))) if (a, o) == ("health", "urban")
    ]
    assert walk(keys["health"]) == []
    # a department: its own actions and everything on its datasets, merged newest first
    from citybrain.composition import exchange
    from citybrain.departments.models import Principal

    view = exchange().audit_entries(Principal("civil-affairs", "department"), {"limit": "100"})
    assert [e["seq"] for e in view["items"]] == sorted(expected_civil, reverse=True)
    page1 = exchange().audit_entries(Principal("civil-affairs", "department"), {"limit": "4"})
    seqs, cursor = [e["seq"] for e in page1["items"]], page1["next_cursor"]
    while cursor:
        page = exchange().audit_entries(Principal("civil-affairs", "department"), {"limit": "4", "cursor": cursor})
        seqs += [e["seq"] for e in page["items"]]
        cursor = page["next_cursor"]
    assert seqs == sorted(expected_civil, reverse=True)
    by_other = exchange().audit_entries(Principal("civil-affairs", "department"), {"actor": "urban", "limit": "100"})
    assert [e["seq"] for e in by_other["items"]] == [
        n + 1 for n, (a, o) in reversed(list(enumerate(plan))) if (a, o) == ("urban", "civil-affairs")
    ]


def test_time_window(api):
    entries = append_some(5)
    body = call(
        api, "GET", "/v1/audit", ADMIN_KEY, **{"from": entries[1]["at_ms"], "to": entries[3]["at_ms"]}
    ).json_body
    assert [e["seq"] for e in body["items"]] == [
        e["seq"] for e in entries if entries[1]["at_ms"] <= e["at_ms"] <= entries[3]["at_ms"]
    ][::-1]
    assert call(api, "GET", "/v1/audit", ADMIN_KEY, **{"from": "yesterday"}).status_code == 400


def test_statistics_equal_a_recount_of_the_chain(api):
    owner, consumer = department(api, "civil-affairs"), department(api, "health")
    assert call(api, "POST", "/v1/datasets", owner, dataset_body("dibao", "internal")).status_code == 201
    call(api, "POST", "/v1/datasets/dibao/records", owner, {"records": person_records(9)})
    call(api, "GET", "/v1/datasets/dibao/records", consumer)
    request_id = call(api, "POST", "/v1/datasets/dibao/access-requests", consumer, {"purpose": "名单核对"}).json_body[
        "id"
    ]
    approve_all(api, request_id, owner)
    cursor = call(api, "GET", "/v1/datasets/dibao/records", consumer, limit=5).json_body["next_cursor"]
    assert len(call(api, "GET", "/v1/datasets/dibao/records", consumer, limit=5, cursor=cursor).json_body["items"]) == 4

    recount = replay(DynamoAuditStore().walk())
    ddb = boto3.client("dynamodb")
    stored = {}
    for item in ddb.scan(TableName=os.environ["CITYBRAIN_EXCHANGE_STATS_TABLE"])["Items"]:
        counters = {k: int(v["N"]) for k, v in item.items() if "N" in v}
        stored[(item["subject"]["S"], item["period"]["S"])] = {k: v for k, v in counters.items()}
    assert stored == recount
    pair = next(v for (subject, _), v in stored.items() if subject == "pair#civil-affairs#health")
    assert pair == {"requests": 1, "approved": 1, "pulls": 2, "rows": 9, "refused": 1}


@pytest.mark.parametrize("limit", ["0", "1001", "x"])
def test_limits_are_checked(api, limit):
    assert call(api, "GET", "/v1/audit", ADMIN_KEY, limit=limit).status_code == 400
