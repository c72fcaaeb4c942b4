"""JSON Lines, streamed in blocks of whole lines; a column whose values disagree in type is kept as text."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.json as pa_json

from sluice.data.errors import DatasetReadError

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
    """Arrow's fast reader first, a tolerant line-by-line reader when it refuses."""
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
