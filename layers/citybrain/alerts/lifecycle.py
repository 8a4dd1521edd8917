"""Alerts: the record and its lifecycle, as pure transitions (storage lives elsewhere).

The record follows the FIWARE Alert data model where it has a name (`type`, `category`,
`subCategory`, `severity`, `dateIssued`, `alertSource`, `description`, `data`,
`location`) and adds what operators of ThingsBoard-class platforms expect: a status
open -> acknowledged -> resolved, who did what and when, how often it recurred, and
its worst value.

Transitions return a Transition: the new record (a new dict; the input is never
changed), the action, and whether it notifies (opened, escalated, resolved).

- open: a rule fired and no alert of that rule is open for the device.
- repeat: it fired again: lastSeen, occurrences, peakValue, data move; a worse
  severity escalates the alert (and notifies again). Severity never goes down while
  the alert is open: it shows the worst seen, `data` shows the latest.
- acknowledge: open -> acknowledged, by the owning department or the admin.
- resolve: open | acknowledged -> resolved, likewise.
- auto_resolve: the rule engine saw the hysteresis count of normal readings in a row:
  resolved with resolvedBy "auto".
Anything else is a Conflict (409) that says why; acting on another department's
device is Forbidden (403).

At most one alert per (device, rule) is active: `open_key` (device#rule) is set on an
active alert and removed when it resolves, so storage can enforce it with a
conditional write on that key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple, TypeGuard

from pydantic import BaseModel, ConfigDict, Field

from citybrain.alerts.rules.catalogue import RULES, SEVERITIES, SEVERITY_RANK, Event
from citybrain.alerts.rules.settings import DEFAULTS
from citybrain.core import timeutil
from citybrain.core.errors import Conflict, Forbidden, ValidationFailed
from citybrain.core.validation import Note
from citybrain.departments.models import Principal

STATUSES = ("open", "acknowledged", "resolved")
ACTIVE = frozenset({"open", "acknowledged"})
NOTIFYING = frozenset({"opened", "escalated", "resolved"})
DEFAULT_HYSTERESIS = DEFAULTS["hysteresis"]
BY_RULES = "rules"
BY_AUTO = "auto"
MAX_NOTE = 1000


class AlertActionIn(BaseModel):
    """POST /v1/alerts/{id}/acknowledge and /resolve: an optional note."""

    model_config = ConfigDict(extra="forbid")
    note: Note | None = Field(default=None, description="why, what was done")


class Transition(NamedTuple):
    alert: dict[str, Any]
    action: str  # opened | repeated | escalated | acknowledged | resolved
    notify: bool


def open_key(device_id: str, rule: str) -> str:
    return f"{device_id}#{rule}"


def alert_id(device_id: str, rule: str, t_ms: int) -> str:
    """Deterministic, so re-applying the same opening event names the same alert;
    ids of one device and rule sort by the time they were issued."""
    return f"al-{t_ms}-{rule}-{device_id}"


def is_active(alert: Mapping[str, Any] | None) -> TypeGuard[Mapping[str, Any]]:
    return alert is not None and bool(alert) and alert["status"] in ACTIVE


def worse(a: str, b: str) -> bool:
    """Severity a is worse than severity b."""
    return SEVERITY_RANK[a] > SEVERITY_RANK[b]


# -- rule-driven transitions -----------------------------------------------------
def open_alert(device: Mapping[str, Any], event: Event) -> Transition:
    if event.kind != "fire":
        raise ValueError(f"only a fire event opens an alert, not {event.kind}")
    if event.severity not in SEVERITY_RANK:
        raise ValueError(f"unknown severity {event.severity!r} (one of {', '.join(SEVERITIES)})")
    rule = RULES[event.rule]
    issued = timeutil.local_iso(event.t)
    alert: dict[str, Any] = {
        "id": alert_id(device["id"], event.rule, event.t),
        "type": "Alert",
        "category": rule.category,
        "subCategory": rule.sub_category,
        "severity": event.severity,
        "dateIssued": issued,
        "alertSource": device["id"],
        "description": event.description,
        "data": event.data or {},
        "status": "open",
        "rule": event.rule,
        "device_id": device["id"],
        "device_type": device.get("type"),
        "domain": device.get("domain"),
        "town": device.get("town"),
        "owner": device.get("owner"),
        "open_key": open_key(device["id"], event.rule),
        "issued_ms": event.t,
        "lastSeen": issued,
        "last_seen_ms": event.t,
        "peakValue": event.value,
        "peakAt": issued,
        "occurrences": 1,
        "history": [{"action": "opened", "at": issued, "by": BY_RULES, "severity": event.severity}],
    }
    location = device.get("location")
    if location:
        alert["location"] = {"type": "Point", "coordinates": [location["lon"], location["lat"]]}
    return Transition(alert, "opened", True)


def repeat(alert: Mapping[str, Any], event: Event) -> Transition | None:
    """The rule fired again on an active alert; None when the event is not newer than
    what the alert has already counted (a redelivered batch)."""
    _require_active(alert, "repeat")
    if event.t <= alert["last_seen_ms"]:
        return None
    seen = timeutil.local_iso(event.t)
    new = {
        **alert,
        "lastSeen": seen,
        "last_seen_ms": event.t,
        "occurrences": alert["occurrences"] + 1,
        "data": event.data or {},
        "description": event.description or alert.get("description", ""),
    }
    if event.value is not None and (alert.get("peakValue") is None or event.value > alert["peakValue"]):
        new["peakValue"], new["peakAt"] = event.value, seen
    if event.severity and worse(event.severity, alert["severity"]):
        new["severity"] = event.severity
        new["history"] = [
            *alert["history"],
            {"action": "escalated", "at": seen, "by": BY_RULES, "severity": event.severity, "from": alert["severity"]},
        ]
        return Transition(new, "escalated", True)
    return Transition(new, "repeated", False)


def auto_resolve(alert: Mapping[str, Any], event: Event) -> Transition | None:
    """The device's readings were normal `hysteresis` times in a row. None when the alert
    is already resolved (by hand, meanwhile) or fired again after those readings."""
    if not is_active(alert) or event.t <= _counted_until(alert):
        return None
    at = timeutil.local_iso(event.t)
    entry = {"action": "resolved", "at": at, "by": BY_AUTO}
    normal = (event.data or {}).get("normalReadings")
    if normal:
        entry["note"] = f"{normal} consecutive normal readings" if event.rule != "offline" else "reporting again"
    return Transition(_resolved(alert, at, BY_AUTO, entry), "resolved", True)


def apply_events(
    alert: Mapping[str, Any] | None, device: Mapping[str, Any], events: Iterable[Event]
) -> list[Transition]:
    """Fold one (device, rule)'s events of a batch, in time order, into transitions.

    `alert` is the active alert of that device and rule (None if there is none). The
    result may hold an alert that resolves and a new one that opens after it; write
    the last record of each id (final_records) and publish those that notify."""
    transitions: list[Transition] = []
    current = dict(alert) if is_active(alert) else None
    for event in events:
        if event.kind == "fire":
            step = repeat(current, event) if current else open_alert(device, event)
        elif event.kind == "clear":
            step = auto_resolve(current, event) if current else None
        else:
            raise ValueError(f"unknown event kind {event.kind!r}")
        if step is None:
            continue
        transitions.append(step)
        current = step.alert if is_active(step.alert) else None
    return transitions


def final_records(transitions: Iterable[Transition]) -> list[dict[str, Any]]:
    """The record to store for each alert the transitions touched, in first-touched order."""
    latest: dict[str, dict[str, Any]] = {}
    for step in transitions:
        latest[step.alert["id"]] = step.alert
    return list(latest.values())


# -- people ------------------------------------------------------------------------
def check_may_act(principal: Principal, alert: Mapping[str, Any]) -> None:
    """Only the department that owns the alert's device, or the admin, may act on it."""
    if not principal.may_manage(alert.get("owner") or ""):
        raise Forbidden("only the department responsible for the device (or the admin) may act on this alert")


def acknowledge(alert: Mapping[str, Any], principal: Principal, at_ms: int, note: str | None = None) -> Transition:
    check_may_act(principal, alert)
    note = _note(note)
    if alert["status"] != "open":
        raise Conflict(
            f"alert {alert['id']} is {alert['status']}; only an open alert can be acknowledged",
            [{"field": "status", "message": f"is {alert['status']}, must be open"}],
        )
    at = timeutil.local_iso(at_ms)
    entry = {"action": "acknowledged", "at": at, "by": principal.department_id}
    if note:
        entry["note"] = note
    new = {
        **alert,
        "status": "acknowledged",
        "acknowledgedBy": principal.department_id,
        "acknowledgedAt": at,
        "history": [*alert["history"], entry],
    }
    return Transition(new, "acknowledged", False)


def resolve(alert: Mapping[str, Any], principal: Principal, at_ms: int, note: str | None = None) -> Transition:
    check_may_act(principal, alert)
    note = _note(note)
    if alert["status"] not in ACTIVE:
        raise Conflict(
            f"alert {alert['id']} is already {alert['status']}",
            [{"field": "status", "message": f"is {alert['status']}, must be open or acknowledged"}],
        )
    at = timeutil.local_iso(at_ms)
    entry = {"action": "resolved", "at": at, "by": principal.department_id}
    if note:
        entry["note"] = note
    return Transition(_resolved(alert, at, principal.department_id, entry), "resolved", True)


# -- notifications -----------------------------------------------------------------
def message_attributes(alert: Mapping[str, Any]) -> dict[str, str]:
    """What a department's SNS filter policy can select on."""
    return {
        "domain": str(alert.get("domain") or ""),
        "town": str(alert.get("town") or ""),
        "severity": alert["severity"],
        "category": alert["category"],
    }


def notification(step: Transition) -> dict[str, Any]:
    """{subject, message, attributes} for a transition that notifies. The subject stays
    ASCII (SNS requires it); the message carries the Chinese names."""
    if not step.notify:
        raise ValueError(f"{step.action} does not notify")
    alert = step.alert
    subject = f"[{alert['severity']}] {alert['category']}/{alert['subCategory']} {step.action}: {alert['alertSource']}"
    message = {
        key: alert.get(key)
        for key in (
            "id",
            "category",
            "subCategory",
            "severity",
            "status",
            "description",
            "alertSource",
            "domain",
            "town",
            "dateIssued",
            "lastSeen",
            "peakValue",
            "occurrences",
            "data",
            "resolvedBy",
            "rule",
        )
    }
    message["event"] = step.action
    return {
        "subject": subject.encode("ascii", "replace").decode()[:99],
        "message": message,
        "attributes": message_attributes(alert),
    }


# -- helpers -----------------------------------------------------------------------
def _counted_until(alert: Mapping[str, Any]) -> int:
    """Events at or before this time are already accounted for by the alert.

    An offline alert's lastSeen is when the check looked, not when the device last
    spoke: any reading observed after the last one the check knew means the device is
    reporting again, even one a gateway delivers late from its buffer."""
    if alert.get("rule") == "offline":
        last = (alert.get("data") or {}).get("lastObserved")
        if last:
            return timeutil.parse_instant(last)
    return alert["last_seen_ms"]


def _resolved(alert: Mapping[str, Any], at: str, by: str, entry: dict[str, Any]) -> dict[str, Any]:
    new = {k: v for k, v in alert.items() if k != "open_key"}  # frees the (device, rule) slot
    new.update(status="resolved", resolvedBy=by, resolvedAt=at, history=[*alert["history"], entry])
    return new


def _require_active(alert: Mapping[str, Any], doing: str) -> None:
    if not is_active(alert):
        raise ValueError(f"cannot {doing} alert {alert.get('id') if alert else None}: not active")


def _note(note: Any) -> str | None:
    if note is None:
        return None
    if not isinstance(note, str):
        raise ValidationFailed("note must be text", [{"field": "note", "message": "expected a string"}])
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise ValidationFailed(
            f"note is longer than {MAX_NOTE} characters",
            [{"field": "note", "message": f"at most {MAX_NOTE} characters"}],
        )
    return note or None
