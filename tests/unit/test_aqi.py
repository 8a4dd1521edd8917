"""China AQI per HJ 633-2012, against worked examples of formula (1), rounded up."""

import math
from fractions import Fraction

import pytest

from citybrain.sensing import aqi
from citybrain.sensing.aqi import air_quality, iaqi, level

STEPS = (0, 50, 100, 150, 200, 300, 400, 500)
TABLE_1 = {  # the standard's values, typed in again rather than read from the module
    "pm25": (0, 35, 75, 115, 150, 250, 350, 500),  # 24h (only row)
    "pm10": (0, 50, 150, 250, 350, 420, 500, 600),  # 24h (only row)
    "so2": (0, 150, 500, 650, 800, 1600, 2100, 2620),  # 1h to 800, then 24h
    "no2": (0, 100, 200, 700, 1200, 2340, 3090, 3840),  # 1h
    "co": (0, 5, 10, 35, 60, 90, 120, 150),  # 1h, mg/m³
    "o3": (0, 160, 200, 300, 400, 800, 1000, 1200),  # 1h
}


@pytest.mark.parametrize(
    "pollutant, breakpoint, expected",
    [(p, bp, s) for p, row in TABLE_1.items() for bp, s in zip(row, STEPS, strict=False)],
)
def test_every_breakpoint_gives_its_index_exactly(pollutant, breakpoint, expected):
    assert iaqi(pollutant, breakpoint) == expected
    assert iaqi(pollutant, float(breakpoint)) == expected


@pytest.mark.parametrize("pollutant, row", TABLE_1.items())
def test_just_above_each_breakpoint_rounds_up_into_the_next_segment(pollutant, row):
    for bp, step in zip(row[:-1], STEPS, strict=False):
        assert iaqi(pollutant, bp + 0.001) == step + 1, (pollutant, bp)


@pytest.mark.parametrize(
    "pollutant, concentration, expected",
    [
        # IAQI = IAQI_Lo + (IAQI_Hi - IAQI_Lo) / (BP_Hi - BP_Lo) * (C - BP_Lo), then rounded up
        ("pm25", 100, 132),  # 100 + 50 * 25 / 40 = 131.25
        ("pm25", 55, 75),  # 50 + 50 * 20 / 40 = 75 exactly: no rounding
        ("pm25", 35.1, 51),  # 50.125
        ("pm25", 200, 250),  # 200 + 100 * 50 / 100
        ("pm10", 200, 125),  # 100 + 50 * 50 / 100
        ("pm10", 385, 250),  # 200 + 100 * 35 / 70
        ("so2", 300, 72),  # 50 + 50 * 150 / 350 = 71.43
        ("so2", 801, 201),  # past 800 the 24h row: 200 + 100 * 1 / 800 = 200.125
        ("so2", 900, 213),  # 200 + 100 * 100 / 800 = 212.5
        ("so2", 1850, 350),  # 300 + 100 * 250 / 500
        ("no2", 150, 75),  # 50 + 50 * 50 / 100
        ("no2", 450, 125),  # 100 + 50 * 250 / 500
        ("no2", 1770, 250),  # 200 + 100 * 570 / 1140
        ("co", 7.5, 75),  # 50 + 50 * 2.5 / 5
        ("co", 5.1, 51),  # 50 + 50 * 0.1 / 5 = 51 exactly
        ("co", 0.4, 4),  # 50 / 5 * 0.4
        ("o3", 180, 75),  # 50 + 50 * 20 / 40
        ("o3", 600, 250),  # 200 + 100 * 200 / 400
        ("o3", 1100, 450),  # 400 + 100 * 100 / 200
    ],
)
def test_worked_examples(pollutant, concentration, expected):
    assert iaqi(pollutant, concentration) == expected


@pytest.mark.parametrize(
    "pollutant, concentration, expected",
    [
        # Exact integers that binary floating point overshoots (naive ceil would give one more).
        ("pm25", 4.9, 7),
        ("o3", 160.8, 51),
        ("pm10", 352.1, 203),
        ("co", 65.4, 218),
        ("so2", 2120.8, 404),
    ],
)
def test_exact_results_are_not_pushed_up_by_float_noise(pollutant, concentration, expected):
    assert iaqi(pollutant, concentration) == expected


@pytest.mark.parametrize("pollutant", TABLE_1)
def test_matches_exact_rational_arithmetic_at_tenths(pollutant):
    row = TABLE_1[pollutant]
    for tenths in range(0, int(row[-1] * 10) + 1, 7):
        c = Fraction(tenths, 10)
        i = next(k for k in range(1, len(row)) if c <= row[k])
        exact = STEPS[i - 1] + Fraction(STEPS[i] - STEPS[i - 1], row[i] - row[i - 1]) * (c - row[i - 1])
        assert iaqi(pollutant, tenths / 10) == math.ceil(exact), (pollutant, tenths / 10)


@pytest.mark.parametrize("pollutant, row", TABLE_1.items())
def test_above_the_top_breakpoint_the_index_is_capped_at_500(pollutant, row):
    assert iaqi(pollutant, row[-1] + 0.1) == 500
    assert iaqi(pollutant, row[-1] * 3) == 500


def test_so2_is_continuous_where_the_hourly_row_ends():
    assert [iaqi("so2", c) for c in (799, 800, 800.5, 808)] == [200, 200, 201, 201]


@pytest.mark.parametrize("bad", [-0.1, float("nan")])
def test_negative_or_missing_concentrations_are_refused(bad):
    with pytest.raises(ValueError, match="pm25"):
        iaqi("pm25", bad)
    with pytest.raises(ValueError, match="pm25"):
        air_quality({"pm10": 40.0, "pm25": bad})


@pytest.mark.parametrize("pollutant, row", TABLE_1.items())
def test_the_reading_path_and_the_single_index_agree(pollutant, row):
    for c in (0, row[1] / 3, row[2], row[4] + 0.7, row[-1], row[-1] + 1):
        assert air_quality({pollutant: c})["iaqi"] == {pollutant: iaqi(pollutant, c)}


@pytest.mark.parametrize(
    "value, number, grade, name, english",
    [
        (0, 1, "一级", "优", "Excellent"),
        (50, 1, "一级", "优", "Excellent"),
        (51, 2, "二级", "良", "Good"),
        (100, 2, "二级", "良", "Good"),
        (101, 3, "三级", "轻度污染", "Lightly polluted"),
        (150, 3, "三级", "轻度污染", "Lightly polluted"),
        (151, 4, "四级", "中度污染", "Moderately polluted"),
        (200, 4, "四级", "中度污染", "Moderately polluted"),
        (201, 5, "五级", "重度污染", "Heavily polluted"),
        (300, 5, "五级", "重度污染", "Heavily polluted"),
        (301, 6, "六级", "严重污染", "Severely polluted"),
        (500, 6, "六级", "严重污染", "Severely polluted"),
    ],
)
def test_levels_of_table_2(value, number, grade, name, english):
    found = level(value)
    assert (found.number, found.grade, found.name, found.name_en) == (number, grade, name, english)


def test_aqi_is_the_largest_index_and_names_its_pollutant():
    result = air_quality({"pm25": 100, "pm10": 200, "no2": 150, "temperature": 21.5})
    assert result == {
        "airQualityIndex": 132,
        "airQualityLevel": "轻度污染",
        "airQualityLevelEn": "Lightly polluted",
        "airQualityGrade": "三级",
        "primaryPollutant": ["pm25"],
        "iaqi": {"no2": 75, "pm10": 125, "pm25": 132},
    }


def test_ties_list_every_pollutant_at_the_aqi_in_table_order():
    result = air_quality({"pm25": 75, "pm10": 150, "o3": 200, "co": 1})
    assert result["airQualityIndex"] == 100
    assert result["primaryPollutant"] == ["pm10", "o3", "pm25"]


@pytest.mark.parametrize("values", [{"pm25": 35, "pm10": 50}, {"pm25": 10}, {"so2": 0, "no2": 0}])
def test_no_primary_pollutant_while_aqi_is_50_or_less(values):
    result = air_quality(values)
    assert result["airQualityIndex"] <= 50 and result["primaryPollutant"] == []
    assert result["airQualityLevel"] == "优"


def test_aqi_of_51_has_a_primary_pollutant():
    assert air_quality({"pm25": 35.1, "pm10": 20})["primaryPollutant"] == ["pm25"]


def test_a_reading_without_pollutants_has_no_aqi():
    assert air_quality({"temperature": 20.0, "relativeHumidity": 0.6}) is None
    assert air_quality({}) is None


def test_an_off_the_scale_reading_is_500_and_severely_polluted():
    result = air_quality({"pm10": 900, "pm25": 120})
    assert result["airQualityIndex"] == 500 and result["airQualityLevel"] == "严重污染"
    assert result["primaryPollutant"] == ["pm10"]


def test_the_module_table_is_the_standard():
    assert aqi.BREAKPOINTS == TABLE_1 and aqi.IAQI_STEPS == STEPS
