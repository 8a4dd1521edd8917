"""Exchange statistics in DynamoDB: one item per subject (a department or a
provider→consumer pair) and local day, counters added in the transaction of
the audit entry they are derived from; the period index lists every subject of a day for the reports."""

from __future__ import annotations

from typing import Any

from citybrain.core.config import get_settings
from citybrain.core.dynamo import from_item, query_all
from citybrain.exchange.audit import Write


class DynamoStatsStore:
    @property
    def table(self) -> str:
        return get_settings().exchange_stats_table

    def addition(self, subject: str, day: str, counters: dict[str, int], labels: dict[str, str]) -> Write:
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        adds, sets = [], []
        for n, (name, value) in enumerate(counters.items()):
            names[f"#c{n}"] = name
            values[f":c{n}"] = {"N": str(int(value))}
            adds.append(f"#c{n} :c{n}")
        for n, (name, label) in enumerate(labels.items()):
            names[f"#l{n}"] = name
            values[f":l{n}"] = {"S": label}
            sets.append(f"#l{n} = :l{n}")
        expression = "ADD " + ", ".join(adds) + (" SET " + ", ".join(sets) if sets else "")
        return {
            "Update": {
                "TableName": self.table,
                "Key": {"subject": {"S": subject}, "period": {"S": day}},
                "UpdateExpression": expression,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        }

    def day(self, day: str) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "period-index",
            "KeyConditionExpression": "period = :d",
            "ExpressionAttributeValues": {":d": {"S": day}},
        }
        return [from_item(raw) for raw in query_all(**kwargs)]
