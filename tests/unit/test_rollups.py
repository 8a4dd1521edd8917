import math

import pytest

from citybrain.core.dynamo import from_item, to_item
from citybrain.sensing import rollups
from citybrain.sensing.vocabulary import DECIBEL_VALUES, VALUES, DeviceType


def test_fold_counts_sums_and_extremes_per_value():
    r = rollups.fold(rollups.new_rollup(), [{"pm25": 30, "pm10": 50}, {"pm25": 10.5}, {"pm25": 42}])
    assert r["count"] == 3
    assert r["values"]["pm25"] == {"n": 3, "sum": 82.5, "min": 10.5, "max": 42.0}
    assert r["values"]["pm10"] == {"n": 1, "sum": 50.0, "min": 50.0, "max": 50.0}


def test_booleans_roll_up_as_share_of_true():
    r = rollups.fold(rollups.new_rollup(), [{"congested": True}, {"congested": False}, {"congested": True}])
    assert rollups.summary(r)["congested"]["mean"] == 2 / 3


def test_merge_equals_folding_everything_at_once():
    a = rollups.fold(rollups.new_rollup(), [{"LAeq": 55}, {"LAeq": 61}])
    b = rollups.fold(rollups.new_rollup(), [{"LAeq": 48, "LAmax": 70}])
    whole = rollups.fold(rollups.new_rollup(), [{"LAeq": 55}, {"LAeq": 61}, {"LAeq": 48, "LAmax": 70}])
    assert rollups.merge(a, b) == whole


def test_summary_means():
    r = rollups.fold(rollups.new_rollup(), [{"waterLevel": 2.0}, {"waterLevel": 3.0}])
    assert rollups.summary(r) == {"waterLevel": {"mean": 2.5, "min": 2.0, "max": 3.0, "count": 2}}


# -- sound levels: the energy sum -----------------------------------------------------------


def test_the_decibel_values_are_the_noise_devices_db_quantities():
    assert DECIBEL_VALUES == {"LAeq", "LAmax"}
    assert all(VALUES[DeviceType.noise][name].unit == "dB(A)" for name in DECIBEL_VALUES)


def test_decibel_values_keep_their_energy_and_others_do_not():
    r = rollups.fold(rollups.new_rollup(), [{"LAeq": 60, "LAmax": 70}, {"LAeq": 50}])
    laeq = r["values"]["LAeq"]
    assert laeq["n"] == 2 and laeq["sum"] == 110.0 and laeq["energy"] == pytest.approx(1e6 + 1e5, rel=1e-12)
    assert r["values"]["LAmax"]["energy"] == pytest.approx(1e7, rel=1e-12)
    # The hour's level is the energy mean, 57.4 dB(A), not the arithmetic mean 55.
    assert 10 * math.log10(laeq["energy"] / laeq["n"]) == pytest.approx(57.4036, abs=1e-4)
    others = rollups.fold(rollups.new_rollup(), [{"pm25": 60, "waterLevel": 3.0, "congested": True}])
    assert all("energy" not in s for s in others["values"].values())


def test_equal_levels_have_that_level():
    r = rollups.fold(rollups.new_rollup(), [{"LAeq": 55.0}] * 6)
    s = r["values"]["LAeq"]
    assert round(10 * math.log10(s["energy"] / s["n"]), 1) == 55.0


def test_merge_adds_energies():
    a = rollups.fold(rollups.new_rollup(), [{"LAeq": 70}])
    b = rollups.fold(rollups.new_rollup(), [{"LAeq": 40}, {"LAeq": 40}])
    merged = rollups.merge(a, b)["values"]["LAeq"]
    assert merged["n"] == 3 and merged["energy"] == pytest.approx(1e7 + 2e4, rel=1e-12)
    only_one_side = rollups.merge(a, rollups.fold(rollups.new_rollup(), [{"pm25": 10}]))
    assert only_one_side["values"]["LAeq"] == a["values"]["LAeq"]


def legacy(levels: list[float]) -> dict:
    """A rollup as stored before the energy was kept."""
    r = rollups.fold(rollups.new_rollup(), [{"LAeq": v} for v in levels])
    for stats in r["values"].values():
        del stats["energy"]
    return r


def test_a_rollup_stored_without_energy_never_gains_a_partial_one():
    old = legacy([80.0, 80.0])
    rollups.add_reading(old, {"LAeq": 40.0})  # the same hour, after the change
    assert old["values"]["LAeq"] == {"n": 3, "sum": 200.0, "min": 40.0, "max": 80.0}
    fresh = rollups.fold(rollups.new_rollup(), [{"LAeq": 40.0}])
    assert "energy" not in rollups.merge(legacy([80.0]), fresh)["values"]["LAeq"]
    assert "energy" not in rollups.merge(fresh, legacy([80.0]))["values"]["LAeq"]


@pytest.mark.parametrize("level", [0.0, 0.1, 35.5, 140.0, 160.0, 180.0])
def test_energies_are_storable_in_dynamodb_and_round_trip_exactly(level):
    r = rollups.fold(rollups.new_rollup(), [{"LAeq": min(level, 160.0), "LAmax": level}] * 3600)
    item = {"device_id": "nz-1", "hour": "2026-11-27T23", "count": r["count"], "values": r["values"]}
    stored = to_item(item)
    for attr in (stored["values"]["M"]["LAeq"]["M"]["energy"], stored["values"]["M"]["LAmax"]["M"]["energy"]):
        digits = attr["N"].lower().split("e")[0].replace(".", "").replace("-", "").strip("0")
        assert len(digits) <= 38  # DynamoDB's precision
        assert 1e-130 <= float(attr["N"]) < 9.9e125  # and its range
    back = from_item(stored)
    assert back["values"] == r["values"]
    assert isinstance(back["values"]["LAmax"]["energy"], float)
    assert back["values"]["LAmax"]["energy"] == pytest.approx(3600 * 10 ** (level / 10), rel=1e-9)


def test_a_huge_level_folds_like_any_other():
    r = rollups.fold(rollups.new_rollup(), [{"LAmax": 140.0}])
    assert r["values"]["LAmax"]["energy"] == pytest.approx(1e14, rel=1e-12)
    assert to_item({"e": r["values"]["LAmax"]["energy"]})["e"] == {"N": "100000000000000.0"}
