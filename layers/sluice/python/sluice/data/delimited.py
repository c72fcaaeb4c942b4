"""CSV and TSV: every column is read as text, so type checks belong to the contract, not to a guesser."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.csv as pa_csv

from sluice.data.errors import DatasetReadError

BLOCK_SIZE = 16 * 1024 * 1024
MAX_REPORTED_ROWS = 5


@dataclass
class _MalformedRows:
    """Collects rows whose field count differs from the header's."""

    count: int = 0
    expected: int = 0
    examples: list[str] = field(default_factory=list)

    def __call__(self, row: pa_csv.InvalidRow) -> str:
        self.count += 1
        self.expected = row.expected_columns
        if len(self.examples) < MAX_REPORTED_ROWS:
            where = f"line {row.number}" if row.number is not None else "a row"
            text = row.text if len(row.text) <= 60 else row.text[:57] + "..."
            self.examples.append(f"{where} has {row.actual_columns} ({text!r})")
        return "skip"


def read_delimited(text: bytes, *, delimiter: str) -> pa.Table:
    """Read UTF-8 delimited ``text`` with a header row into a table of string columns."""
    header = read_header(text, delimiter=delimiter)
    malformed = _MalformedRows()
    try:
        table = pa_csv.read_csv(
            io.BytesIO(text),
            read_options=pa_csv.ReadOptions(use_threads=False, block_size=BLOCK_SIZE),
            parse_options=pa_csv.ParseOptions(
                delimiter=delimiter, newlines_in_values=True, invalid_row_handler=malformed
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() for name in header},
                strings_can_be_null=True,
                null_values=[""],
                quoted_strings_can_be_null=True,
            ),
        )
    except pa.ArrowInvalid as error:
        raise DatasetReadError(f"cannot parse the file as delimited text: {error}") from error
    if malformed.count:
        raise DatasetReadError(
            f"{malformed.count} row(s) do not have the {malformed.expected} fields of the header: "
            + "; ".join(malformed.examples)
        )
    return _as_strings(table)


def read_header(text: bytes, *, delimiter: str) -> list[str]:
    """Parse the first non-blank record (quotes and all) as the column names."""
    reader = csv.reader(io.TextIOWrapper(io.BytesIO(text), encoding="utf-8", newline=""), delimiter=delimiter)
    try:
        for record in reader:
            if record:
                return record
    except csv.Error as error:
        raise DatasetReadError(f"cannot parse the header row: {error}") from error
    raise DatasetReadError("the file has no header row")


def _as_strings(table: pa.Table) -> pa.Table:
    """Guard against a header the two parsers split differently: every column must stay text."""
    if all(pa.types.is_string(column.type) for column in table.columns):
        return table
    return table.cast(pa.schema([pa.field(name, pa.string()) for name in table.column_names]))
