"""Offline: the scheduled check, and the reading that resolves it."""

from citybrain.alerts.rules import engine, offline

NOW = 1_768_348_800_000
MIN = 60_000


def device(interval=None, **extra):
    d = {"id": "d1", "type": "noise", "acoustic_zone": "2", **extra}
    if interval:
        d["reporting_interval_seconds"] = interval
    return d


def test_silent_for_exactly_three_intervals_is_still_online():
    assert offline.find_offline([(device(), NOW - 30 * MIN)], NOW) == []
    [(found, event)] = offline.find_offline([(device(), NOW - 30 * MIN - 1)], NOW)
    assert found["id"] == "d1"
    assert (event.kind, event.rule, event.t, event.severity, event.value) == ("fire", "offline", NOW, "medium", 30)
    assert event.data["windowMinutes"] == 30 and event.data["lastObserved"].endswith("+08:00")


def test_the_window_follows_the_reporting_interval():
    hourly = device(interval=3600)
    assert offline.find_offline([(hourly, NOW - 179 * MIN)], NOW) == []
    assert len(offline.find_offline([(hourly, NOW - 181 * MIN)], NOW)) == 1


def test_silent_for_more_than_a_day_is_high():
    [(_, event)] = offline.find_offline([(device(), NOW - 25 * 60 * MIN)], NOW)
    assert event.severity == "high"


def test_never_reported_devices_count_from_registration_only_when_asked():
    assert offline.find_offline([(device(), None)], NOW) == []
    [(_, event)] = offline.find_offline([(device(created_ms=NOW - 40 * MIN), None)], NOW)
    assert "never reported" in event.description and "lastObserved" not in event.data


def test_the_next_reading_clears_an_offline_alert_the_check_marked():
    state = offline.mark_open({"open": {"noise": 0}})
    assert state == {"open": {"noise": 0, "offline": 0}}
    result = engine.evaluate(
        device(),
        state,
        [(NOW + MIN, {"LAeq": 40.0}), (NOW + 2 * MIN, {"LAeq": 40.0})],
        previous=(NOW - 5 * MIN, {"LAeq": 41.0}),
    )
    assert [(e.kind, e.rule, e.t) for e in result.events] == [("clear", "offline", NOW + MIN)]
    assert result.state == {"open": {"noise": 2}}  # the noise alert counts its normal readings on


def test_a_reading_after_a_long_gap_clears_offline_even_unmarked():
    result = engine.evaluate(device(), None, [(NOW, {"LAeq": 40.0})], previous=(NOW - 31 * MIN, {"LAeq": 40.0}))
    assert [(e.kind, e.rule) for e in result.events] == [("clear", "offline")]
    assert not result.changed


def test_a_regular_reading_clears_nothing():
    result = engine.evaluate(device(), None, [(NOW, {"LAeq": 40.0})], previous=(NOW - 10 * MIN, {"LAeq": 40.0}))
    assert result.events == []


def test_silence_is_measured_now_unless_readings_wait_then_at_the_newest_stored():
    assert offline.stored_clock(NOW, 0, [NOW - 50 * MIN]) == NOW  # nothing waits: now
    assert offline.stored_clock(NOW, 1, [NOW - 50 * MIN, NOW - 45 * MIN, None]) == NOW - 45 * MIN
    assert offline.stored_clock(NOW, 1, [NOW + 2 * MIN]) == NOW  # a clock ahead never measures past now
    assert offline.stored_clock(NOW, 3, []) == NOW and offline.stored_clock(NOW, 3, [None]) == NOW


def test_a_device_silent_at_the_stored_clock_alerts_issued_now():
    measured = NOW - 45 * MIN  # the newest stored reading, with a backlog
    assert offline.find_offline([(device(), NOW - 75 * MIN)], NOW, measured) == []  # exactly 30 min before it
    [(_, event)] = offline.find_offline([(device(), NOW - 75 * MIN - 1)], NOW, measured)
    assert event.t == NOW and event.value == 30
