"""Records on moto: loads take turns, pages cover every shard exactly once."""

from __future__ import annotations

import pytest

from citybrain.composition import exchange
from citybrain.exchange import records as records_module
from tests.integration.exchange_helpers import call, dataset_body, department, person_records


@pytest.fixture
def owner(api):
    key = department(api, "civil-affairs")
    assert call(api, "POST", "/v1/datasets", key, dataset_body("dibao", "public")).status_code == 201
    return key


def test_a_load_waits_for_another_and_takes_over_a_dead_ones_lease(api, owner, monkeypatch):
    monkeypatch.setattr(records_module, "LEASE_WAIT_S", 0.3)
    store = exchange().catalog.store
    from citybrain.core import timeutil

    assert store.begin_load("dibao", "someone-else", timeutil.now_ms(), 60_000)["version_counter"] == 1
    busy = call(api, "POST", "/v1/datasets/dibao/records", owner, {"records": person_records(2)})
    assert busy.status_code == 409 and "another load" in busy.json_body["message"]
    store.abort_load("dibao", "someone-else")
    assert (
        call(api, "POST", "/v1/datasets/dibao/records", owner, {"records": person_records(2)}).json_body["version"] == 2
    )

    # a load that died holding the lease: once the lease ran out, the next load goes ahead
    assert store.begin_load("dibao", "crashed", timeutil.now_ms() - 120_000, 60_000)["version_counter"] == 3
    done = call(api, "POST", "/v1/datasets/dibao/records", owner, {"records": person_records(3)})
    assert done.status_code == 200 and done.json_body["version"] == 4
    assert call(api, "GET", "/v1/datasets/dibao", owner).json_body["record_count"] == 3
    # the versions the aborted and the dead load took were never committed
    versions = call(api, "GET", "/v1/datasets/dibao/versions", owner).json_body["items"]
    assert [v["version"] for v in versions] == [4, 2]


def test_pages_cover_every_shard_exactly_once(api, owner):
    people = person_records(250, seed=1)
    for start in range(0, 250, 100):
        call(api, "POST", "/v1/datasets/dibao/records", owner, {"records": people[start : start + 100]})
    reader = department(api, "health")
    whole = call(api, "GET", "/v1/datasets/dibao/records", reader, limit=1000).json_body
    assert len(whole["items"]) == 250 and whole["next_cursor"] is None
    masked = sorted(p["id_card"][:6] + "********" + p["id_card"][-4:] for p in people)  # masks may coincide
    assert sorted(r["id_card"] for r in whole["items"]) == masked

    for limit in (7, 64):
        seen, cursor = [], None
        while True:
            body = call(
                api, "GET", "/v1/datasets/dibao/records", reader, limit=limit, **({"cursor": cursor} if cursor else {})
            ).json_body
            assert len(body["items"]) <= limit
            seen += [r["id_card"] for r in body["items"]]
            cursor = body["next_cursor"]
            if not cursor:
                break
        assert sorted(seen) == masked, limit

    # a filter that skips most records still pages to the end
    seen, cursor = [], None
    while True:
        body = call(
            api,
            "GET",
            "/v1/datasets/dibao/records",
            reader,
            limit=5,
            household_size=6,
            **({"cursor": cursor} if cursor else {}),
        ).json_body
        seen += body["items"]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == sum(1 for p in people if p["household_size"] == 6)
    assert all(r["household_size"] == 6 for r in seen)


def test_too_large_a_batch_is_refused(api, owner):
    response = call(api, "POST", "/v1/datasets/dibao/records", owner, {"records": [{}] * 1001})
    assert response.status_code == 413 and response.json_body["errors"][0]["field"] == "records"
