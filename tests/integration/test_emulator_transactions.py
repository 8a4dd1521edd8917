"""The emulated DynamoDB's transactions as DynamoDB's (infra/moto_fixes.py): all or nothing,
every condition checked before anything is written, and one winner when threads race."""

from __future__ import annotations

import sys
import threading

import boto3
import pytest
from botocore.exceptions import ClientError

WRITERS = 8
ROUNDS = 40


@pytest.fixture
def table(bare_aws):
    ddb = boto3.client("dynamodb", region_name="ap-east-1")
    ddb.create_table(
        TableName="counters",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return ddb


def _put(key: str, **condition: str) -> dict:
    return {"Put": {"TableName": "counters", "Item": {"id": {"S": key}, "n": {"N": "1"}}, **condition}}


def _ids(table) -> set[str]:
    return {i["id"]["S"] for i in table.scan(TableName="counters")["Items"]}


def test_a_failed_condition_cancels_the_transaction_and_writes_nothing(table):
    table.put_item(TableName="counters", Item={"id": {"S": "held"}, "n": {"N": "7"}})
    with pytest.raises(ClientError) as raised:
        table.transact_write_items(
            TransactItems=[
                _put("new-1"),
                _put(
                    "held",
                    ConditionExpression="attribute_not_exists(id)",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                ),
                _put("new-2"),
            ]
        )
    reasons = raised.value.response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None", "ConditionalCheckFailed", "None"]
    assert reasons[1]["Item"] == {"id": {"S": "held"}, "n": {"N": "7"}}
    assert _ids(table) == {"held"}
    assert table.get_item(TableName="counters", Key={"id": {"S": "held"}})["Item"]["n"] == {"N": "7"}


def test_a_write_that_fails_after_the_checks_is_undone_with_the_others(table):
    table.put_item(TableName="counters", Item={"id": {"S": "word"}, "n": {"S": "seven"}})
    with pytest.raises(ClientError) as raised:
        table.transact_write_items(
            TransactItems=[
                _put("new-1"),
                {
                    "Update": {
                        "TableName": "counters",
                        "Key": {"id": {"S": "word"}},
                        "UpdateExpression": "SET n = n + :one",  # a string plus a number
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
            ]
        )
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert _ids(table) == {"word"}
    assert table.get_item(TableName="counters", Key={"id": {"S": "word"}})["Item"]["n"] == {"S": "seven"}


def test_a_transaction_applies_every_action_when_every_condition_holds(table):
    table.put_item(TableName="counters", Item={"id": {"S": "old"}, "n": {"N": "1"}})
    table.transact_write_items(
        TransactItems=[
            _put("new", ConditionExpression="attribute_not_exists(id)"),
            {
                "Update": {
                    "TableName": "counters",
                    "Key": {"id": {"S": "old"}},
                    "UpdateExpression": "SET n = n + :one",
                    "ConditionExpression": "n = :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            },
        ]
    )
    assert _ids(table) == {"new", "old"}
    assert table.get_item(TableName="counters", Key={"id": {"S": "old"}})["Item"]["n"] == {"N": "2"}


def test_a_conditional_transaction_has_one_winner_among_concurrent_writers(table):
    # Threads switch often, so that a check and its write are interleaved if they can be.
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for round_ in range(ROUNDS):
            start = threading.Barrier(WRITERS)
            won: list[int] = []

            def write(writer: int, key: str = f"item-{round_}", won: list[int] = won, start=start) -> None:
                start.wait()
                try:
                    table.transact_write_items(
                        TransactItems=[
                            {
                                "Put": {
                                    "TableName": "counters",
                                    "Item": {"id": {"S": key}, "writer": {"N": str(writer)}},
                                    "ConditionExpression": "attribute_not_exists(id)",
                                }
                            }
                        ]
                    )
                    won.append(writer)
                except ClientError as error:
                    assert error.response["Error"]["Code"] == "TransactionCanceledException"

            threads = [threading.Thread(target=write, args=(w,)) for w in range(WRITERS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            stored = table.get_item(TableName="counters", Key={"id": {"S": f"item-{round_}"}})["Item"]
            assert len(won) == 1, f"round {round_}: {len(won)} writers were told their write succeeded"
            assert stored["writer"]["N"] == str(won[0])
    finally:
        sys.setswitchinterval(previous)


EVERY_TYPE = {
    "id": {"S": "typed"},
    "n": {"N": "12.50"},
    "s": {"S": "区生态环境局"},
    "b": {"B": b"\x00\x01"},
    "flag": {"BOOL": True},
    "none": {"NULL": True},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2.5"]},
    "list": {"L": [{"N": "1"}, {"S": "x"}, {"M": {"k": {"BOOL": False}}}]},
    "map": {"M": {"inner": {"L": [{"S": "y"}]}, "n": {"N": "3"}}},
}


def test_an_item_of_every_type_written_in_a_transaction_reads_back_as_written(table):
    table.transact_write_items(TransactItems=[{"Put": {"TableName": "counters", "Item": EVERY_TYPE}}])
    stored = table.get_item(TableName="counters", Key={"id": {"S": "typed"}})["Item"]
    assert {k: v for k, v in stored.items() if k not in ("ss", "ns")} == {
        k: v for k, v in EVERY_TYPE.items() if k not in ("ss", "ns")
    }
    assert sorted(stored["ss"]["SS"]) == ["a", "b"] and sorted(stored["ns"]["NS"]) == ["1", "2.5"]
    found = table.scan(
        TableName="counters",
        FilterExpression="n = :n AND flag = :f",
        ExpressionAttributeValues={":n": {"N": "12.5"}, ":f": {"BOOL": True}},
    )["Items"]
    assert [i["id"]["S"] for i in found] == ["typed"]  # numbers compare as numbers


@pytest.mark.parametrize("size, stored", [(400_000, True), (406_000, False)])
def test_an_item_past_the_size_limit_is_refused_alone_or_in_a_transaction(table, size, stored):
    """DynamoDB's limit is 400 KB of names and values; the emulator refuses past 405,000 bytes,
    and a transaction holding such an item writes nothing."""
    item = {"id": {"S": "big"}, "r": {"S": "x" * (size - len("id") - len("big") - len("r"))}}
    alone = lambda: table.put_item(TableName="counters", Item=item)  # noqa: E731
    together = lambda: table.transact_write_items(  # noqa: E731
        TransactItems=[_put("beside"), {"Put": {"TableName": "counters", "Item": item}}]
    )
    if stored:
        alone()
        assert _ids(table) == {"big"}
        together()
        assert _ids(table) == {"big", "beside"}
        return
    for attempt in (alone, together):
        with pytest.raises(ClientError) as raised:
            attempt()
        assert raised.value.response["Error"]["Code"] in ("ValidationException", "TransactionCanceledException")
        assert _ids(table) == set()
