"""Structure: tilt, crack width, settlement over their limits or moving faster than allowed."""

import pytest

from citybrain.alerts.rules import engine, structure
from citybrain.alerts.rules.catalogue import NORMAL
from citybrain.alerts.rules.settings import DEFAULTS

T0 = 1_768_348_800_000
HOUR = 3_600_000
DEVICE = {"id": "s1", "type": "structure", "reporting_interval_seconds": 3600}


@pytest.mark.parametrize("name, limit", [("tilt", 0.5), ("crackWidth", 1.0), ("settlement", 30.0)])
def test_each_limit(name, limit):
    assert structure.check(DEFAULTS, T0, {name: limit}, None, None) is NORMAL
    over = structure.check(DEFAULTS, T0, {name: limit * 1.2}, None, None)
    assert over.severity == "high" and over.value == 1.2
    assert over.data[name] == {"value": limit * 1.2, "limit": limit}


def test_limits_apply_to_the_size_of_tilt_and_settlement_either_way():
    assert structure.check(DEFAULTS, T0, {"tilt": -0.6}, None, None).severity == "high"
    assert structure.check(DEFAULTS, T0, {"settlement": -31.0}, None, None).severity == "high"


def test_rate_from_the_previous_reading_per_hour():
    # settlement 10 -> 13 mm in one hour: 3 mm/h over the 2 mm/h default
    moving = structure.check(DEFAULTS, T0 + HOUR, {"settlement": 13.0}, T0, {"settlement": 10.0})
    assert moving.severity == "high" and moving.value == 1.5
    assert moving.data["settlement"] == {"value": 13.0, "previous": 10.0, "ratePerHour": 3.0, "rateLimit": 2.0}
    # the same change over two hours is 1.5 mm/h: fine
    assert structure.check(DEFAULTS, T0 + 2 * HOUR, {"settlement": 13.0}, T0, {"settlement": 10.0}) is NORMAL


def test_past_the_limit_and_still_moving_is_critical():
    found = structure.check(DEFAULTS, T0 + HOUR, {"crackWidth": 1.5}, T0, {"crackWidth": 1.1})
    assert found.severity == "critical"  # over 1.0 mm and 0.4 mm/h over 0.2 mm/h
    assert found.value == 2.0


def test_no_rate_without_a_previous_value_of_the_same_quantity():
    assert structure.check(DEFAULTS, T0 + HOUR, {"tilt": 0.4}, T0, {"settlement": 1.0}) is NORMAL
    assert structure.check(DEFAULTS, T0, {"tilt": 0.4}, T0, {"tilt": 0.0}) is NORMAL  # same instant: no rate


def test_a_reading_without_structure_values_says_nothing():
    assert structure.check(DEFAULTS, T0, {}, None, None) is None


def test_engine_rates_use_the_stored_latest_reading_then_the_batch():
    device = {**DEVICE, "rules": {"tilt_rate_limit_deg_per_h": 0.05}}
    batch = [(T0 + HOUR, {"tilt": 0.10}), (T0 + 2 * HOUR, {"tilt": 0.12}), (T0 + 3 * HOUR, {"tilt": 0.30})]
    result = engine.evaluate(device, None, batch, previous=(T0, {"tilt": 0.0}))
    # 0.10/h against the stored reading: fires; 0.02/h: normal; 0.18/h: fires
    assert [(e.kind, e.t) for e in result.events] == [("fire", T0 + HOUR), ("fire", T0 + 3 * HOUR)]
    assert result.state == {"open": {"structure": 0}}


def test_structure_keeps_no_state_of_its_own():
    batch = [(T0 + i * HOUR, {"tilt": 0.1, "crackWidth": 0.2, "settlement": 3.0}) for i in range(5)]
    result = engine.evaluate(DEVICE, None, batch, previous=(T0 - HOUR, {"tilt": 0.1}))
    assert result.events == [] and result.state == {} and not result.changed
