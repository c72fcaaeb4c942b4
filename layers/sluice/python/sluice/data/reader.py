"""read_dataset: dropped bytes plus their key in, an Arrow table out (or a readable reason why not)."""

from __future__ import annotations

from collections import Counter

import pyarrow as pa

from sluice.data.delimited import read_delimited
from sluice.data.errors import DatasetReadError
from sluice.data.formats import Format, detect_kind
from sluice.data.ndjson import read_json_lines
from sluice.data.parquet_io import from_parquet_bytes
from sluice.data.payload import DEFAULT_MAX_DECOMPRESSED_BYTES, check_not_empty, gunzip, prepare_text

DELIMITERS = {Format.CSV: ",", Format.TSV: "\t"}


def read_dataset(
    body: bytes, key: str, *, max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES
) -> pa.Table:
    """Read a dropped object as a table; its format comes from the extension of ``key``.

    CSV/TSV columns are all read as strings (the contract decides types). Raises DatasetReadError
    for an unsupported extension, empty, binary or non-UTF-8 content, unparseable rows, duplicate
    column names, or gzip content expanding beyond ``max_decompressed_bytes``.
    """
    kind = detect_kind(key)
    check_not_empty(body)
    if kind.gzipped:
        body = gunzip(body, limit=max_decompressed_bytes)
        check_not_empty(body)
    if kind.format is Format.PARQUET:
        table = from_parquet_bytes(body)
    elif kind.format is Format.JSONL:
        table = read_json_lines(prepare_text(body))
    else:
        table = read_delimited(prepare_text(body), delimiter=DELIMITERS[kind.format])
    check_unique_names(table.column_names)
    if table.num_columns == 0:
        raise DatasetReadError("the file has no columns")
    return table


def check_unique_names(names: list[str]) -> None:
    """Reject a table whose columns cannot be told apart."""
    duplicates = sorted(name for name, count in Counter(names).items() if count > 1)
    if duplicates:
        raise DatasetReadError(f"duplicate column names: {', '.join(map(repr, duplicates))}")
