"""read_dataset: formats by extension, and a readable DatasetReadError for every unreadable drop."""

from __future__ import annotations

import codecs
import gzip
import io
import random
from pathlib import Path
from typing import BinaryIO, cast

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sluice.data import DatasetReadError, Format, detect_kind, read_dataset
from sluice.data.textstream import TextGuard, read_into

DATA = Path(__file__).resolve().parents[2] / "layers/sluice/python/sluice/demo/data"
DIABETES = (DATA / "diabetes.csv").read_bytes()


def _read_error(body: bytes, key: str, **options: int) -> str:
    with pytest.raises(DatasetReadError) as caught:
        read_dataset(body, key, **options)
    return str(caught.value)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("incoming/m/a.csv", Format.CSV),
        ("incoming/m/A.CSV.GZ", Format.CSV),
        ("x.tsv", Format.TSV),
        ("x.parquet", Format.PARQUET),
        ("x.jsonl", Format.JSONL),
        ("x.ndjson.gz", Format.JSONL),
    ],
)
def test_format_comes_from_the_extension(key: str, expected: Format) -> None:
    # GIVEN a key / WHEN its kind is detected / THEN the format follows the extension
    assert detect_kind(key).format is expected
    assert detect_kind(key).gzipped == key.lower().endswith(".gz")


def test_shipped_csv_reads_every_column_as_text() -> None:
    # GIVEN the shipped diabetes CSV / WHEN read / THEN all columns are strings (the contract types them)
    table = read_dataset(DIABETES, "incoming/diabetes/diabetes.csv")
    assert table.num_rows == 442
    assert table.column_names[:2] == ["age", "sex"]
    assert all(pa.types.is_string(column.type) for column in table.columns)


def test_unsupported_extension_is_refused() -> None:
    # GIVEN an Excel name / WHEN read / THEN the reason lists the supported extensions
    message = _read_error(DIABETES, "incoming/diabetes/data.xlsx")
    assert "unsupported file type 'data.xlsx'" in message and ".csv.gz" in message


@pytest.mark.parametrize("body", [b"", b"  \n\r\n\t", codecs.BOM_UTF8])
def test_empty_file_is_refused(body: bytes) -> None:
    # GIVEN nothing but whitespace or a BOM / WHEN read / THEN "empty"
    assert "empty" in _read_error(body, "d.csv")


def test_binary_noise_is_refused() -> None:
    # GIVEN random bytes named .csv (seeded: a NUL byte comes before any invalid UTF-8) / WHEN read / THEN binary
    noise = random.Random(7).randbytes(4096)
    message = _read_error(noise, "d.csv")
    assert message == f"expected text but found binary content (a NUL byte at offset {noise.index(0)})"


def test_nul_bytes_are_binary() -> None:
    # GIVEN ASCII text with a NUL byte / WHEN read / THEN the offset is reported
    assert "NUL byte at offset 6" in _read_error(b"a,b\n1,\x002\n", "d.csv")


def test_latin1_text_is_refused_with_its_offset() -> None:
    # GIVEN a latin-1 encoded value / WHEN read / THEN not UTF-8, with the offending byte and offset
    body = "age,sex\n1,mâle\n".encode("latin-1")
    message = _read_error(body, "d.csv")
    assert "not valid UTF-8" in message and "0xe2" in message and "offset 11" in message


@pytest.mark.parametrize(
    ("body", "hint"),
    [
        (gzip.compress(DIABETES), "gzip"),
        (b"PAR1" + b"\x00" * 20, "Parquet"),
        ("age,sex\n".encode("utf-16"), "UTF-16"),
    ],
)
def test_misnamed_content_gets_a_hint(body: bytes, hint: str) -> None:
    # GIVEN gzip, Parquet or UTF-16 bytes named .csv / WHEN read / THEN the reason names what it looks like
    assert hint in _read_error(body, "d.csv")


def test_utf8_bom_is_stripped() -> None:
    # GIVEN a CSV saved with a BOM (as Excel does) / WHEN read / THEN the first column name is clean
    table = read_dataset(codecs.BOM_UTF8 + DIABETES, "d.csv")
    assert table.column_names[0] == "age"


def test_duplicate_column_names_are_refused() -> None:
    # GIVEN two columns called "bmi" / WHEN read / THEN refused, naming the column
    assert "duplicate column names: 'bmi'" in _read_error(b"bmi,sex,bmi\n1,male,2\n", "d.csv")


def test_ragged_rows_are_refused_with_line_numbers() -> None:
    # GIVEN rows with too few and too many fields / WHEN read / THEN the count and the lines are reported
    message = _read_error(b"a,b,c\n1,2,3\n4,5\n6,7,8,9\n", "d.csv")
    assert message.startswith("2 row(s) do not have the 3 fields of the header")
    assert "line 3 has 2" in message and "line 4 has 4" in message


def test_ragged_rows_are_reported_at_their_lines_past_blank_lines_and_quoted_newlines() -> None:
    # GIVEN blank lines and a record spanning two lines before the bad rows (lines 5 and 8)
    body = b'a,b\n1,2\n\n\n3\n"x\ny",4\n5,6,7\n'
    # WHEN read / THEN each is named at the line it is on
    message = _read_error(body, "d.csv")
    assert "line 5 has 1 ('3')" in message and "line 8 has 3 ('5,6,7')" in message


def test_ragged_row_deep_in_a_big_file_is_reported_at_its_line() -> None:
    # GIVEN a file of several blocks with one short row near its end
    rows = [b"%d,%d,%d" % (i, i + 1, i + 2) for i in range(400_000)]
    rows[399_990] = b"1,2"
    body = b"a,b,c\n" + b"\n".join(rows) + b"\n"
    # WHEN read / THEN the row's line in the file (header = line 1) is named
    message = _read_error(body, "d.csv")
    assert message.startswith("1 row(s) do not have the 3 fields of the header")
    assert "line 399992 has 2" in message


def test_a_record_longer_than_a_block_is_read_whole() -> None:
    # GIVEN a 3 MB value (longer than a 2 MB block, shorter than the row limit) among ordinary rows
    long_value = b"x" * 3_000_000
    body = b"id,text\n" + b"".join(b"%d,short\n" % i for i in range(50_000)) + b"50000," + long_value + b"\n1,z\n"
    # WHEN read / THEN every record is there and the long value is intact
    table = read_dataset(body, "d.csv")
    assert table.num_rows == 50_002
    assert table.column("text")[50_000].as_py() == long_value.decode()


def test_quoted_fields_may_hold_delimiters_and_newlines() -> None:
    # GIVEN quoted cells with a comma and a newline / WHEN read / THEN they stay one value each
    table = read_dataset(b'name,note\n"a,b","line1\nline2"\n', "d.csv")
    assert table.to_pylist() == [{"name": "a,b", "note": "line1\nline2"}]


def test_tsv_reads_tabs() -> None:
    # GIVEN the same data separated by tabs / WHEN read as .tsv / THEN the same table
    tsv = DIABETES.replace(b",", b"\t")
    assert read_dataset(tsv, "d.tsv").equals(read_dataset(DIABETES, "d.csv"))


def test_gzip_reads_like_plain() -> None:
    # GIVEN a gzip of the CSV, in two members / WHEN read as .csv.gz / THEN the same table as the plain file
    half = len(DIABETES) // 2
    body = gzip.compress(DIABETES[:half]) + gzip.compress(DIABETES[half:])
    assert read_dataset(body, "d.csv.gz").equals(read_dataset(DIABETES, "d.csv"))


def test_gzip_bomb_stops_at_the_limit() -> None:
    # GIVEN 50 MB of zeros compressed to ~50 KB / WHEN read with a 1 MB limit / THEN refused, not inflated
    bomb = gzip.compress(b"0" * 50_000_000)
    message = _read_error(bomb, "d.csv.gz", max_decompressed_bytes=1_000_000)
    assert "beyond the limit of 1000000 bytes" in message


@pytest.mark.parametrize(
    ("body", "reason"),
    [(b"a,b\n1,2\n", "not gzip-compressed"), (gzip.compress(DIABETES)[:200], "truncated")],
)
def test_bad_gzip_is_refused(body: bytes, reason: str) -> None:
    # GIVEN plain or cut-off bytes named .csv.gz / WHEN read / THEN a reason
    assert reason in _read_error(body, "d.csv.gz")


def test_not_a_parquet_file_is_refused() -> None:
    # GIVEN CSV bytes named .parquet / WHEN read / THEN refused as Parquet
    assert "not a readable Parquet file" in _read_error(DIABETES, "d.parquet")


def test_parquet_keeps_native_types() -> None:
    # GIVEN a typed Parquet file / WHEN read / THEN its types survive
    sink = io.BytesIO()
    pq.write_table(pa.table({"age": [1.5, 2.0], "sex": ["male", "female"]}), sink)
    table = read_dataset(sink.getvalue(), "d.parquet")
    assert table.schema.types == [pa.float64(), pa.string()]


def test_json_lines_with_disagreeing_types_keep_text() -> None:
    # GIVEN JSON Lines where one number is "abc" / WHEN read / THEN the column is text, not a crash
    body = b'{"age": 50, "sex": "male"}\n\n{"age": "abc", "sex": "female"}\n'
    table = read_dataset(body, "d.jsonl")
    assert table.column("age").to_pylist() == ["50", "abc"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"a": 1}\n{"a": 2\n', "line 2 is not valid JSON"),
        (b'{"a": 1}\n[1, 2]\n', "line 2 is a JSON list"),
        (b'{"a": 1, "a": 2}\n', "duplicate keys 'a'"),
    ],
)
def test_bad_json_lines_are_refused(body: bytes, reason: str) -> None:
    # GIVEN malformed JSON Lines / WHEN read / THEN the line and the reason
    assert reason in _read_error(body, "d.ndjson")


def test_the_text_guard_never_hands_out_more_than_asked() -> None:
    # GIVEN a guard over 100 bytes, read first into a buffer of 10 (its start is checked in one piece)
    guard = TextGuard(io.BytesIO(codecs.BOM_UTF8 + b"x" * 100))
    buffer = bytearray(10)
    # WHEN read into, then read to the end / THEN 10 bytes fill the buffer and the other 90 follow, BOM gone
    assert guard.readinto(buffer) == 10 and len(buffer) == 10
    assert bytes(buffer) + guard.read() == b"x" * 100


def test_a_source_with_only_read_is_read_into() -> None:
    # GIVEN a raw stream implementing only read() / WHEN read into a view / THEN its bytes arrive
    class OnlyRead(io.RawIOBase):
        def __init__(self) -> None:
            self._data = io.BytesIO(b"hello")

        def readable(self) -> bool:
            return True

        def read(self, size: int | None = -1) -> bytes:
            return self._data.read(size)

    view = memoryview(bytearray(10))
    assert read_into(cast(BinaryIO, OnlyRead()), view) == 5 and bytes(view[:5]) == b"hello"
