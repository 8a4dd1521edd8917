"""The noise figures of a report period, from the hourly rollups, per GB 3096-2008
(声环境质量标准).

- A device's hourly level is the hour's equivalent continuous A-weighted level, an
  energy mean of its LAeq readings: Leq = 10·lg(Σ10^(L/10) / n) (3.2 等效声级), from the
  rollup's `energy` (citybrain.sensing.rollups), never the arithmetic mean of decibels.
- Day is 06:00-22:00 and night 22:00-06:00 local time (3.4): hour keys 06 to 21 are day,
  22 to 05 night. The day level Ld and the night level Ln (3.3 昼间/夜间等效声级) are the
  energy means of the period's rated hourly levels of that period of day (Appendix B,
  fixed-point monitoring, rates a point by its Ld and Ln). The hours are those given:
  a daily report's Ln is of the night hours of its date (00-06 and 22-24, the ends of
  two nights), a range's of every night hour in it. No share of hours is required for
  Ld or Ln; the rated hours behind each are shown beside it.
- Limits are those of Table 1 (5.1) for the device's acoustic zone, with the period
  boundaries, from citybrain.alerts.rules.noise (one source with the noisePollution
  rule). An hour, Ld or Ln exceeds when its level, rounded to 0.1 dB(A) as shown, is
  over the limit: a level at the limit is within it.
- Sudden noise (5.4): at night, an hour whose maximum LAmax is more than 15 dB(A) over
  the night limit counts as a sudden-noise hour.
- An hour with LAeq readings but no energy sum (rolled up before the energy was kept)
  is measured but not rated (数据不足): it is counted in `hours_unrated` and enters no
  level, no exceedance, no Ld or Ln.
- Per acoustic zone: its devices (and how many reported), the measured, rated and
  exceeded hours by day and by night, and the devices whose Ld or Ln exceeded.

A device with no reading in the period shows None for its levels and 0 for its counts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from citybrain.alerts.rules import noise as rules
from citybrain.core import timeutil
from citybrain.reports.hours import Rollups, hour_stats, period_span

STANDARD = "GB 3096-2008"
PERIODS = ("day", "night")
UNRATED = "数据不足"  # measured, but no hour could be rated
NO_DATA = "无数据"


def _hour_start_ms(hour: str) -> int:
    start = datetime.strptime(hour, "%Y-%m-%dT%H").replace(tzinfo=timeutil.LOCAL_TZ)
    return int(start.timestamp() * 1000)


def period_of_hour(hour: str) -> str:
    """'day' or 'night' for a local hour key (a whole hour lies in one period)."""
    return "day" if rules.is_daytime(_hour_start_ms(hour)) else "night"


def level_db(energy: float, n: int) -> float:
    """The equivalent level of n levels whose energies sum to `energy`."""
    return 10.0 * math.log10(energy / n)


def _shown(level: float | None) -> float | None:
    return None if level is None else round(level, 1)


def device_figures(rollups: Rollups, device: Mapping[str, Any], periods: Mapping[str, str]) -> dict[str, Any]:
    """One noise device's hourly levels, Ld and Ln, and exceedances; periods: hour -> 'day' | 'night'."""
    zone = device.get("acoustic_zone")
    limits = rules.LIMITS.get(zone) if zone is not None else None
    limit = {"day": limits[0], "night": limits[1]} if limits else None
    sudden_limit = limits[1] + rules.SUDDEN_MARGIN if limits else None
    hourly: list[dict[str, Any]] = []
    energies: dict[str, list[float]] = {p: [] for p in PERIODS}  # hourly energy means, rated hours
    exceeded = dict.fromkeys(PERIODS, 0)
    measured_in = dict.fromkeys(PERIODS, 0)
    readings = unrated = measured = sudden = 0
    for hour, period in periods.items():
        laeq = hour_stats(rollups, device["id"], "LAeq", hour)
        lamax = hour_stats(rollups, device["id"], "LAmax", hour)
        if laeq is None and lamax is None:
            continue
        level: float | None = None
        if laeq is not None:
            measured += 1
            measured_in[period] += 1
            readings += laeq["n"]
            if "energy" in laeq:
                level = level_db(laeq["energy"], laeq["n"])
                energies[period].append(laeq["energy"] / laeq["n"])
            else:
                unrated += 1
        over = None if level is None or limit is None else _over(level, limit[period])
        if over:
            exceeded[period] += 1
        top = lamax["max"] if lamax is not None else None
        is_sudden: bool | None = None
        if period == "night" and top is not None and sudden_limit is not None:
            is_sudden = top > sudden_limit
            sudden += is_sudden
        hourly.append(
            {
                "hour": hour,
                "period": period,
                "leq_db": _shown(level),
                "rated": level is not None if laeq is not None else None,
                "readings": laeq["n"] if laeq is not None else 0,
                "lamax_db": top,
                "exceeded": over,
                "sudden_noise": is_sudden,
            }
        )
    by_period: dict[str, dict[str, Any]] = {}
    for period in PERIODS:
        mean = sum(energies[period]) / len(energies[period]) if energies[period] else None
        level = 10.0 * math.log10(mean) if mean is not None else None
        by_period[period] = {
            "level_db": _shown(level),
            "shown": f"{level:.1f}" if level is not None else UNRATED if measured_in[period] else NO_DATA,
            "limit_db": limit[period] if limit else None,
            "hours_measured": measured_in[period],
            "hours_rated": len(energies[period]),
            "hours_exceeded": exceeded[period] if limit else None,
            "exceeded": _over(level, limit[period]) if level is not None and limit else None,
        }
    by_period["night"]["sudden_limit_db"] = sudden_limit
    by_period["night"]["sudden_noise_hours"] = sudden if limit else None
    return {
        "device_id": device["id"],
        "name": device.get("name") or device["id"],
        "town": device["town"],
        "zone": zone,
        "limits_db": limit,
        "readings": readings,
        "hours_measured": measured,
        "hours_rated": measured - unrated,
        "hours_unrated": unrated,
        "day": by_period["day"],
        "night": by_period["night"],
        "hourly": hourly,
    }


def _over(level: float, limit: float) -> bool:
    """Over the limit as shown: rounded to 0.1 dB(A), a level at the limit is within it."""
    return round(level, 1) > limit


def noise_section(rollups: Rollups, devices: Iterable[Mapping[str, Any]], hours: Sequence[str]) -> dict[str, Any]:
    """Noise devices and acoustic zones over the local hours (devices: noise devices)."""
    hours = sorted(set(hours))
    periods = {hour: period_of_hour(hour) for hour in hours}
    figures = [device_figures(rollups, d, periods) for d in sorted(devices, key=lambda d: d["id"])]
    zones: dict[str, dict[str, Any]] = {}
    for shown in figures:
        zone, limit = shown["zone"], shown["limits_db"]
        if zone is None or limit is None:
            continue  # a record without a (known) zone has no limits to count against
        tally = zones.setdefault(
            zone,
            {
                "limits_db": limit,
                "devices": 0,
                "devices_measured": 0,
                "hours_unrated": 0,
                **{
                    p: {"hours_measured": 0, "hours_rated": 0, "hours_exceeded": 0, "devices_exceeded": 0}
                    for p in PERIODS
                },
            },
        )
        tally["devices"] += 1
        tally["devices_measured"] += 1 if shown["hours_measured"] else 0
        tally["hours_unrated"] += shown["hours_unrated"]
        for period in PERIODS:
            tally[period]["hours_measured"] += shown[period]["hours_measured"]
            tally[period]["hours_rated"] += shown[period]["hours_rated"]
            tally[period]["hours_exceeded"] += shown[period]["hours_exceeded"]
            tally[period]["devices_exceeded"] += 1 if shown[period]["exceeded"] else 0
    return {
        "period": period_span(hours),
        "standard": STANDARD,
        "units": {"level": "dB(A)"},
        "sensors": figures,
        "zones": {zone: zones[zone] for zone in sorted(zones)},
    }
