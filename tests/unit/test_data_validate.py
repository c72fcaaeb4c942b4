"""validate: the shipped datasets pass their contracts; each kind of bad drop yields its verdict and rule."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sluice.config import ColumnSpec, DataContract, load_config
from sluice.data import ContractValidator, DatasetReadError, Issue, ValidationReport, read_dataset, validate

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "layers/sluice/python/sluice/demo/data"
CONFIG = load_config(ROOT / "sluice.toml")
DIABETES = CONFIG.model("diabetes").contract
CANCER = CONFIG.model("breast-cancer").contract

Rows = list[list[str]]


def _rows(name: str) -> Rows:
    return list(csv.reader(io.StringIO((DATA / name).read_text(encoding="utf-8"))))


def _csv(rows: Rows, delimiter: str = ",") -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return out.getvalue().encode("utf-8")


def _edited(name: str, edit: Callable[[Rows], object]) -> bytes:
    rows = _rows(name)
    edit(rows)
    return _csv(rows)


def _set(rows: Rows, row: int, column: str, value: str) -> None:
    """Set data row ``row`` (1-based, as in reports) of ``column``."""
    rows[row][rows[0].index(column)] = value


def _check(body: bytes, contract: DataContract, key: str = "drop.csv") -> ValidationReport:
    return validate(read_dataset(body, key), contract)


def _issue(report: ValidationReport, rule: str, column: str | None = None) -> Issue:
    matches = [
        issue for issue in report.issues if issue.rule == rule and (column is None or issue.column == column)
    ]
    assert matches, f"no {rule} issue for {column}:\n{report.summary()}"
    return matches[0]


def _rules(report: ValidationReport) -> set[str]:
    return {str(issue.rule) for issue in report.issues}


@pytest.mark.parametrize(
    ("file", "model"), [("breast_cancer.csv", "breast-cancer"), ("diabetes.csv", "diabetes")]
)
def test_shipped_datasets_are_accepted(file: str, model: str) -> None:
    # GIVEN a shipped sample and its model's contract from sluice.toml
    body = (DATA / file).read_bytes()
    # WHEN it is read and validated
    report = _check(body, CONFIG.model(model).contract, key=file)
    # THEN it is accepted without any issue
    assert report.accepted, report.summary()
    assert report.issues == ()
    assert report.summary().startswith("ACCEPTED")


def test_header_only_has_too_few_rows() -> None:
    # GIVEN only the header row / WHEN validated / THEN rejected for too few rows (and nothing else)
    report = _check(_csv(_rows("diabetes.csv")[:1]), DIABETES)
    assert not report.accepted
    assert _rules(report) == {"too_few_rows"}
    assert _issue(report, "too_few_rows").count == 0


def test_too_few_rows() -> None:
    # GIVEN 10 data rows where 100 are required / WHEN validated / THEN too_few_rows with the count
    report = _check(_csv(_rows("diabetes.csv")[:11]), DIABETES)
    issue = _issue(report, "too_few_rows")
    assert (report.accepted, issue.count, issue.column) == (False, 10, None)


def test_too_many_rows() -> None:
    # GIVEN a contract capping rows at 400 / WHEN 442 rows arrive / THEN too_many_rows
    contract = DataContract(DIABETES.columns, DIABETES.target, target_type="float", max_rows=400)
    report = _check((DATA / "diabetes.csv").read_bytes(), contract)
    assert _rules(report) == {"too_many_rows"} and _issue(report, "too_many_rows").count == 442


def test_wrong_delimiter_misses_every_column_and_hints_at_it() -> None:
    # GIVEN a semicolon-separated file named .csv / WHEN validated
    report = _check(_csv(_rows("diabetes.csv"), delimiter=";"), DIABETES)
    # THEN every contract column is missing, with a hint about the delimiter, and the blob is an extra column
    assert not report.accepted
    assert len([issue for issue in report.issues if issue.rule == "missing_column"]) == 10
    assert "delimiter" in _issue(report, "missing_column", "age").message
    assert _issue(report, "missing_target", "progression")
    assert _issue(report, "extra_column").severity == "warning"


def test_text_in_a_float_column_is_a_type_violation_with_examples() -> None:
    # GIVEN "abc" and "1,5" in the float column bmi (rows 3 and 7)
    def edit(rows: Rows) -> None:
        _set(rows, 3, "bmi", "abc")
        _set(rows, 7, "bmi", "1,5")

    # WHEN validated
    report = _check(_edited("diabetes.csv", edit), DIABETES)
    # THEN a type issue on bmi counts both, with their rows and raw values
    issue = _issue(report, "type", "bmi")
    assert not report.accepted
    assert issue.count == 2
    assert [(example.row, example.value) for example in issue.examples] == [(3, "abc"), (7, "1,5")]


def test_nan_and_infinity_in_a_float_column() -> None:
    # GIVEN NaN and inf in s1 / WHEN validated / THEN non_finite with count 2
    def edit(rows: Rows) -> None:
        _set(rows, 1, "s1", "NaN")
        _set(rows, 2, "s1", "-inf")

    report = _check(_edited("diabetes.csv", edit), DIABETES)
    issue = _issue(report, "non_finite", "s1")
    assert (report.accepted, issue.count) == (False, 2)
    assert _rules(report) == {"non_finite"}


def test_out_of_range_values() -> None:
    # GIVEN an age of 200 and a negative bmi / WHEN validated / THEN out_of_range on each column
    def edit(rows: Rows) -> None:
        _set(rows, 5, "age", "200")
        _set(rows, 6, "bmi", "-1")

    report = _check(_edited("diabetes.csv", edit), DIABETES)
    assert _issue(report, "out_of_range", "age").examples[0].row == 5
    assert "[0, 139]" in _issue(report, "out_of_range", "age").message
    assert _issue(report, "out_of_range", "bmi").count == 1
    assert not report.accepted


def test_unknown_category() -> None:
    # GIVEN sex "other" / WHEN validated / THEN not_allowed naming the allowed values
    report = _check(_edited("diabetes.csv", lambda rows: _set(rows, 9, "sex", "other")), DIABETES)
    issue = _issue(report, "not_allowed", "sex")
    assert (issue.count, issue.examples[0].value) == (1, "other")
    assert "['female', 'male']" in issue.message


def test_blank_cell_in_a_non_nullable_column() -> None:
    # GIVEN an empty bp cell and an "NA" s2 cell / WHEN validated / THEN null issues, not type issues
    def edit(rows: Rows) -> None:
        _set(rows, 4, "bp", "")
        _set(rows, 4, "s2", "NA")

    report = _check(_edited("diabetes.csv", edit), DIABETES)
    assert _issue(report, "null", "bp").examples[0].row == 4
    assert _issue(report, "null", "s2").count == 1
    assert _rules(report) == {"null"}


def test_missing_target_column() -> None:
    # GIVEN the file without its target column / WHEN validated / THEN missing_target
    rows = [row[:-1] for row in _rows("diabetes.csv")]
    report = _check(_csv(rows), DIABETES)
    assert not report.accepted
    assert _issue(report, "missing_target").column == "progression"


def test_missing_target_value() -> None:
    # GIVEN an empty target cell / WHEN validated / THEN a null issue on the target
    report = _check(_edited("diabetes.csv", lambda rows: _set(rows, 2, "progression", "")), DIABETES)
    assert "target 'progression'" in _issue(report, "null", "progression").message


def test_target_outside_its_values() -> None:
    # GIVEN a diagnosis of "unknown" / WHEN validated / THEN target_value
    report = _check(_edited("breast_cancer.csv", lambda rows: _set(rows, 1, "diagnosis", "unknown")), CANCER)
    issue = _issue(report, "target_value", "diagnosis")
    assert (report.accepted, issue.count, issue.examples[0].value) == (False, 1, "unknown")


def test_single_class() -> None:
    # GIVEN only benign rows / WHEN validated / THEN single_class
    rows = _rows("breast_cancer.csv")
    rows = [rows[0], *(row for row in rows[1:] if row[-1] == "benign")]
    report = _check(_csv(rows), CANCER)
    issue = _issue(report, "single_class", "diagnosis")
    assert (report.accepted, issue.count) == (False, len(rows) - 1)


def test_class_below_its_minimum_fraction() -> None:
    # GIVEN 3 malignant among ~360 rows with a 5% floor / WHEN validated / THEN class_imbalance for malignant
    rows = _rows("breast_cancer.csv")
    malignant = [row for row in rows[1:] if row[-1] == "malignant"][:3]
    rows = [rows[0], *malignant, *(row for row in rows[1:] if row[-1] == "benign")]
    report = _check(_csv(rows), CANCER)
    issue = _issue(report, "class_imbalance", "diagnosis")
    assert (report.accepted, issue.count, issue.examples[0].value) == (False, 3, "malignant")


def test_extra_column_is_only_a_warning() -> None:
    # GIVEN an additional "notes" column / WHEN validated / THEN accepted with an extra_column warning
    rows = [[*row, "notes" if index == 0 else "x"] for index, row in enumerate(_rows("diabetes.csv"))]
    report = _check(_csv(rows), DIABETES)
    assert report.accepted
    issue = _issue(report, "extra_column", "notes")
    assert issue.severity == "warning"


def test_parquet_with_wrong_schema() -> None:
    # GIVEN a Parquet file where sex is an integer code, bmi is absent and age is fractional text
    table = pa.table({
        "age": pa.array(["50", "abc"] * 60),
        "sex": pa.array([0, 1] * 60, pa.int8()),
        **{name: pa.array([1.0] * 120) for name in ("bp", "s1", "s2", "s3", "s4", "s5", "s6", "progression")},
    })
    sink = io.BytesIO()
    pq.write_table(table, sink)
    # WHEN read and validated
    report = _check(sink.getvalue(), DIABETES, key="drop.parquet")
    # THEN bmi is missing, age has type failures and sex is outside its categories
    assert not report.accepted
    assert _issue(report, "missing_column", "bmi")
    assert _issue(report, "type", "age").count == 60
    assert _issue(report, "not_allowed", "sex").count == 120


def test_gzip_validates_like_plain() -> None:
    # GIVEN the diabetes CSV gzip-compressed / WHEN validated / THEN accepted
    assert _check(gzip.compress((DATA / "diabetes.csv").read_bytes()), DIABETES, key="d.csv.gz").accepted


def test_bom_validates_like_plain() -> None:
    # GIVEN the CSV with a UTF-8 BOM / WHEN validated / THEN accepted (no "\ufeffage" column)
    assert _check(b"\xef\xbb\xbf" + (DATA / "diabetes.csv").read_bytes(), DIABETES).accepted


@pytest.mark.parametrize(
    ("body", "key"),
    [
        (b"", "d.csv"),
        (bytes(range(256)) * 8, "d.csv"),
        ("age,sex\n50,mâle\n".encode("latin-1"), "d.csv"),
        (b"age,age\n1,2\n", "d.csv"),
    ],
)
def test_unreadable_drops_never_reach_validation(body: bytes, key: str) -> None:
    # GIVEN empty, binary, latin-1 or duplicate-column bytes / WHEN read / THEN DatasetReadError, a ValueError
    with pytest.raises(DatasetReadError):
        read_dataset(body, key)
    assert issubclass(DatasetReadError, ValueError)


def test_json_lines_type_violation_is_an_issue() -> None:
    # GIVEN JSON Lines with "abc" for bmi in row 2 / WHEN validated / THEN a type issue with its row
    rows = _rows("diabetes.csv")
    lines = []
    for number, row in enumerate(rows[1:], start=1):
        record = {
            name: (value if name == "sex" else float(value)) for name, value in zip(rows[0], row, strict=True)
        }
        if number == 2:
            record["bmi"] = "abc"
        lines.append(json.dumps(record))
    report = _check("\n".join(lines).encode(), DIABETES, key="d.jsonl")
    issue = _issue(report, "type", "bmi")
    assert (issue.count, issue.examples[0].row, issue.examples[0].value) == (1, 2, "abc")


TYPED = DataContract(
    columns=(
        ColumnSpec("count", "int", min=0, max=10),
        ColumnSpec("flag", "bool"),
        ColumnSpec("note", "string", nullable=True),
    ),
    target="label",
    target_type="int",
    target_values=(0, 1),
    min_rows=1,
)


def test_int_and_bool_columns_parse_strictly() -> None:
    # GIVEN ints written as "3.0" and "+4", a fractional "2.5", bool words, and a bad bool "maybe"
    body = b"count,flag,note,label\n3.0,yes,,0\n+4,FALSE,x,1\n2.5,maybe,y,1\n11,1,z,0\n"
    # WHEN validated against int/bool columns
    report = _check(body, TYPED)
    # THEN only 2.5 and "maybe" fail their types and 11 is out of range; nulls in a nullable column are fine
    assert _issue(report, "type", "count").examples[0].value == "2.5"
    assert _issue(report, "type", "flag").examples[0].value == "maybe"
    assert _issue(report, "out_of_range", "count").examples[0].row == 4
    assert _rules(report) == {"type", "out_of_range"}


def test_null_fraction_caps_a_nullable_column() -> None:
    # GIVEN a nullable column half empty and a 25% cap / WHEN validated / THEN null_fraction
    contract = DataContract(columns=TYPED.columns, target="label", target_type="int", target_values=(0, 1),
                            min_rows=1, max_null_fraction=0.25)
    body = b"count,flag,note,label\n1,true,,0\n2,false,,1\n3,true,a,0\n4,false,b,1\n5,true,c,1\n"
    issue = _issue(_check(body, contract), "null_fraction", "note")
    assert issue.count == 2 and "40.0%" in issue.message


def test_row_numbers_continue_across_batches() -> None:
    # GIVEN the same bad table as one chunk and as many small chunks
    def edit(rows: Rows) -> None:
        for row in (2, 150, 441):
            _set(rows, row, "bmi", "x")

    body = _edited("diabetes.csv", edit)
    table = read_dataset(body, "d.csv")
    chunked = pa.Table.from_batches(table.to_batches(max_chunksize=37))
    # WHEN validated batch by batch
    validator = ContractValidator(DIABETES, chunked.schema)
    for batch in chunked.to_batches():
        validator.update(batch)
    # THEN the report equals the one-chunk report, rows numbered across batches
    assert validator.report() == validate(table, DIABETES)
    assert [example.row for example in _issue(validator.report(), "type", "bmi").examples] == [2, 150, 441]


def test_duplicate_columns_in_a_table_are_an_issue_not_a_crash() -> None:
    # GIVEN a table (not from read_dataset) with two "age" columns / WHEN validated / THEN duplicate_column
    table = read_dataset((DATA / "diabetes.csv").read_bytes(), "d.csv")
    doubled = table.append_column("age", table.column("age"))
    assert _issue(validate(doubled, DIABETES), "duplicate_column", "age").count == 2


def test_a_batch_arrow_cannot_check_value_by_value_counts_each_row_once() -> None:
    # GIVEN a column Arrow stores as string_view (its kernels cannot take examples from it)
    contract = DataContract(columns=(ColumnSpec("kind", "string", allowed=("a", "b")),), target="y",
                            target_type="string", min_rows=1)
    table = pa.table({"kind": pa.array(["a", "b", "c"], pa.string_view()), "y": pa.array(["p", "q", "p"])})
    # WHEN validated / THEN one type issue counting the 3 rows once each (not 6), and no exception
    report = validate(table, contract)
    assert [(str(issue.rule), issue.count) for issue in report.errors] == [("type", 3)]
