"""environment/airPollution: the AQI a reading derived (citybrain.sensing.aqi) against the device's limits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from citybrain.alerts.rules.catalogue import NORMAL, Finding


def check(settings: Mapping[str, Any], derived: Mapping[str, Any]):
    """environment/airPollution: AQI above aqi_high -> high, above aqi_critical -> critical.

    `derived` is what air_quality() made of the reading. Returns NORMAL or a Finding."""
    aqi = derived["airQualityIndex"]
    high, critical = settings["aqi_high"], settings["aqi_critical"]
    if aqi <= high:
        return NORMAL
    severity = "critical" if aqi > critical else "high"
    limit = critical if severity == "critical" else high
    pollutants = ", ".join(derived["primaryPollutant"])
    return Finding(
        severity,
        aqi,
        {
            "airQualityIndex": aqi,
            "airQualityLevel": derived["airQualityLevel"],
            "primaryPollutant": derived["primaryPollutant"],
            "iaqi": derived["iaqi"],
            "threshold": limit,
            "thresholds": {"high": high, "critical": critical},
            "measure": "AQI",
        },
        f"AQI {aqi} ({derived['airQualityLevel']} {derived['airQualityLevelEn']}) over {limit}; "
        f"primary pollutant {pollutants}",
    )
