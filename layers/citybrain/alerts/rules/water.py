"""Water level against the gauge's flood-control levels (防汛特征水位).

At or above the warning level (警戒水位) the dikes need patrols: weather/floodRisk, high.
At or above the guarantee level (保证水位), the highest level the works are built to hold
safely: critical. Both are per device (`thresholds: {warning, guarantee}` in metres)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from citybrain.alerts.rules.catalogue import NORMAL, Finding


def check(thresholds: Mapping[str, float] | None, values: Mapping[str, Any]):
    """None when the reading has no waterLevel (or the device no thresholds), else NORMAL or a Finding."""
    level = values.get("waterLevel")
    if level is None or not thresholds:
        return None
    warning, guarantee = thresholds["warning"], thresholds["guarantee"]
    if level < warning:
        return NORMAL
    if level >= guarantee:
        severity, name, reached = "critical", "guarantee level (保证水位)", guarantee
    else:
        severity, name, reached = "high", "warning level (警戒水位)", warning
    return Finding(
        severity,
        level,
        {
            "waterLevel": level,
            "threshold": reached,
            "thresholds": {"warning": warning, "guarantee": guarantee},
            "overBy": round(level - reached, 3),
            "measure": "water level (m)",
        },
        f"water level {level:g} m at or above the {name} {reached:g} m",
    )
