"""boto3 clients, created on first use and never at import time.

Clients made at import time would escape moto's `mock_aws` in tests and cost
cold-start time in Lambda; `AWS_ENDPOINT_URL` (read by boto3 itself) points
them at the emulated AWS of the local stack.
"""

from __future__ import annotations

import functools
import json
from typing import Any

# DynamoDB's item operations: their inputs hold no timestamps, and blobs only as binary
# attribute values (bytes, which json.dumps refuses: such a request goes botocore's way).
ITEM_OPERATIONS = frozenset(
    {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
        "Query",
        "Scan",
    }
)


@functools.cache
def client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    # Requests are built by our own code and AWS validates them again anyway; botocore's
    # client-side check of DynamoDB transactions costs a third of the processing CPU.
    made = boto3.client(
        service,
        config=Config(retries={"mode": "standard", "max_attempts": 5}, parameter_validation=service != "dynamodb"),
    )
    if service == "dynamodb" and hasattr(made, "_serializer"):
        made._serializer = ItemRequestsAsJSON(made._serializer)
        endpoint = getattr(made, "_endpoint", None)
        if endpoint is not None and hasattr(endpoint, "_response_parser_factory"):
            endpoint._response_parser_factory = ItemAnswersAsJSON(endpoint._response_parser_factory)
        _table_names_without_jmespath(made)
    return made


# The expression botocore's DynamoDB model gives for a transaction's ResourceArnList.
TRANSACTION_TABLES = "TransactItems[*].[ConditionCheck.TableName, Put.TableName, Delete.TableName, Update.TableName][]"
_ACTIONS = ("ConditionCheck", "Put", "Delete", "Update")


def _table_names_without_jmespath(made: Any) -> None:
    """botocore resolves the endpoint of every request from, among others, the table names of a
    transaction, found by a JMESPath search over all its actions: 7 % of the processing CPU for
    transactions of 100 items. The same list is read here directly; any other parameter, or a
    transaction this cannot read plainly, is still searched."""
    resolver = getattr(made, "_ruleset_resolver", None)
    if resolver is None or not hasattr(resolver, "_resolve_param_as_operation_context_param"):
        return
    search = resolver._resolve_param_as_operation_context_param

    def resolve(param_name: str, operation_model: Any, call_args: dict[str, Any]) -> Any:
        if param_name == "ResourceArnList" and operation_model.name == "TransactWriteItems":
            declared = operation_model.operation_context_parameters.get(param_name, {}).get("path")
            if declared == TRANSACTION_TABLES:
                names = transaction_tables(call_args)
                if names is not None:
                    return names
        return search(param_name, operation_model, call_args)

    resolver._resolve_param_as_operation_context_param = resolve


def transaction_tables(call_args: dict[str, Any]) -> list[str] | None:
    """TRANSACTION_TABLES evaluated by hand for a well-formed transaction; None for any other."""
    actions = call_args.get("TransactItems")
    if not isinstance(actions, list):
        return None
    names: list[str] = []
    for action in actions:
        if not isinstance(action, dict):
            return None
        for kind in _ACTIONS:
            target = action.get(kind)
            if target is None:
                continue
            if not isinstance(target, dict):
                return None
            name = target.get("TableName")
            if name is not None:
                names.append(name)
    return names


class ItemRequestsAsJSON:
    """DynamoDB item requests written as the JSON their parameters already are.

    An attribute value is {"S": ...}, {"N": ...} or a map or list of them: botocore's
    serializer walks every one against the service model to write the same JSON
    (1.6 ms for a transaction of 99 rollups, json.dumps 0.4 ms). For the item
    operations of a JSON-protocol DynamoDB the body is json.dumps of the parameters,
    and botocore's own serializer writes everything else of the request (method,
    target, headers); any other request, or one it cannot dump, is botocore's."""

    def __init__(self, serializer: Any) -> None:
        self.serializer = serializer

    def serialize_to_request(self, parameters: dict[str, Any], operation_model: Any) -> dict[str, Any]:
        if operation_model.name in ITEM_OPERATIONS and operation_model.metadata.get("protocol") == "json":
            try:
                body = json.dumps(parameters).encode()
            except (TypeError, ValueError):
                pass  # bytes (a binary attribute), a non-finite float: botocore says what it makes of them
            else:
                request = self.serializer.serialize_to_request({}, operation_model)
                request["body"] = body
                return request
        return self.serializer.serialize_to_request(parameters, operation_model)


# The answers of the item reads: attribute values, counts and keys, all plain JSON.
ITEM_READ_OUTPUTS = frozenset(
    {"GetItemOutput", "BatchGetItemOutput", "QueryOutput", "ScanOutput", "TransactGetItemsOutput"}
)


class ItemAnswersAsJSON:
    """The answers of DynamoDB's item reads read with json.loads: they are the JSON of the
    attribute values already, which botocore's parser walks against the service model member
    by member (two fifths of reading a batch's rollups and states, json.loads a tenth of it).
    botocore still parses an error, any other answer, and one holding a binary value (base64
    on the wire, bytes once parsed); the response metadata is botocore's own."""

    def __init__(self, factory: Any) -> None:
        self.factory = factory

    def create_parser(self, protocol: str) -> Any:
        parser = self.factory.create_parser(protocol)
        return _ItemAnswerParser(parser) if protocol == "json" else parser


class _ItemAnswerParser:
    def __init__(self, parser: Any) -> None:
        self.parser = parser

    def parse(self, response: dict[str, Any], shape: Any) -> Any:
        body = response.get("body")
        if (
            shape is not None
            and shape.name in ITEM_READ_OUTPUTS
            and response.get("status_code", 500) < 300
            and isinstance(body, bytes)
            and b'"B":' not in body
            and b'"BS":' not in body
        ):
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict):
                metadata = self.parser.parse({**response, "body": b"{}"}, shape)
                # As botocore's: the modeled members only, and no nulls.
                answer = {k: v for k, v in parsed.items() if v is not None and k in shape.members}
                answer["ResponseMetadata"] = metadata["ResponseMetadata"]
                return answer
        return self.parser.parse(response, shape)


def reset_clients() -> None:
    client.cache_clear()
