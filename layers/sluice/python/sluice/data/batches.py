"""open_batches: a dropped file (any supported format) as its column names and a stream of record batches."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import BinaryIO, cast

import pyarrow as pa

from sluice.data.delimited import open_delimited
from sluice.data.errors import DatasetReadError
from sluice.data.formats import Format, detect_kind
from sluice.data.ndjson import iter_json_lines
from sluice.data.parquet_io import open_parquet
from sluice.data.payload import DEFAULT_MAX_DECOMPRESSED_BYTES
from sluice.data.textstream import GunzipStream, TextGuard

DELIMITERS = {Format.CSV: ",", Format.TSV: "\t"}


@dataclass
class BatchStream:
    """The columns a file declares (header or schema; JSON Lines: none up front) and its batches."""

    names: list[str]
    batches: Iterator[pa.RecordBatch]

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        for batch in self.batches:
            check_unique_names(batch.schema.names)
            yield batch
            del batch  # not held while the next one is read

    def close(self) -> None:
        """Stop reading early: blocks being parsed ahead are waited for and let go."""
        close = getattr(self.batches, "close", None)
        if close is not None:
            close()


def needs_seek(key: str) -> bool:
    """Whether the file ``key`` names is read with random access (Parquet) rather than front to back."""
    try:
        return detect_kind(key).format is Format.PARQUET
    except DatasetReadError:
        return False


def open_batches(
    file: BinaryIO, key: str, *, columns: Collection[str] | None = None, floats: Collection[str] = (),
    max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES, row_groups: Collection[int] | None = None,
) -> BatchStream:
    """Open ``file`` by the extension of ``key``; batches hold at least ``columns`` when given (all otherwise).

    ``floats`` names columns a delimited reader may parse as float64 at once (see open_delimited);
    ``row_groups`` reads only those of a Parquet file (one part of a file scored in parts).

    Memory stays bounded by one block or row-group page set whatever the file size. Raises
    DatasetReadError (now or while iterating) with a plain reason when the bytes cannot be read as a table.
    """
    kind = detect_kind(key)
    if kind.format is Format.PARQUET:
        if kind.gzipped:
            raise DatasetReadError("gzip-compressed Parquet is not supported (Parquet compresses itself)")
        names, batches = open_parquet(file, columns=columns, row_groups=row_groups)
    else:
        source = cast(BinaryIO, GunzipStream(file, limit=max_decompressed_bytes)) if kind.gzipped else file
        text = cast(BinaryIO, TextGuard(source))
        if kind.format is Format.JSONL:
            names, batches = [], iter_json_lines(text)
        else:
            names, batches = open_delimited(text, delimiter=DELIMITERS[kind.format], columns=columns,
                                            floats=floats)
    check_unique_names(names)
    return BatchStream(names, batches)


def check_unique_names(names: list[str]) -> None:
    """Reject a table whose columns cannot be told apart."""
    duplicates = sorted(name for name, count in Counter(names).items() if count > 1)
    if duplicates:
        raise DatasetReadError(f"duplicate column names: {', '.join(map(repr, duplicates))}")
