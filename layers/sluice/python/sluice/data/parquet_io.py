"""Parquet in and out: streamed reads of a drop (row groups, ranged reads), and the accepted, normalized form."""

from __future__ import annotations

import io
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from sluice.data.errors import DatasetReadError

COMPRESSION = "zstd"
BATCH_ROWS = 16 * 1024  # the reader holds ~2 MB of pages per column anyway; smaller batches cost no time (measured)
READ_BUDGET = 32 * 1024 * 1024
"""Bytes of read buffers a Parquet read may hold at once, shared by the columns it reads (one buffer each)."""
MIN_READ_BUFFER = 64 * 1024
MAX_READ_BUFFER = 4 * 1024 * 1024


def to_parquet_bytes(table: pa.Table) -> bytes:
    """Serialize ``table`` as one Parquet file."""
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression=COMPRESSION)
    return sink.getvalue().to_pybytes()


def from_parquet_bytes(data: bytes) -> pa.Table:
    """Read a Parquet file held in memory; raise DatasetReadError if it is not one."""
    if not data:
        raise DatasetReadError("the file is empty")
    return _read_table(pa.BufferReader(data))


def from_parquet_file(path: Path) -> pa.Table:
    """Read a Parquet file from disk (no copy of its bytes in memory first); raise DatasetReadError if it is not one."""
    if path.stat().st_size == 0:
        raise DatasetReadError("the file is empty")
    return _read_table(path)


def _read_table(source: pa.BufferReader | Path) -> pa.Table:
    try:
        return pq.read_table(source)
    except (pa.ArrowException, OSError) as error:
        raise DatasetReadError(f"not a readable Parquet file: {error}") from error


def open_parquet(
    file: BinaryIO, *, columns: Collection[str] | None = None, row_groups: Collection[int] | None = None
) -> tuple[list[str], Iterator[pa.RecordBatch]]:
    """The column names of a seekable Parquet ``file`` and its batches, read a few pages at a time.

    Only ``columns`` (when given) are read, and only ``row_groups`` (when given: one part of a split file);
    ranged reads fetch just their column chunks.
    """
    file.seek(0, io.SEEK_END)
    if file.tell() == 0:
        raise DatasetReadError("the file is empty")
    file.seek(0)
    source = _unbuffered(file)
    try:
        metadata = pq.read_metadata(source)
        names = list(metadata.schema.to_arrow_schema().names)
    except (pa.ArrowException, OSError) as error:
        raise DatasetReadError(f"not a readable Parquet file: {error}") from error
    if not names:
        raise DatasetReadError("the file has no columns")
    wanted = [name for name in names if columns is None or name in columns] or names[:1]
    parquet = pq.ParquetFile(source, buffer_size=read_buffer(len(wanted)), pre_buffer=False, metadata=metadata)
    if row_groups is not None and any(not 0 <= group < parquet.num_row_groups for group in row_groups):
        raise DatasetReadError(f"the Parquet file has {parquet.num_row_groups} row groups, not {sorted(row_groups)}")
    return names, _batches(parquet, wanted, None if row_groups is None else list(row_groups))


def read_buffer(columns: int) -> int:
    """Each column's read buffer: the budget shared by the ``columns`` read at once, within [64 KiB, 4 MiB].

    On S3 (``storage.RangedObject``) one buffer fill is one ranged GET, so the buffer sets how many GETs a file
    costs: a 173 MB file of 21 columns took 1,445 GETs at 64 KiB, 165 at 1.5 MiB (this budget), for about 30 MB
    more memory (tests/unit/test_parquet_reads.py).
    """
    return max(MIN_READ_BUFFER, min(MAX_READ_BUFFER, READ_BUDGET // max(1, columns)))


def _unbuffered(file: BinaryIO) -> BinaryIO:
    """The raw file under a Python buffered reader: Arrow buffers reads itself, and a second buffer is slow."""
    raw = getattr(file, "raw", None) if isinstance(file, io.BufferedReader) else None
    return file if raw is None else raw


def _batches(parquet: pq.ParquetFile, wanted: list[str], row_groups: list[int] | None) -> Iterator[pa.RecordBatch]:
    try:
        for batch in parquet.iter_batches(batch_size=BATCH_ROWS, row_groups=row_groups, columns=wanted,
                                          use_threads=False):
            yield batch
            del batch  # not held while the next one is decoded
    except (pa.ArrowException, OSError) as error:
        raise DatasetReadError(f"the Parquet file is damaged: {error}") from error
