"""Write units from request parameters, by DynamoDB's item-size rules."""

from tests.bench.capacity import attr_size, item_size, number_size, read_units, units, write_units


def test_strings_and_names_count_their_utf8_bytes():
    assert item_size({"id": {"S": "abc"}}) == 2 + 3
    assert item_size({"town": {"S": "桂城街道"}}) == 4 + 12


def test_numbers_count_a_byte_per_two_significant_digits_plus_one():
    assert number_size("7") == 2
    assert number_size("1234") == 3
    assert number_size("12345") == 4
    assert number_size("-0.00012") == 2  # leading and trailing zeros are not significant
    assert number_size("1700000000000") == 2  # 17 then zeros


def test_booleans_nulls_binaries_and_sets():
    assert attr_size({"BOOL": True}) == 1 and attr_size({"NULL": True}) == 1
    assert attr_size({"B": b"\x00\x01\x02"}) == 3
    assert attr_size({"SS": ["a", "bc"]}) == 3
    assert attr_size({"NS": ["1", "22"]}) == 4


def test_lists_and_maps_cost_three_bytes_and_one_per_element():
    assert attr_size({"L": [{"S": "a"}, {"S": "b"}]}) == 3 + 2 * (1 + 1)
    assert attr_size({"M": {"pm25": {"N": "12"}}}) == 3 + 1 + 4 + 2


def test_units_round_up_per_kb_and_transactions_cost_twice():
    assert units(1) == 1 and units(1024) == 1 and units(1025) == 2
    small = {"device_id": {"S": "aq-1"}, "t": {"N": "1"}}
    big = {"device_id": {"S": "aq-1"}, "r": {"S": "x" * 2000}}
    assert write_units("PutItem", {"TableName": "t", "Item": big}) == 2
    actions = [{"Put": {"TableName": "t", "Item": small}}, {"Put": {"TableName": "t", "Item": big}}]
    assert write_units("TransactWriteItems", {"TransactItems": actions}) == 2 * (1 + 2)
    batch = {"RequestItems": {"t": [{"PutRequest": {"Item": big}}, {"DeleteRequest": {"Key": small}}]}}
    assert write_units("BatchWriteItem", batch) == 2 + 1
    assert write_units("Query", {}) == 0


def test_read_units_follow_the_consistency_asked_for():
    small = {"device_id": {"S": "d"}, "t": {"N": "1"}}
    big = {"device_id": {"S": "d"}, "r": {"S": "x" * 5000}}  # 5 KB: two 4 KB units
    found = {"Responses": {"states": [small], "rollups": [small, big]}}
    asked = {"RequestItems": {"states": {"Keys": []}, "rollups": {"Keys": [], "ConsistentRead": True}}}
    assert read_units("BatchGetItem", asked, found) == 0.5 + 1 + 2
    assert read_units("BatchGetItem", asked, {"Responses": {}}) == 0.5  # nothing found: still a request
    assert read_units("GetItem", {"ConsistentRead": True}, {"Item": big}) == 2
    assert read_units("GetItem", {}, {}) == 0.5
    assert read_units("Query", {}, {"Items": [small, big]}) == 1.0
    assert read_units("TransactGetItems", {}, {"Responses": [{"Item": small}]}) == 2
