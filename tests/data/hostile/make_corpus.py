"""Regenerate the hostile corpus (deterministic): ``python tests/data/hostile/make_corpus.py``.

Every file is checked against a model of sluice.toml here; expected.csv holds its verdict, rule, a phrase of the
reason and the model.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
HEADER = ["id", "amount", "count", "color", "flag", "ts", "label"]
ROWS = [
    ["1", "10.5", "3", "red", "true", "2024-01-01T10:00:00Z", "yes"],
    ["2", "20.0", "", "green", "false", "2024-01-02", "no"],
    ["3", "0", "7", "blue", "yes", "2024-01-03 08:30:00", "yes"],
    ["4", "999.9", "100", "red", "no", "2024-01-04T00:00:00+02:00", "no"],
    ["5", "42", "0", "green", "1", "2024-01-05", "yes"],
    ["6", "7.25", "12", "blue", "0", "2024-01-06", "no"],
]
STRICT_HEADER = ["id", "name", "amount", "label"]
Case = tuple[str, bytes, str, str, str, str]
CASES: list[Case] = []


def csv_bytes(rows: list[list[str]], header: list[str] = HEADER, delimiter: str = ",", newline: str = "\n") -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator=newline).writerows([header, *rows])
    return out.getvalue().encode("utf-8")


def edited(column: str, row: int, value: str) -> list[list[str]]:
    rows = [list(row) for row in ROWS]
    rows[row][HEADER.index(column)] = value
    return rows


def case(name: str, body: bytes, verdict: str, rule: str, reason: str, model: str = "hostile") -> None:
    CASES.append((name, body, verdict, rule, reason, model))


def many_rows(count: int) -> list[list[str]]:
    """``count`` valid rows of the hostile contract (distinct ids, both classes)."""
    return [[str(i), f"{i % 1000}.5", str(i % 100), ("red", "green", "blue")[i % 3], ("true", "false")[i % 2],
             f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}", ("yes", "no")[i % 2]] for i in range(1, count + 1)]


def strict_rows() -> list[list[str]]:
    """Valid rows of the hostile-strict contract (names of at most 12 characters)."""
    return [[str(i), f"name-{i}", f"{i * 1.5}", ("yes", "no")[i % 2]] for i in range(1, 7)]


def opened_quote(rows: list[list[str]], row: int, column: str) -> bytes:
    """The CSV of ``rows`` where data row ``row`` opens a quote in ``column`` that is never closed."""
    lines = csv_bytes(rows).split(b"\n")
    fields = lines[row].split(b",")
    fields[HEADER.index(column)] = b'"' + fields[HEADER.index(column)]
    lines[row] = b",".join(fields)
    return b"\n".join(lines)


def parquet(table: pa.Table, **options: object) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, **options)  # type: ignore[arg-type]
    return sink.getvalue()


def typed_table(**overrides: pa.Array) -> pa.Table:
    columns = {
        "id": pa.array([1, 2, 3, 4, 5, 6], pa.int64()),
        "amount": pa.array([10.5, 20.0, 0.0, 999.9, 42.0, 7.25]),
        "count": pa.array([3, None, 7, 100, 0, 12], pa.int32()),
        "color": pa.array(["red", "green", "blue", "red", "green", "blue"]).dictionary_encode(),
        "flag": pa.array([True, False, True, False, True, False]),
        "ts": pa.array([1_704_103_200_000_000 + i * 86_400_000_000 for i in range(6)], pa.timestamp("us", "UTC")),
        "label": pa.array(["yes", "no"] * 3),
    }
    columns.update(overrides)
    return pa.table(columns)


def jsonl(records: list[dict[str, object]]) -> bytes:
    return "".join(json.dumps(record) + "\n" for record in records).encode()


def records() -> list[dict[str, object]]:
    return [dict(zip(HEADER, row, strict=True)) | {"id": int(row[0]), "amount": float(row[1])} for row in ROWS]


def build() -> None:
    good = csv_bytes(ROWS)
    rng = random.Random(3)
    # accepted: the same content in every supported shape
    case("good.csv", good, "accepted", "", "")
    case("good.tsv", csv_bytes(ROWS, delimiter="\t"), "accepted", "", "")
    case("good.csv.gz", gzip.compress(good, mtime=0), "accepted", "", "")
    case("good_two_members.csv.gz", gzip.compress(good[:40], mtime=0) + gzip.compress(good[40:], mtime=0),
         "accepted", "", "")
    case("good.jsonl", jsonl(records()), "accepted", "", "")
    case("good.ndjson.gz", gzip.compress(jsonl(records()), mtime=0), "accepted", "", "")
    case("good.parquet", parquet(typed_table()), "accepted", "", "")
    case("bom.csv", b"\xef\xbb\xbf" + good, "accepted", "", "")
    case("crlf.csv", csv_bytes(ROWS, newline="\r\n"), "accepted", "", "")
    case("padded_values.csv", csv_bytes([[f"  {v} " if v else v for v in row] for row in ROWS]), "accepted", "", "")
    case("quoted_newlines.csv", csv_bytes([[*row, 'a "quoted", multi\nline note'] for row in ROWS],
                                          header=[*HEADER, "note"]), "accepted", "", "")
    case("formula_injection_names.csv", csv_bytes([[*row, "1", "2"] for row in ROWS],
                                                  header=[*HEADER, "=HYPERLINK(\"http://x\")", "@SUM(A1)"]),
         "accepted", "", "")
    # unreadable bytes
    case("empty.csv", b"", "rejected", "unreadable", "empty")
    case("whitespace_only.csv", b"  \n\r\n\t\n", "rejected", "unreadable", "empty")
    case("bom_only.csv", b"\xef\xbb\xbf", "rejected", "unreadable", "empty")
    case("binary_noise.csv", rng.randbytes(4096), "rejected", "unreadable", "")
    case("nul_byte.csv", good[:30] + b"\x00" + good[30:], "rejected", "unreadable", "NUL byte")
    case("latin1.csv", csv_bytes(edited("color", 0, "rouge-écarlate")).decode().encode("latin-1"),
         "rejected", "unreadable", "not valid UTF-8")
    case("utf16.csv", good.decode().encode("utf-16"), "rejected", "unreadable", "UTF-16")
    case("zip_named.csv", b"PK\x03\x04" + rng.randbytes(200), "rejected", "unreadable", "ZIP")
    case("gzip_named.csv", gzip.compress(good, mtime=0), "rejected", "unreadable", "add .gz")
    case("duplicate_columns.csv", csv_bytes(ROWS, header=[*HEADER[:-2], "id", "label"]), "rejected",
         "unreadable", "duplicate column names: 'id'")
    case("ragged_rows.csv", good + b"7,1.0,1\n8,1,1,red,true,2024-01-01,no,extra\n", "rejected", "unreadable",
         "do not have the 7 fields")
    case("unterminated_quote.csv", good + b'9,"1.0,1,red,true,2024-01-01,yes\n', "rejected", "unreadable", "")
    case("long_line.csv.gz", gzip.compress(good + b"10," + b"9" * 20_000_000 + b"\n", mtime=0), "rejected",
         "unreadable", "longer than")
    case("long_header.csv.gz", gzip.compress(b"x" * 2_000_000 + b"\n1\n", mtime=0), "rejected", "unreadable",
         "header row is longer")
    case("not_gzip.csv.gz", good, "rejected", "unreadable", "not gzip-compressed")
    case("truncated.csv.gz", gzip.compress(good * 20, mtime=0)[:120], "rejected", "unreadable", "truncated")
    case("gzip_trailing_garbage.csv.gz", gzip.compress(good, mtime=0) + b"garbage", "rejected", "unreadable",
         "trailing garbage")
    case("zeros_bomb.csv.gz", gzip.compress(b"0" * 50_000_000, compresslevel=9, mtime=0), "rejected",
         "unreadable", "header row is longer")
    case("random.parquet", rng.randbytes(2048), "rejected", "unreadable", "not a readable Parquet file")
    case("truncated.parquet", parquet(typed_table())[:-40], "rejected", "unreadable", "Parquet")
    case("csv_named.parquet", good, "rejected", "unreadable", "not a readable Parquet file")
    case("data.xlsx", b"PK\x03\x04" + rng.randbytes(64), "rejected", "unreadable", "unsupported file type")
    case("list_lines.jsonl", b"[1, 2, 3]\n", "rejected", "unreadable", "is a JSON list")
    case("broken_json.jsonl", jsonl(records())[:-20] + b"\n", "rejected", "unreadable", "not valid JSON")
    case("duplicate_keys.jsonl", b'{"id": 1, "id": 2}\n', "rejected", "unreadable", "duplicate keys")
    # readable, but breaking the contract
    case("header_only.csv", csv_bytes([]), "rejected", "too_few_rows", "0 rows")
    case("gzip_bomb_rows.csv.gz", gzip.compress(good + b"7,1,1,red,true,2024-01-01,yes\n" * 1_000_000,
                                                compresslevel=9, mtime=0),
         "rejected", "too_many_rows", "reading stopped")
    case("wrong_delimiter.csv", csv_bytes(ROWS, delimiter=";"), "rejected", "missing_column", "delimiter")
    case("html_page.csv", b"<!DOCTYPE html>\n<html><body>Not found</body></html>\n", "rejected", "missing_column",
         "")
    case("unicode_lookalike_names.csv", csv_bytes(ROWS, header=["id", "\u0430mount", *HEADER[2:]]), "rejected",
         "missing_column", "'amount'")
    case("missing_target.csv", csv_bytes([row[:-1] for row in ROWS], header=HEADER[:-1]), "rejected",
         "missing_target", "label")
    case("missing_timestamp.csv", csv_bytes([row[:5] + row[6:] for row in ROWS], header=HEADER[:5] + HEADER[6:]),
         "rejected", "missing_column", "timestamp column 'ts'")
    case("mixed_types.csv", csv_bytes(edited("amount", 2, "abc")), "rejected", "type", "cannot be read as float")
    case("nan_inf.csv", csv_bytes(edited("amount", 1, "NaN")), "rejected", "non_finite", "NaN or infinite")
    case("float_overflow.csv", csv_bytes(edited("amount", 1, "1e400")), "rejected", "non_finite", "")
    case("int_overflow.csv", csv_bytes(edited("count", 1, "99999999999999999999")), "rejected", "type",
         "cannot be read as int")
    case("hex_int.csv", csv_bytes(edited("count", 1, "0x1F")), "rejected", "type", "int")
    case("out_of_range.csv", csv_bytes(edited("amount", 3, "1000.5")), "rejected", "out_of_range", "[0, 1000]")
    case("null_required.csv", csv_bytes(edited("amount", 4, "NA")), "rejected", "null", "not nullable")
    case("bad_bool.csv", csv_bytes(edited("flag", 0, "maybe")), "rejected", "type", "bool")
    case("formula_injection_values.csv", csv_bytes(edited("color", 0, "=cmd|'/c calc'!A0")), "rejected",
         "not_allowed", "allowed values")
    case("duplicate_ids.csv", csv_bytes(edited("id", 5, "2")), "rejected", "duplicate_value", "not unique")
    case("bad_timestamp.csv", csv_bytes(edited("ts", 2, "31/12/2024")), "rejected", "type",
         "cannot be read as timestamp")
    case("future_timestamp.csv", csv_bytes(edited("ts", 2, "2099-01-01")), "rejected", "out_of_range", "2030")
    case("unknown_label.csv", csv_bytes(edited("label", 0, "maybe")), "rejected", "target_value", "target values")
    case("single_class.csv", csv_bytes([[*row[:-1], "yes"] for row in ROWS]), "rejected", "single_class",
         "at least two classes")
    case("imbalanced.csv", csv_bytes([[str(i), "1", "1", "red", "true", "2024-01-01", "no" if i == 1 else "yes"]
                                      for i in range(1, 21)]), "rejected", "class_imbalance", "below the minimum")
    case("mixed_types.jsonl", jsonl([r | ({"amount": "abc"} if r["id"] == 2 else {}) for r in records()]),
         "rejected", "type", "float")
    case("missing_key.jsonl", jsonl([{k: v for k, v in r.items() if not (k == "color" and r["id"] == 3)}
                                     for r in records()]), "rejected", "null", "color")
    case("wrong_schema.parquet", parquet(typed_table(amount=pa.array(["1", "x", "3", "4", "5", "6"]),
                                                     color=pa.array([0, 1, 2, 0, 1, 2], pa.int8()))),
         "rejected", "type", "amount")
    case("dictionary_bad_category.parquet",
         parquet(typed_table(color=pa.array(["red", "pink", "blue", "red", "pink", "blue"]).dictionary_encode())),
         "rejected", "not_allowed", "'pink'")
    case("nested.parquet", parquet(typed_table(amount=pa.array([{"v": 1.0}] * 6))), "rejected", "type", "amount")
    case("zero_rows.parquet", parquet(typed_table().slice(0, 0)), "rejected", "too_few_rows", "0 rows")
    # unbalanced quotes: the rest of the file would be one quoted value (here > 128 KB, past Python's csv field
    # limit, which used to crash validation), or one long target value
    case("unbalanced_quotes.csv.gz", gzip.compress(opened_quote(many_rows(4_000), 50, "color"), mtime=0),
         "rejected", "unreadable", "unbalanced quotes: line 51 opens a quoted value that is never closed")
    case("unbalanced_quote_last_column.csv", opened_quote(ROWS, 4, "label"), "rejected", "unreadable",
         "unbalanced quotes: line 5")
    case("unbalanced_quote_header.csv", b'"' + good, "rejected", "unreadable",
         "unbalanced quotes: line 1 opens a quoted value")
    # nesting deep enough to crash Arrow's JSON reader (a segfault: the process died, no report)
    case("deep_nesting.jsonl.gz", gzip.compress(b'{"id": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n", mtime=0),
         "rejected", "unreadable", "nests values too deeply")
    # dates past 2262 are out of range, not unreadable
    case("far_future_timestamp.csv", csv_bytes(edited("ts", 2, "2500-01-01")), "rejected", "out_of_range",
         "outside the range [2000-01-01")
    case("year_9999_timestamp.csv", csv_bytes(edited("ts", 5, "9999-12-31T23:59:59Z")), "rejected",
         "out_of_range", "row 6: '9999-12-31T23:59:59Z'")
    # a repeated id is reported at the row to fix, late in the file
    late = many_rows(800)
    late[749][0] = "3"
    case("duplicate_ids_late.csv", csv_bytes(late), "rejected", "duplicate_value", "row 750 repeats row 3")
    # the hostile-strict contract: max_length, extra_columns = "reject", max_columns
    case("strict_good.csv", csv_bytes(strict_rows(), header=STRICT_HEADER), "accepted", "", "",
         "hostile-strict")
    too_long = strict_rows()
    too_long[3][1] = "a name far longer than twelve characters"
    case("too_long_strings.csv", csv_bytes(too_long, header=STRICT_HEADER), "rejected", "too_long",
         "longer than its max_length of 12 characters; e.g. row 4", "hostile-strict")
    case("extra_column_rejected.csv", csv_bytes([[*row, "x"] for row in strict_rows()],
                                                header=[*STRICT_HEADER, "notes"]),
         "rejected", "extra_column", "'notes' is not in the contract, which rejects extra columns", "hostile-strict")
    wide = [*STRICT_HEADER, *(f"c{i}" for i in range(1, 8))]
    case("too_many_columns.csv", csv_bytes([[*row, *"1234567"] for row in strict_rows()], header=wide),
         "rejected", "too_many_columns", "11 columns, more than the maximum of 8", "hostile-strict")


def main() -> None:
    build()
    for old in HERE.iterdir():
        if old.name not in ("make_corpus.py", "sluice.toml", "__init__.py"):
            old.unlink()
    with (HERE / "expected.csv").open("w", newline="") as table:
        writer = csv.writer(table, lineterminator="\n")
        writer.writerow(["file", "verdict", "rule", "reason", "model"])
        for name, body, verdict, rule, reason, model in CASES:
            (HERE / name).write_bytes(body)
            writer.writerow([name, verdict, rule, reason, model])


if __name__ == "__main__":
    main()
