"""Transactions commit several at a time only when they share no rollup or state."""

from citybrain.core import timeutil
from citybrain.sensing import pipeline
from citybrain.sensing.pipeline import _Chunk, _plan, _waves
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
