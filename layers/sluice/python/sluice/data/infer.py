"""infer_contract: draft a data contract from a sample file that loads, and accepts data of the same
distribution, with no hand edits; every non-obvious choice carries the reason for a person to review."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import BinaryIO

import numpy as np
import pyarrow as pa

from sluice.config.model import DataContract, Task, TimestampSpec
from sluice.data.batches import open_batches
from sluice.data.convert import convert
from sluice.data.infer_columns import ColumnDraft, as_role, column_type, draft_column
from sluice.data.infer_leaks import leak_reason
from sluice.data.infer_target import InferError, TargetDraft, TargetError, infer_target

SAMPLE_ROWS = 100_000

__all__ = ["SAMPLE_ROWS", "DraftContract", "InferError", "TargetError", "infer_contract"]


@dataclass(frozen=True)
class DraftContract:
    """A drafted contract, the task it suggests, the sample it came from and the reasons behind its choices."""

    contract: DataContract
    task: Task
    rows: int
    notes: dict[str, str] = field(default_factory=dict)
    """Column name → why it got its role, range or open category list."""
    target: TargetDraft | None = None
    target_spread: float | None = None
    """The standard deviation of a numeric target in the sample (scales the regression gate)."""


def infer_contract(file: BinaryIO, key: str, *, target: str | None = None,
                   sample_rows: int = SAMPLE_ROWS) -> DraftContract:
    """Draft a contract from the first ``sample_rows`` rows of ``file`` (format from ``key``).

    The target is ``target`` or the last column. Raises DatasetReadError when the sample cannot be read,
    KeyError when the target is not a column, and InferError (TargetError for the target) when the target fits
    no task or no column is left to learn from.
    """
    names, sample, rows = _read_sample(file, key, sample_rows)
    target_name = names[-1] if target is None else target
    if target_name not in sample:
        raise KeyError(f"target {target_name!r} is not a column of the sample (columns: {', '.join(names)})")
    drafted_target = infer_target(target_name, sample[target_name])
    timestamp = next((name for name in names if name != target_name and _is_timestamp(sample[name])), None)
    drafts = [_draft(name, sample[name], rows, sample[target_name], drafted_target.task)
              for name in names if name not in (target_name, timestamp)]
    if not any(draft.spec.is_feature for draft in drafts):
        reasons = "; ".join(f"{draft.spec.name!r}: {draft.note}" for draft in drafts) or "the target is the only column"
        raise InferError(f"no column is left to learn {target_name!r} from ({reasons})")
    tokens = sorted({token for draft in drafts for token in draft.null_tokens})
    contract = DataContract(
        columns=tuple(draft.spec for draft in drafts), target=target_name,
        target_type=drafted_target.target_type, target_values=drafted_target.values,
        positive=drafted_target.positive, min_rows=min(50, max(1, rows)), null_tokens=tuple(tokens),
        timestamp=None if timestamp is None else TimestampSpec(timestamp, nullable=_has_missing(sample[timestamp])),
    )
    notes = {draft.spec.name: draft.note for draft in drafts if draft.note}
    return DraftContract(contract, drafted_target.task, rows, notes, drafted_target,
                         _spread(sample[target_name]) if drafted_target.task == "regression" else None)


def _draft(name: str, array: pa.Array, rows: int, target: pa.Array, task: Task) -> ColumnDraft:
    draft = draft_column(name, array, rows)
    if draft.spec.role != "feature":
        return draft
    reason = leak_reason(array, draft.spec.type, target, task)
    return draft if reason is None else as_role(draft, "ignore", reason)


def _read_sample(file: BinaryIO, key: str, sample_rows: int) -> tuple[list[str], dict[str, pa.Array], int]:
    """The column names, each column's first ``sample_rows`` values (text as read) and the row count."""
    stream = open_batches(file, key)
    batches: list[pa.RecordBatch] = []
    rows = 0
    try:
        for batch in stream:
            batches.append(batch.slice(0, sample_rows - rows))
            rows += batches[-1].num_rows
            if rows >= sample_rows:
                break
    finally:
        stream.close()
    names = list(stream.names or (batches[0].schema.names if batches else []))
    return names, {name: _column(batches, name) for name in names}, rows


def _column(batches: list[pa.RecordBatch], name: str) -> pa.Array:
    chunks = [batch.column(batch.schema.names.index(name)) for batch in batches if name in batch.schema.names]
    chunks = [chunk.cast(pa.string()) if pa.types.is_null(chunk.type) else chunk for chunk in chunks]
    return pa.chunked_array(chunks or [pa.array([], pa.string())]).combine_chunks()


def _is_timestamp(array: pa.Array) -> bool:
    if pa.types.is_timestamp(array.type) or pa.types.is_date(array.type):
        return True
    if not pa.types.is_string(array.type) or column_type(array) != "string":
        return False
    conversion = convert(array, "timestamp")
    return conversion.failed_count == 0 and conversion.missing_count < len(array)


def _has_missing(array: pa.Array) -> bool:
    return convert(array, "timestamp").missing_count > 0


def _spread(array: pa.Array) -> float | None:
    values = convert(array, "float").values.drop_null().to_numpy(zero_copy_only=False)
    return float(np.std(values)) if len(values) > 1 else None
