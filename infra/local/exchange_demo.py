"""The demo district's data exchange, set up through the HTTP API as real clients would.

Three datasets with plausible records — 重点人群健康档案 (health, sensitive),
企业名录 (market regulation, public), 低保名单 (civil affairs, sensitive) — one
exchange approved at both levels (health reads the 低保名单 for medical
assistance) and pulled once, and one request waiting in the health bureau's
inbox. Identity numbers carry correct GB 11643 check codes, enterprise codes
correct GB 32100 ones; every name, phone and address is made up.

    from infra.local.exchange_demo import seed_exchange_demo
    summary = seed_exchange_demo(call, keys, admin_key)   # call(method, path, key, body) -> response
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from citybrain.exchange.masking import id_check_digit

# Departments the exchange demo needs beyond the sensing demo's (created if missing).
EXCHANGE_DEPARTMENTS = [
    {"id": "civil-affairs", "name": "区民政局", "domain": "social"},
    {"id": "market", "name": "区市场监督管理局", "domain": "economy"},
]

TOWNS = {
    "桂城街道": ["南海大道北", "海八路", "灯湖东路", "桂澜北路", "南桂东路"],
    "大沥镇": ["广佛路", "沥桂路", "黄岐广佛路", "盐步大道"],
    "里水镇": ["里水大道", "和顺大道", "沙涌东路"],
    "狮山镇": ["狮山大道", "广云路", "罗村大道"],
    "丹灶镇": ["丹灶大道", "金沙大道", "西城路"],
    "西樵镇": ["樵高路", "西樵大道", "官山新路"],
    "九江镇": ["九江大道", "沙口路", "儒林东路"],
}
SURNAMES = ["陈", "黄", "梁", "李", "何", "罗", "张", "吴", "冯", "麦", "关", "潘", "区", "欧阳", "司徒", "上官"]
GIVEN = [
    "志强",
    "秀英",
    "惠芳",
    "国华",
    "美玲",
    "建明",
    "丽娟",
    "伟杰",
    "淑贞",
    "锦荣",
    "嘉欣",
    "浩然",
    "婉婷",
    "炳坤",
    "桂英",
]
# Where residents' identity numbers were issued: mostly 南海区, some from elsewhere in Foshan and beyond.
REGIONS = ["440605"] * 6 + ["440604", "440606", "445281", "450881", "430524"]

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


# -- identifiers with correct check codes ------------------------------------------
def id_number(rng: random.Random, born_from: int = 1938, born_to: int = 2004) -> str:
    born = date(born_from, 1, 1) + timedelta(days=rng.randrange((date(born_to, 12, 31) - date(born_from, 1, 1)).days))
    first17 = f"{rng.choice(REGIONS)}{born:%Y%m%d}{rng.randrange(1000):03d}"
    return first17 + id_check_digit(first17)


def uscc(rng: random.Random) -> str:
    """统一社会信用代码 (GB 32100-2015) of an enterprise (9 1) registered in 南海区, with the
    organization code's check (GB 11714) and the code's own check character."""
    # Registrations since 2015 mostly carry MA… organization codes; older ones all digits.
    body = (
        "MA" + "".join(rng.choice(USCC_CHARS) for _ in range(6))
        if rng.random() < 0.6
        else f"{rng.randrange(10**8):08d}"
    )
    org_sum = sum(_org_value(c) * w for c, w in zip(body, ORG_WEIGHTS, strict=True))
    org_check = {10: "X", 11: "0"}.get(11 - org_sum % 11, str(11 - org_sum % 11))
    first17 = "91440605" + body + org_check
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return first17 + USCC_CHARS[(31 - total % 31) % 31]


def _org_value(char: str) -> int:
    return int(char) if char.isdigit() else ord(char) - ord("A") + 10


def _person(rng: random.Random, town: str, **born: int) -> dict[str, str]:
    return {
        "id_card": id_number(rng, **born),
        "name": rng.choice(SURNAMES) + rng.choice(GIVEN),
        "phone": f"1{rng.choice('3578')}{rng.randrange(10)}{rng.randrange(10**8):08d}",
        "address": f"佛山市南海区{town}{rng.choice(TOWNS[town])}{rng.randint(1, 388)}号"
        f"{rng.choice(['', f'{rng.randint(1, 12)}座', f'{rng.randint(1, 30)}栋'])}{rng.randint(101, 2806)}房",
    }


# -- the datasets ----------------------------------------------------------------------
def key_population(rng: random.Random) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    dataset = {
        "id": "health-key-population",
        "title": "重点人群健康档案",
        "domain": "health",
        "sensitivity": "sensitive",
        "description": (
            "辖区高血压、2型糖尿病患者，65岁及以上老年人，孕产妇和严重精神障碍患者的基本公共卫生服务健康档案（摘要）。"
        ),
        "keywords": ["健康档案", "慢病管理", "家庭医生", "基本公共卫生"],
        "update_frequency": "monthly",
        "license": "政务数据有条件共享",
        "spatial": list(TOWNS),
        "temporal": {"start": "2024-01-01"},
        "primary_key": "record_id",
        "schema": [
            {"name": "record_id", "type": "string", "description": "健康档案编号"},
            {"name": "id_card", "type": "string", "pii": "id_card", "description": "居民身份证号码"},
            {"name": "name", "type": "string", "pii": "name", "required": True},
            {"name": "phone", "type": "string", "pii": "phone"},
            {"name": "address", "type": "string", "pii": "address", "description": "现住址"},
            {"name": "town", "type": "string", "description": "所属镇街"},
            {"name": "category", "type": "string", "description": "重点人群类别"},
            {"name": "family_doctor_team", "type": "string", "description": "签约家庭医生团队"},
            {"name": "last_followup", "type": "date", "description": "最近一次随访"},
            {"name": "risk_level", "type": "string", "description": "风险分级（低/中/高）"},
        ],
    }
    categories = [
        ("高血压", 1940, 1975),
        ("2型糖尿病", 1945, 1980),
        ("65岁及以上老年人", 1935, 1960),
        ("孕产妇", 1990, 2001),
        ("严重精神障碍", 1960, 1995),
    ]
    records = []
    for n in range(36):
        town = list(TOWNS)[n % 7]
        category, born_from, born_to = categories[n % len(categories)]
        records.append(
            {
                "record_id": f"440605{2024 + n % 2}{n + 1:06d}",
                **_person(rng, town, born_from=born_from, born_to=born_to),
                "town": town,
                "category": category,
                "family_doctor_team": (
                    f"{town.removesuffix('街道').removesuffix('镇')}社区卫生服务中心{rng.randint(1, 6)}号团队"
                ),
                "last_followup": (date(2026, 11, 20) - timedelta(days=rng.randint(3, 90))).isoformat(),
                "risk_level": rng.choice(["低", "低", "中", "高"]),
            }
        )
    return dataset, records


def enterprises(rng: random.Random) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    dataset = {
        "id": "market-enterprises",
        "title": "企业名录",
        "domain": "economy",
        "sensitivity": "public",
        "description": (
            "辖区登记在册企业的名录：统一社会信用代码、名称、法定代表人、登记住所、行业、注册资本和成立日期。"
        ),
        "keywords": ["企业名录", "市场主体", "统一社会信用代码"],
        "update_frequency": "daily",
        "license": "https://creativecommons.org/licenses/by/4.0/",
        "spatial": list(TOWNS),
        "primary_key": "uscc",
        "schema": [
            {"name": "uscc", "type": "string", "description": "统一社会信用代码"},
            {"name": "name", "type": "string", "required": True, "description": "企业名称"},
            {"name": "legal_representative", "type": "string", "pii": "name", "description": "法定代表人"},
            {"name": "phone", "type": "string", "pii": "phone", "description": "联系电话"},
            {"name": "address", "type": "string", "description": "登记住所"},
            {"name": "town", "type": "string"},
            {"name": "industry", "type": "string", "description": "国民经济行业分类（门类）"},
            {"name": "registered_capital", "type": "number", "unit": "万元"},
            {"name": "established_on", "type": "date"},
            {"name": "status", "type": "string", "description": "登记状态"},
        ],
    }
    words = ["智联", "华盛", "恒达", "德信", "南方", "粤港", "金沙", "樵山", "雅瑶", "顺景", "嘉禾", "创美"]
    trades = [
        ("电子科技有限公司", "制造业"),
        ("五金制品有限公司", "制造业"),
        ("铝型材有限公司", "制造业"),
        ("物流有限公司", "交通运输、仓储和邮政业"),
        ("餐饮管理有限公司", "住宿和餐饮业"),
        ("纺织服装有限公司", "制造业"),
        ("建筑工程有限公司", "建筑业"),
        ("医疗器械有限公司", "批发和零售业"),
        ("信息技术有限公司", "信息传输、软件和信息技术服务业"),
        ("陶瓷有限公司", "制造业"),
    ]
    records = []
    for n in range(30):
        town = list(TOWNS)[n % 7]
        trade, industry = trades[n % len(trades)]
        place = town.removesuffix("街道").removesuffix("镇")
        records.append(
            {
                "uscc": uscc(rng),
                "name": f"佛山市南海区{place}{rng.choice(words)}{trade}",
                "legal_representative": rng.choice(SURNAMES) + rng.choice(GIVEN),
                "phone": f"0757-8{rng.randrange(10**7):07d}",
                "address": f"佛山市南海区{town}{rng.choice(TOWNS[town])}{rng.randint(1, 388)}号",
                "town": town,
                "industry": industry,
                "registered_capital": float(rng.choice([50, 100, 200, 500, 1000, 3000])),
                "established_on": (date(2005, 1, 1) + timedelta(days=rng.randrange(7600))).isoformat(),
                "status": rng.choice(["存续（在营、开业、在册）"] * 5 + ["迁出"]),
            }
        )
    return dataset, records


def dibao(rng: random.Random) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    dataset = {
        "id": "civil-dibao",
        "title": "低保名单",
        "domain": "social",
        "sensitivity": "sensitive",
        "description": "城乡最低生活保障对象名单（按户，户主信息），含保障人数、月保障金额和批准日期。",
        "keywords": ["低保", "社会救助", "最低生活保障"],
        "update_frequency": "monthly",
        "license": "政务数据有条件共享",
        "spatial": list(TOWNS),
        "temporal": {"start": "2026-01-01", "end": "2026-12-31"},
        "primary_key": "id_card",
        "schema": [
            {"name": "id_card", "type": "string", "pii": "id_card", "description": "户主身份证号码"},
            {"name": "name", "type": "string", "pii": "name", "required": True, "description": "户主姓名"},
            {"name": "phone", "type": "string", "pii": "phone"},
            {"name": "address", "type": "string", "pii": "address"},
            {"name": "town", "type": "string"},
            {"name": "category", "type": "string", "description": "城市低保 / 农村低保"},
            {"name": "household_size", "type": "integer", "unit": "人", "description": "保障人数"},
            {"name": "monthly_allowance", "type": "number", "unit": "元/月", "description": "月保障金额"},
            {"name": "approved_on", "type": "date", "description": "批准日期"},
        ],
    }
    records = []
    for n in range(30):
        town = list(TOWNS)[n % 7]
        size = rng.choice([1, 1, 2, 2, 3, 4, 5])
        records.append(
            {
                **_person(rng, town),
                "town": town,
                "category": "城市低保" if town in ("桂城街道", "大沥镇") else rng.choice(["城市低保", "农村低保"]),
                "household_size": size,
                "monthly_allowance": float(size * rng.choice([1150, 1220, 1290])),
                "approved_on": (date(2024, 3, 1) + timedelta(days=rng.randrange(960))).isoformat(),
            }
        )
    return dataset, records


DATASETS = [("health", key_population), ("market", enterprises), ("civil-affairs", dibao)]


def seed_exchange_demo(
    call: Callable[..., Any], keys: dict[str, str], admin_key: str, say: Callable[[str], None] = print, seed: int = 2026
) -> dict[str, Any]:
    """Publish the demo datasets and their records, and approve one exchange.

    `call(method, path, key, body)` sends one request and returns a response with
    `status_code` and `json()` (a requests.Response, for example); `keys` maps
    department ids to API keys and gains the keys of EXCHANGE_DEPARTMENTS it had
    to create. Safe to run again: what exists is left as it is."""
    rng = random.Random(seed)
    for department in EXCHANGE_DEPARTMENTS:
        if department["id"] not in keys:
            response = call("POST", "/v1/departments", admin_key, department)
            if response.status_code == 201:
                keys[department["id"]] = response.json()["api_key"]
    published = []
    for owner, build in DATASETS:
        dataset, records = build(rng)
        if call("GET", f"/v1/datasets/{dataset['id']}", admin_key, None).status_code == 200:
            continue
        if owner not in keys:
            say(f"exchange demo: no key for {owner}; {dataset['title']} not published")
            continue
        _expect(call("POST", "/v1/datasets", keys[owner], dataset), 201, dataset["id"])
        loaded = _expect(
            call("POST", f"/v1/datasets/{dataset['id']}/records", keys[owner], {"records": records}), 200, dataset["id"]
        )
        if loaded["rejected"]:
            raise RuntimeError(f"demo records of {dataset['id']} rejected: {loaded['rejected'][:3]}")
        published.append(dataset["title"])

    summary: dict[str, Any] = {"published": published}
    if published and {"health", "civil-affairs"} <= set(keys):
        request = _expect(
            call(
                "POST",
                "/v1/datasets/civil-dibao/access-requests",
                keys["health"],
                {
                    "purpose": "医疗救助：核对低保对象身份，落实住院费用减免和家庭医生优先签约",
                    "fields": ["id_card", "name", "town", "category", "household_size"],
                },
            ),
            201,
            "access request",
        )
        owner_decision = _expect(
            call(
                "POST",
                f"/v1/access-requests/{request['id']}/decision",
                keys["civil-affairs"],
                {
                    "decision": "approve",
                    "fields": ["id_card", "name", "town", "household_size"],
                    "reason": "同意共享户主身份与保障人数，用于医疗救助核对",
                },
            ),
            200,
            "owner decision",
        )
        final = owner_decision
        if owner_decision["status"] == "pending_bureau":
            final = _expect(
                call(
                    "POST",
                    f"/v1/access-requests/{request['id']}/decision",
                    admin_key,
                    {"decision": "approve", "reason": "用途明确、字段最小必要，同意"},
                ),
                200,
                "bureau decision",
            )
        pulled = _expect(call("GET", "/v1/datasets/civil-dibao/records?limit=20", keys["health"], None), 200, "pull")
        summary.update(grant=final.get("grant_id"), pulled=len(pulled["items"]))
        if "safety" in keys:
            waiting = _expect(
                call(
                    "POST",
                    "/v1/datasets/health-key-population/access-requests",
                    keys["safety"],
                    {
                        "purpose": "防汛防台风：台风来临前核对需协助转移的独居老人和行动不便人员",
                        "fields": ["name", "phone", "address", "town", "category"],
                    },
                ),
                201,
                "access request",
            )
            summary["waiting"] = waiting["id"]
    say(
        f"exchange demo: {len(published)} datasets published"
        + (f", grant {summary['grant']} approved at both levels and pulled" if summary.get("grant") else "")
    )
    return summary


def _expect(response: Any, status: int, what: str) -> dict[str, Any]:
    if response.status_code != status:
        raise RuntimeError(f"exchange demo, {what}: {response.status_code} {getattr(response, 'text', '')}")
    return response.json()
