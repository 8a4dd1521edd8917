"""The day's air quality figures from hourly values, with the validity rules of the data
statistics of GB 3095-2026 (as GB 3095-2012 section 8 and HJ 663 state them), and the
daily AQI of a station, a town or the district (HJ 633-2026, citybrain.sensing.aqi).

Rules, each tested at and around its threshold:
- A 24-hour mean (SO2, NO2, PM10, PM2.5, CO) needs at least 20 valid hourly values in the
  local day (MIN_HOURS_FOR_DAY); otherwise the day shows 数据不足 with the count it had.
- An 8-hour running mean needs at least 6 valid hourly values among its 8 hours
  (MIN_HOURS_FOR_8H).
- The daily maximum 8-hour O3 is the largest of the day's 8-hour running means that end
  at 08:00 … 24:00 local time (17 windows: hours 0-7 … 16-23), and needs at least 14 valid
  ones (MIN_8H_MEANS) — except that when the valid ones it has already exceed the limit,
  the day counts as it is: more data could only make it worse. The limit is the 8-hour
  row's IAQI-100 breakpoint, the grade II limit (160 µg/m³).
- A town's (or the district's) daily concentration is the mean of its stations' valid
  daily concentrations, per pollutant; its AQI is computed from those concentrations,
  never as a mean of the stations' AQIs.

An hourly value here is a local hour's mean from the hourly rollup (sum / n); an hour
with no reading of the pollutant is missing. Hours are local (Asia/Shanghai): hour 0 of
a day is 00:00-01:00 +08:00, whatever its UTC date.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from citybrain.sensing.aqi import BREAKPOINTS, daily_air_quality

MIN_HOURS_FOR_DAY = 20
MIN_HOURS_FOR_8H = 6
MIN_8H_MEANS = 14
HOURS = 24
WINDOW = 8
DAILY_MEAN_POLLUTANTS = ("so2", "no2", "pm10", "pm25", "co")
O3_8H_LIMIT = BREAKPOINTS["day"]["o3"][2]  # IAQI 100 on the 8-hour row: 160 µg/m³
INSUFFICIENT = "数据不足"


@dataclass(frozen=True)
class Statistic:
    """A figure and the count of values behind it; `value` is None when they were too few."""

    value: float | None
    count: int  # valid values it was made from (hours, 8-hour means, or stations)
    required: int  # how many it needed

    @property
    def valid(self) -> bool:
        return self.value is not None

    def shown(self, digits: int = 1) -> str:
        if self.value is None:
            return f"{INSUFFICIENT}（{self.count}/{self.required}）"
        return f"{self.value:.{digits}f}"

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "count": self.count, "required": self.required, "valid": self.valid}


def _checked(hourly: Sequence[float | None]) -> Sequence[float | None]:
    if len(hourly) != HOURS:
        raise ValueError(f"a local day has {HOURS} hourly values (None where missing), got {len(hourly)}")
    return hourly


def daily_mean(hourly: Sequence[float | None]) -> Statistic:
    """The 24-hour mean of a day's hourly values (None: no valid value that hour)."""
    present = [v for v in _checked(hourly) if v is not None]
    if len(present) < MIN_HOURS_FOR_DAY:
        return Statistic(None, len(present), MIN_HOURS_FOR_DAY)
    return Statistic(sum(present) / len(present), len(present), MIN_HOURS_FOR_DAY)


def eight_hour_means(hourly: Sequence[float | None]) -> list[Statistic]:
    """The day's 17 running 8-hour means, ending at 08:00 … 24:00 local time."""
    hours = _checked(hourly)
    means = []
    for start in range(HOURS - WINDOW + 1):
        present = [v for v in hours[start : start + WINDOW] if v is not None]
        value = sum(present) / len(present) if len(present) >= MIN_HOURS_FOR_8H else None
        means.append(Statistic(value, len(present), MIN_HOURS_FOR_8H))
    return means


def daily_max_8h(hourly: Sequence[float | None], limit: float = O3_8H_LIMIT) -> Statistic:
    """The daily maximum 8-hour running mean (O3), with the 14-means rule and its exception."""
    valid = [m.value for m in eight_hour_means(hourly) if m.value is not None]
    if not valid:
        return Statistic(None, 0, MIN_8H_MEANS)
    highest = max(valid)
    if len(valid) < MIN_8H_MEANS and highest <= limit:
        return Statistic(None, len(valid), MIN_8H_MEANS)
    return Statistic(highest, len(valid), MIN_8H_MEANS)


def station_day(hourly: Mapping[str, Sequence[float | None]]) -> dict[str, Statistic]:
    """A station's daily concentrations: the 24-hour means and the daily maximum 8-hour O3,
    for the pollutants it measures (hourly: pollutant -> the day's 24 hourly values)."""
    day: dict[str, Statistic] = {}
    for pollutant in DAILY_MEAN_POLLUTANTS:
        if pollutant in hourly:
            day[pollutant] = daily_mean(hourly[pollutant])
    if "o3" in hourly:
        day["o3"] = daily_max_8h(hourly["o3"])
    return day


def area_day(stations: Sequence[Mapping[str, Statistic]]) -> dict[str, Statistic]:
    """A town's or the district's daily concentrations: per pollutant, the mean of its
    stations' valid daily concentrations (count: the stations behind it)."""
    pollutants = sorted({p for station in stations for p in station}, key=_table_order)
    area: dict[str, Statistic] = {}
    for pollutant in pollutants:
        values = [v for s in stations if pollutant in s and (v := s[pollutant].value) is not None]
        measured = sum(1 for s in stations if pollutant in s)
        area[pollutant] = Statistic(sum(values) / len(values) if values else None, len(values), 1 if measured else 0)
    return area


def day_aqi(concentrations: Mapping[str, Statistic]) -> dict[str, Any] | None:
    """The daily AQI from valid daily concentrations only (never from too little data);
    None when no pollutant had enough."""
    return daily_air_quality({p: s.value for p, s in concentrations.items() if s.value is not None})


def _table_order(pollutant: str) -> int:
    order = list(BREAKPOINTS["day"])
    return order.index(pollutant) if pollutant in order else len(order)
