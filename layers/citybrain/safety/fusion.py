"""The incidents service: fusing alerts as they open or escalate (the rules are in
citybrain.safety.incidents), publishing new incidents and grade changes to the safety topic,
and the incidents' reading and closing by people.

An alert reaches fusion through the alerts topic (a subscription of the incidents queue),
so fusion adds no request to storing readings, and a notification delivered twice folds
in once. Publishing is at least once: an incident remembers the grade it last announced
(`notified_grade`, and `notified_closed` once its closing is announced); an incident whose
grade is newer than that is announced on the next pass, so a publish that failed after the
commit is retried with the message. What people change (a reported incident, a closing) is
not retried by a message: `announce_pending`, on a schedule, announces what is still due.
"""

from __future__ import annotations

import builtins
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from citybrain.core import paging, timeutil
from citybrain.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from citybrain.core.validation import check_query, one_of
from citybrain.core.vocabulary import Town
from citybrain.departments.models import Principal
from citybrain.exchange.audit import AuditTrail, ChangeRefused
from citybrain.safety.incident_store import IncidentConflict
from citybrain.safety.incidents import (
    DEFAULT_GRADING,
    FUSED_DOMAINS,
    GRADES,
    NOT_FUSED,
    AlertFact,
    GradingTable,
    IncidentIn,
    alert_fact,
    join,
    new_incident,
    reported_incident,
    shown,
    within_window,
)

ATTEMPTS = 8
CLOSINGS_RECHECKED_MS = 86_400_000  # closings announced again within a day of the closing
log = logging.getLogger(__name__)
LIST_CURSOR = {"k": str, "id": str}


class IncidentStorage(Protocol):
    def items(self, keys: list[str]) -> dict[str, dict[str, Any]]: ...
    def get(self, incident_id: str) -> dict[str, Any] | None: ...
    def commit(self, writes: list[tuple[str, dict[str, Any], int | None]]) -> None: ...  # IncidentConflict
    def puts(self, writes: list[tuple[str, dict[str, Any], int | None]]) -> builtins.list[dict[str, Any]]: ...
    def list(
        self, filters: dict[str, str], limit: int, cursor: dict[str, str] | None
    ) -> tuple[builtins.list[dict[str, Any]], dict[str, str] | None]: ...


class BoundRiskPoints(Protocol):
    def bound_to(self, device_id: str) -> builtins.list[dict[str, Any]]: ...


class DeviceLookup(Protocol):
    def get_many(self, device_ids: builtins.list[str]) -> dict[str, dict[str, Any]]: ...


class SafetyPublisher(Protocol):
    def publish(self, incident: Mapping[str, Any], event: str) -> None: ...


class Incidents:
    def __init__(
        self,
        store: IncidentStorage,
        risk_points: BoundRiskPoints,
        publisher: SafetyPublisher,
        devices: DeviceLookup,
        audit: AuditTrail,
        window_minutes: int = 60,
        command_centre: frozenset[str] = frozenset({"safety"}),
        clock: Callable[[], int] = timeutil.now_ms,
        grading: GradingTable = DEFAULT_GRADING,
    ) -> None:
        self.store = store
        self.grading = grading
        self.risk_points = risk_points
        self.publisher = publisher
        self.devices = devices
        self.audit = audit
        self.window_ms = window_minutes * 60_000
        self.command_centre = command_centre
        self.clock = clock

    # -- fusion ----------------------------------------------------------------------
    def fuse_notification(self, body: str) -> dict[str, Any]:
        """An alert notification as the alerts topic delivers it to the incidents queue (the
        SNS envelope, its `Message` the alert's JSON: citybrain.alerts.lifecycle.notification)."""
        envelope = json.loads(body)
        message = json.loads(envelope["Message"]) if "Message" in envelope else envelope
        device = self.devices.get_many([message["alertSource"]]).get(message["alertSource"], {})
        return self.fuse(alert_fact(message, device))

    def fuse(self, alert: AlertFact) -> dict[str, Any]:
        """Fold one opened or escalated alert in; {incident, created} or {waiting} / {skipped}."""
        if alert.rule in NOT_FUSED or alert.event not in ("opened", "escalated"):
            return {"skipped": alert.event if alert.rule not in NOT_FUSED else alert.rule}
        for _ in range(ATTEMPTS):
            try:
                outcome = self._fuse_once(alert)
            except IncidentConflict:
                continue
            incident = outcome.get("incident")
            if incident is not None and incident.get("notified_grade") != incident["grade"]:
                self._announce(incident, "opened" if outcome.get("created") else "graded")
            return {k: (v["id"] if k == "incident" else v) for k, v in outcome.items()}
        raise IncidentConflict(f"alert {alert.id}: still contended after {ATTEMPTS} attempts")

    def _fuse_once(self, alert: AlertFact) -> dict[str, Any]:
        now = self.clock()
        points = self.risk_points.bound_to(alert.device_id)
        point_keys = [f"rp#{p['id']}" for p in points]
        town_key = f"town#{alert.town}"
        slots = self.store.items([*point_keys, town_key])
        town_slot = slots.get(town_key)
        candidates = [slots[k]["incident_id"] for k in point_keys if k in slots and slots[k].get("incident_id")]
        if town_slot and town_slot.get("incident_id"):
            candidates.append(town_slot["incident_id"])
        open_incidents = {i: inc for i, inc in self.store.items(candidates).items() if inc["status"] == "open"}

        # 1. a risk point of the device has an open incident; 2. the town's is within its window
        target = next(
            (
                open_incidents[slots[k]["incident_id"]]
                for k in point_keys
                if slots.get(k, {}).get("incident_id") in open_incidents
            ),
            None,
        )
        if target is None and town_slot and town_slot.get("incident_id") in open_incidents:
            town_incident = open_incidents[town_slot["incident_id"]]
            if within_window(town_incident, alert.t):
                target = town_incident
        if target is not None:
            incident = {k: v for k, v in target.items() if k != "key"}
            changed, _ = join(incident, alert, points, now, self.grading)
            if not changed:
                return {"incident": incident, "created": False}
            writes = [(incident["id"], incident, target["version"])]
            writes += self._claims(points, slots, incident["id"])
            writes.append(self._town(town_key, town_slot, incident["id"], []))
            self._audited("fusion", "incident.alert_joined", incident, writes, alert=alert.id)
            return {"incident": incident, "created": False}

        # 3. the device is bound to a risk point: the point's own incident
        waiting = [w for w in (town_slot or {}).get("waiting", []) if alert.t - w["t"] <= self.window_ms]
        waiting = [w for w in waiting if w["id"] != alert.id]
        if points:  # with the town's waiting alerts: they are of the same place and hour
            facts = [*(AlertFact(**w) for w in sorted(waiting, key=lambda w: w["t"])), alert]
            incident = new_incident(facts, points, self.window_ms, now, self.grading)
            writes = [(incident["id"], incident, None), *self._claims(points, slots, incident["id"])]
            writes.append(self._town(town_key, town_slot, incident["id"], []))
            self._audited("fusion", "incident.opened", incident, writes, alert=alert.id)
            return {"incident": incident, "created": True}

        # 4. alerts of two or more domains within the town's window open one incident together
        waiting.append(_fact_item(alert))
        if len({w["domain"] for w in waiting}) >= FUSED_DOMAINS:
            facts = [AlertFact(**w) for w in sorted(waiting, key=lambda w: w["t"])]
            incident = new_incident(facts, [], self.window_ms, now, self.grading)
            writes = [(incident["id"], incident, None), self._town(town_key, town_slot, incident["id"], [])]
            self._audited("fusion", "incident.opened", incident, writes, alert=alert.id)
            return {"incident": incident, "created": True}
        # Fusion's own bookkeeping (an alert waiting in its town's window) changes no shared record.
        self.store.commit([self._town(town_key, town_slot, (town_slot or {}).get("incident_id"), waiting)])
        return {"waiting": len(waiting)}

    def _audited(
        self,
        actor: str,
        action: str,
        incident: Mapping[str, Any],
        writes: list[tuple[str, dict[str, Any], int | None]],
        **facts: Any,
    ) -> None:
        """The incident's change and its audit entry, in one transaction."""
        details = {"incident": incident["id"], "grade": incident["grade"], "town": incident["town"], **facts}
        try:
            self.audit.append(actor=actor, action=action, details=details, changes=self.store.puts(writes))
        except ChangeRefused:
            raise IncidentConflict(f"{action} {incident['id']}: a guard failed") from None

    def _claims(
        self, points: list[dict[str, Any]], slots: Mapping[str, dict[str, Any]], incident_id: str
    ) -> list[tuple[str, dict[str, Any], int | None]]:
        writes = []
        for point in points:
            key = f"rp#{point['id']}"
            slot = slots.get(key)
            if slot and slot.get("incident_id") == incident_id:
                continue
            writes.append((key, {"incident_id": incident_id}, slot["version"] if slot else None))
        return writes

    @staticmethod
    def _town(
        key: str, slot: Mapping[str, Any] | None, incident_id: str | None, waiting: list[dict[str, Any]]
    ) -> tuple[str, dict[str, Any], int | None]:
        return key, {"incident_id": incident_id, "waiting": waiting}, slot["version"] if slot else None

    def _announce(self, incident: dict[str, Any], event: str) -> None:
        self.publisher.publish(shown(incident), event)
        # Remember what was announced; a writer that moved the incident meanwhile announces its own.
        current = self.store.get(incident["id"])
        if current is None or current["status"] != incident["status"]:
            return
        if event == "closed":
            if current.get("notified_closed"):
                return
            remembered = {**_without_key(current), "notified_closed": True}
        elif current["grade"] == incident["grade"] and current.get("notified_grade") != incident["grade"]:
            remembered = {**_without_key(current), "notified_grade": incident["grade"]}
        else:
            return
        try:
            self.store.commit([(incident["id"], remembered, current["version"])])
        except IncidentConflict:
            pass  # the next pass over this incident announces (at least once)

    def _announce_or_defer(self, incident: dict[str, Any], event: str) -> None:
        """People's changes are stored: a topic that fails now is announced by `announce_pending`."""
        try:
            self._announce(incident, event)
        except Exception:  # noqa: BLE001 - the change stands; the announcement is owed
            log.exception("incident %s stored, its %s announcement deferred", incident["id"], event)

    def announce_pending(self) -> dict[str, int]:
        """Announce the open incidents whose grade was not announced yet, and the closings of the
        last day that were not (the schedule, every 5 minutes)."""
        now = self.clock()
        announced = failed = 0
        for status in ("open", "closed"):
            items, cursor = self.store.list({"status": status}, 200, None)
            while True:
                for item in items:
                    incident = _without_key(item)
                    if status == "open" and incident.get("notified_grade") != incident["grade"]:
                        event = "graded" if incident.get("notified_grade") else "opened"
                    elif (
                        status == "closed"
                        and not incident.get("notified_closed")
                        and now - timeutil.parse_instant(incident["closed_at"]) <= CLOSINGS_RECHECKED_MS
                    ):
                        event = "closed"
                    else:
                        continue
                    try:
                        self._announce(incident, event)
                        announced += 1
                    except Exception:  # noqa: BLE001 - the others are still announced; this one next time
                        log.exception("could not announce incident %s", incident["id"])
                        failed += 1
                if cursor is None or status == "closed":  # closings: the newest page is the last day's
                    break
                items, cursor = self.store.list({"status": status}, 200, cursor)
        if failed:
            raise RuntimeError(f"{failed} incident announcements still owed ({announced} made)")
        return {"announced": announced}

    def open_incident_of(self, point_id: str) -> dict[str, Any] | None:
        slot = self.store.items([f"rp#{point_id}"]).get(f"rp#{point_id}")
        incident = self.store.get(slot["incident_id"]) if slot and slot.get("incident_id") else None
        return shown(_without_key(incident)) if incident and incident["status"] == "open" else None

    # -- people ----------------------------------------------------------------------
    def report(
        self, principal: Principal, payload: IncidentIn, source: str = "report", case_id: str | None = None
    ) -> dict[str, Any]:
        incident = reported_incident(payload, principal.department_id, self.clock(), source, case_id)
        self._audited(principal.department_id, "incident.reported", incident, [(incident["id"], incident, None)])
        incident["version"] = 1  # as stored
        self._announce_or_defer(incident, "opened")
        return shown(incident)

    def get(self, incident_id: str) -> dict[str, Any]:
        return shown(_without_key(self._stored(incident_id)))

    def _stored(self, incident_id: str) -> dict[str, Any]:
        if not incident_id.startswith("inc-") or len(incident_id) > 64:
            raise ValidationFailed("invalid incident id", [{"field": "incident_id", "message": "not an incident id"}])
        found = self.store.get(incident_id)
        if found is None:
            raise NotFound(f"no incident {incident_id}")
        return found

    def list(self, params: Mapping[str, str]) -> dict[str, Any]:
        params = check_query(dict(params))
        filters: dict[str, str] = {}
        if params.get("status"):
            filters["status"] = one_of("status", params["status"], ("open", "closed"))
        if params.get("town"):
            filters["town"] = one_of("town", params["town"], [t.value for t in Town])
        if params.get("grade"):
            filters["grade"] = one_of("grade", params["grade"], GRADES)
        limit = paging.parse_limit(params.get("limit"), default=50, maximum=200)
        cursor = paging.decode_cursor(params.get("cursor"), LIST_CURSOR)
        items, last = self.store.list(filters, limit, cursor)
        return {"items": [shown(_without_key(i)) for i in items], "next_cursor": paging.encode_cursor(last)}

    def close(self, principal: Principal, incident_id: str, note: str | None) -> dict[str, Any]:
        """People close incidents (the command centre: the data bureau or the emergency bureau)."""
        if not (principal.is_admin or principal.department_id in self.command_centre):
            raise Forbidden("only the command centre (the data bureau or the emergency bureau) closes incidents")
        current = self._stored(incident_id)
        if current["status"] != "open":
            raise Conflict("the incident is already closed", [{"field": "status", "message": "closed"}])
        now = timeutil.local_iso(self.clock())
        entry = {"at": now, "action": "closed", "by": principal.department_id, **({"note": note} if note else {})}
        incident = {
            **_without_key(current),
            "status": "closed",
            "closed_at": now,
            "closed_by": principal.department_id,
            "timeline": [*current["timeline"], entry],
        }
        try:
            self._audited(
                principal.department_id, "incident.closed", incident, [(incident_id, incident, current["version"])]
            )
        except IncidentConflict:
            raise Conflict(
                "the incident changed meanwhile; read it again", [{"field": "status", "message": "changed"}]
            ) from None
        self._announce_or_defer(incident, "closed")
        return shown(incident)


def _without_key(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k != "key"}


def _fact_item(alert: AlertFact) -> dict[str, Any]:
    return {
        "id": alert.id,
        "rule": alert.rule,
        "sub_category": alert.sub_category,
        "severity": alert.severity,
        "domain": alert.domain,
        "town": alert.town,
        "t": alert.t,
        "device_id": alert.device_id,
        "owner": alert.owner,
        "location": dict(alert.location) if alert.location else None,
        "event": alert.event,
    }
