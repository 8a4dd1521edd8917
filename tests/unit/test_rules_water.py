"""Water level against the warning (警戒水位) and guarantee (保证水位) levels."""

import pytest

from citybrain.alerts.rules import engine, water
from citybrain.alerts.rules.catalogue import NORMAL

LEVELS = {"warning": 5.6, "guarantee": 7.2}
T0 = 1_768_348_800_000  # 2026-01-14T08:00:00+08:00


@pytest.mark.parametrize(
    "level, expected",
    [
        (5.59, None),
        (5.6, "high"),
        (6.4, "high"),
        (7.19, "high"),
        (7.2, "critical"),
        (9.0, "critical"),
    ],
)
def test_levels(level, expected):
    found = water.check(LEVELS, {"waterLevel": level})
    if expected is None:
        assert found is NORMAL
    else:
        assert found.severity == expected and found.value == level
        assert found.data["thresholds"] == LEVELS
        assert found.data["threshold"] == (LEVELS["guarantee"] if expected == "critical" else LEVELS["warning"])


def test_negative_datum_levels_compare_as_numbers():
    assert water.check({"warning": -1.5, "guarantee": -0.5}, {"waterLevel": -1.0}).severity == "high"
    assert water.check({"warning": -1.5, "guarantee": -0.5}, {"waterLevel": -2.0}) is NORMAL


def test_a_reading_without_a_level_says_nothing():
    assert water.check(LEVELS, {}) is None
    assert water.check(None, {"waterLevel": 9.0}) is None


def test_rising_river_fires_high_then_critical_on_the_same_rule():
    device = {"id": "w1", "type": "water_level", "thresholds": LEVELS}
    levels = [5.0, 5.7, 6.9, 7.3, 7.0]
    result = engine.evaluate(device, None, [(T0 + i * 600_000, {"waterLevel": v}) for i, v in enumerate(levels)])
    assert [(e.kind, e.rule, e.severity) for e in result.events] == [
        ("fire", "water", "high"),
        ("fire", "water", "high"),
        ("fire", "water", "critical"),
        ("fire", "water", "high"),
    ]
    assert result.state == {"open": {"water": 0}}
