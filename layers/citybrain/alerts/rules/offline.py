"""Devices that stopped reporting: the scheduled check.

A device is offline when it has been silent for more than 3x its reporting interval
(default 10 minutes, so 30 minutes), measured from its latest observed reading, as
citybrain.sensing.devices.online_state reports it. The check raises device/offline: medium,
high once silent for more than a day. The alert resolves with the device's next
reading: the processing function's rule engine emits `clear` for it.

The check marks the offline alert in the device's rule state (mark_open) so that the
engine knows, without reading the alerts table, that the next reading resolves it.

Silence is measured at `stored_clock`: now, unless readings accepted by the API still wait
in the readings queue. Then a device's latest stored reading says nothing about whether it
reported since, so silence is measured at the newest reading stored of any device: the
processing works through the queue in about the order it was filled, so every device's
readings up to about then are stored. A device that stopped before that still alerts; one
whose readings merely wait does not. When the queue is empty (a whole network gone quiet
included), it is now again. A message redelivered long after the ones behind it (a batch
that failed for many minutes) can still make its devices look silent until it is stored."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from citybrain.alerts.rules.catalogue import Event, Finding, fire
from citybrain.alerts.rules.settings import DEFAULT_REPORTING_INTERVAL_S, offline_window_ms
from citybrain.core import timeutil

HIGH_AFTER_MS = 24 * 3_600_000


def silent_for(device: Mapping[str, Any], latest_ms: int | None, now_ms: int) -> int | None:
    """Milliseconds of silence beyond what is normal, or None while the device is online.

    A device that never reported is counted from its registration only when the caller
    passes `created_ms` in the device mapping; otherwise it is left alone (not yet installed)."""
    since = latest_ms if latest_ms is not None else device.get("created_ms")
    if since is None:
        return None
    silence = now_ms - since
    return silence if silence > offline_window_ms(device) else None


def stored_clock(now_ms: int, backlog: int, latest: Iterable[int | None]) -> int:
    """When silence is measured: now, or while `backlog` messages wait, the newest stored reading."""
    if backlog <= 0:
        return now_ms
    newest = max((t for t in latest if t is not None), default=None)
    return now_ms if newest is None else min(now_ms, newest)


def find_offline(
    devices: Iterable[tuple[Mapping[str, Any], int | None]], now_ms: int, measured_ms: int | None = None
) -> list[tuple[Mapping[str, Any], Event]]:
    """[(device, latest observed ms or None)] -> [(device, fire event of rule "offline")]: silent
    at `measured_ms` (stored_clock; now by default), the alert issued now."""
    found = []
    at = now_ms if measured_ms is None else measured_ms
    for device, latest_ms in devices:
        silence = silent_for(device, latest_ms, at)
        if silence is None:
            continue
        minutes = silence // 60_000
        window = offline_window_ms(device)
        data: dict[str, Any] = {
            "silentMinutes": minutes,
            "windowMinutes": window // 60_000,
            "reportingIntervalSeconds": int(device.get("reporting_interval_seconds") or DEFAULT_REPORTING_INTERVAL_S),
            "measure": "minutes silent",
        }
        if latest_ms is not None:
            data["lastObserved"] = timeutil.local_iso(latest_ms)
            said = f"no reading for {minutes} min (since {data['lastObserved']})"
        else:
            said = f"never reported in the {minutes} min since registration"
        severity = "high" if silence > HIGH_AFTER_MS else "medium"
        found.append((device, fire("offline", now_ms, Finding(severity, minutes, data, said))))
    return found


def mark_open(state: Mapping[str, Any] | None) -> dict[str, Any]:
    """The device's rule state once an offline alert is open (a new dict)."""
    state = dict(state or {})
    state["open"] = {**state.get("open", {}), "offline": 0}
    return state
