"""normalize: an accepted table in the contract's shape (feature order, exact types, target last)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from sluice.config.model import ColumnType, DataContract
from sluice.data.convert import ARROW_TYPES, convert
from sluice.data.errors import ContractViolationError


def normalize(table: pa.Table, contract: DataContract) -> pa.Table:
    """Return the contract's features in order, cast to their types, then the target; drop other columns.

    Text values are trimmed. Raises ContractViolationError if a column is missing, a value does not
    convert, or a non-nullable column has missing values: validate first and normalize only accepted tables.
    """
    columns = [(spec.name, spec.type, spec.nullable) for spec in contract.columns]
    columns.append((contract.target, contract.target_type, False))
    fields = [pa.field(name, ARROW_TYPES[kind], nullable=nullable) for name, kind, nullable in columns]
    arrays = [_column(table, name, kind, nullable) for name, kind, nullable in columns]
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def _column(table: pa.Table, name: str, kind: ColumnType, nullable: bool) -> pa.ChunkedArray:
    indices = table.schema.get_all_field_indices(name)
    if not indices:
        raise ContractViolationError(f"cannot normalize: column {name!r} is missing")
    chunks = []
    for chunk in table.column(indices[0]).chunks:
        conversion = convert(chunk, kind)
        if pc.any(conversion.failed).as_py():
            raise ContractViolationError(f"cannot normalize: column {name!r} has values that are not {kind}")
        if not nullable and pc.any(conversion.missing).as_py():
            raise ContractViolationError(f"cannot normalize: non-nullable column {name!r} has missing values")
        chunks.append(conversion.values)
    return pa.chunked_array(chunks, type=ARROW_TYPES[kind])
