"""Congestion: slow or occupied for N readings in a row, with the run kept between batches."""

import json

import pytest

from citybrain.alerts.rules import engine, traffic
from citybrain.alerts.rules.catalogue import NORMAL, PENDING
from citybrain.alerts.rules.settings import DEFAULTS

T0 = 1_768_348_800_000
STEP = 600_000
DEVICE = {"id": "t1", "type": "traffic_flow", "reporting_interval_seconds": 600}


def readings(*values, start=T0):
    return [(start + i * STEP, v) for i, v in enumerate(values)]


SLOW, FREE = {"averageVehicleSpeed": 15.0, "intensity": 900}, {"averageVehicleSpeed": 45.0, "intensity": 900}


@pytest.mark.parametrize(
    "values, expected",
    [
        ({"averageVehicleSpeed": 19.9}, True),
        ({"averageVehicleSpeed": 20.0}, False),
        ({"occupancy": 0.8}, True),
        ({"occupancy": 0.79}, False),
        ({"averageVehicleSpeed": 60.0, "occupancy": 0.85}, True),
        ({"averageVehicleSpeed": 0.0, "intensity": 0}, None),  # nobody drove past
        ({"averageVehicleSpeed": 0.0, "intensity": 0, "occupancy": 0.0}, False),
        ({"averageVehicleSpeed": 0.0, "intensity": 12}, True),  # standing traffic
        ({"intensity": 1500}, None),
        ({"congested": True}, None),
    ],
)
def test_what_a_congested_reading_is(values, expected):
    assert traffic.congested(DEFAULTS, values) is expected


def test_three_slow_readings_in_a_row_fire_medium():
    result = engine.evaluate(DEVICE, None, readings(FREE, SLOW, SLOW, SLOW, SLOW))
    assert [(e.kind, e.t, e.severity, e.value) for e in result.events] == [
        ("fire", T0 + 3 * STEP, "medium", 3),
        ("fire", T0 + 4 * STEP, "medium", 4),
    ]
    assert result.events[0].rule == "traffic" and result.events[0].data["averageVehicleSpeed"] == 15.0
    assert result.state == {"open": {"traffic": 0}, "traffic": {"run": 4, "t": T0 + 4 * STEP}}


def test_two_slow_readings_fire_nothing_but_are_remembered_for_the_next_batch():
    first = engine.evaluate(DEVICE, None, readings(SLOW, SLOW))
    assert first.events == [] and first.changed
    assert first.state == {"traffic": {"run": 2, "t": T0 + STEP}}
    json.dumps(first.state)  # it is stored as it is
    second = engine.evaluate(DEVICE, first.state, readings(SLOW, start=T0 + 2 * STEP), previous=(T0 + STEP, SLOW))
    assert [e.kind for e in second.events] == ["fire"] and second.events[0].value == 3


def test_a_free_reading_breaks_the_run():
    result = engine.evaluate(DEVICE, None, readings(SLOW, SLOW, FREE, SLOW, SLOW))
    assert result.events == [] and result.state == {"traffic": {"run": 2, "t": T0 + 4 * STEP}}


def test_a_silence_longer_than_the_offline_window_breaks_the_run():
    state = {"traffic": {"run": 2, "t": T0}}
    late = T0 + 3 * STEP + 1  # more than 3 reporting intervals later
    result = engine.evaluate(DEVICE, state, [(late, SLOW)], previous=(T0, SLOW))
    assert [e.kind for e in result.events] == ["clear"]  # only the offline clear of the gap
    assert result.state["traffic"] == {"run": 1, "t": late}


def test_occupancy_alone_fires():
    result = engine.evaluate(DEVICE, None, readings(*[{"occupancy": 0.9}] * 3))
    assert [e.severity for e in result.events] == ["medium"]
    assert result.events[0].data["occupancy"] == 0.9


def test_stop_and_go_under_half_the_threshold_is_high():
    crawl = {"averageVehicleSpeed": 8.0, "intensity": 300}
    result = engine.evaluate(DEVICE, None, readings(SLOW, SLOW, crawl))
    assert result.events[0].severity == "high"


def test_device_settings_change_threshold_and_count():
    device = {**DEVICE, "rules": {"speed_threshold_kmh": 30, "consecutive": 1}}
    result = engine.evaluate(device, None, readings({"averageVehicleSpeed": 25.0}))
    assert [e.kind for e in result.events] == ["fire"] and result.events[0].data["speedThreshold"] == 30


def test_a_building_jam_breaks_the_run_of_normal_readings_of_an_open_alert():
    state = {"open": {"traffic": 2}}
    result = engine.evaluate(DEVICE, state, readings(SLOW, FREE, FREE))
    assert result.events == []
    assert result.state == {"open": {"traffic": 2}}  # reset to 0 by the slow reading, then two normal


def test_check_reports_pending_then_finding():
    memo = None
    seen = []
    for i in range(3):
        result, memo = traffic.check(DEFAULTS, T0 + i * STEP, SLOW, memo, 3 * STEP)
        seen.append(result if isinstance(result, str) else result.severity)
    assert seen == [PENDING, PENDING, "medium"]
    result, memo = traffic.check(DEFAULTS, T0 + 3 * STEP, FREE, memo, 3 * STEP)
    assert result is NORMAL and memo is None
