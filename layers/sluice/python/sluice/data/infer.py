"""infer_contract: draft a data contract from a sample file, for a person to review and edit."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.compute as pc

from sluice.config.model import ColumnSpec, ColumnType, DataContract, Task, TimestampSpec
from sluice.data.batches import open_batches
from sluice.data.convert import convert

SAMPLE_ROWS = 100_000
MAX_CATEGORIES = 20
_TYPE_ORDER: tuple[ColumnType, ...] = ("bool", "int", "float")


@dataclass(frozen=True)
class DraftContract:
    """A drafted contract, the task it suggests and how many sample rows it was drafted from."""

    contract: DataContract
    task: Task
    rows: int


def infer_contract(file: BinaryIO, key: str, *, target: str | None = None,
                   sample_rows: int = SAMPLE_ROWS) -> DraftContract:
    """Draft a contract from the first ``sample_rows`` rows: types, nullability, observed ranges, categories.

    The target is ``target`` or the last column. Raises DatasetReadError when the sample cannot be read.
    """
    stream = open_batches(file, key)
    batches: list[pa.RecordBatch] = []
    rows = 0
    for batch in stream:
        batches.append(batch.slice(0, sample_rows - rows))
        rows += batches[-1].num_rows
        if rows >= sample_rows:
            break
    stream.close()
    names = stream.names or (list(batches[0].schema.names) if batches else [])
    sample = {name: _column(batches, name) for name in names}
    target_name = target or names[-1]
    if target_name not in sample:
        raise KeyError(f"target {target_name!r} is not a column of the sample (columns: {', '.join(names)})")
    timestamp = next((name for name in names if name != target_name and _is_timestamp(sample[name])), None)
    columns = tuple(_spec(name, sample[name], rows) for name in names if name not in (target_name, timestamp))
    target_spec = _spec(target_name, sample[target_name], rows)
    classes = target_spec.allowed if target_spec.allowed is not None or target_spec.type == "bool" else None
    task: Task = "classification" if classes is not None or target_spec.type == "string" else "regression"
    contract = DataContract(
        columns=columns, target=target_name, target_type=target_spec.type if task == "classification" else "float",
        target_values=classes, min_rows=min(50, max(1, rows)),
        timestamp=None if timestamp is None else TimestampSpec(timestamp, nullable=_has_missing(sample[timestamp])),
    )
    return DraftContract(contract, task, rows)


def _column(batches: list[pa.RecordBatch], name: str) -> pa.ChunkedArray:
    chunks = [batch.column(batch.schema.names.index(name)) for batch in batches if name in batch.schema.names]
    return pa.chunked_array([chunk.cast(pa.string()) if pa.types.is_null(chunk.type) else chunk for chunk in chunks]
                            or [pa.array([], pa.string())])


def _spec(name: str, column: pa.ChunkedArray, rows: int) -> ColumnSpec:
    array = column.combine_chunks()
    column_type = _type(array)
    conversion = convert(array, column_type)
    values = conversion.values.drop_null()
    nullable = conversion.missing_count > 0 or len(array) < rows
    if column_type in ("int", "float") and len(values):
        low, high = (scalar.as_py() for scalar in pc.min_max(values).values())
        return ColumnSpec(name, column_type, nullable, min=float(low), max=float(high),
                          unique=column_type == "int" and _all_distinct(values) and _looks_like_id(name))
    if column_type == "string" and len(values):
        counts = Counter(values.to_pylist())
        if len(counts) <= MAX_CATEGORIES and len(counts) < max(2, len(values) // 2):
            return ColumnSpec(name, "string", nullable, allowed=tuple(sorted(counts)))
        return ColumnSpec(name, "string", nullable, unique=_all_distinct(values) and _looks_like_id(name))
    return ColumnSpec(name, column_type, nullable)


def _type(array: pa.Array) -> ColumnType:
    """The narrowest contract type every present value converts to."""
    for candidate in _TYPE_ORDER:
        conversion = convert(array, candidate)
        if conversion.failed_count == 0 and conversion.missing_count < len(array):
            return candidate
    return "string"


def _is_timestamp(column: pa.ChunkedArray) -> bool:
    array = column.combine_chunks()
    if pa.types.is_timestamp(array.type) or pa.types.is_date(array.type):
        return True
    if not pa.types.is_string(array.type) or _type(array) != "string":
        return False
    conversion = convert(array, "timestamp")
    return conversion.failed_count == 0 and conversion.missing_count < len(array)


def _has_missing(column: pa.ChunkedArray) -> bool:
    return convert(column.combine_chunks(), "timestamp").missing_count > 0


def _all_distinct(values: pa.Array) -> bool:
    return len(values) > 1 and len(pc.unique(values)) == len(values)


def _looks_like_id(name: str) -> bool:
    lowered = name.lower()
    return lowered == "id" or lowered.endswith(("_id", "id", "_key", "uuid"))


def contract_toml(model: str, draft: DraftContract) -> str:
    """The draft as a ``[models.<model>]`` TOML table that sluice.toml accepts as is."""
    contract = draft.contract
    first = "logistic_regression" if draft.task == "classification" else "ridge"
    families = [first, "random_forest"]
    lines = [
        f"# Drafted by `sluice contract infer` from {draft.rows} sample rows: review every bound and category.",
        f"[models.{model}]",
        f"task = {_toml(draft.task)}",
        "",
        f"[models.{model}.training]",
        f"families = {_toml(families)}",
        "",
        f"[models.{model}.contract]",
        f"target = {_toml(contract.target)}",
        f"target_type = {_toml(contract.target_type)}",
    ]
    if contract.target_values is not None:
        lines.append(f"target_values = {_toml(list(contract.target_values))}")
    lines.append(f"min_rows = {contract.min_rows}")
    if contract.timestamp is not None:
        stamp = contract.timestamp
        lines.append(f"timestamp = {{ name = {_toml(stamp.name)}, nullable = {_toml(stamp.nullable)} }}")
    for spec in contract.columns:
        lines += ["", f"[[models.{model}.contract.columns]]", f"name = {_toml(spec.name)}",
                  f"type = {_toml(spec.type)}"]
        lines += [f"{key} = {_toml(value)}" for key, value in _options(spec)]
    return "\n".join(lines) + "\n"


def contract_document(draft: DraftContract) -> dict[str, Any]:
    """The draft as JSON-ready data (the same fields as the TOML)."""
    contract = draft.contract
    return {
        "task": draft.task, "rows_sampled": draft.rows, "target": contract.target,
        "target_type": contract.target_type,
        "target_values": None if contract.target_values is None else list(contract.target_values),
        "min_rows": contract.min_rows,
        "timestamp": None if contract.timestamp is None else {"name": contract.timestamp.name,
                                                             "nullable": contract.timestamp.nullable},
        "columns": [{"name": spec.name, "type": spec.type, **dict(_options(spec))} for spec in contract.columns],
    }


def _options(spec: ColumnSpec) -> list[tuple[str, Any]]:
    options: list[tuple[str, Any]] = []
    if spec.nullable:
        options.append(("nullable", True))
    if spec.min is not None:
        options.append(("min", spec.min))
    if spec.max is not None:
        options.append(("max", spec.max))
    if spec.allowed is not None:
        options.append(("allowed", list(spec.allowed)))
    if spec.unique:
        options.append(("unique", True))
    return options


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if value == value and abs(value) != float("inf") else str(value).lower()
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    return _toml_string(str(value))


def _toml_string(text: str) -> str:
    escaped = []
    for char in text:
        if char in ('"', "\\"):
            escaped.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            escaped.append(f"\\u{ord(char):04x}")
        else:
            escaped.append(char)
    return '"' + "".join(escaped) + '"'
