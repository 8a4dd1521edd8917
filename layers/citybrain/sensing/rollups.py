"""Hourly rollup arithmetic: count, sum, min, max per value, per device per local hour.

Pure functions, so the numbers are testable without storage. Booleans roll up
as 0/1 (the mean of `congested` is the share of congested readings).

Sound levels (citybrain.sensing.vocabulary.DECIBEL_VALUES: LAeq, LAmax) also keep
`energy`, the sum of 10^(L/10) over the readings, so that an hour's equivalent level is
the energy mean Leq = 10·lg(energy / n) (GB 3096-2008 3.2), not the arithmetic mean of
decibels, and hours merge exactly. The energy of the loudest level a reading may carry
(180 dB, 1e18) summed over an hour of readings stays far inside what DynamoDB holds
(38 significant digits, magnitudes up to 9.9e125; a float travels as its repr, at most
17 digits, through citybrain.core.dynamo).

Rollups stored before the energy was kept lack it. Such a stats entry never gains it
later (readings added to it, or merged with it, leave it without `energy`): an energy
sum over only some of an hour's readings would be a wrong level. Reports treat such an
hour as measured but not rated (数据不足), never as rated from the arithmetic mean."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from citybrain.sensing.vocabulary import DECIBEL_VALUES


def new_rollup() -> dict[str, Any]:
    return {"count": 0, "values": {}}


def energy(level_db: float) -> float:
    """The energy of a sound level relative to the reference: 10^(L/10)."""
    return float(10.0 ** (level_db / 10.0))


def add_reading(rollup: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """Fold one reading's values into a rollup (in place; returns it)."""
    rollup["count"] = rollup.get("count", 0) + 1
    stats = rollup.setdefault("values", {})
    for name, raw in values.items():
        value = float(raw)
        s = stats.get(name)
        if s is None:
            stats[name] = {"n": 1, "sum": value, "min": value, "max": value}
            if name in DECIBEL_VALUES:
                stats[name]["energy"] = energy(value)
        else:
            s["n"] += 1
            s["sum"] += value
            if value < s["min"]:
                s["min"] = value
            if value > s["max"]:
                s["max"] = value
            if "energy" in s:  # absent: stored before energy was kept, and stays so
                s["energy"] += energy(value)
    return rollup


def fold(rollup: dict[str, Any], readings_values: Iterable[dict[str, Any]]) -> dict[str, Any]:
    for values in readings_values:
        add_reading(rollup, values)
    return rollup


def merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Combine two rollups of the same device and hour (e.g. hours into a day)."""
    out: dict[str, Any] = {"count": a.get("count", 0) + b.get("count", 0), "values": {}}
    for name in set(a.get("values", {})) | set(b.get("values", {})):
        x, y = a.get("values", {}).get(name), b.get("values", {}).get(name)
        if x is None or y is None:
            out["values"][name] = dict(x or y)
        else:
            merged = {
                "n": x["n"] + y["n"],
                "sum": x["sum"] + y["sum"],
                "min": min(x["min"], y["min"]),
                "max": max(x["max"], y["max"]),
            }
            if "energy" in x and "energy" in y:  # one side without it: the whole is unrated
                merged["energy"] = x["energy"] + y["energy"]
            out["values"][name] = merged
    return out


def summary(rollup: dict[str, Any]) -> dict[str, Any]:
    """What a report shows: mean, min, max and count per value."""
    return {
        name: {"mean": s["sum"] / s["n"], "min": s["min"], "max": s["max"], "count": s["n"]}
        for name, s in sorted(rollup.get("values", {}).items())
    }
