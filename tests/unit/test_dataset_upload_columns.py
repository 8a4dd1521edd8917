"""A CSV uploaded into a dataset: its header against the schema, its cells to the fields' types."""

import pytest

from citybrain.exchange.loads import DatasetColumns
from citybrain.exchange.schema import DatasetSchema, RecordValidator
from citybrain.files.decoding import LineReader, UnreadableFile
from citybrain.files.tables import rows_of

SCHEMA = DatasetSchema.model_validate(
    [
        {"name": "code", "type": "string"},
        {"name": "staff", "type": "integer"},
        {"name": "capital", "type": "number"},
        {"name": "listed", "type": "boolean"},
        {"name": "founded", "type": "date"},
        {"name": "checked_at", "type": "datetime"},
    ]
)


def rows(text: str, encoding="utf-8"):
    header = lambda cells, line: DatasetColumns(SCHEMA, ["code"], cells, line)  # noqa: E731
    return list(rows_of(LineReader([text.encode(encoding)]), "csv", header)[1])


def test_cells_become_the_fields_types_and_empty_cells_are_absent():
    found = rows(
        "staff,code,capital,listed,founded,checked_at\n"
        "12,91440605MA4UABC123,1.5e6,true,2019-03-01,2026-11-27T08:00:00+08:00\n"
        ",企业二,,0,,1795819419000\n"
    )
    assert [r.line for r in found] == [2, 3]
    assert found[0].candidate == {
        "staff": 12,
        "code": "91440605MA4UABC123",
        "capital": 1500000.0,
        "listed": True,
        "founded": "2019-03-01",
        "checked_at": "2026-11-27T08:00:00+08:00",
    }
    assert found[1].candidate == {"code": "企业二", "listed": False, "checked_at": 1795819419000}


def test_a_cell_of_the_wrong_type_is_named_by_the_schema_validation():
    found = rows("code,staff,capital\n甲,十二,很多\n", encoding="gb18030")
    clean, errors = RecordValidator(SCHEMA, ["code"]).validate(found[0].candidate, "")
    assert clean is None
    assert errors == [
        {"field": "staff", "message": "expected an integer"},
        {"field": "capital", "message": "expected a finite number"},
    ]


def test_extra_cells_are_a_row_error():
    assert rows("code,staff\n甲,1,2\n")[0].errors == [{"field": "line", "message": "3 cells; the header has 2 columns"}]


@pytest.mark.parametrize(
    "header, problem",
    [
        ("code,工号", "unknown column '工号'"),
        ("code,staff,staff", "column 'staff' appears twice"),
        ("staff,capital", "no column for the primary key code"),
        ("code,,staff", "column 2 has no name"),
    ],
)
def test_a_header_that_does_not_fit_the_schema_makes_the_file_unreadable(header, problem):
    with pytest.raises(UnreadableFile, match=problem):
        rows(header + "\n1,2,3\n")
