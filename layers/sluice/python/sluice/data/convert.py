"""Convert one column, whatever its Arrow type, to a contract type, value by value, without raising."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sluice.config.model import ColumnType
from sluice.contract.values import (
    FALSE_TOKENS,
    FLOAT_PATTERN,
    INT_PATTERN,
    NULL_TOKENS,
    TRUE_TOKENS,
    looks_numeric,
    missing_tokens,
)
from sluice.data.literals import fixed_array, scalar, text_array, text_bytes

ValueType = ColumnType | Literal["timestamp"]
TIMESTAMP = pa.timestamp("us", tz="UTC")
ARROW_TYPES: dict[ValueType, pa.DataType] = {
    "float": pa.float64(),
    "int": pa.int64(),
    "string": pa.string(),
    "bool": pa.bool_(),
    "timestamp": TIMESTAMP,
}
__all__ = ["ARROW_TYPES", "FALSE_TOKENS", "FLOAT_PATTERN", "INT_PATTERN", "NULL_TOKENS", "TIMESTAMP", "TRUE_TOKENS",
           "Conversion", "ValueType", "convert", "convert_values"]
_INT64_LIMIT = 2.0**63
_TRUE_TOKENS = text_array(TRUE_TOKENS)
_FALSE_TOKENS = text_array(FALSE_TOKENS)
_TRUE, _FALSE = scalar(True, pa.bool_()), scalar(False, pa.bool_())
_FAST_INT_LENGTH = 18


@dataclass(frozen=True)
class Conversion:
    """A column converted to a contract type.

    ``values`` holds the converted values (null where the input is missing or failed); ``missing`` marks
    empty inputs (null, blank, or a null token such as "NA" for non-string types), ``missing_count`` counts
    them. ``failed`` marks present inputs that are not a valid value of the type. Masks have no nulls.
    A conversion whose missing inputs are exactly the nulls of an Arrow array keeps that array
    (``nulls_of``) instead of a mask, so the clean case never builds one.
    """

    values: pa.Array
    missing_count: int
    missing_mask: pa.BooleanArray | None = None
    nulls_of: pa.Array | None = None

    @classmethod
    def from_nulls(cls, values: pa.Array, source: pa.Array) -> Conversion:
        """``values`` converted from ``source``, whose nulls are the missing inputs."""
        return cls(values, source.null_count, nulls_of=source)

    @classmethod
    def from_mask(cls, values: pa.Array, missing: pa.BooleanArray) -> Conversion:
        return cls(values, _count(missing), missing_mask=missing)

    @property
    def missing(self) -> pa.BooleanArray:
        if self.missing_mask is not None:
            return self.missing_mask
        if self.nulls_of is None:
            raise ValueError("a Conversion needs missing_mask or nulls_of")
        return pc.is_null(self.nulls_of)

    @property
    def failed_count(self) -> int:
        return self.values.null_count - self.missing_count

    @property
    def failed(self) -> pa.BooleanArray:
        return pc.and_not(pc.is_null(self.values), self.missing)


def convert(array: pa.Array, column_type: ValueType, *, trim: bool = False,
            null_tokens: tuple[str, ...] = ()) -> Conversion:
    """Convert ``array`` to ``column_type`` with the value rules of ``sluice.contract.values``.

    Numbers, booleans and timestamps are read from trimmed text; text is kept as given unless ``trim``.
    ``null_tokens`` (the contract's extra missing spellings) apply to every type; native values are cast
    when exact.
    """
    if pa.types.is_dictionary(array.type):
        return _convert_dictionary(array, column_type, trim, null_tokens)
    if pa.types.is_binary(array.type) or pa.types.is_large_binary(array.type):
        text, undecodable = _binary_as_text(array)
        converted = convert(text, column_type, trim=trim, null_tokens=null_tokens)
        return Conversion.from_mask(converted.values, pc.and_not(converted.missing, undecodable))
    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        fast = None if any(map(looks_numeric, null_tokens)) else _fast_numbers(array, column_type)
        if fast is not None:
            return Conversion.from_nulls(fast, array)
        tokens = text_array(missing_tokens(column_type, trim, null_tokens))
        text = pc.utf8_trim_whitespace(array) if trim or column_type != "string" else array
        folded = text if column_type == "string" else pc.ascii_lower(text)
        missing = _no_nulls(pc.or_kleene(pc.is_null(text), pc.is_in(folded, tokens)))
        present = text if column_type in ("string", "timestamp") else folded
        values = _parse(pc.if_else(missing, scalar(None, text.type), present), column_type)
        return Conversion.from_mask(values, missing)
    return Conversion.from_nulls(_cast_native(array, column_type), array)


def convert_values(values: tuple[object, ...], column_type: ValueType, *, trim: bool = False,
                   null_tokens: tuple[str, ...] = ()) -> pa.Array:
    """Convert configured values (e.g. allowed categories) to ``column_type``, dropping unconvertible ones."""
    text = text_array(_config_text(value) for value in values)
    return convert(text, column_type, trim=trim, null_tokens=null_tokens).values.drop_null()


def _convert_dictionary(array: pa.DictionaryArray, column_type: ValueType, trim: bool,
                        null_tokens: tuple[str, ...]) -> Conversion:
    """Convert the (small) dictionary once, then spread the result over the indices."""
    inner = convert(array.dictionary, column_type, trim=trim, null_tokens=null_tokens)
    indices = array.indices
    values = inner.values.take(indices)
    return Conversion.from_mask(values, _no_nulls(pc.or_kleene(pc.is_null(indices), inner.missing.take(indices))))


def _fast_numbers(text: pa.Array, column_type: ValueType) -> pa.Array | None:
    """Arrow's own number parser when every value is a plain finite number (the common case), else None.

    Anything unusual (blanks, "NA", padding, NaN spellings, long or hex integers) falls back to the
    strict path, so both paths agree on every value.
    """
    if column_type not in ("float", "int") or text.null_count == len(text):
        return None
    try:
        values = pc.cast(text, ARROW_TYPES[column_type])
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None  # some value is not a plain number: convert() judges every value on the strict path
    if column_type == "float":
        total = pc.sum(values).as_py()
        return values if total is not None and math.isfinite(total) else None
    lengths, data = text_bytes(text)
    if (len(lengths) and lengths.max() > _FAST_INT_LENGTH) or np.any((data | 0x20) == ord("x")):
        return None  # a long number, or hex (Arrow reads "0x1F"; the contract does not): the strict path judges
    return values


def _parse(text: pa.Array, column_type: ValueType) -> pa.Array:
    if column_type == "string":
        return text.cast(pa.string())
    if column_type == "bool":  # numbers and booleans come trimmed and ASCII-lower-cased
        is_false = pc.if_else(pc.is_in(text, _FALSE_TOKENS), _FALSE, scalar(None, pa.bool_()))
        return pc.if_else(pc.is_in(text, _TRUE_TOKENS), _TRUE, is_false)
    if column_type == "timestamp":
        return _parse_timestamps(text)
    pattern = FLOAT_PATTERN if column_type == "float" else INT_PATTERN
    valid = _no_nulls(pc.match_substring_regex(text, pattern))
    candidates = pc.if_else(valid, text, scalar(None, text.type))
    if column_type == "int":
        candidates = pc.replace_substring_regex(candidates, r"\.0*$", "")
        candidates = pc.replace_substring_regex(candidates, r"^\+", "")
    return _cast_each(candidates, ARROW_TYPES[column_type])


def _parse_timestamps(text: pa.Array) -> pa.Array:
    """ISO 8601 text; with an offset or Z it is converted to UTC, without one it is taken as UTC."""
    for attempt in (TIMESTAMP, pa.timestamp("us")):
        try:
            return pc.cast(text, attempt).cast(TIMESTAMP)
        except pa.ArrowInvalid:
            continue
    return fixed_array([_timestamp_micros(value) for value in text], TIMESTAMP)


def _timestamp_micros(value: pa.Scalar) -> int | None:
    for attempt in (TIMESTAMP, pa.timestamp("us")):
        try:
            micros: int | None = value.cast(attempt).cast(TIMESTAMP).cast(pa.int64()).as_py()
            return micros
        except pa.ArrowInvalid:
            continue
    return None


def _cast_native(array: pa.Array, column_type: ValueType) -> pa.Array:
    kind = array.type
    target = ARROW_TYPES[column_type]
    numeric = pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)
    if column_type == "float" and numeric:
        return array if kind == target else pc.cast(array, target, safe=False)
    if column_type == "int" and pa.types.is_integer(kind):
        if kind == pa.uint64():
            fits = pc.less_equal(array, scalar(2**63 - 1, pa.uint64()))
            array = pc.if_else(fits, array, scalar(None, kind))
        return array if kind == target else pc.cast(array, target, safe=False)
    if column_type == "int" and numeric:
        floats = pc.cast(array, pa.float64(), safe=False)
        below_limit = pc.less(pc.abs(floats), scalar(_INT64_LIMIT, pa.float64()))
        exact = pc.and_(pc.equal(pc.floor(floats), floats), below_limit)
        return pc.cast(pc.if_else(exact, floats, scalar(None, pa.float64())), target, safe=False)
    if column_type == "bool" and pa.types.is_boolean(kind):
        return array
    if column_type == "bool" and numeric:
        floats = pc.cast(array, pa.float64(), safe=False)
        is_zero = pc.equal(floats, scalar(0.0, pa.float64()))  # -0.0 too (is_in compares bits)
        is_one = pc.equal(floats, scalar(1.0, pa.float64()))
        is_zero_or_one = pc.fill_null(pc.or_(is_zero, is_one), _FALSE)
        return pc.if_else(is_zero_or_one, is_one, scalar(None, pa.bool_()))
    if column_type == "string" and (numeric or pa.types.is_boolean(kind) or pa.types.is_temporal(kind)):
        return pc.cast(array, target)
    if column_type == "timestamp" and (pa.types.is_timestamp(kind) or pa.types.is_date(kind)):
        return pc.cast(array if pa.types.is_timestamp(kind) else pc.cast(array, pa.timestamp("us")), target)
    return pa.nulls(len(array), target)


def _cast_each(candidates: pa.Array, target: pa.DataType) -> pa.Array:
    """Cast all at once; if Arrow rejects one value, cast one by one and null the rejected ones."""
    try:
        return pc.cast(candidates, target)
    except pa.ArrowInvalid:
        return fixed_array([_cast_scalar(value, target) for value in candidates], target)


def _cast_scalar(value: pa.Scalar, target: pa.DataType) -> float | int | None:
    try:
        number: float | int | None = value.cast(target).as_py()
        return number
    except pa.ArrowInvalid:
        return None


def _binary_as_text(array: pa.Array) -> tuple[pa.Array, pa.BooleanArray]:
    """Binary values as text; values that are not UTF-8 become null and are flagged."""
    try:
        return pc.cast(array, pa.large_string()), pa.repeat(_FALSE, len(array))
    except pa.ArrowInvalid:
        decoded = [_decode(value) for value in array.to_pylist()]
        text = text_array((value for value, _ in decoded), pa.large_string())
        return text, fixed_array([bad for _, bad in decoded], pa.bool_())


def _decode(value: bytes | None) -> tuple[str | None, bool]:
    if value is None:
        return None, False
    try:
        return value.decode("utf-8"), False
    except UnicodeDecodeError:
        return None, True


def _count(mask: pa.Array) -> int:
    return int(pc.sum(mask).as_py() or 0)


def _no_nulls(mask: pa.Array) -> pa.BooleanArray:
    return pc.fill_null(mask, _FALSE)


def _config_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
