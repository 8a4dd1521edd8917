"""Bytes of an uploaded file -> numbered text lines, decoding as it goes.

UTF-8, UTF-8 with BOM or GB18030 (a superset of GBK and GB2312: what Excel in
China writes), decided by vote of whole lines; files that are not text at all
(UTF-16, workbooks, archives, NUL bytes) are refused with a reason a person can
act on. Nothing here holds more than one chunk and one line.
"""

from __future__ import annotations

import codecs
import itertools
from collections.abc import Iterable, Iterator

MAX_LINE_BYTES = 1 << 20  # a longer "line" is no record; it must not grow memory
SNIFF_BYTES = 8192  # what the file-type checks look at


class UnreadableFile(ValueError):
    """The file as a whole cannot be read (empty, binary, no header…): the upload fails with this reason."""


_SIGNATURES = (
    (codecs.BOM_UTF32_LE, "UTF-32 text; save the file as CSV UTF-8"),
    (codecs.BOM_UTF32_BE, "UTF-32 text; save the file as CSV UTF-8"),
    (codecs.BOM_UTF16_LE, 'UTF-16 text (Excel\'s "Unicode text"); save the file as CSV UTF-8'),
    (codecs.BOM_UTF16_BE, "UTF-16 text; save the file as CSV UTF-8"),
    (b"PK\x03\x04", "a ZIP archive or Excel workbook (.xlsx), not text; export the sheet as CSV UTF-8"),
    (b"\xd0\xcf\x11\xe0", "an Excel 97-2003 workbook (.xls), not text; export the sheet as CSV UTF-8"),
    (b"\x1f\x8b", "a gzip-compressed file; upload it uncompressed"),
)


_ENCODING_NAMES = {"utf-8": "UTF-8", "gb18030": "GB18030/GBK"}


def detect_encoding(lines: Iterable[bytes]) -> str:
    """UTF-8 or GB18030 (a superset of GBK and GB2312), by vote of whole lines.

    Only complete lines are judged, so no character is ever cut by a chunk edge.
    Text in GBK is almost never valid UTF-8 by chance, so each non-ASCII line
    that decodes as UTF-8 is strong evidence; one corrupt line among good UTF-8
    lines does not turn the file into GBK."""
    utf8 = other = 0
    for raw in lines:
        if raw.isascii():
            continue
        try:
            raw.decode("utf-8")
            utf8 += 1
        except UnicodeDecodeError:
            other += 1
        if utf8 + other >= 20:
            break
    return "utf-8" if utf8 >= other else "gb18030"


def _head_first(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Re-chunk so the first chunk holds SNIFF_BYTES (or the whole file): the BOM and
    file-type checks must not depend on how the stream happened to be cut."""
    iterator = iter(chunks)
    head = b""
    for chunk in iterator:
        head += chunk
        if len(head) >= SNIFF_BYTES:
            break
    if head:
        yield head
    yield from iterator


Line = tuple[int, str, "str | None"]  # (line number from 1, text without its end, problem or None)


class LineReader:
    """Numbered text lines out of a stream of bytes chunks, decoding as it goes.

    Lines are cut on the byte b"\\n" before decoding: neither UTF-8 nor GB18030 ever
    uses that byte inside a multibyte character, so a character split across two
    chunks simply waits in the carried-over partial line. Decoding line by line
    turns a broken byte sequence late in the file into one rejected line with its
    number, not a failed file. The encoding is decided at the first line that is
    not plain ASCII (a GBK file may start with thousands of ASCII rows), from
    that line and those that follow it in the same chunk."""

    def __init__(self, chunks: Iterable[bytes]):
        self._chunks = chunks
        self.encoding: str | None = None  # "utf-8", "gb18030"; None while everything was ASCII
        self.bom = False
        self.lines = 0

    @property
    def encoding_name(self) -> str:
        if self.bom:
            return "UTF-8 with BOM"
        return _ENCODING_NAMES.get(self.encoding or "", "ASCII")

    def __iter__(self) -> Iterator[Line]:
        pending = b""  # the partial line carried to the next chunk
        skipping = False  # inside an over-long line: drop bytes up to its end
        number = 0
        first = True
        for chunk in _head_first(self._chunks):
            if first:
                chunk = self._check_start(chunk)
                first = False
            if skipping:
                end = chunk.find(b"\n")
                if end < 0:
                    continue
                number += 1
                yield number, "", f"line longer than {MAX_LINE_BYTES // 1024} KB"
                chunk, skipping = chunk[end + 1 :], False
            pieces = (pending + chunk).split(b"\n") if pending else chunk.split(b"\n")
            pending = pieces.pop()
            for index, raw in enumerate(pieces):
                number += 1
                yield self._decode(number, raw, pieces, index)
            if len(pending) > MAX_LINE_BYTES:
                pending, skipping = b"", True
        if skipping:
            number += 1
            yield number, "", f"line longer than {MAX_LINE_BYTES // 1024} KB"
        elif pending:
            number += 1
            yield self._decode(number, pending, [pending], 0)
        self.lines = number

    def _check_start(self, head: bytes) -> bytes:
        for signature, reason in _SIGNATURES:
            if head.startswith(signature):
                raise UnreadableFile(f"the file is {reason}")
        if head.startswith(codecs.BOM_UTF8):
            self.bom, self.encoding = True, "utf-8"
            head = head[len(codecs.BOM_UTF8) :]
        if b"\x00" in head[:SNIFF_BYTES]:
            raise UnreadableFile("the file is binary (it contains NUL bytes), not CSV or JSON Lines text")
        return head

    def _decode(self, number: int, raw: bytes, pieces: list[bytes], index: int) -> Line:
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        if len(raw) > MAX_LINE_BYTES:
            return number, "", f"line longer than {MAX_LINE_BYTES // 1024} KB"
        encoding = self.encoding
        if encoding is None:
            if raw.isascii():
                return number, raw.decode("ascii"), None
            # Evidence: this line and the complete lines after it in the chunk.
            encoding = self.encoding = detect_encoding(itertools.islice(pieces, index, None))
        try:
            return number, raw.decode(encoding), None
        except UnicodeDecodeError as exc:
            name = _ENCODING_NAMES[encoding]
            return (
                number,
                raw.decode(encoding, errors="replace"),
                f"not valid {name} text (byte 0x{raw[exc.start]:02X} at byte {exc.start + 1} of the line); "
                f"the file was read as {name}",
            )
