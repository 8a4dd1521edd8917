"""The exchange demo, run against the API as the local stack runs it."""

from __future__ import annotations

import json

from citybrain.exchange.masking import id_card_problem
from infra.local.exchange_demo import USCC_CHARS, USCC_WEIGHTS, seed_exchange_demo
from tests.integration.exchange_helpers import ADMIN_KEY, call, department


class _Response:
    def __init__(self, response):
        self.status_code = response.status_code
        self.text = response.body.decode() if isinstance(response.body, bytes) else str(response.body)

    def json(self):
        return json.loads(self.text)


def test_demo_publishes_three_datasets_and_one_approved_exchange(api):
    keys = {d: department(api, d) for d in ("health", "safety", "urban")}
    messages = []

    def http(method, path, key, body):
        return _Response(call(api, method, path, key, body))

    summary = seed_exchange_demo(http, keys, ADMIN_KEY, say=messages.append)
    assert summary["published"] == ["重点人群健康档案", "企业名录", "低保名单"]
    assert {"civil-affairs", "market"} <= set(keys)
    assert summary["grant"] and summary["pulled"] == 20

    health = keys["health"]
    found = call(api, "GET", "/v1/datasets", health, q="健康").json_body
    assert [d["id"] for d in found["items"]] == ["health-key-population"]
    assert found["items"][0]["record_count"] == 36
    grant = call(api, "GET", f"/v1/grants/{summary['grant']}", health).json_body
    assert grant["status"] == "active" and grant["bureau_approved"] and "category" not in grant["fields"]
    waiting = call(api, "GET", "/v1/access-requests", health, role="owner", status="pending_owner").json_body["items"]
    assert [r["id"] for r in waiting] == [summary["waiting"]]

    # the data is plausible: identity numbers and enterprise codes pass their check codes
    owner_view = call(api, "GET", "/v1/datasets/civil-dibao/records", keys["civil-affairs"], limit=100).json_body[
        "items"
    ]
    assert len(owner_view) == 30 and all(id_card_problem(r["id_card"]) is None for r in owner_view)
    firms = call(api, "GET", "/v1/datasets/market-enterprises/records", keys["safety"], limit=100).json_body
    for firm in firms["items"]:
        code = firm["uscc"]
        total = sum(USCC_CHARS.index(c) * w for c, w in zip(code[:17], USCC_WEIGHTS, strict=True))
        assert USCC_CHARS[(31 - total % 31) % 31] == code[17]
    assert firms["masked"] == ["legal_representative", "phone"]
    assert call(api, "GET", "/v1/audit/verify", health).json_body["ok"] is True

    # running it again changes nothing
    again = seed_exchange_demo(http, keys, ADMIN_KEY, say=messages.append)
    assert again == {"published": []}
    assert call(api, "GET", "/v1/datasets", health).json_body["total"] == 3
