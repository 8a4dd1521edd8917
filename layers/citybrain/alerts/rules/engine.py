"""The rule engine: one device, its rule state, its new readings -> new state, events.

Pure: no clock, no AWS. The readings pipeline (citybrain.sensing.pipeline) calls it once
per device per batch, with the indicators it derived for each reading (the AQI):

    evaluation = evaluate(device, state.get("rules"), [(r.t, r.values) for r in readings],
                          previous=(state["t"], state["values"]) if state else None,
                          indicators_given=[derived[r.key] for r in readings])

Without `indicators_given` the engine derives the AQI itself (the unit tests call it so).

- `device` is the registry record (type, thresholds, acoustic_zone, rules, ...).
- `state` is the rule state stored in the device's latest-state item (attribute `rules`),
  a small JSON-able dict; None or {} for a device with nothing to remember.
- `readings` are (epoch ms, values) in time order. A reading at or before `previous`
  (the latest reading already stored, whose time the rule state goes with) is late or
  a redelivery: it gets its derived indicators but drives no rule, so re-evaluating a
  redelivered batch changes nothing and alerts follow the newest data.

The state holds only what must outlive a batch:
  {"open": {rule: normal readings since it last fired}, "traffic": {"run": n, "t": ms}}
"open" lists the rules this engine has fired and not yet cleared, so a normal reading
counts towards auto-resolve without reading the alerts table, and a device whose rules
are all quiet has an empty state that does not change from one reading to the next.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from citybrain.alerts.rules import air, noise, structure, traffic, water
from citybrain.alerts.rules.catalogue import NORMAL, PENDING, RULES_BY_TYPE, Event, clear, fire
from citybrain.alerts.rules.settings import effective, offline_window_ms
from citybrain.sensing.aqi import air_quality

Values = Mapping[str, Any]


class Evaluation(NamedTuple):
    state: dict[str, Any]  # the rule state to store ({}: nothing to remember)
    events: list[Event]  # fire / clear, in time order; empty: no alert to touch
    derived: list[dict[str, Any] | None]  # per reading, in the order given: indicators to store with it
    changed: bool  # state differs from the one passed in


def evaluate(
    device: Mapping[str, Any],
    state: Mapping[str, Any] | None,
    readings: Sequence[tuple[int, Values]],
    previous: tuple[int, Values] | None = None,
    indicators_given: Sequence[dict[str, Any] | None] | None = None,
) -> Evaluation:
    """`indicators_given`: what the caller already derived for each reading (the AQI), in order."""
    settings = effective(device)
    rules = RULES_BY_TYPE.get(device.get("type", ""), ())
    measures_air = "aqi" in rules
    hysteresis = int(settings["hysteresis"])
    window = offline_window_ms(device)
    old = state or {}
    opened: dict[str, int] = dict(old["open"]) if old.get("open") else {}
    jam = old.get("traffic")
    zone, thresholds = device.get("acoustic_zone"), device.get("thresholds")
    prev_t, prev_values = previous if previous else (None, None)
    first = True
    events: list[Event] = []
    derived: list[dict[str, Any] | None] = []

    for index, (t, values) in enumerate(readings):
        if indicators_given is not None:
            indicators = indicators_given[index]
        else:
            indicators = air_quality(values) if measures_air else None
        derived.append(indicators)
        if prev_t is not None and t <= prev_t:
            continue  # late or redelivered: stored, not evaluated
        if first:
            first = False
            # Offline resolves with the first reading after the silence: the scheduled check
            # marked it open, or the gap itself shows the device was gone that long.
            if "offline" in opened or (prev_t is not None and t - prev_t > window):
                opened.pop("offline", None)
                events.append(clear("offline", t, 1))
        for rule in rules:
            if rule == "aqi":
                result = air.check(settings, indicators) if indicators else None
            elif rule == "noise":
                result = noise.check(zone, t, values)
            elif rule == "water":
                result = water.check(thresholds, values)
            elif rule == "traffic":
                result, jam = traffic.check(settings, t, values, jam, window)
            else:
                result = structure.check(settings, t, values, prev_t, prev_values)
            if result is None:
                continue
            if result is NORMAL:
                count = opened.get(rule)
                if count is not None:
                    count += 1
                    if count >= hysteresis:
                        del opened[rule]
                        events.append(clear(rule, t, count))
                    else:
                        opened[rule] = count
            elif result is PENDING:
                if opened.get(rule):
                    opened[rule] = 0  # not normal: the run of normal readings starts over
            else:
                opened[rule] = 0
                events.append(fire(rule, t, result))
        prev_t, prev_values = t, values

    new = {k: v for k, v in old.items() if k not in ("open", "traffic")}
    if opened:
        new["open"] = opened
    if jam:
        new["traffic"] = jam
    return Evaluation(new, events, derived, new != old)


def open_rules(state: Mapping[str, Any] | None) -> set[str]:
    """The rules the state believes have an open alert."""
    return set((state or {}).get("open", {}))


def forget(state: Mapping[str, Any] | None, rule: str) -> dict[str, Any]:
    """The rule state once an alert of `rule` was resolved by hand (a new dict), so its
    normal readings stop counting; optional: a stale entry only costs one alert lookup."""
    new = dict(state or {})
    opened = {k: v for k, v in new.get("open", {}).items() if k != rule}
    if opened:
        new["open"] = opened
    else:
        new.pop("open", None)
    return new
