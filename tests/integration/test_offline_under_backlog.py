"""No false offline alarms while readings wait in the queue: a device whose readings are
accepted but not yet stored is not offline; one that really stopped still alerts, and when
the queue is empty a whole network gone quiet alerts at once."""

from __future__ import annotations

from tests.integration.alert_helpers import MINUTE, T0, Clock, service, stored_items
from tests.integration.helpers import department, device, post, process_all

LIVE = ("gc-air-01", "gc-air-02", "gc-air-03")


def send(api, key, devices, minute):
    readings = [{"device_id": d, "observed_at": T0 + minute * MINUTE, "values": {"pm25": 20.0}} for d in devices]
    response = post(api, "/v1/readings", key, {"readings": readings})
    assert response.status_code == 202 and response.json_body["accepted"] == len(devices), response.body


def store_all(api):
    """The queue drained as Lambda's poller drains it: every message stored and deleted."""
    assert all(r == {"batchItemFailures": []} for r in process_all(api, delete=True))


def offline_alerts():
    return sorted(a["alertSource"] for a in stored_items("al-") if a["subCategory"] == "offline")


def test_a_backlog_past_three_reporting_intervals_raises_no_offline_alert_and_a_stopped_device_still_does(api):
    key = department(api, "environment", "区生态环境局")
    for device_id in (*LIVE, "gc-air-stopped"):
        device(api, key, device_id)  # reporting every 10 minutes: offline after 30 minutes of silence
    send(api, key, ["gc-air-stopped"], -40)
    send(api, key, LIVE, 0)
    store_all(api)  # stored: the live devices at T0, the stopped one at T0 - 40 min

    for minute in (10, 20, 30, 40, 50):  # accepted while the processing is paused: 50 minutes of backlog
        send(api, key, LIVE, minute)
    check = service(Clock(T0 + 50 * MINUTE))
    outcome = check.check_offline()
    assert outcome["silent"] == 1 and outcome["opened"] == 1 and outcome["failed"] == 0
    assert offline_alerts() == ["gc-air-stopped"]  # silent 40 min before the newest stored reading

    store_all(api)  # the backlog drains: the live devices' states move to T0 + 50 min
    assert service(Clock(T0 + 55 * MINUTE)).check_offline()["opened"] == 0
    assert offline_alerts() == ["gc-air-stopped"]

    # Nothing waits and nothing arrives: silence is measured at now again, and every device alerts.
    outcome = service(Clock(T0 + 90 * MINUTE)).check_offline()
    assert outcome["silent"] == 4 and outcome["opened"] == 3
    assert offline_alerts() == sorted([*LIVE, "gc-air-stopped"])
