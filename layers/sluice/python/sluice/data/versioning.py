"""data_version: a content hash of a table, independent of file format, chunking and column order."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import struct
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sluice.config.model import DataContract
from sluice.data.literals import numpy_values, scalar, text_bytes

SCHEME = b"sluice-data-version/1"
VERSION_LENGTH = 16


def data_version(table: pa.Table) -> str:
    """The first 16 hex digits of a sha256 over a canonical serialization of names, types and values.

    Columns are taken in name order; each contributes its name, its type family (float64, int64,
    bool, string or timestamp) and digests of its validity, lengths and values, so chunking, Parquet
    encoding and column order do not matter. Meant for normalized tables; other column types raise ValueError.
    """
    hasher = DataVersionHasher(table.schema)
    for batch in table.to_batches():
        hasher.update(batch)
    return hasher.hexdigest()


class DataVersionHasher:
    """data_version computed batch by batch (same result as over the whole table)."""

    def __init__(self, schema: pa.Schema) -> None:
        self._columns = sorted((name, index) for index, name in enumerate(schema.names))
        self._families = {index: _family(schema.field(index).type, name) for name, index in self._columns}
        self._digests = {index: (hashlib.sha256(), hashlib.sha256(), hashlib.sha256()) for _, index in self._columns}
        self._rows = 0

    def update(self, batch: pa.RecordBatch) -> None:
        for _, index in self._columns:
            family = self._families[index]
            _update_column(family, _as_family(batch.column(index), family), *self._digests[index])
        self._rows += batch.num_rows

    def hexdigest(self) -> str:
        digest = hashlib.sha256(SCHEME)
        digest.update(struct.pack("<q", self._rows))
        for name, index in self._columns:
            family = self._families[index]
            parts = (name.encode("utf-8"), family.encode("ascii"), *(d.digest() for d in self._digests[index]))
            for part in parts:
                digest.update(struct.pack("<q", len(part)))
                digest.update(part)
        return digest.hexdigest()[:VERSION_LENGTH]


def contract_version(contract: DataContract) -> str:
    """The first 16 hex digits of a sha256 over the contract's canonical JSON (lineage: which rules applied)."""
    canonical = json.dumps(dataclasses.asdict(contract), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:VERSION_LENGTH]


def _family(kind: pa.DataType, name: str) -> str:
    if pa.types.is_dictionary(kind):
        return _family(kind.value_type, name)
    if pa.types.is_floating(kind):
        return "float64"
    if pa.types.is_integer(kind):
        return "int64"
    if pa.types.is_boolean(kind):
        return "bool"
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return "string"
    if pa.types.is_timestamp(kind):
        return "timestamp"
    raise ValueError(f"data_version cannot hash column {name!r} of type {kind}; normalize the table first")


_FAMILY_TYPES = {"float64": pa.float64(), "int64": pa.int64(), "bool": pa.bool_(), "string": pa.large_string()}


def _as_family(array: pa.Array, family: str) -> pa.Array:
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if family == "timestamp":
        return array.cast(pa.timestamp("us", tz="UTC")).cast(pa.int64())
    return array.cast(_FAMILY_TYPES[family])


def _update_column(family: str, chunk: pa.Array, validity: Any, lengths: Any, values: Any) -> None:
    validity.update(numpy_values(pc.is_valid(chunk)).astype(np.uint8).tobytes())
    if family == "string":
        _update_strings(chunk, lengths, values)
    else:
        values.update(_fixed_width(family, chunk))


def _fixed_width(family: str, chunk: pa.Array) -> bytes:
    if family == "bool":
        return numpy_values(pc.fill_null(chunk, scalar(False, pa.bool_()))).astype(np.uint8).tobytes()
    if family in ("int64", "timestamp"):
        return numpy_values(pc.fill_null(chunk, scalar(0, chunk.type))).tobytes()
    floats = numpy_values(pc.fill_null(chunk, scalar(0.0, pa.float64()))).copy()
    floats[floats == 0.0] = 0.0
    floats[np.isnan(floats)] = np.nan
    return floats.tobytes()


def _update_strings(chunk: pa.Array, lengths: hashlib._Hash, values: hashlib._Hash) -> None:
    value_lengths, data = text_bytes(pc.fill_null(chunk, scalar("", chunk.type)))
    lengths.update(value_lengths.astype("<i8").tobytes())
    values.update(data.data)


def composite_version(data_versions: list[str] | tuple[str, ...]) -> str:
    """The data version of several accepted versions trained on together, in this order (one version: itself)."""
    if len(data_versions) == 1:
        return data_versions[0]
    joined = "\n".join(data_versions).encode("ascii")
    return hashlib.sha256(b"sluice-data-composite/1\n" + joined).hexdigest()[:VERSION_LENGTH]
