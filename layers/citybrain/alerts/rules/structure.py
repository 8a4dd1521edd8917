"""Structural health: a building's tilt, crack width and settlement against its limits.

Monitoring practice (e.g. GB 50497 for excavations, JGJ 8 for deformation surveys) sets
two kinds of alarm value: an accumulated value (累计值) and a rate of change (变化速率).
Both are per device (`rules.*_limit*`); defaults in citybrain.alerts.rules.settings.

- |tilt| (degrees), crackWidth (mm), |settlement| (mm) over its limit -> buildingRisk.
- The change since the device's previous reading, per hour, over its rate limit ->
  buildingRisk: a structure that is moving is at risk before it passes any limit.
  The previous reading is the one before in the batch, or the device's latest stored
  reading for the first one, so no extra state is kept for rates.
- Severity: high when a limit or a rate is broken; critical when both are at once
  (past the limit and still moving). The value is the largest ratio to a limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from citybrain.alerts.rules.catalogue import NORMAL, Finding

# value name -> (limit setting, rate limit setting, unit); limits apply to the absolute value
QUANTITIES = (
    ("tilt", "tilt_limit_deg", "tilt_rate_limit_deg_per_h", "°"),
    ("crackWidth", "crack_width_limit_mm", "crack_width_rate_limit_mm_per_h", " mm"),
    ("settlement", "settlement_limit_mm", "settlement_rate_limit_mm_per_h", " mm"),
)
_HOUR_MS = 3_600_000


def check(
    settings: Mapping[str, Any],
    t_ms: int,
    values: Mapping[str, Any],
    prev_t: int | None,
    prev_values: Mapping[str, Any] | None,
):
    """None when the reading has none of the quantities, else NORMAL or a Finding."""
    seen = False
    over_limit = over_rate = False
    worst = 0.0
    data: dict[str, Any] = {}
    said: list[str] = []
    hours = (t_ms - prev_t) / _HOUR_MS if prev_t is not None and t_ms > prev_t else None
    for name, limit_key, rate_key, unit in QUANTITIES:
        value = values.get(name)
        if value is None:
            continue
        seen = True
        limit = settings[limit_key]
        ratio = abs(value) / limit
        if ratio > 1:
            over_limit = True
            data[name] = {"value": value, "limit": limit}
            said.append(f"{name} {value:g}{unit} over the limit {limit:g}{unit}")
            worst = max(worst, ratio)
        before = prev_values.get(name) if hours and prev_values else None
        if before is not None:
            rate = abs(value - before) / hours
            rate_limit = settings[rate_key]
            rate_ratio = rate / rate_limit
            if rate_ratio > 1:
                over_rate = True
                entry = data.setdefault(name, {"value": value})
                entry.update(previous=before, ratePerHour=round(rate, 4), rateLimit=rate_limit)
                said.append(f"{name} changing {rate:.3g}{unit}/h, over {rate_limit:g}{unit}/h")
                worst = max(worst, rate_ratio)
    if not seen:
        return None
    if not (over_limit or over_rate):
        return NORMAL
    data["measure"] = "ratio to the limit (1 = at the limit)"
    severity = "critical" if over_limit and over_rate else "high"
    return Finding(severity, round(worst, 3), data, "; ".join(said))
