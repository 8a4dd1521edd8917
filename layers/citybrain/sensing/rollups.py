"""Hourly rollup arithmetic: count, sum, min, max per value, per device per local hour.

Pure functions, so the numbers are testable without storage. Booleans roll up
as 0/1 (the mean of `congested` is the share of congested readings)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def new_rollup() -> dict[str, Any]:
    return {"count": 0, "values": {}}


def add_reading(rollup: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """Fold one reading's values into a rollup (in place; returns it)."""
    rollup["count"] = rollup.get("count", 0) + 1
    stats = rollup.setdefault("values", {})
    for name, raw in values.items():
        value = float(raw)
        s = stats.get(name)
        if s is None:
            stats[name] = {"n": 1, "sum": value, "min": value, "max": value}
        else:
            s["n"] += 1
            s["sum"] += value
            if value < s["min"]:
                s["min"] = value
            if value > s["max"]:
                s["max"] = value
    return rollup


def fold(rollup: dict[str, Any], readings_values: Iterable[dict[str, Any]]) -> dict[str, Any]:
    for values in readings_values:
        add_reading(rollup, values)
    return rollup


def merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Combine two rollups of the same device and hour (e.g. hours into a day)."""
    out = {"count": a.get("count", 0) + b.get("count", 0), "values": {}}
    for name in set(a.get("values", {})) | set(b.get("values", {})):
        x, y = a.get("values", {}).get(name), b.get("values", {}).get(name)
        if x is None or y is None:
            out["values"][name] = dict(x or y)
        else:
            out["values"][name] = {
                "n": x["n"] + y["n"],
                "sum": x["sum"] + y["sum"],
                "min": min(x["min"], y["min"]),
                "max": max(x["max"], y["max"]),
            }
    return out


def summary(rollup: dict[str, Any]) -> dict[str, Any]:
    """What a report shows: mean, min, max and count per value."""
    return {
        name: {"mean": s["sum"] / s["n"], "min": s["min"], "max": s["max"], "count": s["n"]}
        for name, s in sorted(rollup.get("values", {}).items())
    }
