"""Transactions commit several at a time only when they share no rollup or state."""

from citybrain.core import timeutil
from citybrain.sensing import pipeline
from citybrain.sensing.pipeline import _Chunk, _in_commit_order, _plan, _segments, _waves
from citybrain.sensing.readings import Reading

BASE = timeutil.parse_instant("2026-11-27T08:00:00+08:00")


def reading(device_id: str, t: int) -> Reading:
    return Reading(
        device_id=device_id, t=t, values={"pm25": 10.0}, type="air_quality", domain="environment", town="桂城街道"
    )


def test_transactions_of_different_devices_form_one_wave():
    readings = [reading(f"aq-{d:03d}", BASE + m * 60_000) for d in range(100) for m in range(3)]
    transactions = _plan(readings, {r.key: "[0,{}]" for r in readings})
    assert len(transactions) > 1  # 100 devices x (chunk, rollup, state) is over 100 actions
    assert _waves(transactions) == [transactions]


def test_a_device_hour_split_over_chunks_waits_for_the_next_wave():
    first, second = _Chunk("aq-1", "2026-11-27T08", []), _Chunk("aq-1", "2026-11-27T08", [], carries_state=True)
    other = _Chunk("aq-2", "2026-11-27T08", [], carries_state=True)
    assert _waves([[first], [other], [second]]) == [[[first], [other]], [[second]]]


def test_the_same_state_in_two_transactions_is_two_waves():
    # A device's readings in two hours: two rollups, one state; the state's transaction goes first.
    a = _Chunk("aq-1", "2026-11-27T08", [], carries_state=True)
    b = _Chunk("aq-1", "2026-11-27T09", [], carries_state=True)
    assert len(_waves([[a], [b]])) == 2
    assert len(_waves([[a], [_Chunk("aq-1", "2026-11-27T07", [])]])) == 1


def test_a_wave_holds_at_most_its_limit(monkeypatch):
    monkeypatch.setattr(pipeline, "WAVE_TRANSACTIONS", 3)
    transactions = [[_Chunk(f"aq-{i}", "2026-11-27T08", [])] for i in range(7)]
    assert [len(w) for w in _waves(transactions)] == [3, 3, 1]


def test_a_batch_commits_its_devices_from_a_place_of_its_own_each_device_whole_and_in_time_order():
    minute_0 = [reading(f"aq-{d:03d}", BASE + d * 7) for d in range(300)]
    minute_1 = [reading(f"aq-{d:03d}", BASE + 60_000 + d * 7) for d in range(300)]
    orders = []
    for batch in (minute_0, minute_1):
        both = batch + [reading(r.device_id, r.t + 1) for r in batch]  # two readings per device
        ordered = _in_commit_order(reversed(both))
        assert sorted(ordered, key=lambda r: r.key) == sorted(both, key=lambda r: r.key)
        devices = [r.device_id for r in ordered]
        runs = [d for i, d in enumerate(devices) if i == 0 or devices[i - 1] != d]
        assert len(runs) == 300  # each device's readings together
        assert all(a.t < b.t for a, b in zip(ordered, ordered[1:], strict=False) if a.device_id == b.device_id)
        everyone = sorted(runs)
        start = everyone.index(runs[0])
        assert runs == everyone[start:] + everyone[:start]  # the devices in order, from somewhere
        orders.append(runs[0])
    # Consecutive minutes of the same devices start apart: they do not walk the devices in step.
    assert orders[0] != orders[1]


def test_segments_of_a_batch_never_split_a_device(monkeypatch):
    monkeypatch.setattr(pipeline, "SEGMENT_READINGS", 10)
    readings = [reading(f"aq-{d:03d}", BASE + i) for d in range(7) for i in range(d + 1)]  # 1..7 readings each
    segments = list(_segments(readings))
    assert [r for s in segments for r in s] == readings
    assert all(len(s) >= 10 for s in segments[:-1])
    assert all(a[-1].device_id != b[0].device_id for a, b in zip(segments, segments[1:], strict=False))
