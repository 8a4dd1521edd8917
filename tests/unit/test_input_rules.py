"""The input rules every route shares (citybrain.core.validation), at and around each limit."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel

from citybrain.core.errors import PayloadTooLarge, ValidationFailed
from citybrain.core.validation import MAX_BODY_BYTES, MAX_DEPTH, Name, Number, Text, check_query, parse_body


def fields(exc) -> list[str]:
    return [e["field"] for e in exc.value.errors]


def test_nesting_at_the_limit_is_read_and_one_deeper_is_refused():
    assert parse_body("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    with pytest.raises(ValidationFailed) as exc:
        parse_body("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    assert fields(exc) == ["body"]


def test_brackets_inside_strings_do_not_count_as_nesting():
    assert parse_body(json.dumps({"a": "[" * 1000 + "{" * 1000})) == {"a": "[" * 1000 + "{" * 1000}
    assert parse_body(json.dumps({"a": 'say "[[[" \\ and \\"'})) == {"a": 'say "[[[" \\ and \\"'}


def test_size_at_the_limit_is_read_and_one_byte_more_is_413():
    body = json.dumps({"a": ""})
    at_limit = body[:-2] + "x" * (MAX_BODY_BYTES - len(body)) + '"}'
    assert len(at_limit.encode()) == MAX_BODY_BYTES
    assert parse_body(at_limit)["a"].startswith("x")
    with pytest.raises(PayloadTooLarge):
        parse_body(at_limit[:-2] + 'x"}')


@pytest.mark.parametrize(
    "number", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1e-131", "-3e-264", "1e126", "1" + "0" * 38]
)
def test_numbers_that_are_not_finite_or_not_storable_are_refused(number):
    with pytest.raises(ValidationFailed):
        parse_body(f'{{"v": {number}}}')


def test_the_extremes_dynamodb_holds_are_read():
    nines = "9" * 38
    body = parse_body(f'{{"a": 9.9e125, "b": -1e-130, "c": 0.0, "d": 0, "n": {nines}, "m": -{nines}}}')
    assert body == {"a": 9.9e125, "b": -1e-130, "c": 0.0, "d": 0, "n": int(nines), "m": -int(nines)}


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ('{"name": "\\ud800"}', "name"),
        ('{"a": {"b": ["ok", "x\\udfff"]}}', "a.b.1"),
        ('{"\\ud83d": 1}', "?"),
    ],
)
def test_lone_surrogates_are_refused_naming_the_field(raw, field):
    with pytest.raises(ValidationFailed) as exc:
        parse_body(raw)
    assert fields(exc) == [field]


def test_a_surrogate_pair_is_a_character_and_is_read():
    assert parse_body('{"name": "\\ud83d\\ude00"}') == {"name": "😀"}


def test_bodies_must_be_utf8_json():
    for raw in (b"", None, b"\xff\xfe", b"{", b"{'a': 1}"):
        with pytest.raises(ValidationFailed):
            parse_body(raw)


def test_query_parameters_must_be_text():
    assert check_query({"town": "桂城街道"}) == {"town": "桂城街道"}
    with pytest.raises(ValidationFailed) as exc:
        check_query({"town": "\ud800"})
    assert fields(exc) == ["town"]


class Sample(BaseModel):
    name: Name
    text: Text = ""
    number: Number = 0.0


@pytest.mark.parametrize(
    "bad", ["\x00", "\x1f", "\x7f", "\x85", "\u200b", "\u200f", "\u202e", "\u2066", "\ufeff", "\n"]
)
def test_names_refuse_invisible_characters(bad):
    with pytest.raises(ValueError):
        Sample(name=f"环保{bad}局")


def test_names_keep_every_visible_character():
    assert Sample(name="欧阳·区 环保局 (No.1) —「测」").name == "欧阳·区 环保局 (No.1) —「测」"


def test_text_allows_line_breaks_and_tabs_but_not_controls():
    assert Sample(name="a", text="第一行\n第二行\t完").text == "第一行\n第二行\t完"
    with pytest.raises(ValueError):
        Sample(name="a", text="a\x00b")


@pytest.mark.parametrize("bad", [True, False, "1.5", float("nan"), float("inf")])
def test_numbers_are_json_numbers_only(bad):
    with pytest.raises(ValueError):
        Sample(name="a", number=bad)


def test_integers_are_numbers():
    assert Sample(name="a", number=3).number == 3.0
