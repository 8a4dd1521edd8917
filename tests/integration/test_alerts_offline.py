"""The scheduled offline check on moto: silent devices get one device/offline alert, marked in
their rule state so that their next reading resolves it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from citybrain.sensing.readings import Reading
from tests.integration.alert_helpers import MINUTE, T0, Clock, received, service, stored_items, subscribe
from tests.integration.helpers import department, device

HOUR = 60 * MINUTE
EVENTS = Path(__file__).resolve().parents[2] / "events"


def reading(device_id: str, t: int, pm25: float = 20.0) -> Reading:
    return Reading(
        device_id=device_id, t=t, values={"pm25": pm25}, type="air_quality", domain="environment", town="桂城街道"
    )


def district(api):
    key = department(api, "environment", "区生态环境局")
    silent = device(api, key, "gc-air-silent")
    fresh = device(api, key, "gc-air-fresh")
    device(api, key, "gc-air-new")  # registered, never reported: not yet installed, left alone
    return {"gc-air-silent": silent, "gc-air-fresh": fresh}


def store(devices, readings, alerts=None):
    from tests.integration.helpers import reading_writer

    writer = reading_writer(alerts.apply if alerts else None)
    return writer.store_readings(readings, devices)


def rule_state(device_id: str) -> dict:
    from citybrain.sensing.sweep_store import DeviceSweep

    return (DeviceSweep().state(device_id) or {}).get("rules") or {}


def test_a_silent_device_gets_one_offline_alert_and_a_fresh_one_none(api):
    devices = district(api)
    store(devices, [reading("gc-air-silent", T0), reading("gc-air-fresh", T0 + 35 * MINUTE)])
    inbox = subscribe({"category": ["device"]})
    clock = Clock(T0 + 40 * MINUTE)  # 40 min of silence > 3 x 10 min
    alerts = service(clock)
    assert alerts.check_offline() == {"devices": 3, "silent": 1, "opened": 1, "escalated": 0, "failed": 0}
    (alert,) = stored_items("al-")
    assert alert["alertSource"] == "gc-air-silent" and alert["subCategory"] == "offline"
    assert alert["severity"] == "medium" and alert["owner"] == "environment"
    assert alert["data"]["silentMinutes"] == 40 and alert["data"]["lastObserved"] == "2026-11-27T08:00:00+08:00"
    assert rule_state("gc-air-silent") == {"open": {"offline": 0}}
    assert rule_state("gc-air-fresh") == {}
    (note,) = received(inbox)
    assert note["Message"]["event"] == "opened" and note["MessageAttributes"]["category"]["Value"] == "device"

    clock.now += 5 * MINUTE  # the next run: still silent, already alerted
    assert alerts.check_offline()["opened"] == 0
    (again,) = stored_items("al-")
    assert again["occurrences"] == 1 and again["version"] == 1
    assert received(inbox) == []


def test_the_next_reading_resolves_the_offline_alert(api):
    devices = district(api)
    store(devices, [reading("gc-air-silent", T0)])
    clock = Clock(T0 + 40 * MINUTE)
    alerts = service(clock)
    alerts.check_offline()
    store(devices, [reading("gc-air-silent", T0 + 41 * MINUTE)], alerts)
    (alert,) = stored_items("al-")
    assert alert["status"] == "resolved" and alert["resolvedBy"] == "auto"
    assert alert["history"][-1]["note"] == "reporting again"
    assert stored_items("open#") == [] and rule_state("gc-air-silent") == {}


def test_a_late_delivered_reading_observed_before_the_check_still_resolves_it(api):
    """A gateway back online flushes its buffer: the first reading was observed after the
    last one the check knew, but before the check ran."""
    devices = district(api)
    store(devices, [reading("gc-air-silent", T0)])
    alerts = service(Clock(T0 + 40 * MINUTE))
    alerts.check_offline()
    store(devices, [reading("gc-air-silent", T0 + 10 * MINUTE), reading("gc-air-silent", T0 + 42 * MINUTE)], alerts)
    (alert,) = stored_items("al-")
    assert alert["status"] == "resolved" and alert["resolvedAt"] == "2026-11-27T08:10:00+08:00"


def test_a_device_that_reports_while_its_alert_opens_is_resolved_by_the_check(api):
    """The check read the state, then a reading was stored (its rules could not see the alert
    yet), then the check opened the alert: marking the state fails, and the check resolves it."""
    from citybrain.sensing.sweep_store import DeviceSweep

    devices = district(api)
    store(devices, [reading("gc-air-silent", T0)])
    alerts = service(Clock(T0 + 40 * MINUTE))
    scan_states = DeviceSweep.states

    def states_then_a_reading_arrives(self):
        found = scan_states(self)
        store(devices, [reading("gc-air-silent", T0 + 39 * MINUTE)], alerts)
        return found

    alerts.sweep.states = states_then_a_reading_arrives.__get__(alerts.sweep)
    alerts.check_offline()
    (alert,) = stored_items("al-")
    assert alert["status"] == "resolved" and alert["resolvedAt"] == "2026-11-27T08:39:00+08:00"
    assert stored_items("open#") == [] and rule_state("gc-air-silent") == {}


def test_silent_for_more_than_a_day_escalates_once(api):
    devices = district(api)
    store(devices, [reading("gc-air-silent", T0), reading("gc-air-fresh", T0)])
    clock = Clock(T0 + 40 * MINUTE)
    alerts = service(clock)
    assert alerts.check_offline()["opened"] == 2
    clock.now = T0 + 25 * HOUR
    assert alerts.check_offline()["escalated"] == 2
    clock.now += 5 * MINUTE
    assert alerts.check_offline()["escalated"] == 0
    for alert in stored_items("al-"):
        assert alert["severity"] == "high" and alert["occurrences"] == 2
        assert [h["action"] for h in alert["history"]] == ["opened", "escalated"]


def test_the_scheduled_function_runs_the_check(api):
    from citybrain.core import timeutil

    devices = district(api)
    store(devices, [reading("gc-air-silent", timeutil.now_ms() - 2 * HOUR)])
    event = json.loads((EVENTS / "schedule.json").read_text())
    result = api.lambda_.invoke("check_offline_devices", event)
    assert result.payload == {"devices": 3, "silent": 1, "opened": 1, "escalated": 0, "failed": 0}
    assert api.lambda_.invoke("check_offline_devices", event).payload["opened"] == 0


def test_one_device_failing_does_not_stop_the_check_and_the_run_fails_loudly(api):
    devices = district(api)
    store(devices, [reading("gc-air-silent", T0), reading("gc-air-fresh", T0)])
    alerts = service(Clock(T0 + 40 * MINUTE))
    open_offline = alerts._open_offline

    def fails_for_one(device, event, state):
        if device["id"] == "gc-air-fresh":
            raise RuntimeError("throttled")
        return open_offline(device, event, state)

    alerts._open_offline = fails_for_one
    with pytest.raises(RuntimeError, match="failed for 1 devices"):
        alerts.check_offline()
    (alert,) = stored_items("al-")
    assert alert["alertSource"] == "gc-air-silent"
    alerts._open_offline = open_offline  # the next run picks up the one that failed
    assert alerts.check_offline()["opened"] == 1
