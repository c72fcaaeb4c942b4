"""Convert one column, whatever its Arrow type, to a contract type, value by value, without raising."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from sluice.config.model import ColumnType

ARROW_TYPES: dict[ColumnType, pa.DataType] = {
    "float": pa.float64(),
    "int": pa.int64(),
    "string": pa.string(),
    "bool": pa.bool_(),
}
NULL_TOKENS = ("", "na", "n/a", "null", "none")
TRUE_TOKENS = ("true", "t", "yes", "y", "1")
FALSE_TOKENS = ("false", "f", "no", "n", "0")
FLOAT_PATTERN = r"^[+-]?((\d+\.?\d*|\.\d+)(e[+-]?\d+)?|inf|infinity|nan)$"
INT_PATTERN = r"^[+-]?\d{1,18}(\.0*)?$"
_INT64_LIMIT = 2.0**63


@dataclass(frozen=True)
class Conversion:
    """A column converted to a contract type.

    ``values`` holds the converted values (null where the input is missing or failed), ``missing``
    marks empty inputs (null, blank, or a null token such as "NA" for non-string types) and
    ``failed`` marks present inputs that are not a valid value of the type. Neither mask has nulls.
    """

    values: pa.Array
    missing: pa.BooleanArray
    failed: pa.BooleanArray


def convert(array: pa.Array, column_type: ColumnType) -> Conversion:
    """Convert ``array`` to ``column_type``; text is trimmed and parsed, native values cast when exact."""
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if pa.types.is_binary(array.type) or pa.types.is_large_binary(array.type):
        text, undecodable = _binary_as_text(array)
        converted = convert(text, column_type)
        missing = pc.and_(converted.missing, pc.invert(undecodable))
        return Conversion(converted.values, missing, pc.or_(converted.failed, undecodable))
    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        text = pc.utf8_trim_whitespace(array)
        tokens = ("",) if column_type == "string" else NULL_TOKENS
        missing = _no_nulls(pc.or_kleene(pc.is_null(text), pc.is_in(pc.utf8_lower(text), pa.array(tokens))))
        values = _parse(pc.if_else(missing, pa.scalar(None, text.type), text), column_type)
    else:
        missing = pc.is_null(array)
        values = _cast_native(array, column_type)
    failed = pc.and_(pc.invert(missing), pc.is_null(values))
    return Conversion(values=values, missing=missing, failed=failed)


def convert_values(values: tuple[object, ...], column_type: ColumnType) -> pa.Array:
    """Convert configured values (e.g. allowed categories) to ``column_type``, dropping unconvertible ones."""
    text = pa.array([_config_text(value) for value in values], pa.string())
    return convert(text, column_type).values.drop_null()


def _parse(text: pa.Array, column_type: ColumnType) -> pa.Array:
    if column_type == "string":
        return text.cast(pa.string())
    if column_type == "bool":
        lowered = pc.utf8_lower(text)
        none = pa.scalar(None, pa.bool_())
        is_false = pc.if_else(pc.is_in(lowered, pa.array(FALSE_TOKENS)), False, none)
        return pc.if_else(pc.is_in(lowered, pa.array(TRUE_TOKENS)), True, is_false)
    pattern = FLOAT_PATTERN if column_type == "float" else INT_PATTERN
    valid = _no_nulls(pc.match_substring_regex(text, pattern, ignore_case=True))
    candidates = pc.if_else(valid, text, pa.scalar(None, text.type))
    if column_type == "int":
        candidates = pc.replace_substring_regex(candidates, r"\.0*$", "")
        candidates = pc.replace_substring_regex(candidates, r"^\+", "")
    return _cast_each(candidates, ARROW_TYPES[column_type])


def _cast_native(array: pa.Array, column_type: ColumnType) -> pa.Array:
    kind = array.type
    target = ARROW_TYPES[column_type]
    numeric = pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)
    if column_type == "float" and numeric:
        return pc.cast(array, target, safe=False)
    if column_type == "int" and pa.types.is_integer(kind):
        if kind == pa.uint64():
            fits = pc.less_equal(array, pa.scalar(2**63 - 1, pa.uint64()))
            array = pc.if_else(fits, array, pa.scalar(None, kind))
        return pc.cast(array, target, safe=False)
    if column_type == "int" and numeric:
        floats = pc.cast(array, pa.float64(), safe=False)
        exact = pc.and_(pc.equal(pc.floor(floats), floats), pc.less(pc.abs(floats), _INT64_LIMIT))
        return pc.cast(pc.if_else(exact, floats, pa.scalar(None, pa.float64())), target, safe=False)
    if column_type == "bool" and pa.types.is_boolean(kind):
        return array
    if column_type == "bool" and numeric:
        floats = pc.cast(array, pa.float64(), safe=False)
        is_zero_or_one = pc.is_in(floats, pa.array([0.0, 1.0]))
        return pc.if_else(is_zero_or_one, pc.not_equal(floats, 0.0), pa.scalar(None, pa.bool_()))
    if column_type == "string" and (numeric or pa.types.is_boolean(kind) or pa.types.is_temporal(kind)):
        return pc.cast(array, target)
    return pa.nulls(len(array), target)


def _cast_each(candidates: pa.Array, target: pa.DataType) -> pa.Array:
    """Cast all at once; if Arrow rejects one value, cast one by one and null the rejected ones."""
    try:
        return pc.cast(candidates, target)
    except pa.ArrowInvalid:
        return pa.array([_cast_scalar(value, target) for value in candidates], target)


def _cast_scalar(value: pa.Scalar, target: pa.DataType) -> object:
    try:
        return value.cast(target).as_py()
    except pa.ArrowInvalid:
        return None


def _binary_as_text(array: pa.Array) -> tuple[pa.Array, pa.BooleanArray]:
    """Binary values as text; values that are not UTF-8 become null and are flagged."""
    try:
        return pc.cast(array, pa.large_string()), pa.repeat(pa.scalar(False), len(array))
    except pa.ArrowInvalid:
        decoded = [_decode(value) for value in array.to_pylist()]
        text = pa.array([value for value, _ in decoded], pa.large_string())
        return text, pa.array([bad for _, bad in decoded], pa.bool_())


def _decode(value: bytes | None) -> tuple[str | None, bool]:
    if value is None:
        return None, False
    try:
        return value.decode("utf-8"), False
    except UnicodeDecodeError:
        return None, True


def _no_nulls(mask: pa.Array) -> pa.BooleanArray:
    return pc.fill_null(mask, False)


def _config_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
