"""Reading an upload without AWS: rows, line numbers, validation, blocks, failures."""

import json

import pytest

from citybrain.core import timeutil
from citybrain.files.decoding import MAX_LINE_BYTES, UnreadableFile
from citybrain.sensing.reading_files import read_upload
from citybrain.uploads.models import BLOCK_ROWS, SAMPLE_ERRORS

NOW = timeutil.parse_instant("2026-11-27T12:00:00+08:00")
DEVICES = {
    "aq-1": {"id": "aq-1", "type": "air_quality", "domain": "environment", "town": "桂城街道", "owner": "env"},
    "tf-1": {"id": "tf-1", "type": "traffic_flow", "domain": "traffic", "town": "大沥镇", "owner": "transport"},
    "nz-1": {"id": "nz-1", "type": "noise", "domain": "environment", "town": "里水镇", "owner": "env"},
}


class Sink:
    """Collects what read_upload hands to its ports."""

    def __init__(self):
        self.forwarded, self.rejections, self.lookups = [], [], []

    def get_devices(self, ids):
        self.lookups.append(list(ids))
        return {d: DEVICES[d] for d in ids if d in DEVICES}

    def read(self, data: bytes | str, filename="readings.csv", department="env", encoding="utf-8", chunk=None):
        raw = data.encode(encoding) if isinstance(data, str) else data
        chunks = [raw] if chunk is None else [raw[i : i + chunk] for i in range(0, len(raw), chunk)]
        return read_upload(
            chunks,
            filename,
            department_id=department,
            get_devices=self.get_devices,
            forward=self.forwarded.append,
            record_rejections=self.rejections.append,
            now_ms=NOW,
        )

    @property
    def readings(self):
        return [r for block in self.forwarded for r in block]

    @property
    def rejected(self):
        return {r["position"]: r for block in self.rejections for r in block}


def test_csv_rows_become_readings_with_empty_cells_left_out():
    sink = Sink()
    report = sink.read(
        "device_id,observed_at,pm25,pm10,intensity,congested\n"
        "aq-1,2026-11-27T08:00:00+08:00,35,,,\n"
        "tf-1,2026-11-27 08:05:00,,,1200,TRUE\n"
        "aq-1,1795738200000,12.5,40,,\n",
        department=None,
    )
    assert (report.accepted, report.rejected, report.format, report.lines) == (3, 0, "csv", 4)
    first, second, third = sink.readings
    assert first.values == {"pm25": 35.0} and isinstance(first.values["pm25"], float)
    assert second.values == {"intensity": 1200.0, "congested": True}
    assert second.t == timeutil.parse_instant("2026-11-27T08:05:00+08:00")  # naive = Asia/Shanghai
    assert third.t == 1795738200000 and third.values == {"pm25": 12.5, "pm10": 40.0}


def test_line_numbers_count_the_header_as_line_one_and_blank_lines_too():
    sink = Sink()
    report = sink.read(
        "device_id,observed_at,pm25\n"
        "aq-1,2026-11-27T08:00:00+08:00,35\n"
        "\n"
        "aq-1,2026-11-27T08:10:00+08:00,-4\n"
        "aq-1,not a time,5\n"
    )
    assert (report.accepted, report.rejected) == (1, 2)
    assert sorted(sink.rejected) == [4, 5]
    assert sink.rejected[4]["raw"] == "aq-1,2026-11-27T08:10:00+08:00,-4"
    assert sink.rejected[4]["errors"][0]["field"] == "values.pm25"
    assert sink.rejected[5]["errors"][0]["field"] == "observed_at"
    assert [e["line"] for e in report.errors] == [4, 5]


def test_every_problem_of_a_row_is_reported_at_once():
    sink = Sink()
    sink.read(
        "device_id,observed_at,pm25,pm10,congested\n"
        "aq-1,2026-11-27T08:00:00+08:00,abc,-3,\n"
        "tf-1,2026-11-27T08:00:00+08:00,,,maybe\n"
        "aq-1,2026-11-27T08:00:00+08:00,,,\n",
        department=None,
    )
    fields = {line: sorted(e["field"] for e in r["errors"]) for line, r in sink.rejected.items()}
    assert fields == {2: ["values.pm10", "values.pm25"], 3: ["values.congested"], 4: ["values"]}
    assert "not a number: 'abc'" in sink.rejected[2]["errors"][1]["message"] + sink.rejected[2]["errors"][0]["message"]
    assert "every value cell is empty" in sink.rejected[4]["errors"][0]["message"]


def test_devices_of_other_departments_are_rejected_but_the_admin_may_send_for_any():
    data = (
        "device_id,observed_at,pm25,intensity\naq-1,2026-11-27T08:00:00+08:00,3,\ntf-1,2026-11-27T08:00:00+08:00,,9\n"
    )
    sink = Sink()
    report = sink.read(data, department="env")
    assert (report.accepted, report.rejected) == (1, 1)
    assert sink.rejected[3]["errors"] == [
        {"field": "device_id", "message": "no device tf-1 registered by your department"}
    ]
    assert Sink().read(data, department=None).accepted == 2


def test_gbk_file_with_chinese_names_and_a_quoted_cell():
    sink = Sink()
    report = sink.read(
        "device_id,observed_at,LAeq,LAmax\r\n"
        'nz-1,"2026-11-27T08:00:00+08:00",55.5,70\r\n'
        "里水-未登记,2026-11-27T08:00:00+08:00,50,60\r\n",
        encoding="gbk",
    )
    assert (report.accepted, report.rejected, report.encoding) == (1, 1, "GB18030/GBK")
    assert sink.rejected[3]["raw"] == "里水-未登记,2026-11-27T08:00:00+08:00,50,60"


def test_header_names_are_matched_whatever_their_case_and_order():
    sink = Sink()
    report = sink.read("observed_at , PM25,device_id\n2026-11-27T08:00:00+08:00,7,aq-1\n")
    assert report.accepted == 1 and sink.readings[0].values == {"pm25": 7.0}


@pytest.mark.parametrize(
    "data, reason",
    [
        ("", "empty"),
        ("\n\n  \n", "empty"),
        ("device_id,observed_at,pm25\n", "no rows"),
        ("设备编号,观测时间,PM2.5\naq-1,1,2\n", "line 1 is not a CSV header"),
        ("\ndevice_id;observed_at;pm25\naq-1;1;2\n", "line 2 is not a CSV header"),
        ("device_id,observed_at,pm25,备注\naq-1,1,2,x\n", "unknown column '备注'"),
        ("device_id,observed_at,pm25,PM25\n", "appears twice"),
    ],
)
def test_files_that_cannot_be_read_as_a_whole_fail_with_a_reason(data, reason):
    sink = Sink()
    with pytest.raises(UnreadableFile, match=reason):
        sink.read(data)
    assert sink.forwarded == [] and sink.rejections == []


def test_json_lines_rows_are_read_like_the_http_api_body():
    sink = Sink()
    lines = [
        {"device_id": "aq-1", "observed_at": "2026-11-27T08:00:00+08:00", "values": {"pm25": 35}},
        {"device_id": "aq-1", "observed_at": 1795738200000, "values": {"pm25": 36, "bogus": 1}},
    ]
    text = json.dumps(lines[0]) + "\n\n" + json.dumps(lines[1], ensure_ascii=False) + "\n{broken\n[1]\n"
    report = sink.read(text, filename="网关 导出.jsonl")
    assert (report.format, report.accepted, report.rejected) == ("jsonl", 1, 3)
    assert sorted(sink.rejected) == [3, 4, 5]
    assert sink.rejected[3]["errors"][0]["field"] == "values.bogus"
    assert "not valid JSON" in sink.rejected[4]["errors"][0]["message"]
    assert sink.rejected[5]["raw"] == "[1]"


def test_a_jsonl_file_whose_first_line_is_no_json_object_fails():
    with pytest.raises(UnreadableFile, match="not JSON Lines"):
        Sink().read("device_id,observed_at,pm25\naq-1,1,2\n", filename="x.ndjson")


@pytest.mark.parametrize(
    "text, kind",
    [
        ('\n{"device_id": "aq-1", "observed_at": "2026-11-27T08:00:00+08:00", "values": {"pm25": 1}}\n', "jsonl"),
        ("device_id,observed_at,pm25\naq-1,2026-11-27T08:00:00+08:00,1\n", "csv"),
    ],
)
def test_a_txt_file_is_read_by_its_content(text, kind):
    report = Sink().read(text, filename="export.TXT")
    assert (report.format, report.accepted) == (kind, 1)


def test_an_undecodable_line_is_rejected_with_its_reason_and_the_rest_is_read():
    sink = Sink()
    data = (
        "device_id,observed_at,pm25\n"
        "桂城-站,2026-11-27T08:00:00+08:00,1\n"  # UTF-8 Chinese: the file is UTF-8
        "aq-1,2026-11-27T08:00:00+08:00,1\n"
    ).encode()
    data += b"aq-1,2026-11-27T08:01:00+08:00,\xff\n"
    data += b"aq-1,2026-11-27T08:02:00+08:00,3\n"
    report = sink.read(data)
    assert (report.accepted, report.rejected, report.encoding) == (2, 2, "UTF-8")
    assert sink.rejected[2]["errors"][0]["field"] == "device_id"
    assert sink.rejected[4]["errors"] == [
        {
            "field": "line",
            "message": "not valid UTF-8 text (byte 0xFF at byte 32 of the line); the file was read as UTF-8",
        }
    ]


@pytest.mark.parametrize("filename", ["readings.csv", "readings.jsonl"])
def test_an_over_long_line_is_rejected_at_its_number(filename):
    good = (
        "device_id,observed_at,pm25\naq-1,2026-11-27T08:00:00+08:00,1\n"
        if filename.endswith(".csv")
        else '{"device_id": "aq-1", "observed_at": "2026-11-27T08:00:00+08:00", "values": {"pm25": 1}}\n'
    )
    sink = Sink()
    report = sink.read(good + "x" * (MAX_LINE_BYTES + 10) + "\n", filename=filename, chunk=65536)
    (line,) = sink.rejected
    assert (report.accepted, report.rejected) == (1, 1) and line == good.count("\n") + 1
    assert "longer than" in sink.rejected[line]["errors"][0]["message"]


def test_a_stray_quote_costs_its_lines_not_the_file():
    sink = Sink()
    report = sink.read(
        "device_id,observed_at,pm25\n"
        'aq-1,2026-11-27T08:00:00+08:00,"1\n'
        'aq-1,2026-11-27T08:01:00+08:00,2"\n'
        "aq-1,2026-11-27T08:02:00+08:00,3\n"
    )
    assert (report.accepted, report.rejected) == (1, 1)
    assert sorted(sink.rejected) == [2]  # the row that started on line 2 swallowed line 3


def test_blocks_bound_forwarding_lookups_and_kept_errors():
    sink = Sink()
    rows = ["device_id,observed_at,pm25"]
    for i in range(BLOCK_ROWS * 2 + 10):
        device = "aq-1" if i % 2 else f"ghost-{i % 7}"
        rows.append(f"{device},{NOW - 1000 * i},{i % 500}")
    report = sink.read("\n".join(rows) + "\n", chunk=4096)
    assert report.accepted == BLOCK_ROWS + 5 and report.rejected == BLOCK_ROWS + 5
    assert len(sink.forwarded) == 3 and max(len(b) for b in sink.forwarded) <= BLOCK_ROWS
    assert len(report.errors) == SAMPLE_ERRORS and report.errors[0]["line"] == 2
    # each device id is asked about once, however often it appears
    asked = [d for lookup in sink.lookups for d in lookup]
    assert sorted(asked) == sorted({"aq-1"} | {f"ghost-{k}" for k in range(7)})
