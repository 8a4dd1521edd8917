"""Fixes for the emulated AWS, applied wherever City Brain runs moto.

- moto's TransactWriteItems backs up a deep copy of the WHOLE table once per
  action before running a transaction, so with the readings table growing under
  a live feed each transaction gets slower and hungrier (seconds and gigabytes
  within minutes). This version keeps a copy of only the items the transaction
  touches, and restores them if it is cancelled.
- moto's SendMessage computes every queue attribute, approximate counts
  included (a pass over all messages), only to read ContentBasedDeduplication:
  sending to a deep queue is quadratic (a 20 MB upload queued for minutes).
  While a message is sent, the queue answers just the FIFO attributes.
Semantics are moto's own.
"""
from __future__ import annotations

import copy
import threading
from typing import Any


def apply() -> None:
    _item_level_transaction_rollback()
    _sends_without_counting_the_queue()


def _sends_without_counting_the_queue() -> None:
    from moto.sqs.models import Queue, SQSBackend

    if getattr(SQSBackend, "_citybrain_lite_send", False):
        return
    sending = threading.local()
    all_attributes = Queue.attributes.fget
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

    Queue.attributes = property(attributes)
    SQSBackend.send_message = send_without_counting
    SQSBackend._citybrain_lite_send = True


def _item_level_transaction_rollback() -> None:
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed,
        MockValidationException,
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.models import DynamoDBBackend

    if getattr(DynamoDBBackend, "_citybrain_item_level_rollback", False):
        return

    def transact_write_items(self, transact_items: list[dict[str, Any]]) -> None:
        if len(transact_items) > 100:
            raise TooManyTransactionsException()
        touched: list[tuple[str, dict[str, Any], Any]] = []  # (table, key, item before)
        seen: set[tuple[str, str]] = set()
        errors: list[tuple[Any, Any, Any]] = []

        def rollback() -> None:
            for table_name, key, before in reversed(touched):
                if before is None:
                    self.delete_item(table_name, key)
                else:
                    self.put_item(table_name, before.to_json()["Attributes"])

        for item in transact_items:
            original_item = None
            if len(item) > 1:
                raise TransactWriteSingleOpException
            try:
                op_type, op = next(iter(item.items()))
                if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                    raise ValueError("Unsupported transaction operation")
                table_name = op["TableName"]
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
                if condition is not None:
                    if not get_filter_expression(condition, names, values).expr(current):
                        if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                            original_item = current.to_json()["Attributes"]
                        raise ConditionalCheckFailed(item=original_item)
                if op_type != "ConditionCheck":
                    touched.append((table_name, key, copy.deepcopy(current)))
                if op_type == "Put":
                    self.put_item(table_name, op["Item"], condition_expression=condition,
                                  expression_attribute_names=names, expression_attribute_values=values)
                elif op_type == "Delete":
                    self.delete_item(table_name, key, condition_expression=condition,
                                     expression_attribute_names=names, expression_attribute_values=values)
                elif op_type == "Update":
                    self.update_item(table_name, key, update_expression=op["UpdateExpression"],
                                     condition_expression=condition, expression_attribute_names=names,
                                     expression_attribute_values=values)
                errors.append((None, None, None))
            except (MultipleTransactionsException, MockValidationException):
                rollback()
                raise
            except ConditionalCheckFailed as exc:
                errors.append(("ConditionalCheckFailed", str(exc.message), original_item))
            except Exception as exc:  # noqa: BLE001 — moto reports any other failure as a cancellation reason
                errors.append((type(exc).__name__, str(exc), original_item))
        if any(code is not None for code, _, _ in errors):
            rollback()
            raise TransactionCanceledException(errors)

    DynamoDBBackend.transact_write_items = transact_write_items
    DynamoDBBackend._citybrain_item_level_rollback = True
