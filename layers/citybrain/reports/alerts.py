"""The alerts figures of a report period [start, end): how many alerts were opened,
acknowledged and resolved in it, how many were still open at its end, and the mean time
to acknowledge and to resolve — for the whole scope and per department (the device's
owner), domain and severity.

Pure: the alert records (citybrain.alerts.lifecycle) of the period and of before it that
were still active arrive as an iterable. Times are the records' own: `issued_ms`, and
`acknowledgedAt` / `resolvedAt` (ISO-8601 local time). A mean over no alert is None.
An alert resolved without being acknowledged (the rules resolved it, or a person
resolved it straight away) counts for the time to resolve only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from citybrain.core import timeutil

GROUPINGS = (("department", "owner"), ("domain", "domain"), ("severity", "severity"))


@dataclass
class _Tally:
    opened: int = 0
    acknowledged: int = 0
    resolved: int = 0
    still_open: int = 0
    to_acknowledge_ms: list[int] = field(default_factory=list)
    to_resolve_ms: list[int] = field(default_factory=list)

    def figures(self) -> dict[str, Any]:
        return {
            "opened": self.opened,
            "acknowledged": self.acknowledged,
            "resolved": self.resolved,
            "still_open": self.still_open,
            "mean_minutes_to_acknowledge": _mean_minutes(self.to_acknowledge_ms),
            "mean_minutes_to_resolve": _mean_minutes(self.to_resolve_ms),
        }


def _mean_minutes(durations: list[int]) -> float | None:
    return round(sum(durations) / len(durations) / 60_000, 1) if durations else None


def _instant(alert: Mapping[str, Any], name: str) -> int | None:
    value = alert.get(name)
    return timeutil.parse_instant(value) if value else None


def alerts_section(alerts: Iterable[Mapping[str, Any]], start_ms: int, end_ms: int) -> dict[str, Any]:
    total = _Tally()
    groups: dict[str, dict[str, _Tally]] = {name: {} for name, _ in GROUPINGS}
    for alert in alerts:
        issued = alert["issued_ms"]
        if issued >= end_ms:
            continue  # after the period
        acknowledged, resolved = _instant(alert, "acknowledgedAt"), _instant(alert, "resolvedAt")
        tallies = [total] + [
            groups[name].setdefault(str(alert.get(key) or "unknown"), _Tally()) for name, key in GROUPINGS
        ]
        for tally in tallies:
            if issued >= start_ms:
                tally.opened += 1
            if acknowledged is not None and start_ms <= acknowledged < end_ms:
                tally.acknowledged += 1
                tally.to_acknowledge_ms.append(acknowledged - issued)
            if resolved is not None and start_ms <= resolved < end_ms:
                tally.resolved += 1
                tally.to_resolve_ms.append(resolved - issued)
            if resolved is None or resolved >= end_ms:
                tally.still_open += 1
    return {
        "period": {"from": timeutil.local_iso(start_ms), "to": timeutil.local_iso(end_ms)},
        **total.figures(),
        **{
            f"by_{name}": {value: tally.figures() for value, tally in sorted(tallies.items())}
            for name, tallies in groups.items()
        },
    }
