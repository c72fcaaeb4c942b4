"""Glue column types (the capture table's schema, sluice.wiring.capture) as Arrow types, and records converted to
them as Firehose's record format conversion does: a field the schema lacks is dropped, a missing one is null, and
a record whose values do not fit its column fails on its own (AWS Firehose Developer Guide, "Converting input
record format": failed records go to the error output prefix).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

_SCALARS = {"string": pa.string(), "int": pa.int32(), "bigint": pa.int64(), "double": pa.float64(),
            "float": pa.float32(), "boolean": pa.bool_(), "smallint": pa.int16(), "tinyint": pa.int8()}


def arrow_type(glue_type: str) -> pa.DataType:
    """``double``, ``struct<a:double,b:string>`` … → the Arrow type Parquet is written with."""
    text = glue_type.strip()
    if text in _SCALARS:
        return _SCALARS[text]
    if text.startswith("struct<") and text.endswith(">"):
        fields = []
        for part in _split_fields(text[len("struct<"):-1]):
            name, _, kind = part.partition(":")
            fields.append(pa.field(name.strip(), arrow_type(kind)))
        return pa.struct(fields)
    raise ValueError(f"Glue type {glue_type!r} is not one the capture schema uses")


def arrow_schema(columns: Sequence[tuple[str, str]]) -> pa.Schema:
    return pa.schema([pa.field(name, arrow_type(kind)) for name, kind in columns])


def convert(records: Sequence[Mapping[str, Any]], schema: pa.Schema) -> tuple[pa.Table, list[Mapping[str, Any]]]:
    """(the records that fit ``schema`` as one table, the records that do not)."""
    try:
        return pa.Table.from_pylist(list(records), schema=schema), []
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
        kept, failed = [], []
        for record in records:  # find the failing ones, as Firehose fails records one by one
            try:
                pa.Table.from_pylist([record], schema=schema)
                kept.append(record)
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
                failed.append(record)
        return pa.Table.from_pylist(kept, schema=schema), failed


def _split_fields(body: str) -> list[str]:
    """Split ``a:double,b:struct<c:int,d:string>`` at its top-level commas."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(body):
        depth += (char == "<") - (char == ">")
        if char == "," and depth == 0:
            parts.append(body[start:index])
            start = index + 1
    parts.append(body[start:])
    return [part for part in parts if part.strip()]
