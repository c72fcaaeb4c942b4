"""How a contract reads one value: null tokens, true/false tokens, number patterns, and per-value rules.

The single source of truth for spellings. Validation applies these tokens and patterns to whole Arrow
columns (``sluice.data.convert``); the endpoint reads request values one at a time with :func:`read_value`.
Pure Python (standard library only): the predict function imports it.

Reading rules: numbers, booleans and timestamps are read trimmed and ignoring ASCII case; text is kept as
given unless its column says ``trim``. ``""`` is always missing; the built-in null tokens ("NA", "null", ...)
are missing for every type but text; the contract's own ``null_tokens`` are missing for every column
(compared ignoring ASCII case for non-text columns, exactly for text columns).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Literal

ValueType = Literal["float", "int", "string", "bool"]

WHITESPACE = ("\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
              "\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
"""The characters trimming removes: Python's ``str.strip()`` set, which is also Arrow's utf8_trim_whitespace."""
NULL_TOKENS = ("", "na", "n/a", "null", "none")
TRUE_TOKENS = ("true", "t", "yes", "y", "1")
FALSE_TOKENS = ("false", "f", "no", "n", "0")
FLOAT_PATTERN = r"^[+-]?((\d+\.?\d*|\.\d+)(e[+-]?\d+)?|inf|infinity|nan)$"
"""A float, matched against the trimmed, ASCII-lower-cased text."""
INT_PATTERN = r"^[+-]?\d{1,18}(\.0*)?$"
"""An int (at most 18 digits, so it always fits int64), matched against the trimmed text."""
INT64_LIMIT = 2**63
BOOL_TEXT = {True: "true", False: "false"}
"""How a boolean is spelled as text (a bool feature's model input, a bool sent for a text column)."""

RULE_TYPE = "type"
RULE_NULL = "null"
RULE_NON_FINITE = "non_finite"
RULE_OUT_OF_RANGE = "out_of_range"
RULE_NOT_ALLOWED = "not_allowed"
RULE_MAX_LENGTH = "max_length"

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_FLOAT = re.compile(FLOAT_PATTERN, re.ASCII)
_INT = re.compile(INT_PATTERN, re.ASCII)
_TRUE = frozenset(TRUE_TOKENS)
_FALSE = frozenset(FALSE_TOKENS)


def fold(text: str) -> str:
    """Lower-case ASCII letters only (what Arrow's ascii_lower does; never turns another letter into ASCII)."""
    return text.lower() if text.isascii() else text.translate(_ASCII_LOWER)


def trim(text: str) -> str:
    return text.strip(WHITESPACE)


def missing_tokens(column_type: str, trimmed: bool, null_tokens: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The spellings of a missing value, compared with the (trimmed, folded for non-text) value."""
    if column_type == "string":
        extra = (trim(token) if trimmed else token for token in null_tokens)
        return tuple(dict.fromkeys(("", *extra)))
    return tuple(dict.fromkeys((*NULL_TOKENS, *(fold(trim(token)) for token in null_tokens))))


def looks_numeric(token: str) -> bool:
    """Whether a null token would otherwise read as a number (then numbers cannot take a shortcut)."""
    return _FLOAT.match(fold(trim(token))) is not None


class _Missing:
    """The marker of a missing value (a null, ``""`` or a null token)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


@dataclass(frozen=True)
class Violation:
    """Why one value breaks its column's contract: a rule name (as in validation reports) and a sentence."""

    rule: str
    reason: str


@dataclass(frozen=True)
class ValueRules:
    """What one contract column requires of a value, as the endpoint applies it."""

    type: ValueType
    nullable: bool = False
    minimum: float | None = None
    maximum: float | None = None
    allowed: tuple[Any, ...] | None = None
    max_length: int | None = None
    trim: bool = False
    null_tokens: tuple[str, ...] = ()
    _missing: frozenset[str] = field(init=False, repr=False, compare=False)
    _allowed: frozenset[Any] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_missing", frozenset(missing_tokens(self.type, self.trim, self.null_tokens)))
        allowed = None
        if self.allowed is not None:
            read = (parse(_config_value(value), self) for value in self.allowed)
            allowed = frozenset(value for value in read if value is not MISSING and not isinstance(value, Violation))
        object.__setattr__(self, "_allowed", allowed)

    @property
    def allowed_values(self) -> frozenset[Any] | None:
        """The allowed values read as this column's type (unreadable ones dropped, as validation does)."""
        return self._allowed

    @property
    def missing_spellings(self) -> frozenset[str]:
        return self._missing


def parse(value: Any, rules: ValueRules) -> Any:
    """``value`` read as ``rules.type``: the value, ``MISSING``, or a type ``Violation``."""
    if value is None:
        return MISSING
    if isinstance(value, str):
        return _parse_text(value, rules)
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return _parse_bool(bool(value), rules.type)
    if isinstance(value, int) or _is_numpy_number(value, "integer"):
        return _parse_int(int(value), rules.type)
    if isinstance(value, float) or _is_numpy_number(value, "floating"):
        return _parse_float(float(value), rules.type)
    return Violation(RULE_TYPE, f"{value!r} is not a {rules.type} value")


def read_value(value: Any, rules: ValueRules) -> Any:
    """``value`` read and checked: the converted value, ``MISSING`` (allowed here), or a ``Violation``."""
    read = parse(value, rules)
    if isinstance(read, Violation):
        return read
    if read is MISSING:
        return read if rules.nullable else Violation(RULE_NULL, "missing, but the column is not nullable")
    if rules.type in ("float", "int"):
        number = float(read)
        if math.isnan(number) or math.isinf(number):
            return Violation(RULE_NON_FINITE, f"{value!r} is NaN or infinite")
        if (rules.minimum is not None and number < rules.minimum) or (
                rules.maximum is not None and number > rules.maximum):
            return Violation(RULE_OUT_OF_RANGE, f"{value!r} is outside the range {_range_text(rules)}")
    if rules.max_length is not None and isinstance(read, str) and len(read) > rules.max_length:
        return Violation(RULE_MAX_LENGTH, f"{len(read)} characters, more than max_length {rules.max_length}")
    if rules.allowed_values is not None and read not in rules.allowed_values:
        return Violation(RULE_NOT_ALLOWED, f"{value!r} is not among the allowed values {list(rules.allowed or ())}")
    return read


def _parse_text(value: str, rules: ValueRules) -> Any:
    if rules.type == "string":
        text = trim(value) if rules.trim else value
        return MISSING if text in rules.missing_spellings else text
    text = fold(trim(value))
    if text in rules.missing_spellings:
        return MISSING
    if rules.type == "bool":
        if text in _TRUE:
            return True
        return False if text in _FALSE else Violation(RULE_TYPE, f"{value!r} cannot be read as bool")
    if rules.type == "float":
        return float(text) if _FLOAT.match(text) else Violation(RULE_TYPE, f"{value!r} cannot be read as float")
    if _INT.match(text):
        return int(text.split(".", 1)[0])
    return Violation(RULE_TYPE, f"{value!r} cannot be read as int")


def _parse_bool(value: bool, column_type: str) -> Any:
    if column_type == "bool":
        return value
    if column_type == "string":
        return BOOL_TEXT[value]
    return Violation(RULE_TYPE, f"{value!r} is a boolean, not a {column_type} value")


def _parse_int(value: int, column_type: str) -> Any:
    if column_type == "bool":
        return bool(value) if value in (0, 1) else Violation(RULE_TYPE, f"{value!r} cannot be read as bool")
    if column_type == "string":
        return str(value)
    if column_type == "int" and not -INT64_LIMIT <= value < INT64_LIMIT:
        return Violation(RULE_TYPE, f"{value!r} does not fit a 64-bit int")
    return value if column_type == "int" else _int_as_float(value)


def _int_as_float(value: int) -> Any:
    try:
        return float(value)
    except OverflowError:
        return math.inf


def _parse_float(value: float, column_type: str) -> Any:
    if column_type == "float":
        return value
    if column_type == "int":
        if math.isfinite(value) and value == math.floor(value) and abs(value) < INT64_LIMIT:
            return int(value)
        return Violation(RULE_TYPE, f"{value!r} cannot be read as int")
    if column_type == "bool":
        return value == 1.0 if value in (0.0, 1.0) else Violation(RULE_TYPE, f"{value!r} cannot be read as bool")
    return Violation(RULE_TYPE, f"{value!r} is a number, not text (send it as a string)")


def _is_numpy_number(value: Any, kind: str) -> bool:
    """Whether ``value`` is a NumPy scalar of ``kind`` ("integer" or "floating"), without importing NumPy."""
    return any(base.__name__ == kind and base.__module__ == "numpy" for base in type(value).__mro__)


def _config_value(value: Any) -> Any:
    """A configured value (e.g. an allowed category) as validation reads it: as text."""
    if isinstance(value, bool):
        return BOOL_TEXT[value]
    return value if isinstance(value, str) else str(value)


def _range_text(rules: ValueRules) -> str:
    low = "-inf" if rules.minimum is None else f"{rules.minimum:g}"
    high = "inf" if rules.maximum is None else f"{rules.maximum:g}"
    return f"[{low}, {high}]"
