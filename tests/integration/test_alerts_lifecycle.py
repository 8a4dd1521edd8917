"""Alerts stored on moto: one active alert per device and rule (also under concurrent
writers), escalation, auto-resolve, idempotent re-application, SNS notifications with
their filter attributes, and the outbox that survives a failing publish."""

from __future__ import annotations

import pytest

from tests.integration.alert_helpers import (
    AIR,
    GAUGE,
    MINUTE,
    T0,
    Clock,
    aqi,
    clear,
    events_of,
    received,
    service,
    stored_items,
    subscribe,
    water,
)


def test_a_firing_rule_opens_one_alert_holding_its_slot_and_notifies(aws_stack):
    inbox = subscribe()
    alerts = service()
    alerts.apply(AIR, [aqi(0, 210), aqi(1, 230)])
    (stored,) = stored_items("al-")
    assert stored["id"] == f"al-{T0}-aqi-gc-air-01" and stored["status"] == "open" and stored["owner"] == "environment"
    assert stored["occurrences"] == 2 and stored["peakValue"] == 230 and stored["last_seen_ms"] == T0 + MINUTE
    (slot,) = stored_items("open#")
    assert slot["pk"] == "open#gc-air-01#aqi" and slot["alert_id"] == stored["id"]
    assert slot["version"] == stored["version"] == 1
    (note,) = received(inbox)
    assert note["Message"]["event"] == "opened" and note["Message"]["notificationId"] == f"{stored['id']}#1"
    assert {k: v["Value"] for k, v in note["MessageAttributes"].items()} == {
        "domain": "environment",
        "town": "桂城街道",
        "severity": "high",
        "category": "environment",
    }
    assert note["Subject"].isascii() and "airPollution opened" in note["Subject"]
    assert stored_items("notify#") == []  # published, so the outbox is empty again


def test_a_repeat_updates_the_alert_in_place_and_a_worse_one_escalates_and_notifies(aws_stack):
    inbox = subscribe()
    alerts = service()
    alerts.apply(GAUGE, [water(0, 5.2, "high")])
    alerts.apply(GAUGE, [water(1, 5.6, "high")])
    alerts.apply(GAUGE, [water(2, 6.9, "critical"), water(3, 6.7, "critical")])
    (stored,) = stored_items("al-")
    assert stored["severity"] == "critical" and stored["occurrences"] == 4 and stored["peakValue"] == 6.9
    assert [h["action"] for h in stored["history"]] == ["opened", "escalated"]
    assert stored["category"] == "weather" and stored["subCategory"] == "floodRisk"
    assert events_of(received(inbox)) == [(stored["id"], "opened", "high"), (stored["id"], "escalated", "critical")]
    (slot,) = stored_items("open#")
    assert slot["severity"] == "critical" and slot["version"] == stored["version"] == 3


def test_auto_resolve_frees_the_slot_records_auto_and_notifies(aws_stack):
    inbox = subscribe()
    alerts = service()
    alerts.apply(AIR, [aqi(0, 210)])
    alerts.apply(AIR, [clear(4)])
    (stored,) = stored_items("al-")
    assert stored["status"] == "resolved" and stored["resolvedBy"] == "auto"
    assert stored["resolvedAt"] == "2026-11-27T08:04:00+08:00"
    assert stored_items("open#") == []
    assert [e for _, e, _ in events_of(received(inbox))] == ["opened", "resolved"]
    # The next episode is a new alert.
    alerts.apply(AIR, [aqi(10, 320, "critical")])
    assert sorted(a["status"] for a in stored_items("al-")) == ["open", "resolved"]


def test_re_applying_the_same_events_changes_nothing(aws_stack):
    inbox = subscribe()
    alerts = service()
    episode = [aqi(0, 210), aqi(1, 320, "critical"), clear(5), aqi(9, 215)]
    for _ in range(3):  # a retried transaction, a redelivered message
        alerts.apply(AIR, episode)
    first, second = sorted(stored_items("al-"), key=lambda a: a["issued_ms"])
    assert first["status"] == "resolved" and first["occurrences"] == 2 and first["version"] == 1
    assert second["status"] == "open" and second["occurrences"] == 1 and second["version"] == 1
    assert [e for _, e, _ in events_of(received(inbox))] == ["opened", "escalated", "resolved", "opened"]


def test_events_of_an_alert_resolved_by_hand_since_do_not_reopen_it(aws_stack):
    from citybrain.departments.models import Principal

    alerts = service()
    batch = [aqi(0, 210), aqi(1, 215)]
    alerts.apply(AIR, batch)
    (alert,) = stored_items("al-")
    alerts.resolve(Principal("environment", "department"), alert["id"], "sensor cleaned")
    alerts.apply(AIR, batch)  # the same message, redelivered after the hand resolution
    (again,) = stored_items("al-")
    assert again["status"] == "resolved" and again["resolvedBy"] == "environment" and again["occurrences"] == 2
    assert stored_items("open#") == []
    alerts.apply(AIR, [aqi(2, 220)])  # a new reading over the limit opens a new alert
    assert sorted(a["status"] for a in stored_items("al-")) == ["open", "resolved"]


@pytest.mark.parametrize("same_events", [False, True])
def test_two_concurrent_writers_of_one_device_and_rule_make_one_alert(aws_stack, same_events):
    """Writer A reads no active alert; writer B opens one before A writes. A's opening loses the
    slot, A reads B's alert and its events become a repeat of it: never twins."""
    inbox = subscribe()
    writer_a, writer_b = service(), service()
    events_a = [aqi(0, 210)] if same_events else [aqi(1, 250)]
    events_b = [aqi(0, 210)]
    read_slots = writer_a.store.active
    interleaved = []

    def read_then_let_b_write(device_id, rules):
        found = read_slots(device_id, rules)
        if not interleaved:
            interleaved.append(writer_b.apply(AIR, events_b))
        return found

    writer_a.store.active = read_then_let_b_write
    writer_a.apply(AIR, events_a)
    assert interleaved  # B wrote between A's read and A's write
    (stored,) = stored_items("al-")
    assert stored["id"] == f"al-{T0}-aqi-gc-air-01" and stored["status"] == "open"
    assert stored["occurrences"] == (1 if same_events else 2)
    assert stored["peakValue"] == (210 if same_events else 250)
    assert [e for _, e, _ in events_of(received(inbox))] == ["opened"]
    assert len(stored_items("open#")) == 1


def test_a_rule_and_a_manual_action_racing_on_one_alert_both_count(aws_stack):
    from citybrain.departments.models import Principal

    rules, people = service(), service()
    rules.apply(AIR, [aqi(0, 210)])
    (alert,) = stored_items("al-")
    read_slots = rules.store.active

    def read_then_acknowledge(device_id, names):
        found = read_slots(device_id, names)
        people.acknowledge(Principal("environment", "department"), alert["id"], "crew on the way")
        rules.store.active = read_slots
        return found

    rules.store.active = read_then_acknowledge
    rules.apply(AIR, [aqi(1, 330, "critical")])
    (stored,) = stored_items("al-")
    assert stored["status"] == "acknowledged" and stored["severity"] == "critical" and stored["occurrences"] == 2
    assert [h["action"] for h in stored["history"]] == ["opened", "acknowledged", "escalated"]


def test_filter_policies_deliver_to_each_department_only_what_concerns_it(aws_stack):
    environment = subscribe({"domain": ["environment"]}, "environment-alerts")
    jiujiang_critical = subscribe({"town": ["九江镇"], "severity": ["critical"]}, "jiujiang-critical")
    everything = subscribe(None, "duty-office")
    alerts = service()
    alerts.apply(AIR, [aqi(0, 210)])
    alerts.apply(GAUGE, [water(0, 5.3, "high")])
    alerts.apply(GAUGE, [water(1, 6.8, "critical")])
    assert [(m["Message"]["alertSource"], m["Message"]["event"]) for m in received(environment)] == [
        ("gc-air-01", "opened")
    ]
    (critical,) = received(jiujiang_critical)
    assert critical["Message"]["event"] == "escalated" and critical["Message"]["town"] == "九江镇"
    assert critical["MessageAttributes"]["category"]["Value"] == "weather"
    assert len(received(everything)) == 3


def test_a_failing_publish_keeps_the_alert_and_the_retry_publishes_it(aws_stack, monkeypatch):
    from citybrain.alerts.notifications import SnsPublisher

    inbox = subscribe()
    clock = Clock(T0 + MINUTE)
    alerts = service(clock)

    def refuse(self, note):
        raise RuntimeError("SNS is throttling")

    with monkeypatch.context() as patched:
        patched.setattr(SnsPublisher, "publish", refuse)
        alerts.apply(AIR, [aqi(0, 210)])  # does not raise: the alert is what matters
        (alert,) = stored_items("al-")
        assert alert["status"] == "open"
        (pending,) = stored_items("notify#")
        assert pending["alert_id"] == alert["id"] and pending["outbox"] == "pending"
        clock.now += 2 * MINUTE
        with pytest.raises(RuntimeError, match="1 alert notifications still fail"):
            alerts.retry_notifications()  # still refused: the function fails so its alarm fires
        assert len(stored_items("notify#")) == 1
    assert received(inbox) == []
    clock.now = pending["queued_ms"] + 30_000
    assert alerts.retry_notifications() == {"pending": 0, "published": 0}  # its writer may still be publishing
    clock.now = pending["queued_ms"] + 2 * MINUTE
    assert alerts.retry_notifications() == {"pending": 1, "published": 1}
    (note,) = received(inbox)
    assert note["Message"]["id"] == alert["id"] and note["Message"]["event"] == "opened"
    assert stored_items("notify#") == []
    assert alerts.retry_notifications() == {"pending": 0, "published": 0}


def test_no_events_make_no_request(aws_stack, monkeypatch):
    alerts = service()

    def no_aws(name):
        raise AssertionError(f"an AWS request to {name} with nothing to apply")

    with monkeypatch.context() as patched:
        for module in ("citybrain.alerts.store", "citybrain.core.dynamo", "citybrain.alerts.notifications"):
            patched.setattr(f"{module}.client", no_aws)
        alerts.apply(AIR, [])


def test_clears_without_an_active_alert_write_nothing(aws_stack):
    alerts = service()
    alerts.apply(AIR, [clear(3)])
    assert stored_items("") == []


def test_the_active_index_lists_exactly_the_active_alerts_as_they_stand(aws_stack):
    from citybrain.alerts.store import AlertStore
    from citybrain.departments.models import Principal

    alerts, store = service(), AlertStore()
    alerts.apply(AIR, [aqi(0, 210)])
    alerts.apply(GAUGE, [water(5, 5.2, "high")])
    alerts.apply(GAUGE, [water(6, 6.9, "critical")])  # escalated in place
    listed = store.active_alerts()
    assert [(a["device_id"], a["status"], a["severity"]) for a in listed] == [
        ("jj-water-01", "open", "critical"),  # newest first
        ("gc-air-01", "open", "high"),
    ]
    water_alert = next(a for a in stored_items("al-") if a["device_id"] == "jj-water-01")
    assert listed[0]["id"] == water_alert["id"] and listed[0]["version"] == water_alert["version"]
    assert "active_feed" not in listed[0] and "pk" not in listed[0]
    air_alert = next(a for a in listed if a["device_id"] == "gc-air-01")
    alerts.acknowledge(Principal("environment", "department"), air_alert["id"], "已到场")
    assert {a["device_id"]: a["status"] for a in store.active_alerts()} == {
        "jj-water-01": "open",
        "gc-air-01": "acknowledged",
    }
    alerts.apply(AIR, [clear(9)])
    assert [a["device_id"] for a in store.active_alerts()] == ["jj-water-01"]
    assert len(stored_items("al-")) == 2  # the history stays; only the index forgets
