"""The hash chain as pure functions: hashing, linking, and what verify reports."""

import copy
import hashlib
import json

from citybrain.exchange.audit import GENESIS, RequestFacts, entry_hash, verify


def chain(n: int) -> list[dict]:
    entries, previous = [], GENESIS
    for seq in range(1, n + 1):
        entry = {
            "seq": seq,
            "at": f"2026-11-27T09:00:0{seq % 10}+08:00",
            "at_ms": 1795741200000 + seq,
            "actor": "civil-affairs",
            "action": "records.pulled",
            "dataset": "dibao",
            "dataset_owner": "civil-affairs",
            "details": {"rows": seq * 10, "fields": ["name", "town"]},
            "prev_hash": previous,
        }
        entry["hash"] = entry_hash(entry)
        entries.append(entry)
        previous = entry["hash"]
    return entries


def test_the_hash_is_sha256_of_canonical_json():
    entry = {"seq": 1, "actor": "卫健", "prev_hash": GENESIS, "details": {"b": 1, "a": [1, 2]}}
    text = '{"actor":"卫健","details":{"a":[1,2],"b":1},"prev_hash":"' + GENESIS + '","seq":1}'
    assert entry_hash(entry) == hashlib.sha256(text.encode("utf-8")).hexdigest()
    # its own hash and absent values do not take part
    assert entry_hash({**entry, "hash": "x", "grant": None}) == entry_hash(entry)


def test_request_hash_is_canonical():
    a = RequestFacts("post", "/v1/datasets/x/records", {"b": "2", "a": "1"}, {"records": [{"名": "张三", "n": 1}]})
    b = RequestFacts(
        "POST", "/v1/datasets/x/records", {"a": "1", "b": "2"}, json.loads('{"records":[{"n":1,"名":"张三"}]}')
    )
    assert a.sha256() == b.sha256()
    assert a.sha256() != RequestFacts("POST", "/v1/datasets/y/records", {}, None).sha256()


def test_an_intact_chain_verifies():
    entries = chain(5)
    assert verify(entries) == {"ok": True, "entries": 5, "head": entries[-1]["hash"]}
    assert verify([]) == {"ok": True, "entries": 0, "head": None}


def test_an_edited_entry_is_the_first_broken_link():
    entries = chain(6)
    entries[3]["details"]["rows"] = 1
    result = verify(entries)
    assert result["ok"] is False and result["broken_at"] == 4 and result["entries"] == 3
    assert "does not match its hash" in result["reason"]


def test_an_edited_and_rehashed_entry_breaks_the_next_link():
    entries = chain(6)
    entries[2]["actor"] = "someone-else"
    entries[2]["hash"] = entry_hash(entries[2])
    result = verify(entries)
    assert result["broken_at"] == 4 and "prev_hash" in result["reason"]


def test_a_removed_entry_leaves_a_gap():
    entries = chain(6)
    del entries[2]
    result = verify(entries)
    assert result["broken_at"] == 3 and "missing" in result["reason"]


def test_a_chain_that_does_not_start_at_genesis_is_broken():
    entries = chain(3)
    forged = copy.deepcopy(entries)
    forged[0]["prev_hash"] = "f" * 64
    assert verify(forged)["broken_at"] == 1
    assert verify(entries[1:])["broken_at"] == 1  # the first entry is missing
