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


def _edge_values(spec):
    if spec.boolean:
        return [True, False, 0, 1, 0.5, None]
    step = (spec.high - spec.low) * 1e-9
    return [
        spec.low,
        spec.high,
        spec.low - step,
        spec.high + step,
        (spec.low + spec.high) / 2,
        int(spec.low),
        float("nan"),
        float("inf"),
        float("-inf"),
        True,
        False,
        None,
    ]


def test_the_quick_pass_over_good_values_agrees_with_the_full_check_at_every_edge():
    """check_values looks at a reading again only when its quick pass sees something wrong:
    the same answer as the full check for every value at and around its range."""
    from citybrain.sensing.readings import _value_errors
    from citybrain.sensing.vocabulary import VALUES

    checked = 0
    for device_type, specs in VALUES.items():
        for name, spec in specs.items():
            for value in _edge_values(spec):
                for values in (
                    {name: value},
                    {**{n: s.low if not s.boolean else True for n, s in specs.items()}, name: value},
                ):
                    assert check_values(device_type, values) == _value_errors(device_type, specs, values), values
                    checked += 1
        other = {"not_a_value": 1.0}
        assert check_values(device_type, other) == _value_errors(device_type, specs, other) != []
    assert checked > 300
    good = {"pm25": 35.0, "pm10": 50, "temperature": -50, "relativeHumidity": 1}
    assert check_values(DeviceType.air_quality, good) == []
