import json
import math

import pytest

from citybrain.core.jsontext import compact


@pytest.mark.parametrize(
    "value",
    [
        [1764547200000, {"pm25": 20.0, "pm10": 40.0, "no2": 18.5, "co": 0.7}],
        {"airQualityLevel": "轻度污染", "primaryPollutant": ["pm25"], "iaqi": {"pm25": 123}},
        {"n": 3, "sum": 0.1 + 0.2, "min": 5e-324, "max": 1.7976931348623157e308},
        {"congested": True, "note": None, "quote": 'a "b" \\ c\n'},
    ],
)
def test_compact_json_is_what_json_dumps_writes(value):
    assert compact(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    assert json.loads(compact(value)) == value


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf])
def test_a_non_finite_number_is_refused(number):
    with pytest.raises(ValueError):
        compact({"pm25": number})


def test_a_string_that_says_nan_is_kept():
    assert json.loads(compact({"label": "NaN", "other": "Infinity"})) == {"label": "NaN", "other": "Infinity"}
