"""The rule engine: pure (device, state, readings) -> (state, events, derived indicators)."""

import copy
import json

import pytest

from citybrain.alerts.rules import engine

T0 = 1_768_348_800_000  # 2026-01-14T08:00:00+08:00
STEP = 600_000
AIR = {"id": "air-1", "type": "air_quality", "domain": "environment", "town": "桂城街道", "owner": "environment"}
CLEAN, DIRTY, FOUL = {"pm25": 20.0}, {"pm25": 160.0}, {"pm25": 260.0}


def series(*values, start=T0):
    return [(start + i * STEP, v) for i, v in enumerate(values)]


def kinds(result):
    return [(e.kind, e.rule, e.severity) for e in result.events]


def test_quiet_readings_change_nothing_and_ask_for_no_alert_write():
    # The bench goal: when nothing fires and no alert is open, the caller writes nothing extra.
    for state in (None, {}):
        result = engine.evaluate(
            AIR,
            state,
            series(CLEAN, CLEAN, {"pm25": 149.0}),  # AQI 199
            previous=(T0 - STEP, CLEAN),
        )
        assert result.events == [] and result.state == {} and result.changed is False


def test_derived_indicators_follow_every_reading_in_order():
    result = engine.evaluate(AIR, None, series(CLEAN, {"temperature": 3.0}, DIRTY))
    assert [d and d["airQualityIndex"] for d in result.derived] == [29, None, 210]
    assert result.derived[2]["airQualityLevel"] == "重度污染" and result.derived[2]["primaryPollutant"] == ["pm25"]


def test_other_device_types_derive_nothing():
    water = {"id": "w", "type": "water_level", "thresholds": {"warning": 5.0, "guarantee": 6.0}}
    assert engine.evaluate(water, None, series({"waterLevel": 1.0}, {"waterLevel": 1.1})).derived == [None, None]


def test_aqi_over_200_is_high_over_300_critical():
    result = engine.evaluate(AIR, None, series({"pm25": 150.0}, DIRTY, FOUL))
    assert kinds(result) == [("fire", "aqi", "high"), ("fire", "aqi", "critical")]
    assert result.events[0].data["threshold"] == 200 and result.events[1].data["threshold"] == 300
    assert result.events[1].value == 310 and result.state == {"open": {"aqi": 0}}


def test_aqi_thresholds_are_per_device():
    strict = {**AIR, "rules": {"aqi_high": 100, "aqi_critical": 150}}
    result = engine.evaluate(strict, None, series({"pm25": 80.0}, {"pm25": 116.0}))
    assert kinds(result) == [("fire", "aqi", "high"), ("fire", "aqi", "critical")]


@pytest.mark.parametrize("hysteresis", [1, 3, 5])
def test_an_alert_clears_after_exactly_n_normal_readings_in_a_row(hysteresis):
    device = {**AIR, "rules": {"hysteresis": hysteresis}}
    result = engine.evaluate(device, None, series(DIRTY, *[CLEAN] * (hysteresis - 1)))
    assert kinds(result) == [("fire", "aqi", "high")]
    assert result.state == {"open": {"aqi": hysteresis - 1}}
    more = engine.evaluate(
        device,
        result.state,
        series(CLEAN, CLEAN, start=T0 + hysteresis * STEP),
        previous=(T0 + (hysteresis - 1) * STEP, CLEAN),
    )
    assert kinds(more) == [("clear", "aqi", None)] and more.events[0].data == {"normalReadings": hysteresis}
    assert more.events[0].t == T0 + hysteresis * STEP and more.state == {}


def test_default_hysteresis_is_three_and_a_relapse_starts_the_count_again():
    result = engine.evaluate(AIR, None, series(DIRTY, CLEAN, CLEAN, DIRTY, CLEAN, CLEAN))
    assert kinds(result) == [("fire", "aqi", "high"), ("fire", "aqi", "high")]
    assert result.state == {"open": {"aqi": 2}}
    result = engine.evaluate(AIR, result.state, series(CLEAN, start=T0 + 6 * STEP), previous=(T0 + 5 * STEP, CLEAN))
    assert kinds(result) == [("clear", "aqi", None)] and result.events[0].t == T0 + 6 * STEP


def test_readings_without_the_rules_values_do_not_count_as_normal():
    result = engine.evaluate(AIR, {"open": {"aqi": 1}}, series({"temperature": 5.0}, {"relativeHumidity": 0.5}))
    assert result.events == [] and not result.changed


def test_late_and_redelivered_readings_are_derived_but_drive_no_rule():
    first = engine.evaluate(AIR, None, series(DIRTY, FOUL))
    again = engine.evaluate(AIR, first.state, series(DIRTY, FOUL), previous=(T0 + STEP, FOUL))
    assert again.events == [] and not again.changed and again.state == first.state
    assert [d["airQualityIndex"] for d in again.derived] == [210, 310]
    late = engine.evaluate(AIR, first.state, [(T0 - STEP, FOUL)], previous=(T0 + STEP, FOUL))
    assert late.events == [] and late.derived[0]["airQualityIndex"] == 310


def test_the_state_passed_in_is_never_changed_and_the_new_one_is_json():
    state = {"open": {"aqi": 1}, "future": {"kept": True}}
    before = copy.deepcopy(state)
    result = engine.evaluate(AIR, state, series(CLEAN, DIRTY))
    assert state == before
    assert result.state == {"open": {"aqi": 0}, "future": {"kept": True}}
    assert json.loads(json.dumps(result.state)) == result.state


def test_each_device_type_runs_its_own_rule():
    noise = {"id": "n", "type": "noise", "acoustic_zone": "1"}
    water = {"id": "w", "type": "water_level", "thresholds": {"warning": 5.0, "guarantee": 6.0}}
    structure = {"id": "s", "type": "structure"}
    night = T0 + 15 * 3_600_000  # 23:00 local
    assert kinds(engine.evaluate(noise, None, [(night, {"LAeq": 50.0})])) == [("fire", "noise", "medium")]
    assert kinds(engine.evaluate(water, None, series({"waterLevel": 6.5}))) == [("fire", "water", "critical")]
    assert kinds(engine.evaluate(structure, None, series({"tilt": 1.2}))) == [("fire", "structure", "high")]
    # A value another type would alert on does nothing here.
    assert engine.evaluate(noise, None, series({"waterLevel": 99.0})).events == []


def test_events_come_in_time_order_with_the_offline_clear_first():
    result = engine.evaluate(AIR, {"open": {"offline": 0}}, series(DIRTY, CLEAN), previous=(T0 - STEP, CLEAN))
    assert [(e.kind, e.rule, e.t) for e in result.events] == [("clear", "offline", T0), ("fire", "aqi", T0)]
    assert result.state == {"open": {"aqi": 1}}


def test_forget_drops_a_rule_resolved_by_hand():
    assert engine.forget({"open": {"aqi": 1, "noise": 0}}, "aqi") == {"open": {"noise": 0}}
    assert engine.forget({"open": {"aqi": 1}, "traffic": {"run": 1, "t": 5}}, "aqi") == {"traffic": {"run": 1, "t": 5}}
    assert engine.open_rules({"open": {"aqi": 1}}) == {"aqi"} and engine.open_rules(None) == set()
