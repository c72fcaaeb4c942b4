"""normalize: an accepted table in the contract's shape (feature order, exact types, timestamp, target last)."""

from __future__ import annotations

from functools import lru_cache

import pyarrow as pa

from sluice.config.model import DataContract
from sluice.data.convert import ARROW_TYPES, ValueType, convert
from sluice.data.errors import ContractViolationError

_Column = tuple[str, ValueType, bool, bool]
"""name, type, nullable, trim"""


@lru_cache(maxsize=64)
def _columns(contract: DataContract) -> tuple[_Column, ...]:
    columns: list[_Column] = [(spec.name, spec.type, spec.nullable, spec.trim) for spec in contract.columns
                              if spec.role != "ignore"]
    if contract.timestamp is not None:
        columns.append((contract.timestamp.name, "timestamp", contract.timestamp.nullable, False))
    columns.append((contract.target, contract.target_type, False, False))
    return tuple(columns)


def normalized_schema(contract: DataContract) -> pa.Schema:
    """The schema of every accepted dataset of ``contract``."""
    return pa.schema([pa.field(name, ARROW_TYPES[kind], nullable=nullable)
                      for name, kind, nullable, _ in _columns(contract)])


def normalize(table: pa.Table, contract: DataContract) -> pa.Table:
    """Return the contract's features in order, cast to their types, then the timestamp and the target.

    Other columns are dropped; text values are kept as given (trimmed only where the column says ``trim``)
    and the contract's null tokens become missing, exactly as validation read them. Raises
    ContractViolationError if a column is missing, a value does not convert, or a non-nullable column has
    missing values: validate first and normalize only accepted tables.
    """
    for name, *_ in _columns(contract):
        if name not in table.column_names:
            raise ContractViolationError(f"cannot normalize: column {name!r} is missing")
    batches = [normalize_batch(batch, contract) for batch in table.to_batches()]
    return pa.Table.from_batches(batches, schema=normalized_schema(contract))


def normalize_batch(batch: pa.RecordBatch, contract: DataContract) -> pa.RecordBatch:
    """One batch in the contract's shape; a nullable column absent from the batch becomes all-missing."""
    names = batch.schema.names
    arrays = []
    for name, kind, nullable, trim in _columns(contract):
        if name not in names:
            if not nullable:
                raise ContractViolationError(f"cannot normalize: column {name!r} is missing")
            arrays.append(pa.nulls(batch.num_rows, ARROW_TYPES[kind]))
            continue
        conversion = convert(batch.column(names.index(name)), kind, trim=trim, null_tokens=contract.null_tokens)
        if conversion.failed_count:
            raise ContractViolationError(f"cannot normalize: column {name!r} has values that are not {kind}")
        if not nullable and conversion.missing_count:
            raise ContractViolationError(f"cannot normalize: non-nullable column {name!r} has missing values")
        arrays.append(conversion.values)
    return pa.RecordBatch.from_arrays(arrays, schema=normalized_schema(contract))
