"""Helpers for the exchange's integration tests: HTTP calls, datasets and plausible records."""

from __future__ import annotations

import json
import random
from urllib.parse import urlencode

from citybrain.exchange.masking import id_check_digit
from tests.conftest import ADMIN_KEY
from tests.integration.helpers import department, headers

__all__ = ["ADMIN_KEY", "call", "department", "dataset_body", "id_number", "person_records", "approve_all"]


def call(api, method: str, path: str, key: str | None, body=None, **params):
    if params:
        path += "?" + urlencode(params)
    kwargs = {"headers": headers(key) if key else {"Content-Type": "application/json"}}
    if body is not None:
        kwargs["body"] = json.dumps(body, ensure_ascii=False)
    return getattr(api.http, method.lower())(path, **kwargs)


def id_number(rng: random.Random, region: str = "440605") -> str:
    first17 = (
        f"{region}{rng.randint(1940, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
    )
    return first17 + id_check_digit(first17)


def person_records(n: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    towns = ["桂城街道", "大沥镇", "里水镇", "狮山镇", "丹灶镇", "西樵镇", "九江镇"]
    surnames = ["陈", "黄", "梁", "何", "欧阳", "司徒", "麦", "冯"]
    seen, out = set(), []
    while len(out) < n:
        number = id_number(rng)
        if number in seen:
            continue
        seen.add(number)
        town = towns[len(out) % len(towns)]
        out.append(
            {
                "id_card": number,
                "name": rng.choice(surnames) + rng.choice(["小明", "秀英", "志强", "丽"]),
                "phone": f"13{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}",
                "address": f"佛山市南海区{town}幸福路{rng.randint(1, 300)}号",
                "town": town,
                "household_size": rng.randint(1, 6),
                "allowance": float(rng.choice([980, 1120, 1250])),
            }
        )
    return out


def dataset_body(dataset_id: str, sensitivity: str = "sensitive", **changes) -> dict:
    return {
        "id": dataset_id,
        "title": "低保名单",
        "description": "最低生活保障对象名单（按户）",
        "domain": "social",
        "keywords": ["低保", "社会救助"],
        "sensitivity": sensitivity,
        "primary_key": "id_card",
        "update_frequency": "monthly",
        "spatial": ["桂城街道", "大沥镇"],
        "schema": [
            {"name": "id_card", "type": "string", "pii": "id_card", "description": "户主身份证号"},
            {"name": "name", "type": "string", "pii": "name", "required": True},
            {"name": "phone", "type": "string", "pii": "phone"},
            {"name": "address", "type": "string", "pii": "address"},
            {"name": "town", "type": "string"},
            {"name": "household_size", "type": "integer", "unit": "人"},
            {"name": "allowance", "type": "number", "unit": "元/月"},
        ],
        **changes,
    }


def approve_all(api, request_id: str, owner_key: str, **narrowing) -> dict:
    """Owner approval, then the data bureau's if the request waits for it; returns the final request."""
    response = call(
        api, "POST", f"/v1/access-requests/{request_id}/decision", owner_key, {"decision": "approve", **narrowing}
    )
    assert response.status_code == 200, response.body
    if response.json_body["status"] == "pending_bureau":
        response = call(api, "POST", f"/v1/access-requests/{request_id}/decision", ADMIN_KEY, {"decision": "approve"})
        assert response.status_code == 200, response.body
    return response.json_body
