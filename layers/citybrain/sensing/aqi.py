"""China's Air Quality Index, HJ 633-2026 (环境空气质量指数（AQI）技术规定), with GB 3095-2026,
in force since 2026-03-01 and replacing HJ 633-2012.

IAQI_P = (IAQI_Hi - IAQI_Lo) / (BP_Hi - BP_Lo) * (C_P - BP_Lo) + IAQI_Lo   (formula 1)
AQI = max(IAQI_1 .. IAQI_n)                                                 (formula 2)

Table 1 (IAQI breakpoints; µg/m³, CO in mg/m³), as this module holds it:

  IAQI             0    50   100   150   200   300   400   500
  SO2 24h          0   150   500   650   800  1600  2100  2620
  SO2 1h           0   150   500   650   800     -     -     -   above 800: IAQI 200
  NO2 24h          0    40    80   180   280   565   750   940
  NO2 1h           0   100   200   700  1200  2340  3090  3840
  PM10 (24h, 1h)   0    50   120   250   350   420   500   600   (2012: 150 at IAQI 100)
  CO 24h           0     2     4    14    24    36    48    60
  CO 1h            0     5    10    35    60    90   120   150
  O3 1h            0   160   200   300   400   800  1000  1200
  O3 8h            0   100   160   215   265   800     -     -   above 800: IAQI 300
  PM2.5 (24h, 1h)  0    35    60   115   150   250   350   500   (2012: 75 at IAQI 100)

Where each rule comes from (HJ 633-2026 as published with GB 3095-2026, checked against
an independent implementation of the 2026 tables, caiyunapp/aqi-hub v1, which cites the
standard's text):
- Table 1: PM2.5's IAQI-100 breakpoint is 60 µg/m³ and PM10's 120 µg/m³, following the
  24-hour limits of GB 3095-2026's transition phase (60 and 120); every other breakpoint
  is as in 2012.
- Table 1 notes: a 1-hour SO2 above 800 µg/m³ is IAQI 200 (2012 handed it to the 24-hour
  row); an 8-hour O3 above 800 µg/m³ is IAQI 300 (2012 handed it to the 1-hour row).
- Section 4 (calculation): the real-time (hourly) AQI uses the 1-hour concentrations
  (`hourly`); the daily AQI uses the 24-hour means of SO2, NO2, PM10, PM2.5 and CO and the
  daily maximum 8-hour running mean of O3 (`daily`). PM2.5 and PM10 have one row, used
  for both.
- Section 4: IAQI and AQI are rounded up to an integer (进位取整数). A tiny tolerance
  absorbs binary floating-point noise, so 35 µg/m³ PM2.5 is exactly 50.
- Section 4: the primary pollutant (首要污染物) is named when AQI > 50: every pollutant
  whose IAQI equals the AQI (ties are all listed, in Table 1's order); none when
  AQI <= 50. The 2012 "pollutant over the limit" (超标污染物) is gone.
- Table 2: the six levels, their names and colours (优 green … 严重污染 maroon).
- Above the top breakpoint of a row the standard defines no index; IAQI is capped at 500
  here (the top of the scale, 严重污染), so such a reading still alerts as critical.
- The AQI is over the pollutants present: a PM-only station still gets one.

Each air reading stores the hourly indicators computed when it was stored, with
`airQualityStandard`; readings stored before this table carry HJ 633-2012's index and
keep it (no `airQualityStandard`). Daily figures (reports) are computed anew from the
hourly rollups with `daily`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal, NamedTuple

STANDARD = "HJ 633-2026"
IAQI_STEPS = (0, 50, 100, 150, 200, 300, 400, 500)
IAQI_MAX = 500

Period = Literal["hour", "day"]

# Breakpoints per pollutant and period, matched to IAQI_STEPS. In the order of Table 1,
# which is also the order ties are listed in. Units: µg/m³, CO in mg/m³.
_PM10 = (0, 50, 120, 250, 350, 420, 500, 600)
_PM25 = (0, 35, 60, 115, 150, 250, 350, 500)
BREAKPOINTS: dict[Period, dict[str, tuple[float, ...]]] = {
    "hour": {
        "so2": (0, 150, 500, 650, 800),
        "no2": (0, 100, 200, 700, 1200, 2340, 3090, 3840),
        "pm10": _PM10,
        "co": (0, 5, 10, 35, 60, 90, 120, 150),
        "o3": (0, 160, 200, 300, 400, 800, 1000, 1200),
        "pm25": _PM25,
    },
    "day": {
        "so2": (0, 150, 500, 650, 800, 1600, 2100, 2620),
        "no2": (0, 40, 80, 180, 280, 565, 750, 940),
        "pm10": _PM10,
        "co": (0, 2, 4, 14, 24, 36, 48, 60),
        "o3": (0, 100, 160, 215, 265, 800),  # the daily maximum 8-hour running mean
        "pm25": _PM25,
    },
}
# A row that ends before IAQI 500: what a concentration above its last breakpoint is.
BEYOND_THE_ROW: dict[Period, dict[str, int]] = {"hour": {"so2": 200}, "day": {"o3": 300}}

POLLUTANTS = tuple(BREAKPOINTS["hour"])

_EPSILON = 1e-9  # far below the resolution of any concentration a sensor reports

Segment = tuple[float, float, int, float]  # (upper breakpoint, lower breakpoint, IAQI_Lo, slope)


def _segments(row: tuple[float, ...]) -> tuple[Segment, ...]:
    return tuple(
        (row[i], row[i - 1], IAQI_STEPS[i - 1], (IAQI_STEPS[i] - IAQI_STEPS[i - 1]) / (row[i] - row[i - 1]))
        for i in range(1, len(row))
    )


# Per period: (pollutant, its segments, its index beyond the row), precomputed for the hot path.
_TABLES: dict[Period, tuple[tuple[str, tuple[Segment, ...], int], ...]] = {
    period: tuple((name, _segments(row), BEYOND_THE_ROW[period].get(name, IAQI_MAX)) for name, row in rows.items())
    for period, rows in BREAKPOINTS.items()
}
_ROWS = {period: {name: (segments, beyond) for name, segments, beyond in table} for period, table in _TABLES.items()}

_ceil = math.ceil


class Level(NamedTuple):
    number: int  # 1..6
    grade: str  # 空气质量指数级别: 一级..六级
    name: str  # 空气质量指数类别: 优..严重污染
    name_en: str
    colour: str  # the standard's display colour (Table 2)
    rgb: str  # the same colour for a screen


# Table 2: AQI ranges 0-50, 51-100, 101-150, 151-200, 201-300, >300.
LEVELS = (
    (50, Level(1, "一级", "优", "Excellent", "绿色", "#00E400")),
    (100, Level(2, "二级", "良", "Good", "黄色", "#FFFF00")),
    (150, Level(3, "三级", "轻度污染", "Lightly polluted", "橙色", "#FF7E00")),
    (200, Level(4, "四级", "中度污染", "Moderately polluted", "红色", "#FF0000")),
    (300, Level(5, "五级", "重度污染", "Heavily polluted", "紫色", "#99004C")),
    (IAQI_MAX, Level(6, "六级", "严重污染", "Severely polluted", "褐红色", "#7E0023")),
)


def iaqi(pollutant: str, concentration: float, period: Period = "hour") -> int:
    """The individual index of one pollutant: its 1-hour row (`hour`) or its 24-hour row,
    the 8-hour row for O3 (`day`); rounded up; beyond the row as Table 1's notes say."""
    if not concentration >= 0:  # also catches NaN
        raise ValueError(f"{pollutant} concentration must be a number >= 0, got {concentration!r}")
    segments, beyond = _ROWS[period][pollutant]
    for upper, lower, base, slope in segments:
        if concentration <= upper:
            return math.ceil(base + slope * (concentration - lower) - _EPSILON)
    return beyond


def level(aqi: int) -> Level:
    for top, found in LEVELS:
        if aqi <= top:
            return found
    return LEVELS[-1][1]


def air_quality(values: Mapping[str, Any]) -> dict[str, Any] | None:
    """The real-time (hourly) indicators of one reading, or None when it carries no pollutant.

    {"airQualityIndex": 163, "airQualityLevel": "中度污染", "airQualityLevelEn": "Moderately polluted",
     "airQualityGrade": "四级", "primaryPollutant": ["pm25"], "iaqi": {"pm25": 163, "pm10": 98},
     "airQualityStandard": "HJ 633-2026"}
    """
    return _indicators(values, _TABLES["hour"])


def daily_air_quality(concentrations: Mapping[str, float]) -> dict[str, Any] | None:
    """The daily AQI from a day's concentrations: the 24-hour means of so2, no2, pm10, pm25
    and co, and under `o3` the daily maximum 8-hour running mean. Only valid figures belong
    here (citybrain.sensing.air_statistics decides validity); None when there is none."""
    return _indicators(concentrations, _TABLES["day"])


def _indicators(
    values: Mapping[str, Any], table: tuple[tuple[str, tuple[Segment, ...], int], ...]
) -> dict[str, Any] | None:
    indices: dict[str, int] = {}
    get = values.get
    for name, segments, beyond in table:  # iaqi() inlined: this runs for every air reading
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
            indices[name] = beyond
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
        "airQualityStandard": STANDARD,
    }
