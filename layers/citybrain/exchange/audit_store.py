"""The audit chain in DynamoDB: one partition (`chain`), entries sorted by `seq`.

Indexes by dataset, by actor and by the dataset's owner (all sorted by seq)
serve the views each department may see without reading the whole chain.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from citybrain.core.aws import client
from citybrain.core.config import get_settings
from citybrain.core.dynamo import from_item, to_attr, to_item
from citybrain.exchange.audit import ChangeRefused, Write

CHAIN = "exchange"
INDEXES = {"dataset": "dataset-index", "actor": "actor-index", "dataset_owner": "owner-index"}
MAX_PAGES = 10  # reads per request while filters skip entries; the cursor resumes where reading stopped


class DynamoAuditStore:
    @property
    def table(self) -> str:
        return get_settings().audit_table

    def head(self) -> dict[str, Any] | None:
        response = client("dynamodb").query(
            TableName=self.table,
            KeyConditionExpression="#c = :c",
            ExpressionAttributeNames={"#c": "chain"},
            ExpressionAttributeValues={":c": {"S": CHAIN}},
            ScanIndexForward=False,
            Limit=1,
            ConsistentRead=True,
        )
        items = response["Items"]
        return self._entry(items[0]) if items else None

    def put_new(self, entry: dict[str, Any], writes: Sequence[Write] = ()) -> bool:
        """Entry `seq` if it is still free, and the writes of its action, in one transaction."""
        ddb = client("dynamodb")
        put = {
            "TableName": self.table,
            "Item": to_item({"chain": CHAIN, **entry}),
            "ConditionExpression": "attribute_not_exists(seq)",
        }
        if not writes:
            try:
                ddb.put_item(**put)
                return True
            except ddb.exceptions.ConditionalCheckFailedException:
                return False
        try:
            # The token makes botocore's own retry of a call whose answer was lost a no-op that
            # reports success, instead of a refusal by the conditions the first call satisfied.
            ddb.transact_write_items(TransactItems=[{"Put": put}, *writes], ClientRequestToken=entry["hash"][:36])
            return True
        except ddb.exceptions.TransactionCanceledException as exc:
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            refused = [n for n, code in enumerate(reasons[1:]) if code == "ConditionalCheckFailed"]
            if refused:
                raise ChangeRefused(refused[0]) from None
            if reasons[:1] == ["ConditionalCheckFailed"] or "TransactionConflict" in reasons:
                return False  # another entry took seq, or a concurrent action held an item: again
            raise

    def walk(self, page_size: int = 500) -> Iterator[dict[str, Any]]:
        """Every entry in sequence order, a page at a time (memory stays one page)."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "#c = :c",
            "ExpressionAttributeNames": {"#c": "chain"},
            "ExpressionAttributeValues": {":c": {"S": CHAIN}},
            "ConsistentRead": True,
            "Limit": page_size,
        }
        while True:
            response = client("dynamodb").query(**kwargs)
            for raw in response["Items"]:
                yield self._entry(raw)
            last = response.get("LastEvaluatedKey")
            if not last:
                return
            kwargs["ExclusiveStartKey"] = last

    def entries_after(self, after: int, limit: int) -> list[dict[str, Any]]:
        """Up to `limit` entries with seq > `after`, in sequence order (verify and export page with it)."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "#c = :c AND #s > :after",
            "ExpressionAttributeNames": {"#c": "chain", "#s": "seq"},
            "ExpressionAttributeValues": {":c": {"S": CHAIN}, ":after": {"N": str(after)}},
            "ConsistentRead": True,
        }
        found: list[dict[str, Any]] = []
        while len(found) < limit:
            kwargs["Limit"] = min(limit - len(found), 1000)
            response = client("dynamodb").query(**kwargs)
            found.extend(self._entry(raw) for raw in response["Items"])
            if not response.get("LastEvaluatedKey"):
                break
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return found

    def at(self, seq: int) -> dict[str, Any] | None:
        """The entry of sequence number `seq`, if the table holds one."""
        found = self.entries_after(seq - 1, 1)
        return found[0] if found and found[0]["seq"] == seq else None

    def newest(
        self,
        partition: tuple[str, str] | None,
        below: int | None,
        want: int,
        equals: dict[str, str],
        since_ms: int | None,
        until_ms: int | None,
        party: str | None = None,
    ) -> tuple[list[dict[str, Any]], int | None]:
        """Entries newest first, from the whole chain (partition None) or one index
        partition (attribute, value), with seq < below, matching `equals`, the time
        window and, if `party` is given, only those where it is the actor or the
        dataset's owner. Returns up to `want` entries and the seq the next page
        continues below (None when there is nothing more)."""
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        if partition is None:
            index, (attribute, value) = None, ("chain", CHAIN)
        else:
            attribute, value = partition
            index = INDEXES[attribute]
        names["#k"] = attribute
        values[":k"] = {"S": value}
        condition = "#k = :k"
        if below is not None:
            condition += " AND #s < :below"
            names["#s"] = "seq"
            values[":below"] = {"N": str(below)}
        filters = []
        for n, (name, wanted) in enumerate(sorted(equals.items())):
            names[f"#e{n}"] = name
            values[f":e{n}"] = to_attr(wanted)
            filters.append(f"#e{n} = :e{n}")
        if since_ms is not None or until_ms is not None:
            names["#t"] = "at_ms"
            if since_ms is not None:
                values[":since"] = {"N": str(since_ms)}
                filters.append("#t >= :since")
            if until_ms is not None:
                values[":until"] = {"N": str(until_ms)}
                filters.append("#t <= :until")
        if party is not None:
            names.update({"#actor": "actor", "#owner": "dataset_owner"})
            values[":party"] = {"S": party}
            filters.append("(#actor = :party OR #owner = :party)")
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
            "Limit": want if not filters else max(want, 200),
        }
        if index:
            kwargs["IndexName"] = index
        if filters:
            kwargs["FilterExpression"] = " AND ".join(filters)
        found: list[dict[str, Any]] = []
        for _ in range(MAX_PAGES):
            response = client("dynamodb").query(**kwargs)
            found.extend(self._entry(raw) for raw in response["Items"])
            last = response.get("LastEvaluatedKey")
            if len(found) >= want:
                more = bool(last) or len(found) > want
                found = found[:want]
                return found, found[-1]["seq"] if more else None
            if not last:
                return found, None
            kwargs["ExclusiveStartKey"] = last
        return found, int(last["seq"]["N"])

    @staticmethod
    def _entry(raw: dict[str, Any]) -> dict[str, Any]:
        entry = from_item(raw)
        entry.pop("chain", None)
        return entry
