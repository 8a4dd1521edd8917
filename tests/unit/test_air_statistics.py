"""Daily air quality figures and their validity rules (GB 3095 data statistics), at and
around every threshold, and the daily AQI of stations and areas (HJ 633-2026)."""

import pytest

from citybrain.sensing.air_statistics import (
    INSUFFICIENT,
    O3_8H_LIMIT,
    Statistic,
    area_day,
    daily_max_8h,
    daily_mean,
    day_aqi,
    eight_hour_means,
    station_day,
)


def hours(present: int, value: float = 50.0) -> list[float | None]:
    """A day with the first `present` hours measured at `value`."""
    return [value] * present + [None] * (24 - present)


def test_a_24_hour_mean_needs_20_valid_hours():
    assert daily_mean(hours(24)) == Statistic(50.0, 24, 20)
    assert daily_mean(hours(20)) == Statistic(50.0, 20, 20)
    nineteen = daily_mean(hours(19))
    assert nineteen.value is None and not nineteen.valid and nineteen.count == 19
    assert nineteen.shown() == f"{INSUFFICIENT}（19/20）"


def test_a_24_hour_mean_is_the_mean_of_the_hours_it_has():
    values = [float(h) for h in range(24)]
    values[5] = values[17] = None
    mean = daily_mean(values)
    assert mean.count == 22 and mean.value == pytest.approx((sum(range(24)) - 5 - 17) / 22)


def test_a_day_is_24_local_hours():
    with pytest.raises(ValueError, match="24"):
        daily_mean([1.0] * 23)


def test_an_8_hour_mean_needs_6_valid_hours():
    day = [None, None] + [100.0] * 6 + [None] * 16  # hours 2-7 measured
    first = eight_hour_means(day)[0]  # hours 0-7
    assert first == Statistic(100.0, 6, 6)
    day[2] = None  # 5 of 8
    assert eight_hour_means(day)[0] == Statistic(None, 5, 6)


def test_there_are_17_windows_ending_at_8_to_24_local_time():
    day = [float(h) for h in range(24)]
    means = eight_hour_means(day)
    assert len(means) == 17
    assert means[0].value == pytest.approx(3.5)  # 00-08
    assert means[-1].value == pytest.approx(19.5)  # 16-24


def test_the_daily_maximum_8_hour_o3_needs_14_valid_means():
    # 19 measured hours from 00:00 give windows 0..13 with >= 6 hours: exactly 14 valid means.
    fourteen = daily_max_8h(hours(19, 100.0))
    assert fourteen == Statistic(100.0, 14, 14)
    thirteen = daily_max_8h(hours(18, 100.0))  # windows 0..12
    assert thirteen.value is None and thirteen.count == 13
    assert thirteen.shown() == f"{INSUFFICIENT}（13/14）"


def test_thirteen_valid_means_over_the_limit_still_count():
    over = daily_max_8h(hours(18, O3_8H_LIMIT + 1))
    assert over == Statistic(O3_8H_LIMIT + 1, 13, 14)
    at_limit = daily_max_8h(hours(18, O3_8H_LIMIT))  # not over: more data could lower nothing
    assert at_limit.value is None


def test_the_o3_limit_is_the_grade_ii_8_hour_limit():
    assert O3_8H_LIMIT == 160


def test_the_daily_maximum_is_the_largest_valid_mean():
    day = [60.0] * 24
    for h in range(12, 20):
        day[h] = 200.0
    assert daily_max_8h(day).value == pytest.approx(200.0)  # the 12-20 window
    assert daily_max_8h([None] * 24) == Statistic(None, 0, 14)


def test_a_station_day_uses_24_hour_means_and_the_8_hour_o3():
    day = station_day({"pm25": hours(24, 70.0), "o3": hours(24, 120.0), "co": hours(19, 1.0)})
    assert day["pm25"] == Statistic(70.0, 24, 20)
    assert day["o3"] == Statistic(120.0, 17, 14)
    assert not day["co"].valid
    result = day_aqi(day)
    assert result["airQualityIndex"] == 110 and result["iaqi"] == {"pm25": 110, "o3": 67}
    assert "co" not in result["iaqi"]  # too little data makes no number


def test_an_area_averages_concentrations_not_indices():
    a = {"pm25": Statistic(40.0, 24, 20)}
    b = {"pm25": Statistic(120.0, 24, 20)}
    c = {"pm25": Statistic(None, 10, 20)}  # not enough data: left out of the mean
    area = area_day([a, b, c])
    assert area["pm25"].value == pytest.approx(80.0) and area["pm25"].count == 2
    # the AQI of the mean concentration (80 -> 119), not the mean of the stations' AQIs ((58 + 157) / 2)
    assert day_aqi(area)["airQualityIndex"] == 119


def test_an_area_with_no_valid_station_has_no_figure():
    area = area_day([{"pm25": Statistic(None, 3, 20)}])
    assert area["pm25"].value is None and day_aqi(area) is None
