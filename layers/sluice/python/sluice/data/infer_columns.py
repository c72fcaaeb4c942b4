"""Draft one contract column from its sample values: type, missing values and their spellings, a range with
margins, closed or open categories, and the role (feature, or id for row numbers, keys and free text)."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sluice.config.model import ColumnRole, ColumnSpec, ColumnType
from sluice.data.convert import NULL_TOKENS, convert

MAX_CATEGORIES = 20
RANGE_MARGIN = 0.75
"""Ranges are the sample's min/max widened by this fraction of their span on each side (never below 0 when the
sample is non-negative; on a log scale when it is also right-skewed, so a long tail gets room in proportion): a
holdout of the same distribution is not rejected for its few new extremes."""
SKEWED = 1.0
"""The sample skewness above which a non-negative column is widened on a log scale."""
MIN_ID_ROWS = 20
MIN_FLAG_SHARE = 0.05
ROW_NAME_HEADERS = frozenset({"", "rownames", "row.names", "row_names", "rowname", "unnamed: 0"})
ID_SUFFIXES = ("_id", "-id", ".id", " id", "_key", "uuid")
"""Lower-cased header endings of an identifier; camelCase "customerId"/"StoreID" count too ("paid" does not)."""
_TYPE_ORDER: tuple[ColumnType, ...] = ("bool", "int", "float")


@dataclass(frozen=True)
class ColumnDraft:
    """A drafted column, the comment that explains a non-obvious choice, and the null spellings seen in it."""

    spec: ColumnSpec
    note: str | None = None
    null_tokens: tuple[str, ...] = ()


def column_type(array: pa.Array) -> ColumnType:
    """The narrowest contract type every present value converts to; "bool" only for spellings a person reads
    as true/false (yes/no, TRUE/FALSE, t/f) or for 0/1 flags in which both 0 and 1 occur."""
    for candidate in _TYPE_ORDER:
        if candidate == "int" and _has_decimals(array):
            continue
        conversion = convert(array, candidate)
        if conversion.failed_count == 0 and conversion.missing_count < len(array):
            if candidate == "bool" and not _is_flag(array, conversion.values):
                continue
            return candidate
    return "string"


def _has_decimals(array: pa.Array) -> bool:
    """Text written with a decimal point ("307.0") is a float column, whatever its values."""
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        return pa.types.is_floating(array.type)
    return bool(pc.any(pc.match_substring(array, ".")).as_py())


def _is_flag(array: pa.Array, values: pa.Array) -> bool:
    """Words (yes/no, true/false) are flags; digits are flags only when 0 and 1 both occur, the rarer in at
    least MIN_FLAG_SHARE of the rows (a sparse 0/1 column is more likely a count or a code that rarely rises)."""
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        return pa.types.is_boolean(array.type) or _balanced(values)
    digits = pc.match_substring_regex(pc.utf8_trim_whitespace(array), r"^[01]$")
    return not bool(pc.any(digits).as_py()) or _balanced(values)


def _balanced(values: pa.Array) -> bool:
    present = values.drop_null()
    ones = int(pc.sum(present.cast(pa.int64())).as_py() or 0)
    return min(ones, len(present) - ones) >= MIN_FLAG_SHARE * len(present) > 0


def null_spellings(array: pa.Array) -> Counter[str]:
    """The null tokens (NA, N/A, null, None; empty excluded) present in a text column, as spelled, with counts."""
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        return Counter()
    text = pc.utf8_trim_whitespace(array.drop_null())
    tokens = pc.is_in(pc.utf8_lower(text), pa.array([token for token in NULL_TOKENS if token]))
    return Counter(text.filter(tokens).to_pylist())


def draft_column(name: str, array: pa.Array, rows: int) -> ColumnDraft:
    """Draft ``name`` from its sample ``array`` (of ``rows`` sample rows) as a feature or an id."""
    kind = column_type(array)
    tokens = null_spellings(array)
    conversion = convert(array, kind)
    values = conversion.values
    if kind == "string" and tokens:
        values = pc.if_else(pc.is_in(values, pa.array(list(tokens))), pa.scalar(None, pa.string()), values)
    present = values.drop_null()
    nullable = len(present) < rows
    spelled = tuple(sorted(tokens))
    role = _id_role(name, kind, values, present)
    if role is not None:
        unique, note = role
        return ColumnDraft(ColumnSpec(name, kind, nullable, unique=unique, role="id"), note, spelled)
    if kind in ("int", "float") and len(present):
        low, high = (float(scalar.as_py()) for scalar in pc.min_max(present).values())
        if low == high:
            constant = f"one value ({low:g}) in the sample: no range drafted, the sample shows no spread"
            return ColumnDraft(ColumnSpec(name, kind, nullable), constant, spelled)
        low, high = widened_range(present, kind)
        return ColumnDraft(ColumnSpec(name, kind, nullable, min=low, max=high), None, spelled)
    if kind == "string" and len(present):
        allowed, openness = _categories(present)
        return ColumnDraft(ColumnSpec(name, kind, nullable, allowed=allowed), openness, spelled)
    return ColumnDraft(ColumnSpec(name, kind, nullable), None, spelled)


def as_role(draft: ColumnDraft, role: ColumnRole, note: str) -> ColumnDraft:
    """The same column with another role (no range nor category list: it is not learned from)."""
    spec = draft.spec
    return ColumnDraft(ColumnSpec(spec.name, spec.type, spec.nullable, role=role), note, draft.null_tokens)


def widened_range(values: pa.Array, kind: ColumnType) -> tuple[float, float]:
    """The sample's [min, max] widened by RANGE_MARGIN of the span each side (of log(1 + x) for skewed
    non-negative data), at 0 when non-negative, rounded outwards (to integers for an int column)."""
    numbers = np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)
    low, high = float(numbers.min()), float(numbers.max())
    if low >= 0 and _skewness(numbers) > SKEWED:
        lower, upper = (float(np.expm1(bound)) for bound in _widen(math.log1p(low), math.log1p(high)))
    else:
        lower, upper = _widen(low, high)
    if low >= 0:
        lower = max(lower, 0.0)
    if kind == "int":
        return float(math.floor(lower)), float(math.ceil(upper))
    margin = max(low - lower, upper - high)
    step = 10.0 ** math.floor(math.log10(margin)) if margin > 0 else 1.0
    return _round(math.floor(lower / step) * step, step), _round(math.ceil(upper / step) * step, step)


def _widen(low: float, high: float) -> tuple[float, float]:
    span = high - low
    margin = RANGE_MARGIN * span
    return low - margin, high + margin


def _skewness(numbers: np.ndarray) -> float:
    spread = float(numbers.std())
    return 0.0 if spread == 0 else float(np.mean(((numbers - numbers.mean()) / spread) ** 3))


def _round(value: float, step: float) -> float:
    """``value`` without binary noise (0.30000000000000004 → 0.3) at the precision of ``step``."""
    return round(value, max(0, -math.floor(math.log10(step))))


def _categories(present: pa.Array) -> tuple[tuple[str, ...] | None, str | None]:
    """A closed list of the seen values when they are few and each was seen more than once; otherwise open."""
    counts = Counter(present.to_pylist())
    if len(counts) > MAX_CATEGORIES:
        return None, f"{len(counts)} distinct values in the sample: any text is accepted"
    once = sorted(value for value, count in counts.items() if count == 1)
    if once:
        return None, (f"categories left open: {len(once)} value(s) seen only once ({', '.join(once[:3])}), "
                      "so values the sample did not show are likely")
    return tuple(sorted(counts)), None


def _id_role(name: str, kind: ColumnType, values: pa.Array, present: pa.Array) -> tuple[bool, str] | None:
    """(unique, reason) when the column names rows rather than describing them; None for a feature."""
    count = len(present)
    distinct = len(pc.unique(present)) if count else 0
    all_distinct = count >= MIN_ID_ROWS and distinct == count == len(values)
    header = name.strip().lower()
    if header in ROW_NAME_HEADERS:
        what = "an unnamed first column" if not header else f"header {name!r}"
        return all_distinct, f"row names ({what}): they name rows, they do not describe them"
    if not all_distinct:
        if kind == "string" and distinct > MAX_CATEGORIES and distinct > count / 2:
            return False, (f"free text: {distinct} distinct values in {count} sample rows, too many to learn "
                           "from as categories")
        return None
    if kind == "int" and _row_numbers(present):
        return True, f"row numbers: {count} distinct integers, increasing or nearly consecutive"
    if _named_like_id(name):
        return True, f"named like an identifier and every one of {count} sample values is distinct"
    if kind == "string":
        return False, f"a name or key: every one of {count} sample values is distinct"
    return None


def _named_like_id(name: str) -> bool:
    header = name.strip()
    return header.lower() == "id" or header.lower().endswith(ID_SUFFIXES) or (
        len(header) > 2 and header.endswith(("Id", "ID")) and not header[-3].isupper())


def _row_numbers(present: pa.Array) -> bool:
    numbers = np.asarray(present.to_numpy(zero_copy_only=False), dtype=np.float64)
    increasing = bool(np.all(np.diff(numbers) > 0))
    dense = len(numbers) >= 0.9 * (numbers.max() - numbers.min() + 1)
    return increasing or dense
