"""The data-exchange figures of a report period, from the exchange statistics table
(citybrain.exchange.stats: one row per subject and local day, counted from the audit
entries as they are written), never from a scan of the audit.

Rows are of two kinds, told apart by their labels: a department's (`department`) and a
provider → consumer pair's (`provider`, `consumer`). Only the counters the table keeps
are shown, summed over the days:

- per department (citybrain.exchange.stats.DEPARTMENT_COUNTERS): datasets published,
  access requests made and received, requests it approved and rejected as the data's
  owner (a data-bureau approval counts for the owner), rows provided and received, and
  its pulls that were refused;
- per pair (PAIR_COUNTERS): requests, approved, rejected, pulls, rows, refused;
- totals: datasets published (from the departments), and requests, approvals,
  rejections, pulls, rows shared and refusals (from the pairs: each event is counted
  once there, while a department figure counts it on both sides).

Not kept, so not shown: the pulls of a department as such (they are in its pairs), a
department pulling its own data, grants revoked or expired, dataset updates and
records loaded, and any figure per dataset.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from citybrain.exchange.stats import DEPARTMENT_COUNTERS, PAIR_COUNTERS

TOTALS = (
    ("requests", "requests"),
    ("approved", "approved"),
    ("rejected", "rejected"),
    ("pulls", "pulls"),
    ("rows_shared", "rows"),
    ("refused", "refused"),
)


def _count(row: Mapping[str, Any], name: str) -> int:
    return int(row.get(name) or 0)


def _labels(row: Mapping[str, Any]) -> tuple[str, ...] | None:
    """('department',) or (provider, consumer); from the subject when labels are missing."""
    if row.get("department"):
        return (str(row["department"]),)
    if row.get("provider") and row.get("consumer"):
        return (str(row["provider"]), str(row["consumer"]))
    kind, _, rest = str(row.get("subject") or "").partition("#")
    if kind == "dept" and rest:
        return (rest,)
    if kind == "pair":
        provider, _, consumer = rest.partition("#")
        if provider and consumer:
            return (provider, consumer)
    return None


def exchange_section(rows_by_day: Mapping[str, Iterable[Mapping[str, Any]]]) -> dict[str, Any]:
    """rows_by_day: local day (YYYY-MM-DD) -> the statistics rows of that day."""
    departments: dict[str, dict[str, int]] = {}
    pairs: dict[tuple[str, str], dict[str, int]] = {}
    unreadable = 0
    days = sorted(rows_by_day)
    active_days = 0
    for day in days:
        counted = False
        for row in rows_by_day[day]:
            labels = _labels(row)
            if labels is None:
                unreadable += 1
                continue
            counted = True
            if len(labels) == 1:
                totals = departments.setdefault(labels[0], dict.fromkeys(DEPARTMENT_COUNTERS, 0))
                for name in DEPARTMENT_COUNTERS:
                    totals[name] += _count(row, name)
            else:
                provider, consumer = labels
                totals = pairs.setdefault((provider, consumer), dict.fromkeys(PAIR_COUNTERS, 0))
                for name in PAIR_COUNTERS:
                    totals[name] += _count(row, name)
        active_days += counted
    return {
        "period": {"from": days[0] if days else None, "to": days[-1] if days else None, "days": len(days)},
        "days_with_activity": active_days,
        "departments": [{"department": d, **c} for d, c in sorted(departments.items())],
        "pairs": [{"provider": p, "consumer": c, **v} for (p, c), v in sorted(pairs.items())],
        "totals": {
            "datasets_published": sum(c["datasets_published"] for c in departments.values()),
            **{shown: sum(v[kept] for v in pairs.values()) for shown, kept in TOTALS},
            "departments_active": len(departments),
            "pairs_active": len(pairs),
        },
        "unlabelled_rows": unreadable,
    }
