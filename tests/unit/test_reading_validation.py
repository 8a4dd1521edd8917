import pytest

from citybrain.core import timeutil
from citybrain.sensing.readings import ReadingValidator, check_values
from citybrain.sensing.vocabulary import DeviceType

NOW = timeutil.parse_instant("2026-11-27T12:00:00+08:00")
DEVICES = {
    "aq-1": {"id": "aq-1", "type": "air_quality", "domain": "environment", "town": "桂城街道", "owner": "env"},
    "tf-1": {"id": "tf-1", "type": "traffic_flow", "domain": "traffic", "town": "大沥镇", "owner": "transport"},
}


def validate(raw, department="env"):
    return ReadingValidator(DEVICES, department, NOW).validate(raw)


def fields(errors):
    return sorted(e["field"] for e in errors)


def test_good_reading_becomes_canonical():
    reading, errors = validate(
        {
            "device_id": "aq-1",
            "observed_at": "2026-11-27T11:59:00+08:00",
            "values": {"pm25": 35, "pm10": 60.5, "co": 0.8},
        }
    )
    assert errors == []
    assert reading.key == ("aq-1", NOW - 60_000)
    assert reading.type == DeviceType.air_quality and reading.town == "桂城街道"


def test_every_problem_of_a_reading_is_reported_with_its_field():
    reading, errors = validate(
        {
            "device_id": "aq-1",
            "observed_at": "2026-11-27T12:06:00+08:00",
            "values": {"pm25": -1, "LAeq": 50, "pm10": float("inf")},
        }
    )
    assert reading is None
    assert fields(errors) == ["observed_at", "values.LAeq", "values.pm10", "values.pm25"]
    messages = {e["field"]: e["message"] for e in errors}
    assert "future" in messages["observed_at"]
    assert "0..2000" in messages["values.pm25"]
    assert "pm25" in messages["values.LAeq"]  # lists the known names


def test_four_minutes_ahead_is_clock_skew_not_an_error():
    _, errors = validate({"device_id": "aq-1", "observed_at": NOW + 240_000, "values": {"pm25": 1}})
    assert errors == []


def test_device_of_another_department_is_unknown_to_the_caller():
    _, errors = validate({"device_id": "tf-1", "observed_at": NOW, "values": {"intensity": 100}})
    assert fields(errors) == ["device_id"]
    _, errors = validate({"device_id": "tf-1", "observed_at": NOW, "values": {"intensity": 100}}, department=None)
    assert errors == []  # the admin may send for any device


@pytest.mark.parametrize(
    "raw, field",
    [
        ({"observed_at": NOW, "values": {"pm25": 1}}, "device_id"),
        ({"device_id": "aq-1", "values": {"pm25": 1}}, "observed_at"),
        ({"device_id": "aq-1", "observed_at": NOW, "values": {}}, "values"),
        ({"device_id": "aq-1", "observed_at": NOW, "values": {"pm25": "12"}}, "values.pm25"),
        ({"device_id": "aq-1", "observed_at": NOW, "values": {"pm25": 1}, "extra": 1}, "extra"),
        ("not an object", ""),
    ],
)
def test_shape_errors_name_the_field(raw, field):
    reading, errors = validate(raw)
    assert reading is None
    assert any(e["field"].startswith(field) for e in errors), errors


def test_boolean_values_only_where_the_model_has_them():
    assert check_values(DeviceType.traffic_flow, {"congested": True, "occupancy": 0.3}) == []
    assert fields(check_values(DeviceType.traffic_flow, {"congested": 1})) == ["values.congested"]
    assert fields(check_values(DeviceType.traffic_flow, {"occupancy": True})) == ["values.occupancy"]
    assert fields(check_values(DeviceType.traffic_flow, {"occupancy": 1.2})) == ["values.occupancy"]


def test_null_value_is_rejected_with_advice():
    errors = check_values(DeviceType.noise, {"LAeq": None})
    assert "omit" in errors[0]["message"]
