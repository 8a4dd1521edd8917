"""The rules run as readings are stored: derived indicators, rule state, events."""

from __future__ import annotations

from citybrain.core import timeutil
from citybrain.sensing.reading_store import DynamoReadingStore
from citybrain.sensing.readings import Reading
from tests.integration.helpers import reading_writer

BASE = timeutil.parse_instant("2026-11-27T08:00:00+08:00")
GAUGE = {
    "id": "wl-1",
    "type": "water_level",
    "domain": "safety",
    "town": "九江镇",
    "owner": "safety",
    "location": {"lat": 22.85, "lon": 113.03},
    "thresholds": {"warning": 5.0, "guarantee": 6.5},
}
AIR = {
    "id": "aq-1",
    "type": "air_quality",
    "domain": "environment",
    "town": "桂城街道",
    "owner": "environment",
    "location": {"lat": 23.03, "lon": 113.15},
}


def level(i: int, metres: float) -> Reading:
    return Reading(
        device_id="wl-1",
        t=BASE + i * 60_000,
        values={"waterLevel": metres},
        type="water_level",
        domain="safety",
        town="九江镇",
    )


class Recorder:
    def __init__(self):
        self.calls = []

    def __call__(self, device, events):
        self.calls.append((device["id"], [(e.kind, e.rule, e.severity) for e in events]))


def test_rising_water_fires_escalates_and_clears_after_three_normal_readings(aws_stack):
    seen = Recorder()
    writer = reading_writer(seen)
    writer.store_readings([level(0, 4.2), level(1, 5.1)], {"wl-1": GAUGE})
    writer.store_readings([level(2, 6.8)], {"wl-1": GAUGE})
    writer.store_readings([level(3, 4.0), level(4, 3.9), level(5, 3.8)], {"wl-1": GAUGE})
    assert seen.calls == [
        ("wl-1", [("fire", "water", "high")]),
        ("wl-1", [("fire", "water", "critical")]),
        ("wl-1", [("clear", "water", None)]),
    ]


def test_a_redelivered_batch_fires_nothing_again(aws_stack):
    seen = Recorder()
    writer = reading_writer(seen)
    batch = [level(0, 5.5), level(1, 5.6)]
    writer.store_readings(batch, {"wl-1": GAUGE})
    writer.store_readings(batch, {"wl-1": GAUGE})
    assert seen.calls == [("wl-1", [("fire", "water", "high"), ("fire", "water", "high")])]


def test_quiet_readings_leave_no_rule_state_and_call_nobody(aws_stack):
    seen = Recorder()
    reading_writer(seen).store_readings([level(i, 3.0 + i / 10) for i in range(5)], {"wl-1": GAUGE})
    assert seen.calls == []
    from citybrain.core.aws import client
    from citybrain.core.config import get_settings
    from citybrain.core.dynamo import from_item

    state = from_item(
        client("dynamodb").get_item(TableName=get_settings().device_state_table, Key={"device_id": {"S": "wl-1"}})[
            "Item"
        ]
    )
    assert "rules" not in state


def test_air_readings_carry_their_air_quality_index(aws_stack):
    readings = [
        Reading(
            device_id="aq-1", t=BASE + i * 60_000, values=v, type="air_quality", domain="environment", town="桂城街道"
        )
        for i, v in enumerate([{"pm25": 20.0, "pm10": 30.0}, {"pm25": 120.0, "pm10": 160.0}])
    ]
    reading_writer().store_readings(readings, {"aq-1": AIR})
    series = DynamoReadingStore().series("aq-1", BASE, BASE + 3_600_000, 10, None)[0]
    assert [s["airQualityIndex"] for s in series] == [30, 158]  # pm10 30 -> IAQI 30; pm25 120 -> 158
    assert series[1]["airQualityLevel"] == "中度污染" and series[1]["primaryPollutant"] == ["pm25"]
    latest = DynamoReadingStore().latest("aq-1")
    assert latest["airQualityIndex"] == 158 and latest["airQualityLevelEn"] == "Moderately polluted"
    assert "version" not in latest and "rules" not in latest
