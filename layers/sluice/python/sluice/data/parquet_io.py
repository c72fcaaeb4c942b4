"""Parquet bytes in and out (the accepted, normalized form of every dataset)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from sluice.data.errors import DatasetReadError

COMPRESSION = "zstd"


def to_parquet_bytes(table: pa.Table) -> bytes:
    """Serialize ``table`` as one Parquet file."""
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression=COMPRESSION)
    return sink.getvalue().to_pybytes()


def from_parquet_bytes(data: bytes) -> pa.Table:
    """Read a Parquet file held in memory; raise DatasetReadError if it is not one."""
    if not data:
        raise DatasetReadError("the file is empty")
    try:
        return pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError) as error:
        raise DatasetReadError(f"not a readable Parquet file: {error}") from error
