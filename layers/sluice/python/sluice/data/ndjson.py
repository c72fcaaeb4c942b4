"""JSON Lines, streamed in blocks of whole lines; a column whose values disagree in type is kept as text."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.json as pa_json

from sluice.data.errors import DatasetReadError
from sluice.data.literals import fixed_array, text_array

BLOCK_SIZE = 16 * 1024 * 1024
MAX_LINE_BYTES = 64 * 1024 * 1024


def iter_json_lines(text: BinaryIO, *, block_size: int = BLOCK_SIZE) -> Iterator[pa.RecordBatch]:
    """Batches of UTF-8 JSON Lines, one per block of whole lines; each block may have its own columns."""
    pending = b""
    line = 1
    chunk = text.read(block_size)
    while chunk or pending:
        following = text.read(block_size) if chunk else b""
        data = pending + chunk
        cut = data.rfind(b"\n") + 1 if following else len(data)
        if cut == 0:
            if len(data) > MAX_LINE_BYTES:
                raise DatasetReadError(f"line {line} is longer than {MAX_LINE_BYTES // (1024 * 1024)} MB")
            pending, chunk = data, following
            continue
        block, pending = data[:cut], data[cut:]
        if block.strip():
            yield from _read_block(block, line).to_batches()
        line += block.count(b"\n")
        chunk = following


def _read_block(block: bytes, first_line: int) -> pa.Table:
    """Arrow's fast reader first, a tolerant line-by-line reader when it refuses (or when values nest deeper
    than MAX_DEPTH: Arrow's reader recurses in C++ and kills the process on very deep nesting)."""
    if nests_deeper_than(block, MAX_DEPTH):
        return _read_tolerantly(block, first_line)
    try:
        options = pa_json.ReadOptions(use_threads=False, block_size=len(block) + 1)
        return pa_json.read_json(io.BytesIO(block), read_options=options)
    except pa.ArrowInvalid:
        return _read_tolerantly(block, first_line)


def _read_tolerantly(block: bytes, first_line: int) -> pa.Table:
    rows: list[dict[str, Any]] = []
    names: dict[str, None] = {}
    for number, line in enumerate(io.BytesIO(block), start=first_line):
        if not line.strip():
            continue
        try:
            row = json.loads(line, object_pairs_hook=_unique_pairs)
        except ValueError as error:
            raise DatasetReadError(f"line {number} is not valid JSON: {error}") from error
        except RecursionError:
            raise DatasetReadError(f"line {number} nests values too deeply to be a table row") from None
        if not isinstance(row, dict):
            raise DatasetReadError(f"line {number} is a JSON {type(row).__name__}, expected an object")
        names.update(dict.fromkeys(row))
        rows.append(row)
    columns = [_column([row.get(name) for row in rows]) for name in names]
    return pa.Table.from_arrays(columns, names=list(names))


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        names = [name for name, _ in pairs]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        raise ValueError(f"duplicate keys {', '.join(map(repr, duplicates))}")
    return result


_INT64 = range(-(2**63), 2**63)
MAX_DEPTH = 5_000
"""Blocks nesting brackets deeper than this skip Arrow's reader: it recurses in C++, and a depth of 100,000
kills the process (measured; 10,000 is read). Python's json refuses depths past about 1,000 with an error."""
_SLICE = 256 * 1024


def nests_deeper_than(block: bytes, limit: int) -> bool:
    """Whether brackets nest deeper than ``limit`` anywhere in ``block``, in bounded memory.

    A line of n bytes nests at most n deep, so the common block (no line longer than ``limit``) costs one pass
    over its newlines; only a block with a longer line has its brackets counted. Brackets inside strings count
    too: a false alarm only costs the slower, tolerant reader.
    """
    codes = np.frombuffer(block, dtype=np.uint8)
    return _longest_line(codes) > limit and _deepest(codes) > limit


def _longest_line(codes: np.ndarray) -> int:
    longest = current = 0  # current: the length of the line still open at the end of the previous slice
    for start in range(0, len(codes), _SLICE):
        part = codes[start : start + _SLICE]
        breaks = np.flatnonzero(part == ord("\n"))
        if not len(breaks):
            current += len(part)
            longest = max(longest, current)
            continue
        longest = max(longest, current + int(breaks[0]), int(np.diff(breaks).max(initial=0)))
        current = len(part) - int(breaks[-1]) - 1
        longest = max(longest, current)
    return longest


def _deepest(codes: np.ndarray) -> int:
    deepest = depth = 0
    for start in range(0, len(codes), _SLICE):
        folded = codes[start : start + _SLICE] | 0x20  # "[" -> "{" and "]" -> "}"; no other byte folds onto them
        opens = folded == ord("{")
        brackets = np.flatnonzero(opens | (folded == ord("}")))
        if not len(brackets):
            continue
        running = np.cumsum(np.where(opens[brackets], 1, -1), dtype=np.int64) + depth
        deepest = max(deepest, int(running.max()))
        depth = int(running[-1])
    return deepest


def _column(values: list[Any]) -> pa.Array:
    """One JSON type across the values (nulls aside) keeps it, otherwise their text so the contract can judge
    each one. Scalars are built from buffers (pyarrow's own conversion would import pandas); nested values,
    rare, go through pyarrow."""
    present = [value for value in values if value is not None]
    kinds = {_kind(value) for value in present}
    if "nested" in kinds:
        try:
            return pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            return text_array(_text(value) for value in values)
    if not kinds:
        return pa.nulls(len(values))
    if kinds == {"bool"}:
        return fixed_array(values, pa.bool_())
    if kinds <= {"int", "float"} and all(value in _INT64 for value in present if isinstance(value, int)):
        if kinds == {"int"}:
            return fixed_array(values, pa.int64())
        return fixed_array([None if value is None else float(value) for value in values], pa.float64())
    if kinds == {"str"}:
        return text_array(values)
    return text_array(_text(value) for value in values)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    return "str" if isinstance(value, str) else "nested"


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, sort_keys=True)
