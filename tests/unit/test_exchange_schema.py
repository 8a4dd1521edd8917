import pytest
from pydantic import ValidationError

from citybrain.core.errors import ValidationFailed
from citybrain.exchange.catalog import DatasetIn, DatasetPatch
from citybrain.exchange.schema import DatasetSchema, RecordValidator, records_checksum

SCHEMA = DatasetSchema.model_validate(
    {
        "fields": [
            {"name": "id_card", "type": "string", "pii": "id_card"},
            {"name": "name", "type": "string", "pii": "name", "required": True},
            {"name": "phone", "type": "string", "pii": "phone"},
            {"name": "household_size", "type": "integer"},
            {"name": "allowance", "type": "number", "unit": "元/月"},
            {"name": "active", "type": "boolean"},
            {"name": "approved_on", "type": "date"},
            {"name": "reviewed_at", "type": "datetime"},
        ]
    }
)
VALIDATOR = RecordValidator(SCHEMA, ["id_card"])
GOOD = {
    "id_card": "11010519491231002x",
    "name": "欧阳小明",
    "phone": "+86 138 0001 0001",
    "household_size": 3,
    "allowance": 1120,
    "active": True,
    "approved_on": "2026-03-01",
    "reviewed_at": "2026-03-01T09:30:00",
}


def test_a_good_record_is_normalized():
    clean, errors = VALIDATOR.validate(GOOD, "records.0")
    assert errors == []
    assert clean["id_card"] == "11010519491231002X"
    assert clean["phone"] == "13800010001"
    assert clean["allowance"] == 1120.0 and isinstance(clean["allowance"], float)
    assert clean["reviewed_at"] == "2026-03-01T09:30:00+08:00"  # naive times are Asia/Shanghai


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("id_card", "110105194912310021", "check code should be X"),
        ("phone", "12345", "not a valid phone number"),
        ("household_size", 2.5, "expected an integer"),
        ("household_size", True, "expected an integer"),
        ("household_size", "3", "expected an integer"),
        ("allowance", "1120", "expected a finite number"),
        ("active", "yes", "expected true or false"),
        ("approved_on", "2026-02-30", "expected a date"),
        ("reviewed_at", "yesterday", "not an ISO-8601 time"),
        ("name", 42, "expected a string"),
    ],
)
def test_each_bad_value_names_its_field(field, value, message):
    clean, errors = VALIDATOR.validate({**GOOD, field: value}, "records.7")
    assert clean is None
    assert [e["field"] for e in errors] == [f"records.7.{field}"]
    assert message in errors[0]["message"]


def test_missing_required_and_key_fields_and_unknown_fields():
    clean, errors = VALIDATOR.validate({"phone": "13800010001", "colour": "red"}, "records.2")
    assert clean is None
    assert {e["field"]: e["message"] for e in errors} == {
        "records.2.colour": "not a field of this dataset's schema",
        "records.2.id_card": "missing (part of the primary key)",
        "records.2.name": "missing (required)",
    }


def test_null_means_absent_and_non_objects_are_rejected():
    clean, errors = VALIDATOR.validate({**GOOD, "phone": None}, "records.0")
    assert errors == [] and "phone" not in clean
    assert VALIDATOR.validate(["not", "a", "record"], "records.1") == (
        None,
        [{"field": "records.1", "message": "expected an object"}],
    )


def test_checksum_does_not_depend_on_the_order_sent():
    a, _ = VALIDATOR.validate(GOOD, "r")
    b, _ = VALIDATOR.validate({**GOOD, "id_card": "440524188001010014", "name": "陈大文"}, "r")
    assert records_checksum([a, b], VALIDATOR) == records_checksum([b, a], VALIDATOR)
    assert records_checksum([a], VALIDATOR) != records_checksum([a, b], VALIDATOR)


def test_composite_keys():
    validator = RecordValidator(
        DatasetSchema.model_validate([{"name": "town", "type": "string"}, {"name": "n", "type": "integer"}]),
        ["town", "n"],
    )
    assert validator.key_of({"town": "桂城街道", "n": 1}) == '["桂城街道",1]'


# -- dataset metadata --------------------------------------------------------------
def dataset(**changes):
    return {
        "title": "低保名单",
        "domain": "social",
        "sensitivity": "sensitive",
        "primary_key": "id_card",
        "schema": [{"name": "id_card", "type": "string", "pii": "id_card"}],
        **changes,
    }


def test_primary_key_must_be_a_field():
    with pytest.raises(ValidationError, match="primary_key names household"):
        DatasetIn.model_validate(dataset(primary_key="household"))


@pytest.mark.parametrize(
    "fields, message",
    [
        ([{"name": "age", "type": "integer", "pii": "name"}], "must have type string"),
        ([{"name": "cursor", "type": "string"}], "reserved"),
        ([{"name": "a", "type": "string"}, {"name": "a", "type": "integer"}], "appears twice"),
        ([{"name": "a b", "type": "string"}], "should match pattern"),
        ([{"name": "a", "type": "text"}], "Input should be"),
    ],
)
def test_schema_mistakes(fields, message):
    with pytest.raises(ValidationError, match=message):
        DatasetIn.model_validate(dataset(schema=fields, primary_key=fields[0]["name"]))


def test_unknown_towns_and_domains_are_refused():
    with pytest.raises(ValidationError) as info:
        DatasetIn.model_validate(dataset(spatial=["桂城街道", "北京"], domain="weather"))
    assert {".".join(map(str, e["loc"])) for e in info.value.errors()} == {"spatial.1", "domain"}


def test_patch_refuses_structural_changes_by_field():
    with pytest.raises(ValidationFailed) as info:
        DatasetPatch.from_body({"title": "新标题", "schema": [], "primary_key": "x"})
    assert [e["field"] for e in info.value.errors] == ["schema", "primary_key"]
    assert DatasetPatch.from_body({"title": "新标题"}).title == "新标题"
