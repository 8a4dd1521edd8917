"""The data exchange on the local stack, over real HTTP: the demo's datasets
published, searched in Chinese, harvested as DCAT, pulled masked, audited."""

from __future__ import annotations

from infra.local.exchange_demo import seed_exchange_demo


def test_exchange_demo_over_http(stack):
    keys = {}
    for department_id, name in (("health", "区卫生健康局"), ("safety", "区应急管理局")):
        response = stack.post("/v1/departments", None, {"id": department_id, "name": name})
        assert response.status_code == 201, response.text
        keys[department_id] = response.json()["api_key"]

    summary = seed_exchange_demo(
        lambda method, path, key, body: stack.request(method, path, key, body),
        keys,
        stack.admin_key,
        say=lambda message: None,
    )
    assert summary["published"] == ["重点人群健康档案", "企业名录", "低保名单"] and summary["pulled"] == 20

    found = stack.get("/v1/datasets", keys["safety"], q="低保").json()
    assert [d["id"] for d in found["items"]] == ["civil-dibao"]

    pulled = stack.get("/v1/datasets/civil-dibao/records", keys["health"], limit="5").json()
    assert pulled["masked"] == ["id_card", "name"] and len(pulled["items"]) == 5
    assert all("********" in r["id_card"] for r in pulled["items"])
    refused = stack.get("/v1/datasets/civil-dibao/records", keys["safety"])
    assert refused.status_code == 403

    harvested = stack.http.get(stack.api_url + "/v1/catalog.jsonld", timeout=30)
    assert harvested.status_code == 200 and harvested.headers["Content-Type"].startswith("application/ld+json")
    assert [d["dct:identifier"] for d in harvested.json()["dcat:dataset"]] == ["market-enterprises"]
    assert harvested.json()["dcat:dataset"][0]["@id"] == stack.api_url + "/v1/datasets/market-enterprises"

    audit = stack.get("/v1/audit", keys["health"], dataset="civil-dibao").json()["items"]
    assert audit[0]["action"] == "records.pulled" and audit[0]["details"]["rows"] == 5
    verified = stack.get("/v1/audit/verify", keys["safety"]).json()
    assert verified["ok"] is True and verified["entries"] >= 12
