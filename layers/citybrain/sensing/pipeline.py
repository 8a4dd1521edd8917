"""The readings pipeline: a batch of readings-queue messages in, their readings stored exactly once.

The whole flow of a reading after the queue is here, in order:

1. parse each message; a reading that no longer validates goes to the rejections
   with its reason (a message that cannot be read at all raises, so the batch
   processor reports it failed alone and SQS redelivers it, then parks it in the DLQ);
   the good readings of all messages of the batch are stored together;
2. read the current state: the rollups and the latest states it touches (consistent
   BatchGetItem), for a segment of the batch's devices at a time just before its
   commits (the fresher the read, the rarer a lost race with a concurrent batch);
   a reading the rollup of its hour lists as stored is a duplicate (redelivered,
   re-sent), and is neither written nor counted again;
3. derive the indicators of each reading (the AQI of an air reading);
4. evaluate the alert rules on the readings newer than the device's latest
   (late or redelivered readings are stored but fire nothing);
5. plan the alert effects: the rules' events reach the alert service *before*
   the transaction that moves the rule state commits, so a crash in between
   repeats them on redelivery, and the alert service makes a repeat harmless;
6. commit: per device and local hour ONE chunk item holding its new readings, the
   rollup (with the hour's list of stored readings) and the latest state, in
   transactions of up to 100 actions (citybrain.sensing.reading_store), up to 4 at
   once among those that share no item (a wave), the devices taken in order from a
   place of the batch's own (concurrent batches do not walk them in step); what lost
   a race (a rollup's or state's version moved) is re-read and planned again, so a
   reading a concurrent writer stored meanwhile becomes a duplicate;
7. archive each message's readings (named by content: a redelivery rewrites the
   same object).

Rules cost no request while nothing fires: the rule state rides in the device's
latest state, and the device profiles travel with the message.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, ValidationError

from citybrain.core import timeutil
from citybrain.core.errors import field_errors
from citybrain.core.jsontext import compact
from citybrain.core.retry import pause
from citybrain.sensing import rollups
from citybrain.sensing.readings import (
    HOUR_MS,
    CommitConflict,
    Reading,
    RollupKey,
    Write,
    check_values,
    decode_offsets,
    encode_offsets,
)
from citybrain.sensing.vocabulary import DeviceType

MAX_ATTEMPTS = 8
TRANSACTION_LIMIT = 100  # DynamoDB's limit of actions per transaction
CHUNK_BYTES = 256_000  # readings of one chunk item (DynamoDB's item limit is 400 KB)
TRANSACTION_BYTES = 2_000_000  # chunk bytes per transaction (its limit is 4 MB, rollups and states included)
COMMITS_IN_FLIGHT = 4  # transactions of a batch sent at once (those in a wave share no item)
WAVE_TRANSACTIONS = 64  # planned ahead of their commits, at most
SEGMENT_READINGS = 2_000  # read from the store together, just before they are committed


class ReadingStore(Protocol):
    def current(
        self, rollup_keys: list[RollupKey], devices: list[str]
    ) -> tuple[dict[RollupKey, dict[str, Any]], dict[str, dict[str, Any]]]: ...
    def commit(self, writes: list[Write]) -> CommitConflict | None: ...


class RejectionRecorder(Protocol):
    def record(self, source: str, rejections: list[dict[str, Any]]) -> None: ...


# (device record, the rules' events) -> None; raises if the alerts could not be stored
AlertEffects = Callable[[dict[str, Any], list[Any]], None]


class PoisonMessage(ValueError):
    pass


class Envelope(BaseModel):
    model_config = ConfigDict(extra="ignore")
    source: dict[str, Any]
    readings: list[dict[str, Any]]
    devices: dict[str, dict[str, Any]] = {}  # registry records of the devices, as the ingest saw them


@dataclass
class ProcessOutcome:
    stored: int
    duplicates: int
    rejected: int


@dataclass
class ParsedMessage:
    """A readable message: its good readings and the device profiles it carried."""

    message_id: str
    readings: list[Reading]
    devices: dict[str, dict[str, Any]]
    rejected: int


@dataclass
class StoreResult:
    stored: list[Reading] = field(default_factory=list)
    duplicates: int = 0


class _ValidMessage(Envelope):
    """A message whose readings all validate: the common case, read in one pass."""

    readings: list[Reading]  # type: ignore[assignment]


def parse_message(body: str) -> tuple[Envelope, list[Reading], list[dict[str, Any]]]:
    try:
        whole = _ValidMessage.model_validate_json(body)
    except ValidationError:
        return _parse_each(body)  # some reading fails (or the message): find which, and why
    good: list[Reading] = []
    rejected: list[dict[str, Any]] = []
    for position, reading in enumerate(whole.readings):
        errors = check_values(reading.type, reading.values)
        if errors:
            rejected.append({"position": position, "errors": errors, "raw": reading.model_dump(mode="json")})
        else:
            good.append(reading)
    return whole, good, rejected


def _parse_each(body: str) -> tuple[Envelope, list[Reading], list[dict[str, Any]]]:
    try:
        envelope = Envelope.model_validate_json(body)
    except ValidationError as exc:
        raise PoisonMessage(f"unreadable readings message: {field_errors(exc)[:3]}") from None
    good: list[Reading] = []
    rejected: list[dict[str, Any]] = []
    for position, raw in enumerate(envelope.readings):
        try:
            reading = Reading.model_validate(raw)
        except ValidationError as exc:
            rejected.append({"position": position, "errors": field_errors(exc), "raw": raw})
            continue
        errors = check_values(reading.type, reading.values)
        if errors:
            rejected.append({"position": position, "errors": errors, "raw": raw})
        else:
            good.append(reading)
    return envelope, good, rejected


class ReadingPipeline:
    def __init__(
        self,
        store: ReadingStore,
        rejections: RejectionRecorder,
        archive: Callable[[list[Reading]], Any],
        get_devices: Callable[[list[str]], dict[str, dict[str, Any]]],
        alert_effects: AlertEffects | None = None,
    ) -> None:
        self.store = store
        self.rejections = rejections
        self.archive = archive  # (readings) -> objects written
        self.get_devices = get_devices  # (ids) -> {id: device record}
        self.alert_effects = alert_effects

    def process(self, body: str, message_id: str) -> ProcessOutcome:
        """One message: parse it (PoisonMessage if unreadable), store and archive it."""
        return self.store_messages([self.parse(body, message_id)])

    def parse(self, body: str, message_id: str) -> ParsedMessage:
        """A message's good readings; its bad ones go to the rejections. Raises PoisonMessage."""
        envelope, good, rejected = parse_message(body)
        source = envelope.source.get("id") or message_id
        if rejected:
            self.rejections.record(f"{envelope.source.get('kind', 'message')}#{source}", rejected)
        return ParsedMessage(message_id, good, dict(envelope.devices), len(rejected))

    def store_messages(self, messages: list[ParsedMessage]) -> ProcessOutcome:
        """The readings of several messages (an SQS batch) stored together, so each device-hour
        is one chunk however many messages carry it; then each message archived. Raises if
        they could not be stored: storing is idempotent, so all of them may be retried."""
        devices: dict[str, dict[str, Any]] = {}
        good: list[Reading] = []
        for message in messages:
            devices.update(message.devices)
            good.extend(message.readings)
        missing = sorted({r.device_id for r in good} - devices.keys())
        if missing:  # a message from elsewhere than the ingest path: one lookup for the rules
            devices.update(self.get_devices(missing))
        result = self.store_readings(good, devices)
        for message in messages:
            if message.readings:
                # All valid readings, not only the new ones: the archive object is
                # named by content, so a redelivery rewrites it whole.
                self.archive(message.readings)
        return ProcessOutcome(
            stored=len(result.stored),
            duplicates=result.duplicates,
            rejected=sum(m.rejected for m in messages),
        )

    def store_readings(
        self, readings: list[Reading], devices: Mapping[str, dict[str, Any]] | None = None
    ) -> StoreResult:
        """Store readings; `devices` (id -> registry record) enables the rules and alerts."""
        result = StoreResult()
        unique: dict[tuple[str, int], Reading] = {}
        for reading in readings:
            identity = reading.key
            if identity in unique:
                result.duplicates += 1
            else:
                unique[identity] = reading
        pending = _in_commit_order(unique.values())
        if not pending:
            return result
        # Every reading of a device in this batch, in time order: the rules see all of
        # them that are newer than the stored state, even those committed by an earlier
        # transaction of this batch (the state moves only with the device's newest).
        series: dict[str, list[Reading]] = {}
        for reading in pending:
            series.setdefault(reading.device_id, []).append(reading)
        derived: dict[tuple[str, int], dict[str, Any] | None] = {}
        rows: dict[tuple[str, int], str] = {}
        for reading in pending:
            identity = reading.key
            derived[identity] = indicators = _derive(reading)
            rows[identity] = _row(reading, indicators)
        context = _Context(devices or {}, series, derived, rows)
        for segment in _segments(pending):
            self._store_segment(segment, context, result)
        return result

    def _store_segment(self, pending: list[Reading], context: _Context, result: StoreResult) -> None:
        """Read what these readings' devices have stored, then commit them: read just before
        it is written, a state is seldom moved meanwhile by a concurrent batch."""
        rollup_keys = sorted({(r.device_id, timeutil.local_hour(r.t)) for r in pending})
        stored_rollups, stored_states = self.store.current(rollup_keys, sorted({r.device_id for r in pending}))
        # None: not stored (as a re-read after a lost race may find it).
        rollup_state: dict[RollupKey, dict[str, Any] | None] = dict(stored_rollups)
        device_state: dict[str, dict[str, Any] | None] = dict(stored_states)

        for attempt in range(MAX_ATTEMPTS):
            # What the rollups (as read, or as this batch wrote them) list as stored is a duplicate.
            pending, seen = _not_stored(pending, rollup_state)
            result.duplicates += seen
            if not pending:
                return
            retry: list[Reading] = []
            for wave in _waves(_plan(pending, context.rows)):
                planned = [self._writes(chunks, rollup_state, device_state, context) for chunks in wave]
                if self.alert_effects:
                    for plan in planned:
                        for device_id, events in plan.events:
                            self.alert_effects(context.devices[device_id], events)
                stale_rollups: set[RollupKey] = set()
                stale_states: set[str] = set()
                busy = False
                for chunks, plan, conflict in zip(wave, planned, self._commit_all(planned), strict=True):
                    if conflict is None:
                        for chunk in chunks:
                            result.stored.extend(chunk.readings)
                        rollup_state.update(plan.rollups)
                        device_state.update(plan.states)
                        continue
                    # The other transactions go on: each of their writes is guarded by the version it
                    # was read at, so a concurrent writer costs this one transaction, not the rest.
                    result.duplicates += len(conflict.duplicates)
                    for chunk in chunks:
                        retry.extend(r for r in chunk.readings if r.key not in conflict.duplicates)
                    stale_rollups |= conflict.stale_rollups
                    stale_states |= conflict.stale_states
                    busy = busy or conflict.busy
                if stale_rollups or stale_states:
                    fresh_rollups, fresh_states = self.store.current(sorted(stale_rollups), sorted(stale_states))
                    for key in stale_rollups:
                        rollup_state[key] = fresh_rollups.get(key)
                    for device in stale_states:
                        device_state[device] = fresh_states.get(device)
                if busy:
                    pause(attempt)
            pending = retry
            if not pending:
                return
        raise RuntimeError(f"could not store {len(pending)} readings after {MAX_ATTEMPTS} attempts")

    def _commit_all(self, planned: list[_Planned]) -> list[CommitConflict | None]:
        """Commit transactions that share no item, several at a time: their round trips overlap
        instead of queueing (a batch of 10,000 devices is over 300 transactions)."""
        if len(planned) == 1:
            return [self.store.commit(planned[0].writes)]
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(min(COMMITS_IN_FLIGHT, len(planned))) as pool:
            return list(pool.map(lambda plan: self.store.commit(plan.writes), planned))

    # -- deciding what one transaction writes ------------------------------------------------
    def _writes(
        self,
        chunks: list[_Chunk],
        rollup_state: dict[RollupKey, dict[str, Any] | None],
        device_state: dict[str, dict[str, Any] | None],
        context: _Context,
    ) -> _Planned:
        planned = _Planned()
        now = timeutil.local_iso(timeutil.now_ms())
        for chunk in chunks:
            first, last = chunk.readings[0], chunk.readings[-1]
            item = {
                "device_id": chunk.device_id,
                "t": first.t,
                "t_last": last.t,
                "n": len(chunk.readings),
                "r": "[" + ",".join(chunk.rows) + "]",
            }
            planned.writes.append(Write("chunk", first.key, item))
            key = (chunk.device_id, chunk.hour)
            current = rollup_state.get(key)
            rollup = _copy_rollup(current) if current else rollups.new_rollup()
            rollups.fold(rollup, (r.values for r in chunk.readings))
            ids = decode_offsets((current or {}).get("ids", ""))
            ids.extend(r.t % HOUR_MS for r in chunk.readings)
            item = {
                "device_id": chunk.device_id,
                "hour": chunk.hour,
                "count": rollup["count"],
                "values": rollup["values"],
                "ids": encode_offsets(ids),
                "type": first.type.value,
                "domain": first.domain,
                "town": first.town,
                "updated_at": now,
            }
            planned.rollups[key] = planned.add("rollup", key, item, current)
            if chunk.carries_state:
                self._next_state(chunk, device_state.get(chunk.device_id), context, now, planned)
        return planned

    def _next_state(
        self, chunk: _Chunk, state: dict[str, Any] | None, context: _Context, now: str, planned: _Planned
    ) -> None:
        newest = chunk.readings[-1]  # in time order
        if state is not None and newest.t <= state.get("t", -1):
            return  # late: the latest state stays
        new_state = {
            **(state or {}),
            "device_id": chunk.device_id,
            "t": newest.t,
            "observed_at": timeutil.local_iso(newest.t),
            "values": newest.values,
            "received_at": now,
        }
        new_state.pop("derived", None)
        derived = context.derived[newest.key]
        if derived:
            new_state["derived"] = derived
        device = context.devices.get(chunk.device_id)
        if device is not None:
            rules, events = _evaluate(device, state, context.series[chunk.device_id], context.derived)
            new_state.pop("rules", None)
            if rules:
                new_state["rules"] = rules
            if events:
                planned.events.append((chunk.device_id, events))
        planned.states[chunk.device_id] = planned.add("state", chunk.device_id, new_state, state)


@dataclass
class _Chunk:
    """Readings of one device in one local hour, in time order: one item, written with their rollup."""

    device_id: str
    hour: str
    readings: list[Reading]
    rows: list[str] = field(default_factory=list)  # the readings as the chunk stores them
    carries_state: bool = False


@dataclass
class _Context:
    devices: Mapping[str, dict[str, Any]]
    series: dict[str, list[Reading]]
    derived: dict[tuple[str, int], dict[str, Any] | None]
    rows: dict[tuple[str, int], str]  # each reading as its chunk stores it


@dataclass
class _Planned:
    """What a transaction will have written once it commits."""

    writes: list[Write] = field(default_factory=list)
    rollups: dict[RollupKey, dict[str, Any]] = field(default_factory=dict)
    states: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[tuple[str, list[Any]]] = field(default_factory=list)

    def add(self, kind: Any, key: Any, item: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
        """A versioned write replacing `current`; returns the item as it will be stored."""
        version = (current or {}).get("version", 0)
        written = {**item, "version": version + 1}
        self.writes.append(Write(kind, key, written, None if current is None else version))
        return written


def _row(reading: Reading, derived: dict[str, Any] | None) -> str:
    """A reading inside its chunk item: compact JSON [t, values] or [t, values, derived].

    One string attribute instead of nested maps: smaller (no per-value type tags), and
    botocore serialises a string for nothing where it walks every value of a map."""
    row: list[Any] = [reading.t, reading.values] if derived is None else [reading.t, reading.values, derived]
    return compact(row)


def _in_commit_order(readings: Iterable[Reading]) -> list[Reading]:
    """Each device's readings together and in time order, the devices in order from a place
    that depends on the batch: concurrent batches over the same devices (a backlog's
    consecutive minutes, drained by several workers) then commit them at different places
    instead of in step, where each transaction of the one behind would lose its race."""
    ordered = sorted(readings, key=lambda r: (r.device_id, r.t))
    if not ordered:
        return ordered
    first = ordered[0]
    pivot = ordered[zlib.crc32(f"{first.device_id}|{first.t}|{len(ordered)}".encode()) % len(ordered)].device_id
    return [r for r in ordered if r.device_id >= pivot] + [r for r in ordered if r.device_id < pivot]


def _segments(pending: list[Reading]) -> Iterator[list[Reading]]:
    """The readings in runs of about SEGMENT_READINGS, a device's readings never split."""
    start = 0
    while start < len(pending):
        end = min(start + SEGMENT_READINGS, len(pending))
        while end < len(pending) and pending[end].device_id == pending[end - 1].device_id:
            end += 1
        yield pending[start:end]
        start = end


def _not_stored(
    pending: list[Reading], rollup_state: Mapping[RollupKey, dict[str, Any] | None]
) -> tuple[list[Reading], int]:
    """The readings that their device-hour's rollup does not list as stored, and how many it does."""
    stored: dict[RollupKey, set[int]] = {}
    kept: list[Reading] = []
    for reading in pending:
        key = (reading.device_id, timeutil.local_hour(reading.t))
        ids = stored.get(key)
        if ids is None:
            ids = stored[key] = set(decode_offsets((rollup_state.get(key) or {}).get("ids", "")))
        if reading.t % HOUR_MS not in ids:
            kept.append(reading)
    return kept, len(pending) - len(kept)


def _plan(pending: list[Reading], rows: Mapping[tuple[str, int], str]) -> list[list[_Chunk]]:
    """Pack the readings into device-hour chunks, and those into transactions of at most
    100 actions (a chunk, its rollup and maybe the device's state) and a few MB."""
    chunks: list[_Chunk] = []
    sizes: list[int] = []
    newest: dict[str, tuple[int, int]] = {}  # device -> (t, index of chunk holding it)
    current: _Chunk | None = None
    for reading in pending:
        hour = timeutil.local_hour(reading.t)
        row = rows[reading.key]
        size = len(row) + 1
        if (
            current is None
            or current.device_id != reading.device_id
            or current.hour != hour
            or sizes[-1] + size > CHUNK_BYTES
        ):
            current = _Chunk(reading.device_id, hour, [])
            chunks.append(current)
            sizes.append(0)
        current.readings.append(reading)
        current.rows.append(row)
        sizes[-1] += size
        if reading.t >= newest.get(reading.device_id, (-1, 0))[0]:
            newest[reading.device_id] = (reading.t, len(chunks) - 1)
    for _, index in newest.values():
        chunks[index].carries_state = True

    transactions: list[list[_Chunk]] = []
    batch: list[_Chunk] = []
    actions = volume = 0
    items: set[tuple[str, str]] = set()
    for chunk, size in zip(chunks, sizes, strict=True):
        cost = 2 + (1 if chunk.carries_state else 0)
        # An item may appear only once per transaction: a split device-hour starts a new one.
        if batch and (
            actions + cost > TRANSACTION_LIMIT
            or volume + size > TRANSACTION_BYTES
            or (chunk.device_id, chunk.hour) in items
        ):
            transactions.append(batch)
            batch, actions, volume, items = [], 0, 0, set()
        batch.append(chunk)
        actions += cost
        volume += size
        items.add((chunk.device_id, chunk.hour))
    if batch:
        transactions.append(batch)
    return transactions


def _waves(transactions: list[list[_Chunk]]) -> list[list[list[_Chunk]]]:
    """The transactions in order, grouped so that no two of a group write the same rollup or
    state (a device-hour split over chunks): a group commits at once, the next one after it,
    planned from what the first wrote."""
    waves: list[list[list[_Chunk]]] = []
    keys: set[Any] = set()
    for chunks in transactions:
        touched = {(c.device_id, c.hour) for c in chunks} | {c.device_id for c in chunks if c.carries_state}
        if not waves or len(waves[-1]) >= WAVE_TRANSACTIONS or touched & keys:
            waves.append([])
            keys = set()
        waves[-1].append(chunks)
        keys |= touched
    return waves


def _derive(reading: Reading) -> dict[str, Any] | None:
    """Indicators computed from a reading and stored with it (the air quality index)."""
    if reading.type != DeviceType.air_quality:
        return None
    from citybrain.sensing.aqi import air_quality

    return air_quality(reading.values)


def _evaluate(
    device: dict[str, Any],
    state: dict[str, Any] | None,
    series: list[Reading],
    derived: Mapping[tuple[str, int], dict[str, Any] | None],
) -> tuple[dict[str, Any], list[Any]]:
    from citybrain.alerts.rules import engine

    previous = (state["t"], state.get("values") or {}) if state and "t" in state else None
    evaluation = engine.evaluate(
        device,
        (state or {}).get("rules"),
        [(r.t, r.values) for r in series],
        previous=previous,
        indicators_given=[derived[r.key] for r in series],
    )
    return evaluation.state, evaluation.events


def _copy_rollup(current: dict[str, Any]) -> dict[str, Any]:
    """The arithmetic part of a stored rollup, to fold more readings into."""
    return {"count": current.get("count", 0), "values": {k: dict(v) for k, v in current.get("values", {}).items()}}
