"""Exchange figures for `make bench` (the emulated AWS is up and CITYBRAIN_* set).

- pull_memory(rows=1_000_000): a dataset of `rows` records pulled page by page
  (1,000 a page) by a grant holder through the domain code (grant check,
  masking, one audit entry per page): the time and this process's CPU per
  10,000 rows (first `timing_rows` rows, without tracemalloc, which slows Python
  several times), then tracemalloc's peak per 10,000 rows over the whole pull,
  first vs last segment. Seeding goes straight to the records table with
  BatchWriteItem (items built by the same row-key code the loads use). On two
  cores 1,000,000 rows take about 23 minutes in all (seeding 9, pulls 14).
- catalog_search(sizes=(100, 10_000)): search time at each size and the ratio;
  cold (a fresh process reads the index) and warm (the index generation has
  not moved). It empties the datasets table before each size.

    with emulated_aws():   # tests/bench/__main__.py
        print(exchange.pull_memory(rows=50_000), exchange.catalog_search())
"""

from __future__ import annotations

import random
import statistics
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from typing import Any

TOWNS = ["桂城街道", "大沥镇", "里水镇", "狮山镇", "丹灶镇", "西樵镇", "九江镇"]
SURNAMES = ["陈", "黄", "梁", "何", "李", "张", "罗", "麦", "冯", "欧阳", "司徒"]
GIVEN = ["秀英", "志强", "丽华", "建国", "小明", "美玲", "国华", "敏", "杰", "婷"]
BIRTH_EPOCH = date(1945, 1, 1)


def _reset() -> None:
    from citybrain import composition as services
    from citybrain.core import aws, config

    aws.reset_clients()
    config.reset_settings()
    services.reset()


def _facts(path: str, query: dict[str, str] | None = None):
    from citybrain.exchange.audit import RequestFacts

    return RequestFacts("GET", path, query or {})


def _bench_dataset(dataset_id: str, sensitivity: str = "sensitive"):
    from citybrain.exchange.catalog import DatasetIn

    return DatasetIn.model_validate(
        {
            "id": dataset_id,
            "title": "低保对象名单（基准测试）",
            "domain": "social",
            "sensitivity": sensitivity,
            "keywords": ["低保"],
            "primary_key": "id_card",
            "schema": [
                {"name": "id_card", "type": "string", "pii": "id_card"},
                {"name": "name", "type": "string", "pii": "name"},
                {"name": "phone", "type": "string", "pii": "phone"},
                {"name": "address", "type": "string", "pii": "address"},
                {"name": "town", "type": "string"},
                {"name": "household_size", "type": "integer"},
                {"name": "allowance", "type": "number", "unit": "元/月"},
            ],
        }
    )


def _person(n: int) -> dict[str, Any]:
    """Record n of the bench dataset: a valid identity number unique to n (birth date and
    order code from n, unique below 21.9 million), plausible values."""
    from citybrain.exchange.masking import id_check_digit

    born = BIRTH_EPOCH + timedelta(days=n % 21_900)
    first17 = f"440605{born:%Y%m%d}{n // 21_900 % 1000:03d}"
    rng = random.Random(n)
    town = TOWNS[n % 7]
    return {
        "id_card": first17 + id_check_digit(first17),
        "name": rng.choice(SURNAMES) + rng.choice(GIVEN),
        "phone": f"13{n % 10}{n % 100_000_000:08d}",
        "address": f"佛山市南海区{town}幸福路{n % 300 + 1}号{n % 40 + 1}座",
        "town": town,
        "household_size": n % 6 + 1,
        "allowance": float(980 + n % 3 * 135),
    }


def seed_records(dataset: dict[str, Any], rows: int, workers: int = 4) -> float:
    """Write `rows` records straight into the records table; returns the seconds it took."""
    from citybrain.core.aws import client
    from citybrain.core.config import get_settings
    from citybrain.core.dynamo import to_item
    from citybrain.exchange.record_store import part_of
    from citybrain.exchange.rows import row_key, shard_of
    from citybrain.exchange.schema import digest

    table = get_settings().records_table
    ddb = client("dynamodb")
    salt, shards = dataset["row_salt"], dataset["shards"]

    def batch(start: int) -> None:
        requests = []
        for n in range(start, min(start + 25, rows)):
            record = _person(n)
            row = row_key(salt, record["id_card"])
            requests.append(
                {
                    "PutRequest": {
                        "Item": to_item(
                            {
                                "part": part_of(dataset["id"], shard_of(row, shards)),
                                "row": row,
                                "data": record,
                                "sum": digest(record)[:32],
                                "ver": 1,
                            }
                        )
                    }
                }
            )
        pending = {table: requests}
        while pending:
            pending = ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}

    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(batch, range(0, rows, 25)))
    return time.perf_counter() - start


def pull_memory(
    rows: int = 1_000_000, page: int = 1000, seed_workers: int = 4, timing_rows: int = 100_000
) -> dict[str, Any]:
    from citybrain.composition import exchange
    from citybrain.departments.models import Principal
    from citybrain.exchange.access import AccessRequestIn, DecisionIn

    _reset()
    service = exchange()
    owner, consumer = Principal("bench-civil-affairs", "department"), Principal("bench-health", "department")
    bureau = Principal("data-bureau", "admin")
    dataset_id = f"bench-pull-{random.randrange(16**6):06x}"
    service.catalog.publish(owner, _bench_dataset(dataset_id), _facts("/v1/datasets"))
    dataset = service.catalog.get(dataset_id)
    seconds = seed_records(dataset, rows, seed_workers)
    request = service.access.request(
        consumer,
        dataset_id,
        AccessRequestIn(
            purpose="医疗救助对象核对（基准测试）",
            fields=["id_card", "name", "address", "town", "household_size", "allowance"],
        ),
        _facts(f"/v1/datasets/{dataset_id}/access-requests"),
    )
    service.access.decide(owner, request["id"], DecisionIn(decision="approve"), _facts("/decision"))
    service.access.decide(bureau, request["id"], DecisionIn(decision="approve"), _facts("/decision"))

    def pull(max_rows: int | None, traced: bool) -> tuple[int, list[dict[str, float]]]:
        """Page through the dataset; per 10,000 rows: seconds and (traced) peak bytes."""
        path = f"/v1/datasets/{dataset_id}/records"
        segments: list[dict[str, float]] = []
        pulled = segment_rows = 0
        cursor = None
        if traced:
            tracemalloc.start()
        segment_start, segment_cpu = time.perf_counter(), time.process_time()
        while True:
            params = {"limit": str(page), **({"cursor": cursor} if cursor else {})}
            result = service.records.pull(consumer, dataset_id, params, _facts(path, params))
            count = len(result["items"])
            pulled += count
            segment_rows += count
            cursor = result["next_cursor"]
            del result
            done = not cursor or (max_rows is not None and pulled >= max_rows)
            if segment_rows >= 10_000 or done:
                now, cpu = time.perf_counter(), time.process_time()
                segment = {"rows": segment_rows, "seconds": now - segment_start, "cpu": cpu - segment_cpu}
                if traced:
                    segment["peak_bytes"] = tracemalloc.get_traced_memory()[1]
                    tracemalloc.reset_peak()
                segments.append(segment)
                segment_start, segment_cpu, segment_rows = now, cpu, 0
            if done:
                break
        if traced:
            tracemalloc.stop()
        return pulled, [s for s in segments if s["rows"] >= 10_000] or segments

    # Time without tracemalloc (it slows Python down several times), then memory over the whole pull.
    _, timed = pull(min(rows, timing_rows), traced=False)
    started = time.perf_counter()
    pulled, traced = pull(None, traced=True)
    total = time.perf_counter() - started
    per_10k = [s["seconds"] * 10_000 / s["rows"] for s in timed]
    cpu_10k = [s["cpu"] * 10_000 / s["rows"] for s in timed]
    peaks = [s["peak_bytes"] for s in traced]
    return {
        "rows seeded": rows,
        "seeding (s)": round(seconds, 1),
        "page size": page,
        "time per 10,000 rows (s, median, untraced)": round(statistics.median(per_10k), 2),
        "of which City Brain + botocore CPU (s)": round(statistics.median(cpu_10k), 2),
        "rows pulled under tracemalloc": pulled,
        "pull under tracemalloc (s)": round(total, 1),
        "peak traced memory, first 10,000 rows (MiB)": round(peaks[0] / 2**20, 2),
        "peak traced memory, last 10,000 rows (MiB)": round(peaks[-1] / 2**20, 2),
        "peak traced memory, highest of all segments (MiB)": round(max(peaks) / 2**20, 2),
        "goal": "flat: the last segment's peak is the first's",
    }


# -- catalog search ---------------------------------------------------------------
TOPICS = [
    ("健康档案", "health"),
    ("慢病随访记录", "health"),
    ("疫苗接种点", "health"),
    ("企业名录", "economy"),
    ("个体工商户登记", "economy"),
    ("低保名单", "social"),
    ("特困人员供养", "social"),
    ("道路停车泊位", "traffic"),
    ("公交站点客流", "traffic"),
    ("空气质量小时数据", "environment"),
    ("排污许可", "environment"),
    ("占道经营巡查", "urban"),
    ("违建整治台账", "urban"),
    ("在建工地清单", "housing"),
    ("危旧房屋排查", "housing"),
    ("应急避难场所", "safety"),
    ("三防物资储备", "safety"),
    ("政务服务事项", "government"),
]
OWNERS = ["health", "market", "civil-affairs", "transport", "environment", "urban", "housing", "safety"]


def seed_catalog(count: int, prefix: str) -> None:
    """`count` plausible datasets written straight to the datasets table, then the index rebuilt."""
    from citybrain.composition import exchange
    from citybrain.core.aws import client
    from citybrain.core.config import get_settings
    from citybrain.core.dynamo import to_item
    from citybrain.core.timeutil import now_ms
    from citybrain.exchange.catalog import DatasetIn, new_record

    rng = random.Random(count)
    table = get_settings().datasets_table
    requests = []
    base = now_ms()
    for n in range(count):
        topic, domain = rng.choice(TOPICS)
        town = rng.choice(TOWNS)
        year = rng.randint(2019, 2026)
        payload = DatasetIn.model_validate(
            {
                "id": f"{prefix}-{n:05d}",
                "title": f"{town}{topic}（{year}年）",
                "domain": domain,
                "description": (
                    f"{town}{topic}，按{rng.choice(['月', '季度', '年'])}更新，"
                    f"来源于业务系统第{rng.randint(1, 9)}期数据治理。"
                ),
                "keywords": [topic[:2], town, str(year)],
                "sensitivity": rng.choice(["public", "internal", "sensitive"]),
                "primary_key": "id",
                "schema": [{"name": "id", "type": "string"}, {"name": "value", "type": "number"}],
                "spatial": [town],
            }
        )
        record = new_record(rng.choice(OWNERS), payload, base + n)
        requests.append({"PutRequest": {"Item": to_item({"pk": f"DS#{record['id']}", "sk": "META", **record})}})
    ddb = client("dynamodb")
    for start in range(0, len(requests), 25):
        pending = {table: requests[start : start + 25]}
        while pending:
            pending = ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
    exchange().catalog.store.rebuild_index()


def _time_search(q: str, rounds: int, cold: bool) -> float:
    from citybrain.composition import exchange

    times = []
    for _ in range(rounds):
        if cold:
            _reset()
        catalog = exchange().catalog
        start = time.perf_counter()
        catalog.search(q, {}, 20, None)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def catalog_search(
    sizes: tuple[int, ...] = (100, 10_000), queries: tuple[str, ...] = ("健康", "桂城街道 企业", "量子")
) -> dict:
    """Each size in a table of its own size (the bench stack is shared: the datasets table is
    emptied in between by deleting what the previous size wrote)."""
    from citybrain.composition import exchange

    figures: dict[str, Any] = {}
    for size in sizes:
        _reset()
        _empty_datasets_table()
        seed_catalog(size, f"bench{size}")
        total = exchange().catalog.search(None, {}, 1, None)["total"]
        hits = {q: exchange().catalog.search(q, {}, 1, None)["total"] for q in queries}
        cold = statistics.median(_time_search(q, 5, cold=True) for q in queries)
        warm = statistics.median(_time_search(q, 20, cold=False) for q in queries)
        figures[size] = {
            "datasets": total,
            "hits": hits,
            "cold (ms)": round(cold * 1000, 1),
            "warm (ms)": round(warm * 1000, 2),
        }
    small, large = figures[sizes[0]], figures[sizes[-1]]
    return {
        **{f"{size} datasets": value for size, value in figures.items()},
        "ratio cold": round(large["cold (ms)"] / small["cold (ms)"], 1),
        "ratio warm": round(large["warm (ms)"] / small["warm (ms)"], 1),
    }


def _empty_datasets_table() -> None:
    from citybrain.core.aws import client
    from citybrain.core.config import get_settings

    table = get_settings().datasets_table
    ddb = client("dynamodb")
    keys = [
        {"pk": item["pk"], "sk": item["sk"]}
        for page in ddb.get_paginator("scan").paginate(TableName=table, ProjectionExpression="pk, sk")
        for item in page["Items"]
    ]
    for start in range(0, len(keys), 25):
        pending = {table: [{"DeleteRequest": {"Key": k}} for k in keys[start : start + 25]]}
        while pending:
            pending = ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
