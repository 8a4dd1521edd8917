"""Per-device rule settings: validated at registration, defaults filled in by the engine."""

import pytest
from pydantic import ValidationError

from citybrain.alerts.rules import settings
from citybrain.core.errors import field_errors
from citybrain.sensing.devices import DeviceIn


def device(type_="air_quality", **extra):
    body = {
        "id": "d1",
        "type": type_,
        "domain": "environment",
        "town": "桂城街道",
        "location": {"lat": 23.0, "lon": 113.1},
    }
    if type_ == "noise":
        body["acoustic_zone"] = "2"
    if type_ == "water_level":
        body["thresholds"] = {"warning": 5.0, "guarantee": 6.0}
    return {**body, **extra}


def errors_of(body):
    with pytest.raises(ValidationError) as raised:
        DeviceIn.model_validate(body)
    return field_errors(raised.value)


def test_only_the_overrides_are_stored_and_the_engine_fills_in_the_rest():
    record = DeviceIn.model_validate(device(rules={"aqi_high": 150, "hysteresis": 5})).model_dump(
        mode="json", exclude_none=True
    )
    assert record["rules"] == {"aqi_high": 150, "hysteresis": 5}
    effective = settings.effective(record)
    assert effective["aqi_high"] == 150 and effective["aqi_critical"] == 300 and effective["hysteresis"] == 5
    assert settings.effective({"type": "air_quality"}) == settings.DEFAULTS


def test_devices_without_rules_register_as_before():
    assert "rules" not in DeviceIn.model_validate(device()).model_dump(exclude_none=True)


@pytest.mark.parametrize(
    "rules, field",
    [
        ({"aqi_high": 0}, "rules.aqi_high"),
        ({"aqi_critical": 501}, "rules.aqi_critical"),
        ({"hysteresis": 0}, "rules.hysteresis"),
        ({"hysteresis": 2.5}, "rules.hysteresis"),
        ({"aqi_high": "lots"}, "rules.aqi_high"),
        ({"surprise": 1}, "rules.surprise"),
    ],
)
def test_bad_values_name_their_field(rules, field):
    assert [e["field"] for e in errors_of(device(rules=rules))] == [field]


def test_critical_must_be_above_high_counting_defaults():
    [error] = errors_of(device(rules={"aqi_high": 300}))
    assert error["field"] == "rules" and "aqi_critical (300) must be above aqi_high (300)" in error["message"]
    DeviceIn.model_validate(device(rules={"aqi_high": 300, "aqi_critical": 400}))


@pytest.mark.parametrize(
    "type_, rules, wanted",
    [
        ("noise", {"aqi_high": 150}, "air_quality"),
        ("air_quality", {"consecutive": 2}, "traffic_flow"),
        ("water_level", {"tilt_limit_deg": 1.0}, "structure"),
    ],
)
def test_settings_of_another_device_type_are_refused(type_, rules, wanted):
    [error] = errors_of(device(type_, rules=rules))
    assert error["field"] == "rules" and f"applies to {wanted} devices only" in error["message"]


@pytest.mark.parametrize(
    "type_, rules",
    [
        ("traffic_flow", {"speed_threshold_kmh": 30, "occupancy_threshold": 0.7, "consecutive": 5, "hysteresis": 2}),
        (
            "structure",
            {
                "tilt_limit_deg": 0.3,
                "crack_width_limit_mm": 0.5,
                "settlement_limit_mm": 20,
                "tilt_rate_limit_deg_per_h": 0.02,
                "crack_width_rate_limit_mm_per_h": 0.1,
                "settlement_rate_limit_mm_per_h": 1,
            },
        ),
        ("noise", {"hysteresis": 4}),
    ],
)
def test_each_type_takes_its_own_settings(type_, rules):
    stored = DeviceIn.model_validate(device(type_, rules=rules)).model_dump(mode="json", exclude_none=True)["rules"]
    assert stored == rules


def test_every_setting_has_a_default_a_type_and_a_field():
    from citybrain.sensing.devices import RuleSettings

    assert set(settings.DEFAULTS) == set(settings.APPLIES_TO) == set(RuleSettings.model_fields)


def test_the_offline_window_is_three_reporting_intervals():
    assert settings.offline_window_ms({}) == 1_800_000
    assert settings.offline_window_ms({"reporting_interval_seconds": 60}) == 180_000
