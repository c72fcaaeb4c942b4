"""data_version: a content hash of a table, independent of file format, chunking and column order."""

from __future__ import annotations

import hashlib
import struct

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SCHEME = b"sluice-data-version/1"
VERSION_LENGTH = 16


def data_version(table: pa.Table) -> str:
    """The first 16 hex digits of a sha256 over a canonical serialization of names, types and values.

    Columns are taken in name order; each contributes its name, its type family (float64, int64,
    bool or string) and digests of its validity, lengths and values, so chunking, Parquet encoding
    and column order do not matter. Meant for normalized tables; other column types raise ValueError.
    """
    digest = hashlib.sha256(SCHEME)
    digest.update(struct.pack("<q", table.num_rows))
    for name, index in sorted((name, index) for index, name in enumerate(table.column_names)):
        family, column = _canonical(table.column(index), name)
        for part in (name.encode("utf-8"), family.encode("ascii"), *_column_digests(family, column)):
            digest.update(struct.pack("<q", len(part)))
            digest.update(part)
    return digest.hexdigest()[:VERSION_LENGTH]


def _canonical(column: pa.ChunkedArray, name: str) -> tuple[str, pa.ChunkedArray]:
    kind = column.type
    if pa.types.is_dictionary(kind):
        return _canonical(column.cast(kind.value_type), name)
    if pa.types.is_floating(kind):
        return "float64", column.cast(pa.float64())
    if pa.types.is_integer(kind):
        return "int64", column.cast(pa.int64())
    if pa.types.is_boolean(kind):
        return "bool", column
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return "string", column.cast(pa.large_string())
    raise ValueError(f"data_version cannot hash column {name!r} of type {kind}; normalize the table first")


def _column_digests(family: str, column: pa.ChunkedArray) -> tuple[bytes, bytes, bytes]:
    validity, lengths, values = hashlib.sha256(), hashlib.sha256(), hashlib.sha256()
    for chunk in column.chunks:
        validity.update(np.asarray(pc.is_valid(chunk), dtype=np.uint8).tobytes())
        if family == "string":
            _update_strings(chunk, lengths, values)
        else:
            values.update(_fixed_width(family, chunk))
    return validity.digest(), lengths.digest(), values.digest()


def _fixed_width(family: str, chunk: pa.Array) -> bytes:
    if family == "bool":
        return np.asarray(pc.fill_null(chunk, False), dtype=np.uint8).tobytes()
    if family == "int64":
        return np.asarray(pc.fill_null(chunk, 0), dtype="<i8").tobytes()
    floats = np.asarray(pc.fill_null(chunk, 0.0), dtype="<f8").copy()
    floats[floats == 0.0] = 0.0
    floats[np.isnan(floats)] = np.nan
    return floats.tobytes()


def _update_strings(chunk: pa.Array, lengths: hashlib._Hash, values: hashlib._Hash) -> None:
    filled = pc.fill_null(chunk, "")
    _, offsets_buffer, data_buffer = filled.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype="<i8")[filled.offset : filled.offset + len(filled) + 1]
    if len(offsets):
        lengths.update(np.diff(offsets).astype("<i8").tobytes())
        if data_buffer is not None:
            values.update(memoryview(data_buffer)[int(offsets[0]) : int(offsets[-1])])
