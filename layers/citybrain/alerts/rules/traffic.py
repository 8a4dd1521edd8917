"""Traffic congestion: a detector that sees slow traffic or a mostly occupied lane for
several readings in a row.

A reading is congested when `averageVehicleSpeed` is under the device's threshold
(default 20 km/h), or `occupancy` is at or above its threshold (default 0.8). A speed
of 0 with `intensity` 0 means no vehicle passed, not a jam, so that speed is ignored.
`consecutive` congested readings in a row (default 3) raise traffic/trafficJam.

Severity: medium (congestion costs time, not lives); high when the average speed falls
under half the threshold (stop-and-go). The alert's value is the length of the run.

The run is the rule's memory between batches: {"run": n, "t": last congested ms}. It
exists only while a run is going, so a free-flowing road keeps no state at all. A run
also breaks when the device was silent for longer than its offline window, because
readings an hour apart are not "in a row"."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from citybrain.alerts.rules.catalogue import NORMAL, PENDING, Finding


def congested(settings: Mapping[str, Any], values: Mapping[str, Any]) -> bool | None:
    """True / False, or None when the reading says nothing about congestion."""
    speed, occupancy = values.get("averageVehicleSpeed"), values.get("occupancy")
    if speed is not None and values.get("intensity") == 0:
        speed = None  # nobody drove past: the detector's speed is empty, not slow
    if speed is None and occupancy is None:
        return None
    return (speed is not None and speed < settings["speed_threshold_kmh"]) or (
        occupancy is not None and occupancy >= settings["occupancy_threshold"]
    )


def check(
    settings: Mapping[str, Any], t_ms: int, values: Mapping[str, Any], memo: Mapping[str, Any] | None, window_ms: int
):
    """-> (None | NORMAL | PENDING | Finding, new memo or None)."""
    jam = congested(settings, values)
    if jam is None:
        return None, memo
    if not jam:
        return NORMAL, None
    run = memo["run"] + 1 if memo and t_ms - memo["t"] <= window_ms else 1
    memo = {"run": run, "t": t_ms}
    needed = int(settings["consecutive"])
    if run < needed:
        return PENDING, memo
    threshold = settings["speed_threshold_kmh"]
    speed, occupancy = values.get("averageVehicleSpeed"), values.get("occupancy")
    severe = speed is not None and values.get("intensity") != 0 and speed < threshold / 2
    data: dict[str, Any] = {
        "consecutive": run,
        "required": needed,
        "speedThreshold": threshold,
        "occupancyThreshold": settings["occupancy_threshold"],
        "measure": "consecutive congested readings",
    }
    for name in ("averageVehicleSpeed", "occupancy", "intensity"):
        if values.get(name) is not None:
            data[name] = values[name]
    said = []
    if speed is not None and values.get("intensity") != 0 and speed < threshold:
        said.append(f"average speed {speed:g} km/h under {threshold:g}")
    if occupancy is not None and occupancy >= settings["occupancy_threshold"]:
        said.append(f"occupancy {occupancy:g} at or over {settings['occupancy_threshold']:g}")
    return Finding(
        "high" if severe else "medium", run, data, f"congestion for {run} readings in a row: {', '.join(said)}"
    ), memo
