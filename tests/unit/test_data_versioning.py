"""normalize, data_version and Parquet bytes: one content, one version, whatever the file looked like."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

from sluice.config import load_config
from sluice.data import (
    ContractViolationError,
    data_version,
    from_parquet_bytes,
    read_dataset,
    to_parquet_bytes,
    validate,
)
from sluice.data.normalize import normalize

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "layers/sluice/python/sluice/demo/data"
CONFIG = load_config(ROOT / "sluice.toml")
DIABETES = CONFIG.model("diabetes").contract
CANCER = CONFIG.model("breast-cancer").contract
DIABETES_CSV = (DATA / "diabetes.csv").read_bytes()


def _accepted_version(body: bytes, key: str) -> str:
    table = read_dataset(body, key)
    assert validate(table, DIABETES).accepted
    return data_version(normalize(table, DIABETES))


def _parquet(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def test_normalize_orders_and_types_columns_target_last() -> None:
    # GIVEN the diabetes CSV (all text) with an extra column in front
    table = read_dataset(DIABETES_CSV, "d.csv")
    table = table.add_column(0, "notes", pa.array(["x"] * table.num_rows))
    # WHEN normalized
    normalized = normalize(table, DIABETES)
    # THEN contract columns in order with exact types, the target last, the extra dropped
    assert normalized.column_names == [*DIABETES.feature_names, "progression"]
    assert normalized.schema.field("sex").type == pa.string()
    assert {field.type for field in normalized.schema if field.name != "sex"} == {pa.float64()}
    assert normalized.column("age")[0].as_py() == 59.0


def test_normalize_classification_target() -> None:
    # GIVEN the breast cancer CSV / WHEN normalized / THEN the string target is last
    normalized = normalize(read_dataset((DATA / "breast_cancer.csv").read_bytes(), "b.csv"), CANCER)
    assert normalized.schema.field(-1).name == "diagnosis"
    assert set(normalized.column("diagnosis").to_pylist()) == {"malignant", "benign"}


def test_normalize_refuses_a_rejected_table() -> None:
    # GIVEN a table with "abc" in bmi / WHEN normalized / THEN ContractViolationError
    table = read_dataset(DIABETES_CSV.replace(b"32.1", b"abc", 1), "d.csv")
    with pytest.raises(ContractViolationError, match="'bmi'"):
        normalize(table, DIABETES)


def test_normalize_refuses_a_missing_column() -> None:
    table = read_dataset(DIABETES_CSV, "d.csv").drop_columns(["s3"])
    with pytest.raises(ContractViolationError, match="'s3' is missing"):
        normalize(table, DIABETES)


def test_version_is_16_hex_digits_and_deterministic() -> None:
    # GIVEN the diabetes CSV / WHEN versioned twice / THEN the same 16 hex digits
    version = _accepted_version(DIABETES_CSV, "d.csv")
    assert re.fullmatch(r"[0-9a-f]{16}", version)
    assert version == _accepted_version(DIABETES_CSV, "d.csv")


def test_same_content_as_typed_parquet_has_the_same_version() -> None:
    # GIVEN the CSV converted to Parquet with natively inferred types (age int64, bmi double, ...)
    typed = pa_csv.read_csv(io.BytesIO(DIABETES_CSV))
    assert typed.schema.field("age").type == pa.int64()
    # WHEN both are validated, normalized and versioned / THEN the versions agree
    assert _accepted_version(_parquet(typed), "d.parquet") == _accepted_version(DIABETES_CSV, "d.csv")


def test_extra_and_reordered_columns_do_not_change_the_version() -> None:
    # GIVEN the same rows with columns reversed and an extra column
    rows = list(csv.reader(io.StringIO(DIABETES_CSV.decode())))
    reshaped = [[*reversed(row), "extra" if index == 0 else str(index)] for index, row in enumerate(rows)]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(reshaped)
    # WHEN versioned / THEN same version as the original
    assert _accepted_version(out.getvalue().encode(), "d.csv") == _accepted_version(DIABETES_CSV, "d.csv")


def test_formatting_of_numbers_does_not_change_the_version() -> None:
    # GIVEN "59" written as " 59.0" and TSV instead of CSV / WHEN versioned / THEN same version
    reformatted = DIABETES_CSV.replace(b"\n59,", b"\n 59.0,", 1).replace(b",", b"\t")
    assert _accepted_version(reformatted, "d.tsv") == _accepted_version(DIABETES_CSV, "d.csv")


def test_changed_value_changes_the_version() -> None:
    # GIVEN one value changed / WHEN versioned / THEN a different version
    changed = DIABETES_CSV.replace(b"32.1", b"32.2", 1)
    assert _accepted_version(changed, "d.csv") != _accepted_version(DIABETES_CSV, "d.csv")


def test_chunking_and_nulls_are_canonical() -> None:
    # GIVEN one table with nulls and strings, as one chunk and as many
    table = pa.table({
        "x": [1.0, None, -0.0, 2.5] * 5, "s": ["a", None, "", "bc"] * 5, "b": [True, None, False, True] * 5,
    })
    chunked = pa.Table.from_batches(table.to_batches(max_chunksize=3))
    # WHEN versioned / THEN equal; and a null differs from an empty string
    assert data_version(chunked) == data_version(table)
    other = table.set_column(1, "s", pa.array(["a", "", "", "bc"] * 5))
    assert data_version(other) != data_version(table)


def test_columns_swapping_values_change_the_version() -> None:
    # GIVEN two columns whose values are swapped / WHEN versioned / THEN different (names bind values)
    first = pa.table({"a": [1.0, 2.0], "b": [3.0, 4.0]})
    second = pa.table({"a": [3.0, 4.0], "b": [1.0, 2.0]})
    assert data_version(first) != data_version(second)


def test_unsupported_column_types_are_refused() -> None:
    with pytest.raises(ValueError, match="normalize the table first"):
        data_version(pa.table({"nested": [[1], [2]]}))


def test_parquet_bytes_round_trip() -> None:
    # GIVEN a normalized table / WHEN written to Parquet bytes and read back / THEN equal, same version
    normalized = normalize(read_dataset(DIABETES_CSV, "d.csv"), DIABETES)
    data = to_parquet_bytes(normalized)
    assert data[:4] == b"PAR1"
    restored = from_parquet_bytes(data)
    assert restored.equals(normalized)
    assert data_version(restored) == data_version(normalized)
