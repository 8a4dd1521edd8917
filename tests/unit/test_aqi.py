"""China AQI per HJ 633-2026: every breakpoint of Table 1, around each one, the rows' ends,
worked examples of formula (1) rounded up, levels, primary pollutants, hourly and daily."""

import math
from fractions import Fraction

import pytest

from citybrain.sensing import aqi
from citybrain.sensing.aqi import air_quality, daily_air_quality, iaqi, level

STEPS = (0, 50, 100, 150, 200, 300, 400, 500)
# The standard's Table 1, typed in again rather than read from the module.
HOURLY = {
    "so2": (0, 150, 500, 650, 800),  # 1h; above 800: IAQI 200
    "no2": (0, 100, 200, 700, 1200, 2340, 3090, 3840),  # 1h
    "pm10": (0, 50, 120, 250, 350, 420, 500, 600),  # one row (2012: 150 at 100)
    "co": (0, 5, 10, 35, 60, 90, 120, 150),  # 1h, mg/m³
    "o3": (0, 160, 200, 300, 400, 800, 1000, 1200),  # 1h
    "pm25": (0, 35, 60, 115, 150, 250, 350, 500),  # one row (2012: 75 at 100)
}
DAILY = {
    "so2": (0, 150, 500, 650, 800, 1600, 2100, 2620),  # 24h
    "no2": (0, 40, 80, 180, 280, 565, 750, 940),  # 24h
    "pm10": (0, 50, 120, 250, 350, 420, 500, 600),
    "co": (0, 2, 4, 14, 24, 36, 48, 60),  # 24h, mg/m³
    "o3": (0, 100, 160, 215, 265, 800),  # 8h; above 800: IAQI 300
    "pm25": (0, 35, 60, 115, 150, 250, 350, 500),
}
ROWS = [("hour", p, row) for p, row in HOURLY.items()] + [("day", p, row) for p, row in DAILY.items()]
IDS = [f"{period}-{p}" for period, p, _ in ROWS]


@pytest.mark.parametrize(("period", "pollutant", "row"), ROWS, ids=IDS)
def test_every_breakpoint_gives_its_index_exactly(period, pollutant, row):
    for breakpoint, step in zip(row, STEPS, strict=False):
        assert iaqi(pollutant, breakpoint, period) == step, (pollutant, breakpoint)
        assert iaqi(pollutant, float(breakpoint), period) == step


@pytest.mark.parametrize(("period", "pollutant", "row"), ROWS, ids=IDS)
def test_just_below_and_just_above_each_breakpoint(period, pollutant, row):
    for bp, step in zip(row[1:], STEPS[1:], strict=False):
        assert iaqi(pollutant, bp - 0.001, period) == step, (pollutant, bp)  # rounded up to the step
    for bp, step in zip(row[:-1], STEPS, strict=False):
        assert iaqi(pollutant, bp + 0.001, period) == step + 1, (pollutant, bp)  # into the next segment


@pytest.mark.parametrize(("period", "pollutant", "row"), ROWS, ids=IDS)
def test_matches_exact_rational_arithmetic_at_tenths(period, pollutant, row):
    for tenths in range(0, int(row[-1] * 10) + 1, 7):
        c = Fraction(tenths, 10)
        i = next(k for k in range(1, len(row)) if c <= row[k])
        exact = STEPS[i - 1] + Fraction(STEPS[i] - STEPS[i - 1], row[i] - row[i - 1]) * (c - row[i - 1])
        assert iaqi(pollutant, tenths / 10, period) == math.ceil(exact), (pollutant, tenths / 10)


def test_the_2026_particulate_breakpoints():
    # PM2.5 60 and PM10 120 are now IAQI 100; what was 100 under 2012 is 114 and 112.
    assert [iaqi("pm25", c) for c in (59, 60, 61, 75)] == [98, 100, 101, 114]
    assert [iaqi("pm10", c) for c in (119, 120, 121, 150)] == [100, 100, 101, 112]
    assert iaqi("pm25", 60, "day") == 100 and iaqi("pm10", 120, "day") == 100


def test_hourly_so2_above_800_is_200():
    assert [iaqi("so2", c) for c in (799, 800, 800.1, 900, 2620, 5000)] == [200, 200, 200, 200, 200, 200]
    assert iaqi("so2", 900, "day") == 213  # the 24-hour row goes on: 200 + 100 * 100 / 800 = 212.5


def test_daily_o3_above_800_is_300():
    assert [iaqi("o3", c, "day") for c in (799, 800, 800.1, 1200, 5000)] == [300, 300, 300, 300, 300]
    assert iaqi("o3", 900) == 350  # the 1-hour row goes on: 300 + 100 * 100 / 200


@pytest.mark.parametrize(
    ("period", "pollutant", "row"), [r for r in ROWS if (r[0], r[1]) not in (("hour", "so2"), ("day", "o3"))]
)
def test_above_the_top_of_a_full_row_the_index_is_capped_at_500(period, pollutant, row):
    assert iaqi(pollutant, row[-1] + 0.1, period) == 500
    assert iaqi(pollutant, row[-1] * 3, period) == 500


@pytest.mark.parametrize(
    ("pollutant", "concentration", "period", "expected"),
    [
        # IAQI = IAQI_Lo + (IAQI_Hi - IAQI_Lo) / (BP_Hi - BP_Lo) * (C - BP_Lo), then rounded up
        ("pm25", 100, "hour", 137),  # 100 + 50 * 40 / 55 = 136.36
        ("pm25", 47.5, "hour", 75),  # 50 + 50 * 12.5 / 25 = 75 exactly
        ("pm25", 35.1, "hour", 51),  # 50.2
        ("pm25", 200, "day", 250),  # 200 + 100 * 50 / 100
        ("pm10", 185, "hour", 125),  # 100 + 50 * 65 / 130
        ("pm10", 385, "day", 250),  # 200 + 100 * 35 / 70
        ("so2", 300, "hour", 72),  # 50 + 50 * 150 / 350 = 71.43
        ("so2", 100, "day", 34),  # 50 * 100 / 150 = 33.3
        ("no2", 150, "hour", 75),  # 50 + 50 * 50 / 100
        ("no2", 60, "day", 75),  # 50 + 50 * 20 / 40
        ("no2", 422.5, "day", 250),  # 200 + 100 * 142.5 / 285
        ("co", 7.5, "hour", 75),  # 50 + 50 * 2.5 / 5
        ("co", 3, "day", 75),  # 50 + 50 * 1 / 2
        ("co", 9, "day", 125),  # 100 + 50 * 5 / 10
        ("o3", 180, "hour", 75),  # 50 + 50 * 20 / 40
        ("o3", 130, "day", 75),  # 50 + 50 * 30 / 60
        ("o3", 240, "day", 175),  # 150 + 50 * 25 / 50
        ("o3", 532.5, "day", 250),  # 200 + 100 * 267.5 / 535
    ],
)
def test_worked_examples(pollutant, concentration, period, expected):
    assert iaqi(pollutant, concentration, period) == expected


@pytest.mark.parametrize(
    ("pollutant", "concentration", "expected"),
    [
        # Exact integers that binary floating point overshoots (naive ceil would give one more).
        ("pm25", 4.9, 7),
        ("o3", 160.8, 51),
        ("pm10", 352.1, 203),
        ("co", 65.4, 218),
        ("no2", 2715.0, 350),
    ],
)
def test_exact_results_are_not_pushed_up_by_float_noise(pollutant, concentration, expected):
    assert iaqi(pollutant, concentration) == expected


@pytest.mark.parametrize("bad", [-0.1, float("nan")])
def test_negative_or_missing_concentrations_are_refused(bad):
    with pytest.raises(ValueError, match="pm25"):
        iaqi("pm25", bad)
    with pytest.raises(ValueError, match="pm25"):
        air_quality({"pm10": 40.0, "pm25": bad})
    with pytest.raises(ValueError, match="pm25"):
        daily_air_quality({"pm25": bad})


@pytest.mark.parametrize(("period", "pollutant", "row"), ROWS, ids=IDS)
def test_the_reading_path_and_the_single_index_agree(period, pollutant, row):
    compute = air_quality if period == "hour" else daily_air_quality
    for c in (0, row[1] / 3, row[2], row[3] + 0.7, row[-1], row[-1] + 1):
        assert compute({pollutant: c})["iaqi"] == {pollutant: iaqi(pollutant, c, period)}


@pytest.mark.parametrize(
    ("value", "number", "grade", "name", "english", "rgb"),
    [
        (0, 1, "一级", "优", "Excellent", "#00E400"),
        (50, 1, "一级", "优", "Excellent", "#00E400"),
        (51, 2, "二级", "良", "Good", "#FFFF00"),
        (100, 2, "二级", "良", "Good", "#FFFF00"),
        (101, 3, "三级", "轻度污染", "Lightly polluted", "#FF7E00"),
        (150, 3, "三级", "轻度污染", "Lightly polluted", "#FF7E00"),
        (151, 4, "四级", "中度污染", "Moderately polluted", "#FF0000"),
        (200, 4, "四级", "中度污染", "Moderately polluted", "#FF0000"),
        (201, 5, "五级", "重度污染", "Heavily polluted", "#99004C"),
        (300, 5, "五级", "重度污染", "Heavily polluted", "#99004C"),
        (301, 6, "六级", "严重污染", "Severely polluted", "#7E0023"),
        (500, 6, "六级", "严重污染", "Severely polluted", "#7E0023"),
    ],
)
def test_levels_of_table_2(value, number, grade, name, english, rgb):
    found = level(value)
    assert (found.number, found.grade, found.name, found.name_en, found.rgb) == (number, grade, name, english, rgb)


def test_aqi_is_the_largest_index_and_names_its_pollutant():
    result = air_quality({"pm25": 100, "pm10": 200, "no2": 150, "temperature": 21.5})
    assert result == {
        "airQualityIndex": 137,
        "airQualityLevel": "轻度污染",
        "airQualityLevelEn": "Lightly polluted",
        "airQualityGrade": "三级",
        "primaryPollutant": ["pm25"],
        "iaqi": {"no2": 75, "pm10": 131, "pm25": 137},
        "airQualityStandard": "HJ 633-2026",
    }


def test_a_pm_day_that_was_good_under_2012_is_lightly_polluted_under_2026():
    result = daily_air_quality({"pm25": 70, "pm10": 90, "so2": 10, "no2": 30, "co": 0.8, "o3": 120})
    assert result["airQualityIndex"] == 110 and result["airQualityLevel"] == "轻度污染"
    assert result["primaryPollutant"] == ["pm25"]


def test_ties_list_every_pollutant_at_the_aqi_in_table_order():
    result = air_quality({"pm25": 60, "pm10": 120, "o3": 200, "co": 1})
    assert result["airQualityIndex"] == 100
    assert result["primaryPollutant"] == ["pm10", "o3", "pm25"]


@pytest.mark.parametrize("values", [{"pm25": 35, "pm10": 50}, {"pm25": 10}, {"so2": 0, "no2": 0}])
def test_no_primary_pollutant_while_aqi_is_50_or_less(values):
    result = air_quality(values)
    assert result["airQualityIndex"] <= 50 and result["primaryPollutant"] == []
    assert result["airQualityLevel"] == "优"


def test_aqi_of_51_has_a_primary_pollutant():
    assert air_quality({"pm25": 35.1, "pm10": 20})["primaryPollutant"] == ["pm25"]
    assert daily_air_quality({"o3": 100.1, "pm25": 20})["primaryPollutant"] == ["o3"]


def test_a_reading_without_pollutants_has_no_aqi():
    assert air_quality({"temperature": 20.0, "relativeHumidity": 0.6}) is None
    assert air_quality({}) is None
    assert daily_air_quality({}) is None


def test_an_off_the_scale_reading_is_500_and_severely_polluted():
    result = air_quality({"pm10": 900, "pm25": 120})
    assert result["airQualityIndex"] == 500 and result["airQualityLevel"] == "严重污染"
    assert result["primaryPollutant"] == ["pm10"]


def test_the_module_tables_are_the_standard():
    assert aqi.BREAKPOINTS == {"hour": HOURLY, "day": DAILY} and aqi.IAQI_STEPS == STEPS
    assert aqi.STANDARD == "HJ 633-2026"
