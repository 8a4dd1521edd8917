"""Alerts as a service: the lifecycle of citybrain.alerts.lifecycle on its store, the
notifications that announce it, and the scheduled check for silent devices.

Thin orchestration: every decision is the lifecycle's or the rules'. This reads
what they need, stores what they decide (one transaction per device and rule,
retried when a concurrent writer got there first) and publishes after the write.

- apply(device, events): the rule events of the readings pipeline (citybrain.sensing.pipeline). It may run again
  for the same events (a retried transaction, a redelivered message), so it must
  change nothing the second time: a repeat or auto-resolve not newer than what the
  alert has counted is ignored by citybrain.alerts.lifecycle, and an alert the events would
  open that is already stored (ids are deterministic) means those events were
  applied before.
- Notifications: the transition and its pending notification are written together
  (an outbox item), published right after, and deleted once SNS has them; what a
  failing publish leaves behind is published by retry_notifications, every minute.
  Delivery is at least once: the message carries a notificationId for subscribers
  that must not see one twice.
"""

from __future__ import annotations

import builtins
import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from citybrain.alerts import lifecycle as alerts
from citybrain.alerts.rules import engine, offline
from citybrain.alerts.rules.catalogue import SEVERITIES, Event, clear
from citybrain.alerts.store import AlertConflict, AlertWrite
from citybrain.core import paging, timeutil
from citybrain.core.errors import NotFound
from citybrain.core.observability import logger, metrics
from citybrain.core.retry import pause
from citybrain.core.validation import one_of
from citybrain.core.vocabulary import Domain, Town
from citybrain.departments.models import Principal

MAX_ATTEMPTS = 8
NOTIFICATION_GRACE_MS = 60_000  # leave a just-queued notification to the writer that is publishing it
RETRY_BATCH = 500
ACTIVE_FILTER = "active"  # status=active: open or acknowledged
HIDDEN = ("version",)


def shown(alert: Mapping[str, Any], history: bool = True) -> dict[str, Any]:
    return {k: v for k, v in alert.items() if k not in HIDDEN and (history or k != "history")}


class AlertStorage(Protocol):
    """The alerts, their (device, rule) slots and the notification outbox (citybrain.alerts.store)."""

    def active(self, device_id: str, rules: Iterable[str]) -> dict[str, dict[str, Any]]: ...
    def active_many(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]: ...
    def get(self, alert_id: str) -> dict[str, Any] | None: ...
    def write(self, change: AlertWrite) -> list[dict[str, Any]]: ...  # raises AlertConflict
    def clear_notification(self, notification_id: str) -> None: ...
    def pending_notifications(self, queued_before_ms: int, limit: int) -> list[dict[str, Any]]: ...
    def list(
        self,
        *,
        device: str | None,
        filters: dict[str, list[str]],
        start_ms: int,
        end_ms: int,
        limit: int,
        cursor: dict[str, str] | None,
    ) -> tuple[list[dict[str, Any]], dict[str, str] | None]: ...


class NotificationPublisher(Protocol):
    """Publishes one {subject, message, attributes} (citybrain.alerts.notifications); returns its message id."""

    def publish(self, notification: Mapping[str, Any]) -> str: ...


class OfflineSweep(Protocol):
    """What the offline check reads and writes (citybrain.sensing.sweep_store)."""

    def devices(self) -> list[dict[str, Any]]: ...
    def states(self) -> dict[str, dict[str, Any]]: ...
    def state(self, device_id: str) -> dict[str, Any] | None: ...
    def backlog(self) -> int: ...
    def save_rules(self, device_id: str, rules: dict[str, Any], version: int) -> bool: ...


class AlertService:
    def __init__(
        self,
        store: AlertStorage,
        publisher: NotificationPublisher,
        sweep: OfflineSweep | None = None,
        clock: Callable[[], int] = timeutil.now_ms,
    ) -> None:
        self.store = store
        self.publisher = publisher
        self.sweep = sweep  # for the offline check
        self.clock = clock

    # -- the rules' events -------------------------------------------------------
    def apply(self, device: Mapping[str, Any], events: list[Event]) -> None:
        """Open, continue, escalate or auto-resolve the device's alerts; raises if storing fails
        (publishing never does)."""
        self._apply(device, events)

    def _apply(self, device: Mapping[str, Any], events: Iterable[Event]) -> list[alerts.Transition]:
        by_rule: dict[str, list[Event]] = {}
        for event in events:
            by_rule.setdefault(event.rule, []).append(event)
        if not by_rule:
            return []
        active = self.store.active(device["id"], by_rule)
        steps: list[alerts.Transition] = []
        for rule, rule_events in by_rule.items():
            steps += self._apply_rule(device, rule, rule_events, active.get(rule))
        return steps

    def _apply_rule(
        self, device: Mapping[str, Any], rule: str, events: list[Event], active: dict[str, Any] | None
    ) -> list[alerts.Transition]:
        stored: list[dict[str, Any]] = []  # alerts these events would open that exist already
        for attempt in range(MAX_ATTEMPTS):
            pending = [e for e in events if not any(_counted_by(alert, e) for alert in stored)]
            steps = alerts.apply_events(active, device, sorted(pending, key=lambda e: e.t))
            if not steps:
                return []
            notes = self._outbox(steps)
            try:
                self.store.write(AlertWrite(device["id"], rule, active, alerts.final_records(steps), notes))
            except AlertConflict as conflict:
                for alert_id in conflict.existing:
                    found = self.store.get(alert_id)
                    if found and found["status"] == "resolved":
                        stored.append(found)
                if conflict.slot or conflict.stale or conflict.existing:
                    active = self.store.active(device["id"], [rule]).get(rule)
                if conflict.busy:
                    pause(attempt)
                continue
            for step in steps:
                metrics.add_metric(name=f"Alerts{step.action.title()}", unit="Count", value=1)
            self._publish(notes)
            return steps
        raise RuntimeError(f"could not store the alerts of {device['id']}/{rule} after {MAX_ATTEMPTS} attempts")

    # -- people ------------------------------------------------------------------
    def get(self, alert_id: str) -> dict[str, Any]:
        return shown(self._get(alert_id))

    def list(self, params: Mapping[str, str]) -> dict[str, Any]:
        query = parse_query(params, self.clock())
        items, last = self.store.list(**query)
        return {"items": [shown(a, history=False) for a in items], "next_cursor": paging.encode_cursor(last)}

    def acknowledge(self, principal: Principal, alert_id: str, note: str | None = None) -> dict[str, Any]:
        return self._act(alerts.acknowledge, principal, alert_id, note)

    def resolve(self, principal: Principal, alert_id: str, note: str | None = None) -> dict[str, Any]:
        return self._act(alerts.resolve, principal, alert_id, note)

    def _get(self, alert_id: str) -> dict[str, Any]:
        alert = self.store.get(alert_id)
        if alert is None:
            raise NotFound(f"no alert {alert_id}")
        return alert

    def _act(self, transition, principal: Principal, alert_id: str, note: str | None) -> dict[str, Any]:
        for attempt in range(MAX_ATTEMPTS):
            current = self._get(alert_id)
            step = transition(current, principal, self.clock(), note)  # 403 / 409 / 400 come from here
            notes = self._outbox([step])
            try:
                (written,) = self.store.write(
                    AlertWrite(current["device_id"], current["rule"], current, [step.alert], notes)
                )
            except AlertConflict as conflict:  # the rules moved it meanwhile: decide again on the new record
                if conflict.busy:
                    pause(attempt)
                continue
            metrics.add_metric(name=f"Alerts{step.action.title()}", unit="Count", value=1)
            self._publish(notes)
            return shown(written)
        raise RuntimeError(f"could not {transition.__name__} alert {alert_id} after {MAX_ATTEMPTS} attempts")

    # -- notifications ------------------------------------------------------------
    def _outbox(self, steps: Iterable[alerts.Transition]) -> builtins.list[dict[str, Any]]:
        now = self.clock()
        notes = []
        for step in steps:
            if not step.notify:
                continue
            note = alerts.notification(step)
            # The transition's place in the alert's history names it: the same transition
            # written again (a retry) is the same notification.
            note_id = f"{step.alert['id']}#{len(step.alert['history'])}"
            note["message"] = {**note["message"], "notificationId": note_id}
            notes.append({"id": note_id, "alert_id": step.alert["id"], "queued_ms": now, **note})
        return notes

    def _publish(self, notes: builtins.list[dict[str, Any]]) -> int:
        published = 0
        for note in notes:
            try:
                self.publisher.publish(note)
            except Exception:  # the alert is stored and the note queued: the retry schedule publishes it
                logger.warning("alert notification deferred", extra={"notification": note["id"]}, exc_info=True)
                metrics.add_metric(name="AlertNotificationsDeferred", unit="Count", value=1)
                continue
            published += 1
            metrics.add_metric(name="AlertNotificationsPublished", unit="Count", value=1)
            try:
                self.store.clear_notification(note["id"])
            except Exception:  # published: at worst the retry publishes it once more
                logger.warning(
                    "published notification left in the outbox", extra={"notification": note["id"]}, exc_info=True
                )
        return published

    def retry_notifications(self) -> dict[str, int]:
        """Publish what failed to publish before (the schedule, every minute). Raises if some
        still fail, so that the function's error alarm tells operators SNS is refusing."""
        pending = self.store.pending_notifications(self.clock() - NOTIFICATION_GRACE_MS, RETRY_BATCH)
        published = self._publish(pending)
        outcome = {"pending": len(pending), "published": published}
        if published < len(pending):
            raise RuntimeError(f"{len(pending) - published} alert notifications still fail to publish")
        return outcome

    # -- the offline check --------------------------------------------------------
    def check_offline(self) -> dict[str, int]:
        """Open device/offline for every device silent too long (the schedule, every 5 minutes).

        Devices that never reported are left alone: registration comes before
        installation, and their status already says never_reported."""
        now = self.clock()
        sweep = self._offline_sweep()
        backlog = sweep.backlog()  # first: when empty, every reading accepted before is in the states read next
        devices = sweep.devices()
        states = sweep.states()
        measured = offline.stored_clock(now, backlog, (s.get("t") for s in states.values()))
        if measured < now:
            lag = {"backlog_messages": backlog, "lag_seconds": (now - measured) // 1000}
            logger.info("readings wait in the queue: silence measured at the newest stored", extra=lag)
        found = offline.find_offline(((d, states.get(d["id"], {}).get("t")) for d in devices), now, measured)
        outcome = {"devices": len(devices), "silent": len(found), "opened": 0, "escalated": 0, "failed": 0}
        worse_now = []
        for device, event in found:
            state = states[device["id"]]
            if "offline" in engine.open_rules(state.get("rules")):
                if event.severity != SEVERITIES[0]:
                    worse_now.append((device, event))
                continue
            steps = self._guarded(device, outcome, functools.partial(self._open_offline, device, event, state))
            outcome["opened"] += sum(s.action == "opened" for s in steps)
        if worse_now:  # silent for more than a day: the open alert escalates (once, not every 5 minutes)
            active = self.store.active_many((d["id"], "offline") for d, _ in worse_now)
            for device, event in worse_now:
                alert = active.get((device["id"], "offline"))
                if alert and event.severity is not None and alerts.worse(event.severity, alert["severity"]):
                    steps = self._guarded(device, outcome, functools.partial(self._apply, device, [event]))
                    outcome["escalated"] += sum(s.action == "escalated" for s in steps)
        if outcome["failed"]:
            raise RuntimeError(f"offline check failed for {outcome['failed']} devices: {outcome}")
        return outcome

    def _offline_sweep(self) -> OfflineSweep:
        if self.sweep is None:
            raise RuntimeError("the offline check needs a device sweep: AlertService(store, publisher, sweep)")
        return self.sweep

    @staticmethod
    def _guarded(
        device: Mapping[str, Any], outcome: dict[str, int], work: Callable[[], builtins.list[alerts.Transition]]
    ) -> builtins.list[alerts.Transition]:
        """One device's trouble must not keep the others from being checked."""
        try:
            return work()
        except Exception:
            logger.exception("offline check failed for a device", extra={"device_id": device["id"]})
            outcome["failed"] += 1
            return []

    def _open_offline(
        self, device: Mapping[str, Any], event: Event, state: dict[str, Any]
    ) -> builtins.list[alerts.Transition]:
        steps = self._apply(device, [event])
        self._mark_offline(device, state)
        return steps

    def _mark_offline(self, device: Mapping[str, Any], state: dict[str, Any]) -> None:
        """Note the open offline alert in the device's rule state, so that its next reading
        resolves it; if the device reported while the alert was being opened, resolve it now."""
        sweep = self._offline_sweep()
        silent_since = state["t"]
        for _ in range(MAX_ATTEMPTS):
            if sweep.save_rules(device["id"], offline.mark_open(state.get("rules")), state["version"]):
                return
            current = sweep.state(device["id"])
            if current is None:
                raise RuntimeError(f"the latest state of {device['id']} is gone")
            state = current
            if "offline" in engine.open_rules(state.get("rules")):
                return  # another run marked it
            if state["t"] > silent_since:
                # That reading was evaluated without the mark, so it may not have resolved the alert.
                self._apply(device, [clear("offline", state["t"], 1)])
                return
        raise RuntimeError(f"could not mark {device['id']} offline after {MAX_ATTEMPTS} attempts")


def _counted_by(alert: Mapping[str, Any], event: Event) -> bool:
    """The stored, resolved `alert` already accounts for `event`: it was opened by this batch's
    events before (same deterministic id), and every event of that batch from its opening to its
    end was a repeat of it or what resolved it."""
    if event.rule != alert["rule"] or event.t < alert["issued_ms"]:
        return False
    end = alert["last_seen_ms"]
    if alert.get("resolvedBy") == alerts.BY_AUTO and alert.get("resolvedAt"):
        end = max(end, timeutil.parse_instant(alert["resolvedAt"]))
    return event.t <= end


# -- the listing's query ----------------------------------------------------------
STATUS_VALUES = (*alerts.STATUSES, ACTIVE_FILTER)


def parse_query(params: Mapping[str, str], now_ms: int) -> dict[str, Any]:
    """GET /v1/alerts parameters -> AlertStore.list arguments; a bad one is a 400 naming it."""
    filters: dict[str, list[str]] = {}
    status = params.get("status")
    if status:
        one_of("status", status, STATUS_VALUES)
        filters["status"] = sorted(alerts.ACTIVE) if status == ACTIVE_FILTER else [status]
    for name, allowed in (
        ("domain", [d.value for d in Domain]),
        ("town", [t.value for t in Town]),
        ("severity", list(SEVERITIES)),
    ):
        value = params.get(name)
        if value:
            one_of(name, value, allowed)
            filters[name] = [value]
    start, end = paging.parse_range(params, 0, now_ms + 86_400_000)
    cursor = paging.decode_cursor(params.get("cursor"), {"k": str, "id": str})
    return {
        "device": params.get("device") or None,
        "filters": filters,
        "start_ms": start,
        "end_ms": end,
        "limit": paging.parse_limit(params.get("limit")),
        "cursor": cursor,
    }
