"""The alert record and its lifecycle: open, repeat, escalate, acknowledge, resolve, auto-resolve."""

import json

import pytest

from citybrain.alerts import lifecycle as alerts
from citybrain.alerts.rules import engine
from citybrain.alerts.rules.catalogue import Event
from citybrain.core.errors import Conflict, Forbidden, ValidationFailed
from citybrain.departments.models import Principal

T0 = 1_768_348_800_000  # 2026-01-14T08:00:00+08:00
STEP = 600_000
DEVICE = {
    "id": "gc-air-01",
    "type": "air_quality",
    "domain": "environment",
    "town": "桂城街道",
    "owner": "environment",
    "location": {"lat": 23.03, "lon": 113.14},
}
OWNER = Principal("environment", "department")
ADMIN = Principal("data-bureau", "admin")
OTHER = Principal("transport", "department")


def fire(t, severity="high", value=210, rule="aqi"):
    return Event("fire", rule, t, severity, value, {"airQualityIndex": value}, f"AQI {value}")


def clear(t, rule="aqi"):
    return Event("clear", rule, t, data={"normalReadings": 3})


def opened():
    return alerts.open_alert(DEVICE, fire(T0)).alert


def test_an_opened_alert_is_fiware_shaped_and_holds_its_device_rule_slot():
    step = alerts.open_alert(DEVICE, fire(T0))
    a = step.alert
    assert step.action == "opened" and step.notify is True
    assert {k: a[k] for k in ("type", "category", "subCategory", "severity", "dateIssued", "alertSource")} == {
        "type": "Alert",
        "category": "environment",
        "subCategory": "airPollution",
        "severity": "high",
        "dateIssued": "2026-01-14T08:00:00+08:00",
        "alertSource": "gc-air-01",
    }
    assert a["status"] == "open" and a["rule"] == "aqi" and a["device_id"] == "gc-air-01"
    assert (a["domain"], a["town"], a["owner"]) == ("environment", "桂城街道", "environment")
    assert a["open_key"] == alerts.open_key("gc-air-01", "aqi") == "gc-air-01#aqi"
    assert a["data"] == {"airQualityIndex": 210} and a["description"] == "AQI 210"
    assert (a["occurrences"], a["peakValue"], a["lastSeen"], a["last_seen_ms"]) == (1, 210, a["dateIssued"], T0)
    assert a["location"] == {"type": "Point", "coordinates": [113.14, 23.03]}
    assert a["history"] == [{"action": "opened", "at": a["dateIssued"], "by": "rules", "severity": "high"}]
    assert "resolvedBy" not in a
    json.dumps(a, ensure_ascii=False)


def test_the_id_is_deterministic_and_sorts_by_time():
    assert alerts.open_alert(DEVICE, fire(T0)).alert["id"] == opened()["id"] == f"al-{T0}-aqi-gc-air-01"
    assert alerts.alert_id("d", "aqi", T0) < alerts.alert_id("d", "aqi", T0 + 1)


def test_a_repeat_updates_last_seen_occurrences_and_peak_without_notifying():
    step = alerts.repeat(opened(), fire(T0 + STEP, value=240))
    a = step.alert
    assert step.action == "repeated" and step.notify is False
    assert (a["occurrences"], a["peakValue"], a["last_seen_ms"]) == (2, 240, T0 + STEP)
    assert a["lastSeen"] == a["peakAt"] == "2026-01-14T08:10:00+08:00"
    lower = alerts.repeat(a, fire(T0 + 2 * STEP, value=205)).alert
    assert lower["peakValue"] == 240 and lower["peakAt"] == a["peakAt"] and lower["data"] == {"airQualityIndex": 205}
    assert len(lower["history"]) == 1


def test_a_worse_repeat_escalates_and_notifies_a_milder_one_does_not_lower_it():
    step = alerts.repeat(opened(), fire(T0 + STEP, "critical", 320))
    assert step.action == "escalated" and step.notify is True and step.alert["severity"] == "critical"
    assert step.alert["history"][-1] == {
        "action": "escalated",
        "at": "2026-01-14T08:10:00+08:00",
        "by": "rules",
        "severity": "critical",
        "from": "high",
    }
    milder = alerts.repeat(step.alert, fire(T0 + 2 * STEP, "high", 220))
    assert milder.action == "repeated" and milder.alert["severity"] == "critical"


def test_a_repeat_already_counted_is_ignored():
    a = alerts.repeat(opened(), fire(T0 + STEP)).alert
    assert alerts.repeat(a, fire(T0 + STEP)) is None
    assert alerts.repeat(a, fire(T0, "critical")) is None


def test_the_input_record_is_never_changed():
    a = opened()
    before = json.dumps(a)
    alerts.repeat(a, fire(T0 + STEP, "critical", 400))
    alerts.acknowledge(a, OWNER, T0 + STEP, "on it")
    alerts.resolve(a, OWNER, T0 + STEP)
    assert json.dumps(a) == before


def test_acknowledge_records_who_when_and_note():
    step = alerts.acknowledge(opened(), OWNER, T0 + STEP, "  dispatched inspectors  ")
    a = step.alert
    assert step.action == "acknowledged" and step.notify is False
    assert a["status"] == "acknowledged" and a["acknowledgedBy"] == "environment"
    assert a["history"][-1] == {
        "action": "acknowledged",
        "at": "2026-01-14T08:10:00+08:00",
        "by": "environment",
        "note": "dispatched inspectors",
    }
    assert a["open_key"] == "gc-air-01#aqi"  # still the active alert of its device and rule


@pytest.mark.parametrize("who", [OWNER, ADMIN])
def test_resolve_from_open_or_acknowledged_frees_the_slot_and_notifies(who):
    for start in (opened(), alerts.acknowledge(opened(), OWNER, T0 + 1).alert):
        step = alerts.resolve(start, who, T0 + STEP, "source shut down")
        a = step.alert
        assert step.action == "resolved" and step.notify is True
        assert a["status"] == "resolved" and a["resolvedBy"] == who.department_id
        assert a["resolvedAt"] == "2026-01-14T08:10:00+08:00" and "open_key" not in a
        assert a["history"][-1] == {
            "action": "resolved",
            "at": a["resolvedAt"],
            "by": who.department_id,
            "note": "source shut down",
        }


def test_only_open_alerts_can_be_acknowledged_and_only_active_ones_resolved():
    acked = alerts.acknowledge(opened(), OWNER, T0 + 1).alert
    resolved = alerts.resolve(opened(), OWNER, T0 + 1).alert
    with pytest.raises(Conflict, match="acknowledged; only an open alert"):
        alerts.acknowledge(acked, OWNER, T0 + 2)
    with pytest.raises(Conflict, match="resolved; only an open alert"):
        alerts.acknowledge(resolved, OWNER, T0 + 2)
    with pytest.raises(Conflict, match="already resolved") as raised:
        alerts.resolve(resolved, ADMIN, T0 + 2)
    assert raised.value.status == 409 and raised.value.errors[0]["field"] == "status"


def test_another_department_may_not_act_even_on_a_resolved_alert():
    with pytest.raises(Forbidden) as raised:
        alerts.acknowledge(opened(), OTHER, T0 + 1)
    assert raised.value.status == 403
    with pytest.raises(Forbidden):
        alerts.resolve(alerts.resolve(opened(), OWNER, T0 + 1).alert, OTHER, T0 + 2)
    alerts.check_may_act(ADMIN, opened())
    alerts.check_may_act(OWNER, opened())


def test_notes_are_checked():
    with pytest.raises(ValidationFailed) as raised:
        alerts.acknowledge(opened(), OWNER, T0 + 1, "x" * 1001)
    assert raised.value.errors == [{"field": "note", "message": "at most 1000 characters"}]
    with pytest.raises(ValidationFailed):
        alerts.resolve(opened(), OWNER, T0 + 1, 42)
    assert "note" not in alerts.resolve(opened(), OWNER, T0 + 1, "   ").alert["history"][-1]


def test_auto_resolve_records_auto_and_never_undoes_a_later_firing_or_a_human():
    a = alerts.repeat(opened(), fire(T0 + STEP)).alert
    step = alerts.auto_resolve(a, clear(T0 + 4 * STEP))
    assert step.action == "resolved" and step.notify is True
    assert step.alert["resolvedBy"] == "auto" and step.alert["status"] == "resolved"
    assert step.alert["history"][-1] == {
        "action": "resolved",
        "at": "2026-01-14T08:40:00+08:00",
        "by": "auto",
        "note": "3 consecutive normal readings",
    }
    assert alerts.auto_resolve(a, clear(T0 + STEP)) is None  # it fired at that reading
    assert alerts.auto_resolve(step.alert, clear(T0 + 5 * STEP)) is None  # already resolved
    by_hand = alerts.resolve(a, OWNER, T0 + 2 * STEP).alert
    assert alerts.auto_resolve(by_hand, clear(T0 + 5 * STEP)) is None


def test_apply_events_folds_a_batch_into_one_record_per_alert():
    events = [
        fire(T0),
        fire(T0 + STEP, "critical", 320),
        fire(T0 + 2 * STEP),
        clear(T0 + 5 * STEP),
        fire(T0 + 6 * STEP),
    ]
    steps = alerts.apply_events(None, DEVICE, events)
    assert [(s.action, s.notify) for s in steps] == [
        ("opened", True),
        ("escalated", True),
        ("repeated", False),
        ("resolved", True),
        ("opened", True),
    ]
    first, second = alerts.final_records(steps)
    assert first["status"] == "resolved" and first["occurrences"] == 3 and first["severity"] == "critical"
    assert first["peakValue"] == 320 and first["resolvedBy"] == "auto"
    assert second["status"] == "open" and second["id"] == f"al-{T0 + 6 * STEP}-aqi-gc-air-01"


def test_apply_events_continues_the_stored_alert_and_ignores_clears_without_one():
    stored = alerts.acknowledge(opened(), OWNER, T0 + 1).alert
    [step] = alerts.apply_events(stored, DEVICE, [fire(T0 + STEP)])
    assert step.action == "repeated" and step.alert["status"] == "acknowledged" and step.alert["id"] == stored["id"]
    assert alerts.apply_events(None, DEVICE, [clear(T0)]) == []
    resolved = alerts.resolve(stored, OWNER, T0 + 2).alert
    [reopened] = alerts.apply_events(resolved, DEVICE, [fire(T0 + STEP)])
    assert reopened.action == "opened" and reopened.alert["id"] != stored["id"]
    with pytest.raises(ValueError, match="unknown event kind"):
        alerts.apply_events(None, DEVICE, [Event("noise", "aqi", T0)])


def test_notifications_carry_the_filter_attributes():
    note = alerts.notification(alerts.open_alert(DEVICE, fire(T0)))
    assert note["attributes"] == {
        "domain": "environment",
        "town": "桂城街道",
        "severity": "high",
        "category": "environment",
    }
    assert note["subject"] == "[high] environment/airPollution opened: gc-air-01" and note["subject"].isascii()
    assert note["message"]["event"] == "opened" and note["message"]["town"] == "桂城街道"
    with pytest.raises(ValueError, match="does not notify"):
        alerts.notification(alerts.acknowledge(opened(), OWNER, T0 + 1))


def test_a_pollution_episode_opens_escalates_and_auto_resolves_after_three_normal_readings():
    values = [20, 160, 200, 270, 140, 30, 25, 22, 21]  # pm25 µg/m³ -> AQI 29, 210, 250, 320, 186, 43, 36, 32, 30
    readings = [(T0 + i * STEP, {"pm25": float(v)}) for i, v in enumerate(values)]
    state, alert, actions, previous = None, None, [], None
    for reading in readings:  # one reading per batch, as a live feed delivers them
        result = engine.evaluate(DEVICE, state, [reading], previous=previous)
        for step in alerts.apply_events(alert, DEVICE, result.events):
            actions.append((step.action, step.alert["severity"], step.alert["status"], reading[0]))
            alert = step.alert if alerts.is_active(step.alert) else None
        state, previous = result.state, reading
    assert actions == [
        ("opened", "high", "open", T0 + STEP),
        ("repeated", "high", "open", T0 + 2 * STEP),
        ("escalated", "critical", "open", T0 + 3 * STEP),
        ("resolved", "critical", "resolved", T0 + 6 * STEP),
    ]  # the third normal reading
    assert state == {} and alert is None
