"""JSON Lines: one object per line; a column whose values disagree in type is kept as text."""

from __future__ import annotations

import io
import json
from typing import Any

import pyarrow as pa
import pyarrow.json as pa_json

from sluice.data.errors import DatasetReadError

BLOCK_SIZE = 16 * 1024 * 1024


def read_json_lines(text: bytes) -> pa.Table:
    """Read UTF-8 JSON Lines; Arrow's fast reader first, a tolerant line-by-line reader when it refuses."""
    try:
        return pa_json.read_json(
            io.BytesIO(text), read_options=pa_json.ReadOptions(use_threads=False, block_size=BLOCK_SIZE)
        )
    except pa.ArrowInvalid:
        return _read_tolerantly(text)


def _read_tolerantly(text: bytes) -> pa.Table:
    rows: list[dict[str, Any]] = []
    names: dict[str, None] = {}
    for number, line in enumerate(io.BytesIO(text), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line, object_pairs_hook=_unique_pairs)
        except ValueError as error:
            raise DatasetReadError(f"line {number} is not valid JSON: {error}") from error
        if not isinstance(row, dict):
            raise DatasetReadError(f"line {number} is a JSON {type(row).__name__}, expected an object")
        names.update(dict.fromkeys(row))
        rows.append(row)
    return pa.table({name: _column([row.get(name) for row in rows]) for name in names})


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        names = [name for name, _ in pairs]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        raise ValueError(f"duplicate keys {', '.join(map(repr, duplicates))}")
    return result


def _column(values: list[Any]) -> pa.Array:
    """Arrow's own type when the values agree, otherwise their text so the contract can judge each one."""
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return pa.array([_text(value) for value in values], pa.string())


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, sort_keys=True)
