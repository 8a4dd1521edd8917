"""The compact list of an hour's stored readings that rollups keep for exact dedup."""

from citybrain.sensing.readings import decode_offsets, encode_offsets


def test_a_regular_cadence_is_one_run():
    minutes = [i * 60_000 for i in range(60)]
    assert encode_offsets(minutes) == "0,60000*59"
    assert decode_offsets("0,60000*59") == minutes


def test_jitter_duplicates_and_order_round_trip():
    offsets = [5, 3_599_999, 60_010, 5, 120_000, 179_990, 240_000, 300_000]
    text = encode_offsets(offsets)
    assert decode_offsets(text) == sorted(set(offsets))
    assert encode_offsets([]) == "" and decode_offsets("") == []
    assert decode_offsets(encode_offsets([42])) == [42]
