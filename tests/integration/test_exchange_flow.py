"""The exchange end to end over HTTP on moto: publish, load, request, two-level
approval, masked pulls, expiry, revocation, the audit and the statistics."""

from __future__ import annotations

import boto3
import pytest

from citybrain.core import timeutil
from tests.integration.exchange_helpers import ADMIN_KEY, approve_all, call, dataset_body, department, person_records


@pytest.fixture
def district(api):
    keys = {
        d: department(api, d, n)
        for d, n in (("civil-affairs", "区民政局"), ("health", "区卫生健康局"), ("urban", "区城管局"))
    }
    return keys


def publish(api, key, body):
    response = call(api, "POST", "/v1/datasets", key, body)
    assert response.status_code == 201, response.body
    return response.json_body


def load(api, key, dataset_id, records):
    response = call(api, "POST", f"/v1/datasets/{dataset_id}/records", key, {"records": records})
    assert response.status_code == 200, response.body
    return response.json_body


def audit_actions(api, key, **params):
    response = call(api, "GET", "/v1/audit", key, **params)
    assert response.status_code == 200, response.body
    return [(e["actor"], e["action"]) for e in response.json_body["items"]]


def test_sensitive_dataset_two_level_approval_and_masked_pull(api, district):
    owner, consumer, other = district["civil-affairs"], district["health"], district["urban"]
    published = publish(api, owner, dataset_body("dibao"))
    assert published["owner"] == "civil-affairs" and published["record_count"] == 0
    assert "row_salt" not in published and "shards" not in published

    people = person_records(30)
    bad = [
        {**people[0], "id_card": people[0]["id_card"][:-1] + ("0" if people[0]["id_card"][-1] != "0" else "1")},
        {"name": "无证号"},
        {**people[1], "household_size": "三"},
    ]
    result = load(api, owner, "dibao", people + bad)
    assert (result["version"], result["accepted"], result["inserted"]) == (1, 30, 30)
    assert [(r["index"], r["errors"][0]["field"]) for r in result["rejected"]] == [
        (30, "records.30.id_card"),
        (31, "records.31.id_card"),
        (32, "records.32.household_size"),
    ]
    # rejected records are kept with their reason
    from citybrain.core.rejections import RejectionStore

    kept = RejectionStore().list("dataset:dibao:v1")
    assert sorted(k["position"] for k in kept) == [30, 31, 32]

    # a consumer without a grant is refused, and the attempt is audited
    refused = call(api, "GET", "/v1/datasets/dibao/records", consumer)
    assert refused.status_code == 403 and "no grant" in refused.json_body["message"]

    request = call(
        api,
        "POST",
        "/v1/datasets/dibao/access-requests",
        consumer,
        {
            "purpose": "医疗救助对象核对（低保户住院费用减免）",
            "fields": ["id_card", "name", "town", "allowance", "phone"],
        },
    )
    assert request.status_code == 201 and request.json_body["status"] == "pending_owner"
    request_id = request.json_body["id"]
    inbox = call(api, "GET", "/v1/access-requests", owner, role="owner", status="pending_owner").json_body["items"]
    assert [r["id"] for r in inbox] == [request_id]
    assert [r["id"] for r in call(api, "GET", "/v1/access-requests", consumer, role="consumer").json_body["items"]] == [
        request_id
    ]

    # the consumer cannot decide its own request; the owner narrows the fields
    assert (
        call(api, "POST", f"/v1/access-requests/{request_id}/decision", consumer, {"decision": "approve"}).status_code
        == 403
    )
    widened = call(
        api,
        "POST",
        f"/v1/access-requests/{request_id}/decision",
        owner,
        {"decision": "approve", "fields": ["id_card", "household_size"]},
    )
    assert widened.status_code == 400 and widened.json_body["errors"][0]["field"] == "fields.1"
    owner_ok = call(
        api,
        "POST",
        f"/v1/access-requests/{request_id}/decision",
        owner,
        {"decision": "approve", "fields": ["id_card", "name", "town", "allowance"]},
    )
    assert owner_ok.status_code == 200 and owner_ok.json_body["status"] == "pending_bureau"
    assert "grant" not in owner_ok.json_body
    # sensitive: still no access until the data bureau approves
    assert call(api, "GET", "/v1/datasets/dibao/records", consumer).status_code == 403
    assert (
        call(api, "POST", f"/v1/access-requests/{request_id}/decision", owner, {"decision": "approve"}).status_code
        == 403
    )
    queue = call(api, "GET", "/v1/access-requests", ADMIN_KEY, status="pending_bureau").json_body["items"]
    assert [r["id"] for r in queue] == [request_id]
    bureau = call(api, "POST", f"/v1/access-requests/{request_id}/decision", ADMIN_KEY, {"decision": "approve"})
    assert bureau.status_code == 200 and bureau.json_body["status"] == "approved"
    grant = bureau.json_body["grant"]
    assert grant["status"] == "active" and grant["bureau_approved"] is True
    assert grant["fields"] == ["id_card", "name", "town", "allowance"]
    again = call(api, "POST", f"/v1/access-requests/{request_id}/decision", ADMIN_KEY, {"decision": "approve"})
    assert again.status_code == 409

    # the pull: granted fields only, personal data masked, paged through every shard
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 7, **({"cursor": cursor} if cursor else {})}
        page = call(api, "GET", "/v1/datasets/dibao/records", consumer, **params)
        assert page.status_code == 200, page.body
        body = page.json_body
        assert body["masked"] == ["id_card", "name"]
        seen += body["items"]
        pages += 1
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 30 and pages >= 5
    by_card = {p["id_card"][:6] + "********" + p["id_card"][-4:]: p for p in people}
    assert len({r["id_card"] for r in seen}) == 30
    for record in seen:
        assert set(record) <= {"id_card", "name", "town", "allowance"}
        source = by_card[record["id_card"]]
        surname = source["name"][:2] if source["name"][:2] in ("欧阳", "司徒") else source["name"][:1]
        assert record["name"] == surname + "*" * (len(source["name"]) - len(surname))
        assert record["town"] == source["town"]

    # filters: on a granted plain field yes; on masked personal data or ungranted fields no
    town = call(api, "GET", "/v1/datasets/dibao/records", consumer, town="大沥镇", limit=100).json_body["items"]
    assert len(town) == sum(1 for p in people if p["town"] == "大沥镇") and all(r["town"] == "大沥镇" for r in town)
    assert call(api, "GET", "/v1/datasets/dibao/records", consumer, id_card=people[0]["id_card"]).status_code == 403
    assert call(api, "GET", "/v1/datasets/dibao/records", consumer, phone="13800010001").status_code == 403
    assert call(api, "GET", "/v1/datasets/dibao/records", consumer, colour="red").status_code == 400
    assert call(api, "GET", "/v1/datasets/dibao/records", consumer, fields="name,phone").status_code == 403
    only = call(api, "GET", "/v1/datasets/dibao/records", consumer, fields="town", limit=3).json_body
    assert only["fields"] == ["town"] and all(set(r) == {"town"} for r in only["items"])

    # the owner reads its own data in clear, by primary key in one read
    mine = call(api, "GET", "/v1/datasets/dibao/records", owner, id_card=people[3]["id_card"]).json_body
    assert mine["items"] == [people[3]] and mine["masked"] == []

    # the audit: the owner sees everything on its dataset, the consumer its own, others nothing
    owner_view = audit_actions(api, owner, dataset="dibao")
    assert ("health", "records.refused") in owner_view and ("health", "records.pulled") in owner_view
    assert ("data-bureau", "access.bureau_approved") in owner_view
    assert {actor for actor, _ in audit_actions(api, consumer)} <= {"health"}
    assert audit_actions(api, other) == []
    assert audit_actions(api, other, dataset="dibao") == []
    entries = call(api, "GET", "/v1/audit", ADMIN_KEY, dataset="dibao", actor="health", limit=1000).json_body["items"]
    pulls = [e for e in entries if e["action"] == "records.pulled"]
    assert pulls[-1]["grant"] == grant["id"] and pulls[-1]["purpose"].startswith("医疗救助")
    assert pulls[-1]["details"]["fields"] == ["id_card", "name", "town", "allowance"]
    assert sum(e["details"]["rows"] for e in pulls) == 30 + len(town) + 3
    verified = call(api, "GET", "/v1/audit/verify", other).json_body
    assert verified["ok"] is True and verified["entries"] >= 15

    stats = call(api, "GET", "/v1/exchange/stats", owner).json_body
    pair = next(p for p in stats["pairs"] if (p["provider"], p["consumer"]) == ("civil-affairs", "health"))
    assert pair["requests"] == 1 and pair["approved"] == 1 and pair["rows"] == 30 + len(town) + 3
    assert pair["refused"] >= 5
    mine_stats = next(d for d in stats["departments"] if d["department"] == "civil-affairs")
    assert mine_stats["datasets_published"] == 1 and mine_stats["requests_received"] == 1
    assert [d["department"] for d in stats["departments"]] == ["civil-affairs"]


def test_versions_upsert_and_record_count(api, district):
    owner = district["civil-affairs"]
    publish(api, owner, dataset_body("dibao-v", "internal"))
    people = person_records(12, seed=3)
    first = load(api, owner, "dibao-v", people[:10])
    again = load(api, owner, "dibao-v", list(reversed(people[:10])))  # re-sending is harmless
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 10)
    assert again["checksum"] == first["checksum"]
    changed = load(api, owner, "dibao-v", [{**people[0], "allowance": 1300.0}] + people[10:])
    assert (changed["version"], changed["inserted"], changed["updated"], changed["unchanged"]) == (3, 2, 1, 0)
    dataset = call(api, "GET", "/v1/datasets/dibao-v", district["health"]).json_body
    assert dataset["record_count"] == 12
    assert dataset["last_version"]["version"] == 3 and dataset["last_version"]["rows"] == 3
    versions = call(api, "GET", "/v1/datasets/dibao-v/versions", owner).json_body["items"]
    assert [v["version"] for v in versions] == [3, 2, 1]
    assert versions[2]["checksum"] == first["checksum"] and versions[2]["rows"] == 10
    # only the owner loads
    assert call(api, "POST", "/v1/datasets/dibao-v/records", district["health"], {"records": people}).status_code == 403
    assert (
        call(api, "POST", "/v1/datasets/dibao-v/records", owner, {"rows": []}).json_body["errors"][0]["field"]
        == "records"
    )


def test_internal_dataset_needs_only_the_owner_and_clear_data_needs_the_bureau(api, district):
    owner, consumer = district["civil-affairs"], district["health"]
    publish(api, owner, dataset_body("dibao-i", "internal"))
    people = person_records(5, seed=11)
    load(api, owner, "dibao-i", people)

    masked_request = call(
        api,
        "POST",
        "/v1/datasets/dibao-i/access-requests",
        consumer,
        {"purpose": "家庭医生签约随访", "fields": ["name", "town"]},
    ).json_body
    decided = call(
        api, "POST", f"/v1/access-requests/{masked_request['id']}/decision", owner, {"decision": "approve"}
    ).json_body
    assert decided["status"] == "approved" and decided["grant"]["bureau_approved"] is False
    names = {r["name"] for r in call(api, "GET", "/v1/datasets/dibao-i/records", consumer).json_body["items"]}
    assert all("*" in n for n in names)

    clear_request = call(
        api,
        "POST",
        "/v1/datasets/dibao-i/access-requests",
        consumer,
        {"purpose": "上门随访需要联系电话", "fields": ["name", "phone"], "clear_fields": ["phone"]},
    ).json_body
    assert (
        call(
            api,
            "POST",
            "/v1/datasets/dibao-i/access-requests",
            consumer,
            {"purpose": "试一下这个", "clear_fields": ["town"]},
        ).json_body["errors"][0]["field"]
        == "clear_fields.0"
    )
    pending = call(
        api, "POST", f"/v1/access-requests/{clear_request['id']}/decision", owner, {"decision": "approve"}
    ).json_body
    assert pending["status"] == "pending_bureau"
    phones = {r.get("phone") for r in call(api, "GET", "/v1/datasets/dibao-i/records", consumer).json_body["items"]}
    assert phones == {None}  # the first grant does not cover phone; the second is not active yet
    call(api, "POST", f"/v1/access-requests/{clear_request['id']}/decision", ADMIN_KEY, {"decision": "approve"})
    pulled = call(api, "GET", "/v1/datasets/dibao-i/records", consumer).json_body
    assert pulled["fields"] == ["name", "phone", "town"] and pulled["masked"] == ["name"]
    assert sorted(r["phone"] for r in pulled["items"]) == sorted(p["phone"] for p in people)


def test_public_dataset_reads_without_request_masked_and_audited(api, district):
    owner, reader = district["urban"], district["health"]
    publish(api, owner, dataset_body("open-list", "public", title="企业名录", domain="economy"))
    load(api, owner, "open-list", person_records(4, seed=5))
    pulled = call(api, "GET", "/v1/datasets/open-list/records", reader)
    assert pulled.status_code == 200 and len(pulled.json_body["items"]) == 4
    assert pulled.json_body["masked"] == ["id_card", "name", "phone", "address"]
    assert all(r["address"].endswith("***") for r in pulled.json_body["items"])
    no_need = call(api, "POST", "/v1/datasets/open-list/access-requests", reader, {"purpose": "了解一下企业"})
    assert no_need.status_code == 400 and no_need.json_body["errors"][0]["field"] == "clear_fields"
    assert ("health", "records.pulled") in audit_actions(api, owner, dataset="open-list")


def test_rejection_needs_a_reason_and_is_final(api, district):
    owner, consumer = district["civil-affairs"], district["health"]
    publish(api, owner, dataset_body("dibao-r"))
    request_id = call(api, "POST", "/v1/datasets/dibao-r/access-requests", consumer, {"purpose": "统计分析"}).json_body[
        "id"
    ]
    no_reason = call(api, "POST", f"/v1/access-requests/{request_id}/decision", owner, {"decision": "reject"})
    assert no_reason.status_code == 400 and no_reason.json_body["errors"][0]["field"] == "reason"
    rejected = call(
        api,
        "POST",
        f"/v1/access-requests/{request_id}/decision",
        owner,
        {"decision": "reject", "reason": "统计分析请使用脱敏汇总数据"},
    ).json_body
    assert rejected["status"] == "rejected"
    assert (
        call(api, "POST", f"/v1/access-requests/{request_id}/decision", owner, {"decision": "approve"}).status_code
        == 409
    )
    assert call(api, "GET", "/v1/datasets/dibao-r/records", consumer).status_code == 403
    stats = call(api, "GET", "/v1/exchange/stats", ADMIN_KEY).json_body
    assert next(d for d in stats["departments"] if d["department"] == "civil-affairs")["rejected"] == 1


def test_expired_grant_is_refused_and_audited(api, district, monkeypatch):
    owner, consumer = district["civil-affairs"], district["health"]
    publish(api, owner, dataset_body("dibao-e", "internal"))
    load(api, owner, "dibao-e", person_records(3))
    soon = timeutil.local_iso(timeutil.now_ms() + 40 * 86_400_000)
    request_id = call(
        api, "POST", "/v1/datasets/dibao-e/access-requests", consumer, {"purpose": "季度核查", "expires_at": soon}
    ).json_body["id"]
    later = timeutil.local_iso(timeutil.now_ms() + 60 * 86_400_000)
    longer = call(
        api, "POST", f"/v1/access-requests/{request_id}/decision", owner, {"decision": "approve", "expires_at": later}
    )
    assert longer.status_code == 400 and "shorten" in longer.json_body["errors"][0]["message"]
    shorter = timeutil.local_iso(timeutil.now_ms() + 30 * 86_400_000)
    grant = call(
        api, "POST", f"/v1/access-requests/{request_id}/decision", owner, {"decision": "approve", "expires_at": shorter}
    ).json_body["grant"]
    assert call(api, "GET", "/v1/datasets/dibao-e/records", consumer).status_code == 200

    real_now = timeutil.now_ms
    monkeypatch.setattr(timeutil, "now_ms", lambda: real_now() + 31 * 86_400_000)
    expired = call(api, "GET", "/v1/datasets/dibao-e/records", consumer)
    assert expired.status_code == 403 and "expired" in expired.json_body["message"]
    assert call(api, "GET", f"/v1/grants/{grant['id']}", consumer).json_body["status"] == "expired"
    last = call(api, "GET", "/v1/audit", owner, dataset="dibao-e", limit=1).json_body["items"][0]
    assert last["action"] == "records.refused" and "expired" in last["details"]["reason"]
    assert last["grant"] == grant["id"]


def test_revocation(api, district):
    owner, consumer, other = district["civil-affairs"], district["health"], district["urban"]
    publish(api, owner, dataset_body("dibao-x", "internal"))
    load(api, owner, "dibao-x", person_records(3))
    request_id = call(api, "POST", "/v1/datasets/dibao-x/access-requests", consumer, {"purpose": "名单核对"}).json_body[
        "id"
    ]
    grant_id = approve_all(api, request_id, owner)["grant_id"]
    assert call(api, "GET", "/v1/datasets/dibao-x/records", consumer).status_code == 200
    assert call(api, "GET", "/v1/grants", consumer, role="consumer").json_body["items"][0]["id"] == grant_id
    assert call(api, "GET", "/v1/grants", owner, dataset="dibao-x").json_body["items"][0]["id"] == grant_id

    assert call(api, "DELETE", f"/v1/grants/{grant_id}", other).status_code == 404
    assert call(api, "DELETE", f"/v1/grants/{grant_id}", consumer).status_code == 403
    revoked = call(api, "DELETE", f"/v1/grants/{grant_id}", owner, {"reason": "用途已完成"})
    assert revoked.status_code == 200 and revoked.json_body["status"] == "revoked"
    refused = call(api, "GET", "/v1/datasets/dibao-x/records", consumer)
    assert refused.status_code == 403 and "revoked" in refused.json_body["message"]
    assert call(api, "DELETE", f"/v1/grants/{grant_id}", ADMIN_KEY).json_body["status"] == "revoked"
    actions = [a for _, a in audit_actions(api, owner, dataset="dibao-x")]
    assert actions.count("grant.revoked") == 1 and actions[0] == "records.refused"


def test_sensitive_after_an_owner_only_grant_needs_the_bureau(api, district):
    owner, consumer = district["civil-affairs"], district["health"]
    publish(api, owner, dataset_body("dibao-s", "internal"))
    load(api, owner, "dibao-s", person_records(2))
    request_id = call(api, "POST", "/v1/datasets/dibao-s/access-requests", consumer, {"purpose": "名单核对"}).json_body[
        "id"
    ]
    approve_all(api, request_id, owner)
    raised = call(api, "PATCH", "/v1/datasets/dibao-s", owner, {"sensitivity": "sensitive"})
    assert raised.status_code == 200 and raised.json_body["sensitivity"] == "sensitive"
    refused = call(api, "GET", "/v1/datasets/dibao-s/records", consumer)
    assert refused.status_code == 403 and "data bureau" in refused.json_body["message"]


def test_catalog_search_patch_and_dcat(api, district):
    owner, health = district["civil-affairs"], district["health"]
    publish(
        api,
        health,
        dataset_body(
            "key-population",
            "sensitive",
            title="重点人群健康档案",
            domain="health",
            keywords=["慢病", "家庭医生"],
            description="高血压、糖尿病患者及65岁以上老年人健康管理档案",
        ),
    )
    publish(api, owner, dataset_body("dibao-c", "internal"))
    publish(
        api,
        district["urban"],
        dataset_body(
            "firms",
            "public",
            title="企业名录",
            domain="economy",
            keywords=["市场主体"],
            description="辖区企业登记信息（ＵＳＣＣ统一社会信用代码）",
        ),
    )

    def ids(**params):
        response = call(api, "GET", "/v1/datasets", owner, **params)
        assert response.status_code == 200, response.body
        return [d["id"] for d in response.json_body["items"]], response.json_body["total"]

    assert ids(q="健康") == (["key-population"], 1)
    assert ids(q="档案 老年") == (["key-population"], 1)  # every term must match
    assert ids(q="uscc") == (["firms"], 1)  # full-width and case folded
    assert ids(q="低保")[0] == ["dibao-c"]
    assert ids(q="健康 企业") == ([], 0)
    assert ids(domain="health") == (["key-population"], 1)
    assert ids(owner="civil-affairs") == (["dibao-c"], 1)
    assert ids(keyword="家庭医生") == (["key-population"], 1)
    first, total = ids(limit=2)
    assert total == 3 and first == ["firms", "dibao-c"]  # newest first
    cursor = call(api, "GET", "/v1/datasets", owner, limit=2).json_body["next_cursor"]
    assert ids(limit=2, cursor=cursor) == (["key-population"], 3)

    patched = call(
        api, "PATCH", "/v1/datasets/dibao-c", owner, {"title": "城乡低保对象名单", "keywords": ["低保", "兜底"]}
    )
    assert patched.status_code == 200 and patched.json_body["title"] == "城乡低保对象名单"
    assert ids(q="兜底") == (["dibao-c"], 1) and ids(q="社会救助") == ([], 0)
    assert call(api, "PATCH", "/v1/datasets/dibao-c", health, {"title": "x"}).status_code == 403
    structural = call(api, "PATCH", "/v1/datasets/dibao-c", owner, {"primary_key": "name"})
    assert structural.status_code == 400 and structural.json_body["errors"][0]["field"] == "primary_key"
    assert call(api, "GET", "/v1/datasets/nope", owner).status_code == 404

    anonymous = call(api, "GET", "/v1/catalog.jsonld", None)
    assert anonymous.status_code == 200 and anonymous.headers["Content-Type"].startswith("application/ld+json")
    document = anonymous.json_body
    assert document["@type"] == "dcat:Catalog"
    assert [d["dct:identifier"] for d in document["dcat:dataset"]] == ["firms"]
    firm = document["dcat:dataset"][0]
    assert firm["dct:title"] == {"@value": "企业名录", "@language": "zh-CN"}
    assert firm["dct:accessRights"]["@id"].endswith("/PUBLIC")
    assert firm["dct:publisher"]["foaf:name"]["@value"] == "区城管局"
    assert firm["dcat:distribution"][0]["dcat:accessURL"]["@id"].endswith("/v1/datasets/firms/records")
    whole = call(api, "GET", "/v1/catalog.jsonld", owner, limit=2).json_body
    assert whole["hydra:view"]["hydra:totalItems"] == 3 and len(whole["dcat:dataset"]) == 2
    assert "cursor=" in whole["hydra:view"]["hydra:next"]


def test_bad_input_is_4xx_with_fields(api, district):
    owner = district["civil-affairs"]
    response = call(api, "POST", "/v1/datasets", owner, dataset_body("bad", spatial=["北京"], sensitivity="secret"))
    assert response.status_code == 400
    assert {e["field"] for e in response.json_body["errors"]} == {"spatial.0", "sensitivity"}
    assert call(api, "GET", "/v1/datasets", owner, cursor="not-a-cursor").status_code == 400
    publish(api, owner, dataset_body("dibao-b"))
    assert call(api, "POST", "/v1/datasets", owner, dataset_body("dibao-b")).status_code == 409
    assert call(api, "GET", "/v1/datasets/dibao-b/records", owner, cursor="eyJzIjo5OX0").status_code == 400
    assert call(api, "GET", "/v1/access-requests", owner, role="boss").status_code == 400
    assert call(api, "GET", "/v1/audit", owner, cursor="eyJiZWxvdyI6Ii0xIn0").status_code == 400
    assert call(api, "GET", "/v1/datasets", None).status_code == 401
    past = call(
        api,
        "POST",
        "/v1/datasets/dibao-b/access-requests",
        district["health"],
        {"purpose": "核对名单", "expires_at": "2020-01-01T00:00:00+08:00"},
    )
    assert past.status_code == 400 and past.json_body["errors"][0]["field"] == "expires_at"
    own = call(api, "POST", "/v1/datasets/dibao-b/access-requests", owner, {"purpose": "自己的数据"})
    assert own.status_code == 400


def test_rejected_upload_rows_are_in_the_rejections_table(api, district):
    """Checked through the table itself: nothing rejected is dropped silently."""
    owner = district["civil-affairs"]
    publish(api, owner, dataset_body("dibao-k"))
    # One good record: a load whose every record is rejected is a 400 and leaves no version.
    load(api, owner, "dibao-k", person_records(1) + [{"id_card": "123", "name": "某"}])
    import os

    items = boto3.client("dynamodb").scan(TableName=os.environ["CITYBRAIN_REJECTIONS_TABLE"])["Items"]
    assert [i["source"]["S"] for i in items] == ["dataset:dibao-k:v1"]
