"""Readings: validation at the edge, the canonical form that travels on the
readings queue, and the identity that makes storing them idempotent."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, ValidationError

from citybrain.core import timeutil
from citybrain.core.errors import field_errors
from citybrain.sensing.devices import DEVICE_ID
from citybrain.sensing.vocabulary import VALUES, DeviceType

MAX_BATCH = 1000


class ReadingIn(BaseModel):
    """One reading as a gateway sends it (HTTP body item, CSV row, JSON line)."""

    model_config = ConfigDict(extra="forbid")

    device_id: str = Field(pattern=DEVICE_ID)
    observed_at: StrictInt | StrictFloat | str
    values: dict[str, StrictBool | StrictInt | StrictFloat | None] = Field(min_length=1)


class Reading(BaseModel):
    """A validated reading, as it travels on the readings queue and is stored."""

    model_config = ConfigDict(extra="forbid")

    device_id: str
    t: int = Field(description="observed time, epoch milliseconds")
    values: dict[str, StrictBool | StrictInt | StrictFloat]
    type: DeviceType
    domain: str
    town: str

    @property
    def key(self) -> tuple[str, int]:
        """Identity: a device observes one set of values per instant."""
        return (self.device_id, self.t)


RollupKey = tuple[str, str]  # (device id, local hour "YYYY-MM-DDTHH")
HOUR_MS = timeutil.HOUR_MS  # local time is a whole number of hours from UTC: an hour starts at t - t % HOUR_MS


def encode_offsets(offsets: Iterable[int]) -> str:
    """The identities of an hour's stored readings, compactly: their ms offsets within
    the hour, ascending and delta-coded, a run of equal steps written once.

    "0,60000*59": offsets 0, 60000, ..., 3540000 (one reading a minute). A device's
    regular cadence costs a few bytes per hour; a jittered one about 6 per reading."""
    tokens: list[str] = []
    previous: int | None = None
    step, run = 0, 0
    for offset in sorted(set(offsets)):
        if previous is None:
            tokens.append(str(offset))
        else:
            delta = offset - previous
            if run and delta == step:
                run += 1
            else:
                if run:
                    tokens.append(f"{step}*{run}" if run > 1 else str(step))
                step, run = delta, 1
        previous = offset
    if run:
        tokens.append(f"{step}*{run}" if run > 1 else str(step))
    return ",".join(tokens)


def decode_offsets(text: str) -> list[int]:
    """The offsets encode_offsets wrote, ascending."""
    if not text:
        return []
    tokens = text.split(",")
    offsets = [int(tokens[0])]
    current = offsets[0]
    for token in tokens[1:]:
        step, _, run = token.partition("*")
        delta = int(step)
        for _ in range(int(run) if run else 1):
            current += delta
            offsets.append(current)
    return offsets


@dataclass
class Write:
    """One item of a readings transaction, as the pipeline decided it.

    kind "chunk": new readings of one device in one local hour, stored as one item keyed
    by the first one's identity (key), written only if absent.
    kind "rollup" / "state": the device-hour rollup or the device's latest state
    (key: RollupKey / device id), written only if still at `expected_version`
    (None: only if absent)."""

    kind: Literal["chunk", "rollup", "state"]
    key: Any
    item: dict[str, Any]
    expected_version: int | None = None


@dataclass
class CommitConflict:
    """Why a readings transaction did not commit."""

    duplicates: set[tuple[str, int]] = field(default_factory=set)  # readings stored before (a chunk's key taken)
    stale_rollups: set[RollupKey] = field(default_factory=set)  # moved since they were read
    stale_states: set[str] = field(default_factory=set)
    busy: bool = False  # a concurrent transaction or throttling: try again shortly


def check_values(device_type: DeviceType, values: dict[str, Any]) -> list[dict[str, str]]:
    """What is wrong with a reading's values for its type of device: [] when nothing is."""
    specs = VALUES[device_type]
    # Every reading is checked at the API and again in processing: values in range pass
    # this loop alone, and only a reading with something wrong is looked at again to say what.
    for name, value in values.items():
        spec = specs.get(name)
        if spec is None or value is None:
            break
        if spec.boolean:
            if value is not True and value is not False:
                break
        elif value is True or value is False or not spec.low <= value <= spec.high:  # NaN fails too
            break
    else:
        return []
    return _value_errors(device_type, specs, values)


def _value_errors(device_type: DeviceType, specs: Mapping[str, Any], values: dict[str, Any]) -> list[dict[str, str]]:
    errors = []
    for name, value in values.items():
        field = f"values.{name}"
        spec = specs.get(name)
        if spec is None:
            errors.append(
                {"field": field, "message": f"not a value of a {device_type.value} device (known: {', '.join(specs)})"}
            )
        elif value is None:
            errors.append({"field": field, "message": "null; omit a value that was not measured"})
        elif spec.boolean:
            if not isinstance(value, bool):
                errors.append({"field": field, "message": "expected true or false"})
        elif isinstance(value, bool):
            errors.append({"field": field, "message": f"expected a number in {spec.unit}"})
        elif not math.isfinite(value):
            errors.append({"field": field, "message": "not a finite number"})
        elif not spec.low <= value <= spec.high:
            errors.append(
                {
                    "field": field,
                    "message": f"{value} outside the physical range {spec.low:g}..{spec.high:g} {spec.unit}",
                }
            )
    return errors


class ReadingValidator:
    """Checks readings against the registry, for one caller at one moment."""

    def __init__(
        self, devices: dict[str, dict[str, Any]], department_id: str | None, now_ms: int, max_future_ms: int = 300_000
    ):
        self.devices = devices  # device id -> device record (those the caller may know)
        self.department_id = department_id  # None: the admin, who may send for any device
        self.now_ms = now_ms
        self.max_future_ms = max_future_ms

    def validate(self, raw: Any) -> tuple[Reading | None, list[dict[str, str]]]:
        try:
            item = ReadingIn.model_validate(raw)
        except ValidationError as exc:
            return None, field_errors(exc)
        errors: list[dict[str, str]] = []
        device = self.devices.get(item.device_id)
        if device is None or (self.department_id and device["owner"] != self.department_id):
            # One message for both: a gateway must not learn which ids others own.
            errors.append(
                {"field": "device_id", "message": f"no device {item.device_id} registered by your department"}
            )
        try:
            t = timeutil.parse_instant(item.observed_at)
            if t > self.now_ms + self.max_future_ms:
                errors.append({"field": "observed_at", "message": "more than 5 minutes in the future"})
        except timeutil.BadTime as exc:
            t = 0
            errors.append({"field": "observed_at", "message": str(exc)})
        if device is not None:
            errors.extend(check_values(DeviceType(device["type"]), item.values))
        if errors or device is None:  # no device is an error already
            return None, errors
        # Every field was checked above: construct without validating a second time (it halves the CPU per row).
        return Reading.model_construct(
            device_id=item.device_id,
            t=t,
            values=cast(dict[str, bool | int | float], item.values),  # check_values refused every None
            type=DeviceType(device["type"]),
            domain=device["domain"],
            town=device["town"],
        ), []


def device_ids_of(raw_readings: list[Any]) -> set[str]:
    return {r["device_id"] for r in raw_readings if isinstance(r, dict) and isinstance(r.get("device_id"), str)}
