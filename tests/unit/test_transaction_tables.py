"""A transaction's table names, read directly for botocore's endpoint resolution, are what
botocore's own JMESPath expression finds."""

from __future__ import annotations

import boto3
import jmespath
import pytest

from citybrain.core import aws

SHAPES = [
    {"TransactItems": [{"Put": {"TableName": "a"}}, {"Update": {"TableName": "b"}}, {"Delete": {"TableName": "c"}}]},
    {
        "TransactItems": [
            {"ConditionCheck": {"TableName": "c"}, "Put": {"TableName": "a"}, "Update": {"TableName": "u"}}
        ]
    },
    {"TransactItems": [{"Put": {"TableName": "a"}}, {"Put": {"TableName": "a"}}]},  # repeats kept
    {"TransactItems": [{"Put": {}}, {"Put": None}, {}]},  # no name: nothing
    {"TransactItems": []},
    {"ClientRequestToken": "no actions"},
]
ODD = [
    {"TransactItems": "not a list"},
    {"TransactItems": ["not an action"]},
    {"TransactItems": [{"Put": "not a map"}]},
]


@pytest.mark.parametrize("call_args", SHAPES)
def test_the_names_are_those_jmespath_finds(call_args):
    assert aws.transaction_tables(call_args) == jmespath.search(aws.TRANSACTION_TABLES, call_args)


@pytest.mark.parametrize("call_args", ODD)
def test_an_odd_transaction_is_left_to_jmespath(call_args):
    assert aws.transaction_tables(call_args) is None


def test_botocore_still_declares_the_expression_read_here():
    model = boto3.client("dynamodb", region_name="ap-east-1").meta.service_model
    declared = model.operation_model("TransactWriteItems").operation_context_parameters
    assert declared["ResourceArnList"]["path"] == aws.TRANSACTION_TABLES


def test_the_client_resolves_a_transaction_without_searching(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-east-1")
    aws.reset_clients()
    try:
        dynamodb = aws.client("dynamodb")
        resolver = dynamodb._ruleset_resolver
        model = dynamodb.meta.service_model
        searched: list[str] = []
        import botocore.regions

        monkeypatch.setattr(botocore.regions.jmespath, "search", lambda path, args: searched.append(path) or ["x"])
        transaction = {"TransactItems": [{"Put": {"TableName": "rollups"}}, {"Update": {"TableName": "state"}}]}
        found = resolver._resolve_param_as_operation_context_param(
            "ResourceArnList", model.operation_model("TransactWriteItems"), transaction
        )
        assert found == ["rollups", "state"] and searched == []
        # anything else is still botocore's search
        resolver._resolve_param_as_operation_context_param(
            "ResourceArnList", model.operation_model("BatchGetItem"), {"RequestItems": {"t": {}}}
        )
        assert searched == ["keys(RequestItems)"]
    finally:
        aws.reset_clients()
