"""Fixes for the emulated AWS, applied wherever City Brain runs moto.

- moto's TransactWriteItems backs up a deep copy of the WHOLE table once per
  action before running a transaction, so with the readings table growing under
  a live feed each transaction gets slower and hungrier (seconds and gigabytes
  within minutes). This version checks every condition first, as DynamoDB does
  (a cancelled transaction wrote nothing: with the pump's workers racing for
  the same devices, a third of the actions were written and then undone), and
  keeps a copy of only the items it writes, to restore if a write fails.
- moto's SendMessage computes every queue attribute, approximate counts
  included (a pass over all messages), only to read ContentBasedDeduplication:
  sending to a deep queue is quadratic (a 20 MB upload queued for minutes).
  While a message is sent, the queue answers just the FIFO attributes.
- moto's Query on a table sorts EVERY item of the table (all partitions) and
  then walks the partition from its start to the ExclusiveStartKey, on every
  call: paging through a big partition is quadratic, and any query slows down
  as the table grows (a million dataset records: seconds per page). A base-table
  Query now reads only its partition, sorts it by the key's plain value and
  finds the start key by bisection; index queries and legacy KeyConditions
  still go through moto's own code.
- moto serializes every response by walking the operation's shape model value
  by value: a page of 1,000 items costs it about two seconds. Items are already
  in their wire form (AttributeValue JSON), so the responses of the item reads
  (Query, Scan, GetItem, BatchGetItem) are dumped as JSON directly; status and
  headers still come from moto's serializer.
- moto serves a presigned URL whatever its signature, key or expiry; S3 does
  not. Query-signed object requests are verified first (infra/moto_presigned.py).
- moto's server lists its own package folder (a listdir and a stat per
  service, about 150) on every request to find the request's backend: a fifth
  of the emulator's time under the live feed. The list is read once.
- Under a live feed the emulator's time went, besides, to: parsing the same
  condition expression again for every item (a fifth of a transaction; the
  parse of an expression with its names and values is now kept, and a
  transaction checks each condition once, not twice, and its Puts are not
  checked again when written); building an item, whose size moto recomputed
  over all attributes so far at each attribute added (quadratic; the size is now
  checked once, against the same limit), and whose every attribute went through
  DynamoType's generic walk (a scalar is now built directly); a copy of
  each item a transaction replaces (a replaced item is never changed in place,
  so a Put or Delete keeps the item itself; an Update still copies it); walking
  the request body against the service model to rebuild the same JSON (the
  item operations' bodies are read with json.loads, unless they hold a binary
  value, which the model decodes); and reading the clock through datetime for
  every queued message on every receive (time.time() now); and finding the
  request's backend, where moto takes a global lock and looks itself up in the
  list of backends by equality (comparing whole backends, dict by dict) on
  every request: it now answers at once when it is registered, by identity.
- moto's CloudFormation reads every template with PyYAML's pure-Python loader
  first (JSON being YAML), half of creating City Brain's stack: each test's
  emulated stack paid it. A template that is JSON is read with json.loads; any
  other goes to moto's YAML reading as before.
- moto serves each request in a thread of its own and its DynamoDB has no lock:
  two transactions checking the same item's condition at once both passed it
  (under the pump's parallel workers, a rollup written twice as its first version
  counted one of two readings). DynamoDB requests are served one at a time, as
  DynamoDB's conditions and transactions are atomic.
Semantics are moto's own.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

from infra import moto_presigned


def apply() -> None:
    _item_level_transaction_rollback()
    _sends_without_counting_the_queue()
    moto_presigned.apply()
    _partition_only_queries()
    _item_reads_dumped_directly()
    _moto_modules_listed_once()
    _condition_parses_kept()
    _items_sized_once()
    _item_requests_read_as_json()
    _queue_clock_read_directly()
    _backends_found_without_comparing()
    _templates_read_as_json()
    _dynamodb_requests_one_at_a_time()


def _dynamodb_requests_one_at_a_time() -> None:
    from moto.dynamodb.responses import DynamoHandler

    if getattr(DynamoHandler, "_citybrain_one_at_a_time", False):
        return
    call_action = DynamoHandler.call_action
    serving = threading.Lock()  # moto's CPU-bound work holds the GIL anyway: no throughput is lost

    def one_at_a_time(self):
        with serving:
            return call_action(self)

    _patch(DynamoHandler, "call_action", one_at_a_time)
    _patch(DynamoHandler, "_citybrain_one_at_a_time", True)


def _moto_modules_listed_once() -> None:
    """moto's package folders do not change while it runs: list them once."""
    from moto import backends

    if getattr(backends.list_of_moto_modules, "_citybrain_once", False):
        return
    modules = tuple(backends.list_of_moto_modules())

    def list_of_moto_modules():
        return iter(modules)

    list_of_moto_modules._citybrain_once = True  # type: ignore[attr-defined]
    backends.list_of_moto_modules = list_of_moto_modules


def _patch(owner: Any, name: str, value: Any) -> None:
    """Replace or add an attribute of a moto class (the fixes here are deliberate monkeypatches)."""
    setattr(owner, name, value)


def _item_reads_dumped_directly() -> None:
    import base64
    import json

    from moto.core.responses import ActionResult
    from moto.dynamodb.responses import DynamoResult

    if getattr(DynamoResult, "_citybrain_direct_dump", False):
        return
    original = DynamoResult.execute_result
    item_reads = {"Query", "Scan", "GetItem", "BatchGetItem"}

    def execute_result(self, context):
        if context.operation_model.name not in item_reads:
            return original(self, context)
        status, headers, _ = ActionResult({}).execute_result(context)  # moto's own status and headers
        result = {k: v for k, v in self.result.items() if v is not None}
        return (
            status,
            headers,
            json.dumps(result, separators=(",", ":"), default=lambda value: base64.b64encode(value).decode()),
        )

    _patch(DynamoResult, "execute_result", execute_result)
    _patch(DynamoResult, "_citybrain_direct_dump", True)


def _partition_only_queries() -> None:
    import bisect
    from decimal import Decimal

    from botocore.utils import merge_dicts
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict, serializer
    from moto.dynamodb.models.table import RESULT_SIZE_LIMIT, Table
    from moto.dynamodb.models.utilities import find_nested_key

    if getattr(Table, "_citybrain_partition_query", False):
        return
    original = Table.query

    def plain(value: Any) -> Any:
        return Decimal(value.value) if value.type == "N" else value.value

    def query(
        self,
        hash_key,
        range_comparison,
        range_objs,
        limit,
        exclusive_start_key,
        scan_index_forward,
        projection_expressions,
        index_name=None,
        consistent_read=False,
        filter_expression=None,
        hash_key_conditions=None,
        range_key_conditions=None,
        **filter_kwargs,
    ):
        if (
            index_name
            or filter_kwargs
            or not self.range_key_attr
            or hash_key is None
            or (range_key_conditions and len(range_key_conditions) > 1)
        ):
            return original(
                self,
                hash_key,
                range_comparison,
                range_objs,
                limit,
                exclusive_start_key,
                scan_index_forward,
                projection_expressions,
                index_name,
                consistent_read,
                filter_expression,
                hash_key_conditions=hash_key_conditions,
                range_key_conditions=range_key_conditions,
                **filter_kwargs,
            )
        partition = self.items.get(hash_key) or {}  # .get: the items dict is a defaultdict
        ascending = sorted(partition.values(), key=lambda item: plain(item.range_key))
        if exclusive_start_key is not None:
            keys = [plain(item.range_key) for item in ascending]
            start = plain(DynamoType(exclusive_start_key[self.range_key_attr]))
            candidates = (
                ascending[bisect.bisect_right(keys, start) :]
                if scan_index_forward
                else ascending[: bisect.bisect_left(keys, start)][::-1]
            )
        else:
            candidates = ascending if scan_index_forward else ascending[::-1]
        results: list[Any] = []
        size = scanned = 0
        last_evaluated_key = None
        for item in candidates:
            item_size = item.size()
            if len(results) == limit or size + item_size > RESULT_SIZE_LIMIT:
                last_evaluated_key = self._get_last_evaluated_key(results[-1], None)
                break
            if range_comparison and not item.range_key.compare(range_comparison, range_objs):
                continue
            results.append(item)
            size += item_size
            scanned += 1
        if filter_expression is not None:
            results = [item for item in results if filter_expression.expr(item)]
        # Projections build new items; otherwise hand out copies, as moto does, never the stored items.
        results = (
            [project(item, projection_expressions) for item in results]
            if projection_expressions
            else copy.deepcopy(results)
        )
        return results, scanned, last_evaluated_key

    def project(self, projection_expressions):
        """moto's Item.project, converting the item to plain JSON once instead of once per path;
        a projection of top-level attributes only picks them (as stored: no round trip; shared, as
        moto's reads without a projection share the stored item)."""
        if all(len(path) == 1 and "[" not in path[0] for path in projection_expressions):
            picked: Any = Item.__new__(Item)
            picked.hash_key, picked.range_key = self.hash_key, self.range_key
            picked.attrs = LimitedSizeDict.__new__(LimitedSizeDict)
            wanted = {path[0] for path in projection_expressions}
            dict.update(picked.attrs, {name: v for name, v in self.attrs.items() if name in wanted})
            return picked
        plain_item = self.to_regular_json()
        result: dict[str, Any] = {}
        for expression in projection_expressions:
            merge_dicts(result, find_nested_key(expression, plain_item))
        return Item(hash_key=self.hash_key, range_key=self.range_key, attrs=serializer.serialize(result)["M"])

    _patch(Table, "query", query)
    _patch(Item, "project", project)
    _patch(Table, "_citybrain_partition_query", True)


def _sends_without_counting_the_queue() -> None:
    from moto.sqs.models import Queue, SQSBackend

    if getattr(SQSBackend, "_citybrain_lite_send", False):
        return
    sending = threading.local()
    all_attributes = vars(Queue)["attributes"].fget  # the property object (mypy types Queue.attributes as its getter)
    send_message = SQSBackend.send_message

    def attributes(self) -> dict[str, Any]:
        if not getattr(sending, "active", False):
            return all_attributes(self)
        if not self.fifo_queue:
            return {}
        value = getattr(self, "content_based_deduplication", False)
        return {"ContentBasedDeduplication": str(value).lower() if isinstance(value, bool) else value}

    def send_without_counting(self, *args: Any, **kwargs: Any):
        sending.active = True
        try:
            return send_message(self, *args, **kwargs)
        finally:
            sending.active = False

    _patch(Queue, "attributes", property(attributes))
    _patch(SQSBackend, "send_message", send_without_counting)
    _patch(SQSBackend, "_citybrain_lite_send", True)


def _item_level_transaction_rollback() -> None:
    from moto.dynamodb import comparisons
    from moto.dynamodb.exceptions import (
        MockValidationException,
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )
    from moto.dynamodb.models import DynamoDBBackend

    if getattr(DynamoDBBackend, "_citybrain_item_level_rollback", False):
        return

    def transact_write_items(self, transact_items: list[dict[str, Any]]) -> None:
        if len(transact_items) > 100:
            raise TooManyTransactionsException()
        # First every condition, as DynamoDB checks them all before it writes anything (an item
        # appears once per transaction, so no action's condition depends on another's write):
        # a cancelled transaction costs its reads, not its writes and their undoing.
        actions: list[tuple[str, dict[str, Any], str, dict[str, Any], Any]] = []
        seen: set[tuple[str, str]] = set()
        errors: list[tuple[Any, Any, Any]] = []
        for item in transact_items:
            if len(item) > 1:
                raise TransactWriteSingleOpException
            op_type, op = next(iter(item.items()))
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                errors.append(("ValueError", "Unsupported transaction operation", None))
                continue
            table_name = op["TableName"]
            try:
                if op_type == "Put":
                    table = self.get_table(table_name)
                    key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
                    if table.range_key_attr is not None:
                        key[table.range_key_attr] = op["Item"][table.range_key_attr]
                else:
                    key = op["Key"]
                marker = (str(table_name), str(dict(sorted(key.items()))))
                if marker in seen:
                    raise MultipleTransactionsException()
                seen.add(marker)
                current = self.get_item(table_name, key)
                condition = op.get("ConditionExpression")
                names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
                if condition is not None and not comparisons.get_filter_expression(condition, names, values).expr(
                    current
                ):
                    returned = None
                    if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                        returned = current.to_json()["Attributes"]
                    errors.append(("ConditionalCheckFailed", "The conditional request failed", returned))
                    continue
            except (MultipleTransactionsException, MockValidationException):
                raise
            except Exception as exc:  # noqa: BLE001 — moto reports any other failure as a cancellation reason
                errors.append((type(exc).__name__, str(exc), None))
                continue
            errors.append((None, None, None))
            actions.append((op_type, op, table_name, key, current))
        if any(code is not None for code, _, _ in errors):
            raise TransactionCanceledException(errors)

        # Then the writes. One that fails (an item too large, an update that does not apply)
        # cancels the transaction: what the others wrote is put back.
        touched: list[tuple[str, dict[str, Any], Any]] = []  # (table, key, item before)
        failure: tuple[int, Exception] | None = None
        writes = [(i, action) for i, action in enumerate(actions) if action[0] != "ConditionCheck"]
        for index, (op_type, op, table_name, key, current) in writes:
            # Put and Delete replace the stored item object; only Update changes it in place.
            touched.append((table_name, key, copy.deepcopy(current) if op_type == "Update" else current))
            try:
                if op_type == "Put":  # its condition held above: not evaluated again
                    self.put_item(table_name, op["Item"], overwrite=True)
                elif op_type == "Delete":
                    self.delete_item(table_name, key)
                else:
                    self.update_item(
                        table_name,
                        key,
                        update_expression=op["UpdateExpression"],
                        condition_expression=op.get("ConditionExpression"),
                        expression_attribute_names=op.get("ExpressionAttributeNames"),
                        expression_attribute_values=op.get("ExpressionAttributeValues"),
                    )
            except Exception as exc:  # noqa: BLE001 — reported below, after the undoing
                failure = (index, exc)
                break
        if failure is None:
            return
        for table_name, key, before in reversed(touched):
            if before is None:
                self.delete_item(table_name, key)
            else:
                self.put_item(table_name, before.to_json()["Attributes"])
        failed, error = failure
        if isinstance(error, MockValidationException):
            raise error
        reasons: list[tuple[Any, Any, Any]] = [(None, None, None)] * len(transact_items)
        reasons[failed] = (type(error).__name__, str(error), None)
        raise TransactionCanceledException(reasons)

    _patch(DynamoDBBackend, "transact_write_items", transact_write_items)
    _patch(DynamoDBBackend, "_citybrain_item_level_rollback", True)


def _condition_parses_kept() -> None:
    """The same expression with the same names and values parses to the same tree,
    which evaluating an item does not change: keep the recent ones, for the item
    operations and for the request handlers' validation (which parse it first)."""
    import json
    from functools import lru_cache

    import moto.dynamodb.models as models
    import moto.dynamodb.models.table as table_module
    import moto.dynamodb.responses as responses
    from moto.dynamodb import comparisons

    if getattr(comparisons, "_citybrain_kept", False):
        return
    create_parser = comparisons.create_condition_expression_parser
    parse = comparisons.get_filter_expression

    @lru_cache(maxsize=4096)
    def parsed(expression: str, names: str, values: str) -> tuple[Any, Any]:
        parser = create_parser(expression, json.loads(names), json.loads(values))
        return parser, parser.parse()

    def kept(expression: str, names: Any, values: Any) -> tuple[Any, Any]:
        return parsed(expression, json.dumps(names, sort_keys=True), json.dumps(values, sort_keys=True))

    class KeptParse:
        """A parser that has parsed: parse() answers its tree, the rest (the names and
        values it found) is the parser's."""

        def __init__(self, parser: Any, tree: Any) -> None:
            self.parser = parser
            self.tree = tree

        def parse(self) -> Any:
            return self.tree

        def __getattr__(self, name: str) -> Any:
            return getattr(self.parser, name)

    def get_filter_expression(expression, names, values):
        return kept(expression, names, values)[1] if expression else parse(expression, names, values)

    def create_condition_expression_parser(expression, names, values):
        if not expression:
            return create_parser(expression, names, values)
        return KeptParse(*kept(expression, names, values))

    for module in (comparisons, models, table_module):
        _patch(module, "get_filter_expression", get_filter_expression)
    _patch(responses, "create_condition_expression_parser", create_condition_expression_parser)
    _patch(comparisons, "_citybrain_kept", True)


def _items_sized_once() -> None:
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
    from moto.dynamodb.models.utilities import bytesize

    if getattr(Item, "_citybrain_sized_once", False):
        return

    nested = ("L", "M")

    def attribute(value: Any) -> Any:
        """DynamoType(value); a scalar (a string, a number, a set: most attributes) built
        without DynamoType's generic walk, which the item's every write paid for."""
        if type(value) is dict and len(value) == 1:
            ((kind, inner),) = value.items()
            if kind not in nested:
                scalar = DynamoType.__new__(DynamoType)
                scalar.type, scalar.value = kind, inner
                return scalar
        return DynamoType(value)

    def __init__(self, hash_key, range_key, attrs):  # noqa: N807 — moto's Item constructor
        self.hash_key = hash_key
        self.range_key = range_key
        converted = {key: attribute(value) for key, value in attrs.items()}
        # moto's limit (between the documented 400 KB and the 409-410 KB measured), checked once.
        if sum(bytesize(key) + value.size() for key, value in converted.items()) > 405000:
            raise ItemSizeTooLarge
        self.attrs = LimitedSizeDict.__new__(LimitedSizeDict)
        dict.update(self.attrs, converted)

    _patch(Item, "__init__", __init__)
    _patch(Item, "_citybrain_sized_once", True)


def _item_requests_read_as_json() -> None:
    import json

    from moto.dynamodb.responses import DynamoHandler

    from citybrain.core.aws import ITEM_OPERATIONS  # the same operations City Brain writes as plain JSON

    if getattr(DynamoHandler, "_citybrain_json", False):
        return
    parse_parameters = DynamoHandler.parse_parameters

    def read(self, request) -> None:
        body = request.data
        # A binary attribute ("B", "BS") is base64 on the wire and bytes after moto's parser.
        if self._get_action() in ITEM_OPERATIONS and body and b'"B":' not in body and b'"BS":' not in body:
            try:
                self.params = json.loads(body)
                return
            except ValueError:
                pass  # moto's parser reports it as DynamoDB would
        parse_parameters(self, request)

    _patch(DynamoHandler, "parse_parameters", read)
    _patch(DynamoHandler, "_citybrain_json", True)


def _queue_clock_read_directly() -> None:
    import time

    import moto.sqs.models as sqs_models

    if getattr(sqs_models, "_citybrain_clock", False):
        return
    unix_time, unix_time_millis = sqs_models.unix_time, sqs_models.unix_time_millis

    def now(dt=None) -> float:
        return time.time() if dt is None else unix_time(dt)

    def now_millis(dt=None) -> float:
        return time.time() * 1000.0 if dt is None else unix_time_millis(dt)

    _patch(sqs_models, "unix_time", now)
    _patch(sqs_models, "unix_time_millis", now_millis)
    _patch(sqs_models, "_citybrain_clock", True)


def _backends_found_without_comparing() -> None:
    from moto.core.base_backend import BackendDict

    if getattr(BackendDict, "_citybrain_found", False):
        return
    create = BackendDict._create_account_specific_backend

    def find_or_create(self, account_id: str) -> None:
        # Registered (by identity: a reset empties the list, and the next request registers again).
        registered: list[Any] = BackendDict._instances  # type: ignore[misc]
        if account_id in self.keys() and any(known is self for known in registered):
            return
        create(self, account_id)

    _patch(BackendDict, "_create_account_specific_backend", find_or_create)
    _patch(BackendDict, "_citybrain_found", True)


def _templates_read_as_json() -> None:
    import json

    from moto.cloudformation import models as cloudformation

    if getattr(cloudformation, "_citybrain_json_templates", False):
        return
    read_yaml = cloudformation.Stack.parse_template

    def parse_template(template: str) -> dict[str, Any]:
        if template.lstrip().startswith("{"):
            try:
                return json.loads(template)
            except ValueError:
                pass  # YAML's flow style starts with a brace too
        return read_yaml(template)

    def parse_change_set_template(self) -> None:
        self.template_dict = parse_template(self.template)

    _patch(cloudformation.Stack, "parse_template", staticmethod(parse_template))
    _patch(cloudformation.ChangeSet, "_parse_template", parse_change_set_template)
    _patch(cloudformation, "_citybrain_json_templates", True)
