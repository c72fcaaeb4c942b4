"""Read a record batch into the model's input tensors a column at a time, with the contract's Arrow conversion.

The conversion is validation's (``sluice.data.convert``, on the tokens and patterns of ``sluice.contract.values``),
which tests/unit/test_parity.py proves reads every value as the endpoint's reader does. A row is *decided* when
each of its inputs is clean: read the same way by both, breaking no rule. Only decided rows are fed to the model
here; every other row (one that breaks a rule, whose verdict the endpoint spells, or a value of an Arrow type the
two readers may take differently) is left to the row-at-a-time path, so its outcome is the endpoint's own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sluice.contract.values import BOOL_TEXT, ValueRules
from sluice.data.convert import convert
from sluice.serving.reading import FLOAT32_MAX
from sluice.serving.signature import InputSpec, ModelSignature


@dataclass(frozen=True)
class ColumnarRead:
    """Which rows of a batch are decided, and the model's ``[decided rows, 1]`` input tensors for them."""

    decided: np.ndarray
    tensors: dict[str, np.ndarray]


def read_batch(batch: pa.RecordBatch, signature: ModelSignature) -> ColumnarRead | None:
    """The decided rows of ``batch`` and their tensors; None when no row can be decided here (an input column
    missing, or of an Arrow type only the row-at-a-time reader takes)."""
    names = set(batch.schema.names)
    decided = np.ones(batch.num_rows, dtype=bool)
    columns: dict[str, np.ndarray] = {}
    for spec in signature.inputs:
        if spec.name not in names:
            return None
        read = read_column(batch.column(spec.name), spec)
        if read is None:
            return None
        columns[spec.name], clean = read
        decided &= clean
    if decided.all():
        return ColumnarRead(decided, {name: values.reshape(-1, 1) for name, values in columns.items()})
    return ColumnarRead(decided, {name: values[decided].reshape(-1, 1) for name, values in columns.items()})


def read_column(array: pa.Array, spec: InputSpec) -> tuple[np.ndarray, np.ndarray] | None:
    """One input's tensor values (every row) and which rows it reads cleanly; None: read it row by row."""
    if spec.kind == "float":
        return _numbers(array, spec.rules)
    return _texts(array, spec.rules)


def _numbers(array: pa.Array, rules: ValueRules | None) -> tuple[np.ndarray, np.ndarray] | None:
    kind = array.type
    native = pa.types.is_integer(kind) or kind in (pa.float32(), pa.float64())
    if rules is None:  # no contract: JSON numbers only (null: NaN), within float32's range
        if not native:
            return None
        tensor = _float32(_filled(pc.cast(array, pa.float64(), safe=False)))
        return tensor, ~np.isinf(tensor)
    if not (native or _is_text(kind)):
        return None
    conversion = convert(array, rules.type, trim=rules.trim, null_tokens=rules.null_tokens)
    values = conversion.values
    numbers = _filled(pc.cast(values, pa.float64(), safe=False))
    missing = _mask(conversion.missing)
    present = ~_mask(pc.is_null(values))
    with np.errstate(invalid="ignore"):
        clean = present & np.isfinite(numbers) & (np.abs(numbers) <= FLOAT32_MAX)
        if rules.minimum is not None:
            clean &= numbers >= rules.minimum
        if rules.maximum is not None:
            clean &= numbers <= rules.maximum
    if rules.allowed_values is not None:
        native_values = pc.fill_null(values, pa.scalar(0, values.type)).to_numpy(zero_copy_only=False)
        clean &= np.isin(native_values, np.array(sorted(rules.allowed_values), dtype=native_values.dtype))
    if rules.nullable:
        clean |= missing
    return _float32(np.where(present, numbers, np.nan)), clean


def _texts(array: pa.Array, rules: ValueRules | None) -> tuple[np.ndarray, np.ndarray] | None:
    kind = array.type
    text_like = _is_text(kind) or (pa.types.is_dictionary(kind) and _is_text(kind.value_type))
    if rules is None:  # no contract: JSON strings only (null: "")
        if not _is_text(kind):
            return None
        return _objects(array), np.ones(len(array), dtype=bool)
    if not (text_like or (rules.type == "bool" and pa.types.is_boolean(kind))):
        return None
    conversion = convert(array, rules.type, trim=rules.trim, null_tokens=rules.null_tokens)
    values = conversion.values
    missing = _mask(conversion.missing)
    clean = ~_mask(pc.is_null(values))
    if rules.max_length is not None:
        clean &= _mask(pc.less_equal(pc.utf8_length(values), rules.max_length))
    if rules.allowed_values is not None:
        allowed = pa.array(sorted(rules.allowed_values), values.type)
        clean &= _mask(pc.is_in(values, value_set=allowed))
    if rules.nullable:
        clean |= missing
    text = pc.if_else(values, BOOL_TEXT[True], BOOL_TEXT[False]) if rules.type == "bool" else values
    return _objects(text), clean


def _is_text(kind: pa.DataType) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _filled(numbers: pa.Array) -> np.ndarray:
    """float64 values, NaN where null."""
    return np.asarray(pc.fill_null(numbers, math.nan).to_numpy(zero_copy_only=False), dtype=np.float64)


def _float32(numbers: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return numbers.astype(np.float32)


def _objects(text: pa.Array) -> np.ndarray:
    """Text values as the model's object tensor (null: "")."""
    return np.asarray(pc.fill_null(pc.cast(text, pa.string()), "").to_numpy(zero_copy_only=False), dtype=object)


def _mask(mask: pa.Array) -> np.ndarray:
    """A boolean Arrow array as NumPy (null: False)."""
    return np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)
