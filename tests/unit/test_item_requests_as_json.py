"""DynamoDB item requests are written as JSON directly, and item reads' answers read as JSON directly:
both say the same as botocore's."""

import json

import boto3
import pytest
from botocore.config import Config

from citybrain.core.aws import ItemRequestsAsJSON

REQUESTS = {
    "TransactWriteItems": {
        "TransactItems": [
            {
                "Put": {
                    "TableName": "rollups",
                    "Item": {
                        "device_id": {"S": "aq-1"},
                        "values": {"S": '{"pm25":{"n":1}}'},
                        "nested": {"M": {"n": {"N": "1.5"}, "list": {"L": [{"BOOL": True}, {"NULL": True}]}}},
                        "town": {"S": "桂城街道"},
                    },
                    "ConditionExpression": "version = :v",
                    "ExpressionAttributeValues": {":v": {"N": "3"}},
                }
            },
            {"Delete": {"TableName": "t", "Key": {"k": {"S": "x"}}}},
        ],
        "ClientRequestToken": "token",
    },
    "BatchGetItem": {
        "RequestItems": {
            "state": {
                "Keys": [{"device_id": {"S": "aq-1"}}],
                "ConsistentRead": True,
                "ProjectionExpression": "#a0, #a1",
                "ExpressionAttributeNames": {"#a0": "device_id", "#a1": "values"},
            }
        }
    },
    "Query": {
        "TableName": "readings",
        "KeyConditionExpression": "device_id = :d AND t BETWEEN :a AND :b",
        "ExpressionAttributeValues": {":d": {"S": "aq-1"}, ":a": {"N": "0"}, ":b": {"N": "9"}},
        "Limit": 100,
        "ScanIndexForward": False,
        "ExclusiveStartKey": {"device_id": {"S": "aq-1"}, "t": {"N": "5"}},
    },
    "UpdateItem": {
        "TableName": "state",
        "Key": {"device_id": {"S": "aq-1"}},
        "UpdateExpression": "SET #r = :r",
        "ExpressionAttributeNames": {"#r": "rules"},
        "ExpressionAttributeValues": {":r": {"M": {}}},
    },
}


@pytest.fixture(scope="module")
def dynamodb():
    """A DynamoDB client as citybrain.core.aws makes it, and botocore's own serializer."""
    made = boto3.client(
        "dynamodb",
        region_name="ap-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(parameter_validation=False),
    )
    made._serializer = ItemRequestsAsJSON(made._serializer)
    return made


@pytest.mark.parametrize("operation", sorted(REQUESTS))
def test_an_item_request_is_the_one_botocore_writes(dynamodb, operation):
    model = dynamodb.meta.service_model.operation_model(operation)
    botocore_request = dynamodb._serializer.serializer.serialize_to_request(REQUESTS[operation], model)
    direct = dynamodb._serializer.serialize_to_request(REQUESTS[operation], model)
    assert json.loads(direct["body"]) == json.loads(botocore_request["body"])
    assert {k: v for k, v in direct.items() if k != "body"} == {
        k: v for k, v in botocore_request.items() if k != "body"
    }


def test_a_binary_attribute_goes_through_botocore_as_base64(dynamodb):
    model = dynamodb.meta.service_model.operation_model("PutItem")
    request = dynamodb._serializer.serialize_to_request({"TableName": "t", "Item": {"b": {"B": b"\x00\x01"}}}, model)
    assert json.loads(request["body"]) == {"TableName": "t", "Item": {"b": {"B": "AAE="}}}


def test_other_operations_are_botocore_s(dynamodb):
    model = dynamodb.meta.service_model.operation_model("DescribeTable")
    request = dynamodb._serializer.serialize_to_request({"TableName": "t"}, model)
    assert json.loads(request["body"]) == {"TableName": "t"}
    assert request["headers"]["X-Amz-Target"] == "DynamoDB_20120810.DescribeTable"


def test_the_dynamodb_client_writes_item_requests_directly(monkeypatch):
    from citybrain.core import aws

    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-east-1")
    aws.reset_clients()
    try:
        assert isinstance(aws.client("dynamodb")._serializer, ItemRequestsAsJSON)
        assert not isinstance(aws.client("sqs")._serializer, ItemRequestsAsJSON)
    finally:
        aws.reset_clients()


ANSWERS = {
    "BatchGetItem": {
        "Responses": {
            "state": [
                {"device_id": {"S": "aq-1"}, "t": {"N": "1796214969186"}, "values": {"S": '{"pm25":20.0}'}},
                {"device_id": {"S": "桂城-2"}, "rules": {"M": {"r": {"L": [{"N": "1"}, {"NULL": True}]}}}},
            ]
        },
        "UnprocessedKeys": {"state": {"Keys": [{"device_id": {"S": "aq-3"}}], "ConsistentRead": True}},
        "ConsumedCapacity": [{"TableName": "state", "CapacityUnits": 1.5}],
    },
    "GetItem": {},
    "Query": {
        "Items": [{"device_id": {"S": "aq-1"}, "t": {"N": "5"}, "flag": {"BOOL": False}, "tags": {"SS": ["a", "b"]}}],
        "Count": 1,
        "ScannedCount": 3,
        "LastEvaluatedKey": {"device_id": {"S": "aq-1"}, "t": {"N": "5"}},
    },
    "Scan": {"Items": [], "Count": 0, "ScannedCount": 0, "Unmodeled": 1, "LastEvaluatedKey": None},
}


def _answer(body: bytes, status: int = 200) -> dict:
    return {
        "status_code": status,
        "headers": {"x-amzn-requestid": "REQ1", "content-type": "application/x-amz-json-1.0"},
        "body": body,
    }


@pytest.fixture(scope="module")
def parsers():
    from botocore.parsers import ResponseParserFactory

    from citybrain.core.aws import ItemAnswersAsJSON

    return ResponseParserFactory().create_parser("json"), ItemAnswersAsJSON(ResponseParserFactory()).create_parser(
        "json"
    )


@pytest.mark.parametrize("operation", sorted(ANSWERS))
def test_an_item_read_answer_reads_as_botocore_reads_it(dynamodb, parsers, operation):
    botocore_parser, direct_parser = parsers
    shape = dynamodb.meta.service_model.operation_model(operation).output_shape
    body = json.dumps(ANSWERS[operation], ensure_ascii=False).encode()
    assert direct_parser.parse(_answer(body), shape) == botocore_parser.parse(_answer(body), shape)


def test_errors_binary_values_and_other_answers_are_botocore_s(dynamodb, parsers):
    _, direct_parser = parsers
    model = dynamodb.meta.service_model
    error = json.dumps({"__type": "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException", "message": "no"})
    parsed = direct_parser.parse(_answer(error.encode(), 400), model.operation_model("Query").output_shape)
    assert parsed["Error"]["Code"] == "ResourceNotFoundException"
    binary = json.dumps({"Item": {"b": {"B": "AAE="}}}).encode()
    assert direct_parser.parse(_answer(binary), model.operation_model("GetItem").output_shape)["Item"] == {
        "b": {"B": b"\x00\x01"}
    }
    described = json.dumps({"Table": {"TableName": "t", "CreationDateTime": 1.7e9}}).encode()
    table = direct_parser.parse(_answer(described), model.operation_model("DescribeTable").output_shape)["Table"]
    assert table["CreationDateTime"].year >= 2023  # a timestamp, as botocore parses it


def test_the_dynamodb_client_reads_item_answers_directly(monkeypatch):
    from citybrain.core import aws

    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-east-1")
    aws.reset_clients()
    try:
        assert isinstance(aws.client("dynamodb")._endpoint._response_parser_factory, aws.ItemAnswersAsJSON)
        assert not isinstance(aws.client("sqs")._endpoint._response_parser_factory, aws.ItemAnswersAsJSON)
    finally:
        aws.reset_clients()
