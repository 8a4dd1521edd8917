"""Environmental noise limits, GB 3096-2008 (声环境质量标准).

Table 1, equivalent continuous A-weighted sound level LAeq, dB(A):

  zone class   day (昼间)   night (夜间)
  0            50           40     rehabilitation, villas, nursing homes
  1            55           45     residential, hospitals, schools, offices
  2            60           50     mixed residential / commercial / industrial
  3            65           55     industrial, warehousing
  4a           70           55     both sides of highways, urban expressways, arterial roads
  4b           70           60     both sides of railway trunk lines

- Day is 06:00-22:00 and night 22:00-06:00 local time (section 3.4; Asia/Shanghai): a
  reading observed at exactly 06:00:00 is day, at exactly 22:00:00 night.
- LAeq over the limit of its period -> noisePollution.
- Section 5.4: at night the maximum level of sudden noise (突发噪声) may exceed the limit
  by no more than 15 dB(A); LAmax more than 15 dB(A) over the night limit -> noisePollution
  too (sudden noise). The frequent-noise rule (频发噪声, 10 dB(A)) needs counts of events a
  sound level meter does not report, so it is not checked.
- Severity (the standard has none): medium; high when LAeq is more than 10 dB(A) over the
  limit (perceived as twice as loud). The alert's value is the exceedance in dB(A).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from citybrain.alerts.rules.catalogue import NORMAL, Finding
from citybrain.core import timeutil

LIMITS: dict[str, tuple[int, int]] = {  # zone -> (day, night)
    "0": (50, 40),
    "1": (55, 45),
    "2": (60, 50),
    "3": (65, 55),
    "4a": (70, 55),
    "4b": (70, 60),
}
SUDDEN_MARGIN = 15  # dB(A) over the night limit allowed for LAmax
HIGH_EXCESS = 10  # dB(A) over the limit that makes the alert high
DAY_STARTS, NIGHT_STARTS = 6, 22  # local hours

_HOUR_MS = 3_600_000
_DAY_MS = 24 * _HOUR_MS
# China keeps no daylight saving: the local hour is arithmetic on a fixed offset.
_OFFSET_MS = int(timeutil.LOCAL_TZ.utcoffset(None).total_seconds() * 1000)


def is_daytime(t_ms: int) -> bool:
    """06:00:00.000 <= local time < 22:00:00.000."""
    hour = ((t_ms + _OFFSET_MS) % _DAY_MS) // _HOUR_MS
    return DAY_STARTS <= hour < NIGHT_STARTS


def limit(zone: str, t_ms: int) -> tuple[str, int]:
    """('day' | 'night', the LAeq limit in dB(A)) for a zone at an instant."""
    day, night = LIMITS[zone]
    return ("day", day) if is_daytime(t_ms) else ("night", night)


def check(zone: str | None, t_ms: int, values: Mapping[str, Any]):
    """None when the reading has neither LAeq nor LAmax (or the device no zone), else NORMAL or a Finding."""
    laeq, lamax = values.get("LAeq"), values.get("LAmax")
    if zone is None or (laeq is None and lamax is None):
        return None
    day, night = LIMITS[zone]
    daytime = is_daytime(t_ms)
    allowed = day if daytime else night
    excess = laeq - allowed if laeq is not None else 0.0
    sudden = lamax - (night + SUDDEN_MARGIN) if lamax is not None and not daytime else 0.0
    if excess <= 0 and sudden <= 0:
        return NORMAL
    data: dict[str, Any] = {
        "zone": zone,
        "period": "day" if daytime else "night",
        "limit": allowed,
        "measure": "dB(A) over the limit",
    }
    reasons = []
    severity = "medium"
    if laeq is not None:
        data["LAeq"] = laeq
    if excess > 0:
        data["exceedance"] = round(excess, 1)
        reasons.append(f"LAeq {laeq:g} dB(A) over the {data['period']} limit {allowed} of zone {zone}")
        if excess > HIGH_EXCESS:
            severity = "high"
    if lamax is not None:
        data["LAmax"] = lamax
    if sudden > 0:
        data["suddenNoise"] = True
        data["suddenLimit"] = night + SUDDEN_MARGIN
        reasons.append(f"sudden noise: LAmax {lamax:g} dB(A) more than {SUDDEN_MARGIN} over the night limit {night}")
    return Finding(severity, round(max(excess, sudden), 1), data, "; ".join(reasons))
