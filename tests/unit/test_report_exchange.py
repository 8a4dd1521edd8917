"""Data-exchange figures of a report period, from the statistics table's rows as
citybrain.exchange.stats counts them from the audit entries."""

import json

from citybrain.core import timeutil
from citybrain.exchange.stats import DEPARTMENT_COUNTERS, PAIR_COUNTERS, increments
from citybrain.reports.exchange import exchange_section


def at(local: str) -> int:
    return timeutil.parse_instant(local)


def entry(action: str, actor: str, when: str, owner: str | None = None, **details) -> dict:
    record = {"action": action, "actor": actor, "at_ms": at(when), "details": details}
    if owner:
        record["dataset_owner"] = owner
    if action in ("access.approved", "access.bureau_approved"):
        record["grant"] = "g-1"
    return record


def rows_of(entries: list[dict]) -> dict[str, list[dict]]:
    """The table's rows per local day, as DynamoStatsStore.day reads them back."""
    items: dict[tuple[str, str], dict] = {}
    for audit in entries:
        for subject, day, counters, labels in increments(audit):
            item = items.setdefault((subject, day), {"subject": subject, "period": day, **labels})
            for name, value in counters.items():
                item[name] = item.get(name, 0) + value
    by_day: dict[str, list[dict]] = {}
    for (_, day), item in sorted(items.items()):
        by_day.setdefault(day, []).append(item)
    return by_day


ENTRIES = [
    entry("dataset.published", "env", "2026-11-27T09:00:00+08:00"),
    entry("dataset.published", "env", "2026-11-27T10:00:00+08:00"),
    entry("access.requested", "traffic", "2026-11-27T11:00:00+08:00", owner="env"),
    entry("access.approved", "env", "2026-11-27T12:00:00+08:00", owner="env", consumer="traffic"),
    entry("records.pulled", "traffic", "2026-11-27T23:59:59+08:00", owner="env", rows=120),
    entry("records.pulled", "traffic", "2026-11-28T00:00:00+08:00", owner="env", rows=30),
    entry("records.pulled", "env", "2026-11-28T01:00:00+08:00", owner="env", rows=999),  # its own data: not counted
    entry("access.requested", "water", "2026-11-28T08:00:00+08:00", owner="env"),
    entry("access.rejected", "env", "2026-11-28T09:00:00+08:00", owner="env", consumer="water"),
    entry("records.refused", "water", "2026-11-28T10:00:00+08:00", owner="env"),
]


def test_departments_pairs_and_totals_over_the_days():
    section = exchange_section(rows_of(ENTRIES))
    assert section["period"] == {"from": "2026-11-27", "to": "2026-11-28", "days": 2}
    departments = {d["department"]: d for d in section["departments"]}
    assert list(departments) == ["env", "traffic", "water"]
    env = departments["env"]
    assert (env["datasets_published"], env["requests_received"], env["approved"], env["rejected"]) == (2, 2, 1, 1)
    assert env["rows_provided"] == 150 and env["rows_received"] == 0
    assert departments["traffic"]["requests_made"] == 1 and departments["traffic"]["rows_received"] == 150
    assert departments["water"]["refused"] == 1 and departments["water"]["rows_received"] == 0
    assert [set(d) - {"department"} for d in section["departments"]] == [set(DEPARTMENT_COUNTERS)] * 3
    assert section["pairs"] == [
        {"provider": "env", "consumer": "traffic", "requests": 1, "approved": 1, "rejected": 0, "pulls": 2, "rows": 150,
         "refused": 0},
        {"provider": "env", "consumer": "water", "requests": 1, "approved": 0, "rejected": 1, "pulls": 0, "rows": 0,
         "refused": 1},
    ]  # fmt: skip
    assert section["totals"] == {
        "datasets_published": 2,
        "requests": 2,
        "approved": 1,
        "rejected": 1,
        "pulls": 2,
        "rows_shared": 150,
        "refused": 1,
        "departments_active": 3,
        "pairs_active": 2,
    }
    assert section["days_with_activity"] == 2 and section["unlabelled_rows"] == 0
    json.dumps(section, ensure_ascii=False, allow_nan=False)


def test_a_day_belongs_to_its_local_date():
    by_day = rows_of(ENTRIES)
    first = exchange_section({"2026-11-27": by_day["2026-11-27"]})
    assert first["totals"]["rows_shared"] == 120 and first["totals"]["pulls"] == 1  # 23:59:59 is the 27th's
    second = exchange_section({"2026-11-28": by_day["2026-11-28"]})
    assert second["totals"]["rows_shared"] == 30 and second["totals"]["datasets_published"] == 0


def test_rows_without_labels_are_read_from_their_subject_and_others_are_counted():
    rows = {
        "2026-11-27": [
            {"subject": "dept#env", "period": "2026-11-27", "datasets_published": 3},
            {"subject": "pair#env#traffic", "period": "2026-11-27", "pulls": 1, "rows": 10},
            {"subject": "something-else", "period": "2026-11-27", "pulls": 5},
        ]
    }
    section = exchange_section(rows)
    assert section["departments"][0]["department"] == "env" and section["totals"]["datasets_published"] == 3
    assert section["pairs"][0]["provider"] == "env" and section["pairs"][0]["consumer"] == "traffic"
    assert section["totals"]["pulls"] == 1 and section["unlabelled_rows"] == 1
    assert set(section["pairs"][0]) == {"provider", "consumer", *PAIR_COUNTERS}


def test_a_period_without_exchange_is_zeros():
    section = exchange_section({"2026-11-27": [], "2026-11-28": []})
    assert section["period"]["days"] == 2 and section["days_with_activity"] == 0
    assert section["departments"] == [] and section["pairs"] == []
    assert set(section["totals"].values()) == {0}
    assert exchange_section({})["period"] == {"from": None, "to": None, "days": 0}
