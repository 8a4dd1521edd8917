"""The emulator's partition-only Query (infra/moto_fixes.py) keeps DynamoDB's semantics:
key order (numbers numerically), both directions, Limit before the filter,
ExclusiveStartKey, key conditions, nested projections, other partitions untouched."""

from __future__ import annotations

import boto3
import pytest

from infra import moto_fixes

NUMBERS = [-3, -0.5, 0, 2, 9, 10, 11.25, 100, 1000]


@pytest.fixture
def table(bare_aws):
    ddb = boto3.client("dynamodb", region_name="ap-east-1")
    for name, kind in (("numbers", "N"), ("words", "S")):
        ddb.create_table(
            TableName=name,
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}, {"AttributeName": "k", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "p", "AttributeType": "S"},
                {"AttributeName": "k", "AttributeType": kind},
            ],
        )
    for partition in ("a", "b"):
        for n in NUMBERS:
            ddb.put_item(
                TableName="numbers",
                Item={
                    "p": {"S": partition},
                    "k": {"N": str(n)},
                    "data": {"M": {"x": {"N": str(n)}, "y": {"S": f"{partition}{n}"}}},
                    "even": {"BOOL": float(n).is_integer() and int(n) % 2 == 0},
                },
            )
    for word in ("桂城", "大沥", "dl-01", "dl-02", "gc-01", "ls-01"):
        ddb.put_item(TableName="words", Item={"p": {"S": "a"}, "k": {"S": word}})
    yield ddb


def keys(response, kind="N"):
    return [float(i["k"]["N"]) if kind == "N" else i["k"]["S"] for i in response["Items"]]


def walk(ddb, limit, forward=True, **kwargs):
    seen, start = [], None
    while True:
        extra = {"ExclusiveStartKey": start} if start else {}
        response = ddb.query(
            TableName="numbers",
            KeyConditionExpression="p = :p",
            ScanIndexForward=forward,
            ExpressionAttributeValues={":p": {"S": "a"}, **kwargs.pop("values", {})},
            Limit=limit,
            **kwargs,
            **extra,
        )
        seen += keys(response)
        start = response.get("LastEvaluatedKey")
        if not start:
            return seen


@pytest.mark.parametrize("limit", [1, 2, 4, 100])
def test_paging_both_ways_in_numeric_order(table, limit):
    assert walk(table, limit) == [float(n) for n in NUMBERS]
    assert walk(table, limit, forward=False) == [float(n) for n in reversed(NUMBERS)]


def test_start_key_between_items_and_key_conditions(table):
    response = table.query(
        TableName="numbers",
        KeyConditionExpression="p = :p AND k BETWEEN :lo AND :hi",
        ExpressionAttributeValues={":p": {"S": "b"}, ":lo": {"N": "0"}, ":hi": {"N": "11.25"}},
        ExclusiveStartKey={"p": {"S": "b"}, "k": {"N": "5"}},
    )
    assert keys(response) == [9, 10, 11.25]
    below = table.query(
        TableName="numbers",
        KeyConditionExpression="p = :p AND k < :v",
        ScanIndexForward=False,
        ExpressionAttributeValues={":p": {"S": "a"}, ":v": {"N": "10"}},
        Limit=3,
    )
    assert keys(below) == [9, 2, 0] and below["LastEvaluatedKey"]["k"] == {"N": "0"}
    words = table.query(
        TableName="words",
        KeyConditionExpression="p = :p AND begins_with(k, :w)",
        ExpressionAttributeValues={":p": {"S": "a"}, ":w": {"S": "dl-"}},
    )
    assert keys(words, "S") == ["dl-01", "dl-02"]
    everything = table.query(
        TableName="words", KeyConditionExpression="p = :p", ExpressionAttributeValues={":p": {"S": "a"}}
    )
    assert keys(everything, "S") == sorted(["桂城", "大沥", "dl-01", "dl-02", "gc-01", "ls-01"])  # UTF-8 order


def test_limit_counts_before_the_filter_and_projections_are_nested(table):
    response = table.query(
        TableName="numbers",
        KeyConditionExpression="p = :p",
        FilterExpression="even = :t",
        ExpressionAttributeValues={":p": {"S": "a"}, ":t": {"BOOL": True}},
        Limit=4,
        ProjectionExpression="k, #d.#y",
        ExpressionAttributeNames={"#d": "data", "#y": "y"},
    )
    assert keys(response) == [0, 2]
    assert response["ScannedCount"] == 4 and response["LastEvaluatedKey"]["k"] == {"N": "2"}
    assert response["Items"][1] == {"k": {"N": "2"}, "data": {"M": {"y": {"S": "a2"}}}}
    stored = table.get_item(TableName="numbers", Key={"p": {"S": "a"}, "k": {"N": "2"}})["Item"]
    assert stored["data"]["M"]["x"] == {"N": "2"}  # projecting never trims what is stored


def test_a_projection_of_top_level_attributes_reads_them_as_stored(table):
    key = {"p": {"S": "b"}, "k": {"N": "11.25"}}
    names = {"#d": "data", "#e": "even", "#m": "missing"}
    got = table.get_item(
        TableName="numbers", Key=key, ProjectionExpression="k, #d, #e, #m", ExpressionAttributeNames=names
    )
    assert got["Item"] == {
        "k": {"N": "11.25"},
        "data": {"M": {"x": {"N": "11.25"}, "y": {"S": "b11.25"}}},
        "even": {"BOOL": False},
    }
    found = table.batch_get_item(
        RequestItems={
            "numbers": {
                "Keys": [key, {"p": {"S": "a"}, "k": {"N": "2"}}],
                "ProjectionExpression": "#e",
                "ExpressionAttributeNames": {"#e": "even"},
            }
        }
    )["Responses"]["numbers"]
    assert sorted(found, key=str) == [{"even": {"BOOL": False}}, {"even": {"BOOL": True}}]
    assert table.get_item(TableName="numbers", Key=key)["Item"]["p"] == {"S": "b"}  # what is stored stays whole


def test_the_server_finds_backends_from_a_module_list_read_once():
    from moto import backends
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    moto_fixes.apply()
    listed = list(backends.list_of_moto_modules())
    assert "dynamodb" in listed and "sqs" in listed and "s3" in listed
    assert list(backends.list_of_moto_modules()) == listed  # the same list, every call
    assert getattr(backends.list_of_moto_modules, "_citybrain_once", False)
    dispatcher = DomainDispatcherApplication(create_backend_app)
    assert dispatcher.get_backend_for_host("dynamodb") == "dynamodb"
    assert dispatcher.get_backend_for_host("sqs.ap-east-1.amazonaws.com") == "sqs"
