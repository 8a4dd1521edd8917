"""Bytes -> numbered text lines: encodings, chunk edges, broken bytes, binary files."""

import codecs

import pytest

from citybrain.files.decoding import MAX_LINE_BYTES, SNIFF_BYTES, LineReader, UnreadableFile, detect_encoding

TEXT = "device_id,observed_at,pm25\n桂城-aq-1,2026-11-27T08:00:00+08:00,35\n大沥 站,2026-11-27T09:00:00+08:00,12.5\n"


def lines(data: bytes, size: int | None = None) -> tuple[list[tuple], LineReader]:
    pieces = [data] if size is None else [data[i : i + size] for i in range(0, len(data), size)]
    reader = LineReader(pieces)
    return list(reader), reader


def texts(found):
    return [text for _, text, _ in found]


@pytest.mark.parametrize("encoding, name", [("utf-8", "UTF-8"), ("gb18030", "GB18030/GBK"), ("gbk", "GB18030/GBK")])
def test_utf8_and_chinese_excel_encodings_read_the_same_text(encoding, name):
    found, reader = lines(TEXT.encode(encoding))
    assert texts(found) == TEXT.splitlines()
    assert [n for n, _, _ in found] == [1, 2, 3]
    assert all(problem is None for _, _, problem in found)
    assert reader.encoding_name == name and reader.lines == 3


def test_utf8_bom_is_recognised_and_stripped():
    found, reader = lines(codecs.BOM_UTF8 + TEXT.encode())
    assert found[0][1] == "device_id,observed_at,pm25"
    assert reader.encoding_name == "UTF-8 with BOM"


def test_bom_split_across_the_first_chunks_is_still_a_bom():
    found, reader = lines(codecs.BOM_UTF8 + TEXT.encode(), size=1)
    assert found[0][1] == "device_id,observed_at,pm25" and reader.bom


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
@pytest.mark.parametrize("size", [1, 2, 3, 5, 7])
def test_multibyte_characters_cut_by_chunk_edges_decode_whole(encoding, size):
    # Past the first SNIFF_BYTES, where chunks are passed on as they come.
    data = ("device_id,observed_at,pm25\n" + "桂城街道-站点,1,2\n" * 1000).encode(encoding)
    assert len(data) > 2 * SNIFF_BYTES
    found, reader = lines(data, size)
    assert texts(found)[1:] == ["桂城街道-站点,1,2"] * 1000
    assert all(problem is None for _, _, problem in found)
    assert reader.encoding == {"utf-8": "utf-8", "gb18030": "gb18030"}[encoding]


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_a_chunk_edge_inside_the_first_chinese_character_does_not_mislead_detection(encoding):
    data = ("device_id,observed_at,pm25\n" + "aq-1,1,2\n" * 2000 + "桂城,1,2\n" * 3).encode(encoding)
    cut = data.index("桂".encode(encoding)) + 1  # the chunk ends one byte into 桂
    assert cut > SNIFF_BYTES
    reader = LineReader([data[:cut], data[cut:]])
    assert texts(list(reader))[-3:] == ["桂城,1,2"] * 3 and reader.encoding == encoding


def test_gbk_file_that_starts_with_thousands_of_ascii_rows_is_still_read_as_gbk():
    data = ("device_id,observed_at,pm25\n" + "aq-1,1,2\n" * 5000 + "aq-1,1,2,桂城\n").encode("gbk")
    found, reader = lines(data, size=4096)
    assert found[-1][1] == "aq-1,1,2,桂城" and reader.encoding == "gb18030"


def test_detect_encoding_by_vote_of_the_non_ascii_lines():
    utf8, gbk = "桂城街道 空气站".encode(), "桂城街道 空气站".encode("gbk")
    assert detect_encoding([b"ascii", utf8]) == "utf-8"
    assert detect_encoding([b"ascii", gbk, gbk]) == "gb18030"
    assert detect_encoding([utf8, b"broken \xff", utf8]) == "utf-8"  # one corrupt line does not make it GBK
    assert detect_encoding([b"plain"]) == "utf-8"


def test_invalid_utf8_late_in_a_utf8_file_rejects_that_line_only():
    data = TEXT.encode() + b"aq-9,2026-11-27T10:00:00+08:00,\xff\xfe1\n" + "桂城-aq-1,1,2\n".encode()
    found, _ = lines(data, size=16)
    assert [n for n, _, p in found if p] == [4]
    problem = found[3][2]
    assert "not valid UTF-8" in problem and "0xFF" in problem and "byte 32" in problem
    assert found[4] == (5, "桂城-aq-1,1,2", None)


def test_crlf_line_ends_and_a_last_line_without_newline():
    found, reader = lines(b"a,b\r\nc,d\r\ne,f", size=3)
    assert texts(found) == ["a,b", "c,d", "e,f"] and reader.lines == 3


def test_blank_lines_keep_their_numbers():
    found, _ = lines(b"a\n\n\nb\n")
    assert [(n, t) for n, t, _ in found] == [(1, "a"), (2, ""), (3, ""), (4, "b")]


def test_an_over_long_line_is_one_problem_and_memory_is_not_spent_on_it():
    data = b"a,b\n" + b"x" * (MAX_LINE_BYTES * 3) + b"\nc,d\n"
    found, _ = lines(data, size=65536)
    assert [(n, bool(p)) for n, _, p in found] == [(1, False), (2, True), (3, False)]
    assert found[1][1] == "" and "longer than" in found[1][2] and found[2][1] == "c,d"


@pytest.mark.parametrize(
    "head, reason",
    [
        (codecs.BOM_UTF16_LE + "device_id".encode("utf-16-le"), "UTF-16"),
        (b"PK\x03\x04\x14\x00\x06\x00", "Excel workbook (.xlsx)"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", ".xls"),
        (b"\x1f\x8b\x08\x00", "gzip"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
    ],
)
def test_binary_and_unsupported_files_are_refused_with_a_reason(head, reason):
    with pytest.raises(UnreadableFile, match=reason.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        lines(head + b"\x00" * 100)
