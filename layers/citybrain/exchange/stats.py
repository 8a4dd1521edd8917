"""Exchange statistics per department and per pair (provider → consumer), per local day.

They are derived from audit entries alone (`increments`), counted in the very
transaction that writes each entry (so they are exact: an entry is never
written without its counts, nor counted twice), and stored per day so the
reports read a few items instead of scanning the audit; `replay` recomputes
them from the chain.

Per department: datasets published, requests made and received, requests it
approved and rejected (as owner), rows provided and received, pulls refused.
Per pair: requests, approved, rejected, pulls, rows, refused.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any, Protocol

from citybrain.core import timeutil
from citybrain.core.errors import Forbidden, ValidationFailed
from citybrain.departments.models import Principal
from citybrain.exchange.audit import Write

DEPARTMENT_COUNTERS = (
    "datasets_published",
    "requests_made",
    "requests_received",
    "approved",
    "rejected",
    "rows_provided",
    "rows_received",
    "refused",
)
PAIR_COUNTERS = ("requests", "approved", "rejected", "pulls", "rows", "refused")
MAX_DAYS = 366


def department_subject(department: str) -> str:
    return f"dept#{department}"


def pair_subject(provider: str, consumer: str) -> str:
    return f"pair#{provider}#{consumer}"


Increment = tuple[str, str, dict[str, int], dict[str, str]]  # subject, day, counters, labels


def increments(entry: dict[str, Any]) -> list[Increment]:
    """What one audit entry adds to the statistics."""
    action, actor, owner = entry["action"], entry["actor"], entry.get("dataset_owner")
    details = entry.get("details") or {}
    day = timeutil.local_date(entry["at_ms"])

    def dept(department: str, **counters: int) -> Increment:
        return department_subject(department), day, counters, {"department": department}

    def pair(provider: str, consumer: str, **counters: int) -> Increment:
        return pair_subject(provider, consumer), day, counters, {"provider": provider, "consumer": consumer}

    if action == "dataset.published":
        return [dept(actor, datasets_published=1)]
    if action == "access.requested" and owner:
        return [dept(actor, requests_made=1), dept(owner, requests_received=1), pair(owner, actor, requests=1)]
    if action in ("access.approved", "access.bureau_approved") and entry.get("grant") and owner:
        return [dept(owner, approved=1), pair(owner, details["consumer"], approved=1)]
    if action == "access.rejected" and owner:
        return [dept(owner, rejected=1), pair(owner, details["consumer"], rejected=1)]
    if action == "records.pulled" and owner and actor != owner:
        rows = int(details.get("rows", 0))
        return [
            dept(owner, rows_provided=rows),
            dept(actor, rows_received=rows),
            pair(owner, actor, pulls=1, rows=rows),
        ]
    if action == "records.refused" and owner and actor != owner:
        return [dept(actor, refused=1), pair(owner, actor, refused=1)]
    return []


class StatsStore(Protocol):
    # The write that adds counters to a subject's day (committed with the audit entry).
    def addition(self, subject: str, day: str, counters: dict[str, int], labels: dict[str, str]) -> Write: ...
    def day(self, day: str) -> list[dict[str, Any]]: ...


class ExchangeStats:
    def __init__(self, store: StatsStore):
        self.store = store

    def writes(self, entry: dict[str, Any]) -> list[Write]:
        """What an audit entry adds to the counters, as writes for the entry's transaction
        (one per subject and day: a transaction touches each item once)."""
        merged: dict[tuple[str, str], tuple[dict[str, int], dict[str, str]]] = {}
        for subject, day, counters, labels in increments(entry):
            totals, _ = merged.setdefault((subject, day), ({}, labels))
            for name, value in counters.items():
                totals[name] = totals.get(name, 0) + value
        return [
            self.store.addition(subject, day, counters, labels) for (subject, day), (counters, labels) in merged.items()
        ]

    def report(
        self, principal: Principal, since: str | None, until: str | None, department: str | None = None
    ) -> dict[str, Any]:
        """Totals over local days [since, until] (the last 30 days by default): the data
        bureau sees everyone; a department its own figures and its pairs."""
        today = timeutil.local_date(timeutil.now_ms())
        end = _day(until, "to") if until else date.fromisoformat(today)
        start = _day(since, "from") if since else end - timedelta(days=29)
        if start > end:
            raise ValidationFailed("from is after to", [{"field": "from", "message": "must not be after to"}])
        if (end - start).days >= MAX_DAYS:
            raise ValidationFailed("period too long", [{"field": "from", "message": f"at most {MAX_DAYS} days"}])
        scope = department if principal.is_admin else principal.department_id
        if department and not principal.is_admin and department != principal.department_id:
            raise Forbidden(
                "a department sees its own statistics",
                [{"field": "department", "message": "only the data bureau sees other departments"}],
            )
        departments: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(DEPARTMENT_COUNTERS, 0))
        pairs: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(PAIR_COUNTERS, 0))
        current = start
        while current <= end:
            for item in self.store.day(current.isoformat()):
                if "department" in item:
                    if scope and item["department"] != scope:
                        continue
                    totals = departments[item["department"]]
                    for name in DEPARTMENT_COUNTERS:
                        totals[name] += int(item.get(name, 0))
                else:
                    if scope and scope not in (item["provider"], item["consumer"]):
                        continue
                    totals = pairs[(item["provider"], item["consumer"])]
                    for name in PAIR_COUNTERS:
                        totals[name] += int(item.get(name, 0))
            current += timedelta(days=1)
        return {
            "from": start.isoformat(),
            "to": end.isoformat(),
            "departments": [{"department": d, **c} for d, c in sorted(departments.items())],
            "pairs": [{"provider": p, "consumer": c, **v} for (p, c), v in sorted(pairs.items())],
        }


def replay(entries: Iterable[dict[str, Any]]) -> dict[tuple[str, str], dict[str, int]]:
    """{(subject, day): counters} recomputed from audit entries."""
    totals: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for entry in entries:
        for subject, day, counters, _ in increments(entry):
            for name, value in counters.items():
                totals[(subject, day)][name] += value
    return {key: dict(value) for key, value in totals.items()}


def _day(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise ValidationFailed(f"invalid {field}", [{"field": field, "message": "a local date YYYY-MM-DD"}]) from None
