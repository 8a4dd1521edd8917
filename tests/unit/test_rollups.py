from citybrain.sensing import rollups


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
