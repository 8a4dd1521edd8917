"""China's Air Quality Index, HJ 633-2012 (环境空气质量指数 (AQI) 技术规定（试行）).

IAQI_P = (IAQI_Hi - IAQI_Lo) / (BP_Hi - BP_Lo) * (C_P - BP_Lo) + IAQI_Lo   (formula 1)
AQI = max(IAQI_1 .. IAQI_n)                                                 (formula 2)

Readings here are instantaneous or hourly sensor values, so the 1-hour columns of
Table 1 are used where the standard has them, as its real-time report (实时报) does:

  IAQI            0    50   100   150   200   300   400   500
  SO2 1h  µg/m³   0   150   500   650   800     -     -     -   (above 800: see below)
  SO2 24h µg/m³   0    50   150   475   800  1600  2100  2620
  NO2 1h  µg/m³   0   100   200   700  1200  2340  3090  3840
  CO 1h   mg/m³   0     5    10    35    60    90   120   150
  O3 1h   µg/m³   0   160   200   300   400   800  1000  1200
  PM10    µg/m³   0    50   150   250   350   420   500   600   (24h column)
  PM2.5   µg/m³   0    35    75   115   150   250   350   500   (24h column)

- SO2: Table 1 note (2) says a 1-hour SO2 above 800 µg/m³ is not used for an IAQI and
  the 24-hour table applies instead; with hourly sensor values only, the hourly value
  is read on the 24-hour row above 800. Both rows give IAQI 200 at 800, so the index
  stays continuous.
- PM2.5 / PM10: the standard has only 24-hour breakpoints; China's real-time hourly AQI
  applies them to hourly values, and so does this.
- O3: the 1-hour row; the 8-hour running mean needs a history a single reading lacks.
- Rounding: section 5 says IAQI and AQI results are rounded up to an integer (进位取整数).
  A tiny tolerance absorbs binary floating-point noise, so 35 µg/m³ PM2.5 is exactly 50.
- Above the top breakpoint the standard defines no index; IAQI is capped at 500 here
  (the top of the scale, 严重污染), so such a reading still alerts as critical.
- Primary pollutant (首要污染物): when AQI > 50, every pollutant whose IAQI equals the
  AQI (ties are all listed); none when AQI <= 50.
- The AQI is over the pollutants the reading carries: a PM-only station still gets one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, NamedTuple

IAQI_STEPS = (0, 50, 100, 150, 200, 300, 400, 500)


# Breakpoints per pollutant, matched to IAQI_STEPS. Units: µg/m³, CO in mg/m³.
# In the order of Table 1, which is also the order ties are listed in.
BREAKPOINTS: dict[str, tuple[float, ...]] = {
    "so2": (0, 150, 500, 650, 800, 1600, 2100, 2620),  # 1h up to 800, then the 24h row (note 2)
    "no2": (0, 100, 200, 700, 1200, 2340, 3090, 3840),  # 1h
    "pm10": (0, 50, 150, 250, 350, 420, 500, 600),  # 24h (the only row)
    "co": (0, 5, 10, 35, 60, 90, 120, 150),  # 1h
    "o3": (0, 160, 200, 300, 400, 800, 1000, 1200),  # 1h
    "pm25": (0, 35, 75, 115, 150, 250, 350, 500),  # 24h (the only row)
}


POLLUTANTS = tuple(BREAKPOINTS)


IAQI_MAX = 500


_EPSILON = 1e-9  # far below the resolution of any concentration a sensor reports


# (upper breakpoint, lower breakpoint, IAQI_Lo, slope) per segment, precomputed for the hot path.
_SEGMENTS: dict[str, tuple[tuple[float, float, int, float], ...]] = {
    name: tuple(
        (bp[i], bp[i - 1], IAQI_STEPS[i - 1], (IAQI_STEPS[i] - IAQI_STEPS[i - 1]) / (bp[i] - bp[i - 1]))
        for i in range(1, len(bp))
    )
    for name, bp in BREAKPOINTS.items()
}


_TABLE = tuple((name, _SEGMENTS[name]) for name in POLLUTANTS)


_ceil = math.ceil


class Level(NamedTuple):
    number: int  # 1..6
    grade: str  # 空气质量指数级别: 一级..六级
    name: str  # 空气质量指数类别: 优..严重污染
    name_en: str
    colour: str  # the standard's display colour


# Table 2: AQI ranges 0-50, 51-100, 101-150, 151-200, 201-300, >300.
LEVELS = (
    (50, Level(1, "一级", "优", "Excellent", "绿色")),
    (100, Level(2, "二级", "良", "Good", "黄色")),
    (150, Level(3, "三级", "轻度污染", "Lightly polluted", "橙色")),
    (200, Level(4, "四级", "中度污染", "Moderately polluted", "红色")),
    (300, Level(5, "五级", "重度污染", "Heavily polluted", "紫色")),
    (IAQI_MAX, Level(6, "六级", "严重污染", "Severely polluted", "褐红色")),
)


def iaqi(pollutant: str, concentration: float) -> int:
    """The individual index of one pollutant (rounded up; 500 above the top breakpoint)."""
    if not concentration >= 0:  # also catches NaN
        raise ValueError(f"{pollutant} concentration must be a number >= 0, got {concentration!r}")
    for upper, lower, base, slope in _SEGMENTS[pollutant]:
        if concentration <= upper:
            return math.ceil(base + slope * (concentration - lower) - _EPSILON)
    return IAQI_MAX


def level(aqi: int) -> Level:
    for top, found in LEVELS:
        if aqi <= top:
            return found
    return LEVELS[-1][1]


def air_quality(values: Mapping[str, Any]) -> dict[str, Any] | None:
    """The derived indicators of one reading, or None when it carries no pollutant.

    {"airQualityIndex": 163, "airQualityLevel": "中度污染", "airQualityLevelEn": "Moderately polluted",
     "airQualityGrade": "四级", "primaryPollutant": ["pm25"], "iaqi": {"pm25": 163, "pm10": 98}}
    """
    indices: dict[str, int] = {}
    get = values.get
    for name, segments in _TABLE:  # iaqi() inlined: this runs for every air reading
        c = get(name)
        if c is None:
            continue
        if not c >= 0:
            raise ValueError(f"{name} concentration must be a number >= 0, got {c!r}")
        for upper, lower, base, slope in segments:
            if c <= upper:
                indices[name] = _ceil(base + slope * (c - lower) - _EPSILON)
                break
        else:
            indices[name] = IAQI_MAX
    if not indices:
        return None
    aqi = max(indices.values())
    found = level(aqi)
    return {
        "airQualityIndex": aqi,
        "airQualityLevel": found.name,
        "airQualityLevelEn": found.name_en,
        "airQualityGrade": found.grade,
        "primaryPollutant": [n for n, i in indices.items() if i == aqi] if aqi > 50 else [],
        "iaqi": indices,
    }
