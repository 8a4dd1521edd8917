"""The alert service's pure parts: the listing's query, which stored alert already counts an
event, and offline alerts resolving on a reading delivered late."""

import pytest

from citybrain.alerts import lifecycle as alerts
from citybrain.alerts.rules import offline
from citybrain.alerts.rules.catalogue import Event
from citybrain.alerts.service import _counted_by, parse_query
from citybrain.core import timeutil
from citybrain.core.errors import ValidationFailed

T0 = timeutil.parse_instant("2026-11-27T08:00:00+08:00")
MINUTE = 60_000
DEVICE = {"id": "gc-air-01", "type": "air_quality", "domain": "environment", "town": "桂城街道", "owner": "environment"}


def fire(minute, value=210):
    return Event("fire", "aqi", T0 + minute * MINUTE, "high", value, {}, "")


def clear(minute, rule="aqi"):
    return Event("clear", rule, T0 + minute * MINUTE, data={"normalReadings": 3})


def test_the_query_maps_parameters_to_filters_and_bounds():
    query = parse_query(
        {
            "status": "active",
            "town": "九江镇",
            "severity": "critical",
            "device": "x",
            "from": "2026-11-27T08:00:00+08:00",
            "limit": "5",
        },
        now_ms=T0,
    )
    assert query["filters"] == {"status": ["acknowledged", "open"], "town": ["九江镇"], "severity": ["critical"]}
    assert query["device"] == "x" and query["start_ms"] == T0 and query["limit"] == 5 and query["cursor"] is None
    assert query["end_ms"] > T0  # up to now and a little beyond (device clocks run ahead)
    assert parse_query({}, now_ms=T0)["filters"] == {}


@pytest.mark.parametrize(
    "params, field",
    [
        ({"status": "closed"}, "status"),
        ({"domain": "weather"}, "domain"),
        ({"from": "soon"}, "from"),
        ({"limit": "5000"}, "limit"),
    ],
)
def test_a_bad_parameter_names_its_field(params, field):
    with pytest.raises(ValidationFailed) as caught:
        parse_query(params, now_ms=T0)
    assert caught.value.errors[0]["field"] == field


def test_a_resolved_alert_counts_the_events_from_its_opening_to_its_end():
    first = alerts.open_alert(DEVICE, fire(0)).alert
    first = alerts.repeat(first, fire(2)).alert
    by_rules = alerts.auto_resolve(first, clear(5)).alert
    assert [_counted_by(by_rules, e) for e in (fire(0), fire(2), clear(5), fire(6), fire(-1))] == [
        True,
        True,
        True,
        False,
        False,
    ]
    assert not _counted_by(by_rules, Event("fire", "noise", T0, "high", 1, {}, ""))


def test_an_offline_alert_resolves_on_any_reading_newer_than_the_last_one_it_knew():
    device = {**DEVICE, "reporting_interval_seconds": 600}
    ((_, event),) = offline.find_offline([(device, T0)], now_ms=T0 + 40 * MINUTE)
    alert = alerts.open_alert(device, event).alert
    assert alert["last_seen_ms"] == T0 + 40 * MINUTE
    assert alerts.auto_resolve(alert, clear(0, "offline")) is None  # the reading it already knew
    late = alerts.auto_resolve(alert, clear(10, "offline"))  # observed before the check, delivered after
    assert late.action == "resolved" and late.alert["resolvedAt"] == "2026-11-27T08:10:00+08:00"
    # Other rules still ignore what the alert already counted.
    aqi = alerts.open_alert(DEVICE, fire(3)).alert
    assert alerts.auto_resolve(aqi, clear(2)) is None
