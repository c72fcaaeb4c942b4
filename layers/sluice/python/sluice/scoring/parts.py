"""Where a large file to score is cut: parts of whole records, planned without parsing them (pure).

CSV/TSV: byte ranges that end at a newline outside quotes (RFC 4180 quote parity, so a quoted newline never cuts
a record); every part is read after the header's bytes. A quote inside an unquoted field (``5"x``) makes parity
meaningless: such a file is not split (one worker scores it). JSON Lines: a newline always ends a record (JSON
escapes newlines in strings). Parquet: whole row groups.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

MAX_PARTS = 2000  # the plan travels in the execution's input (256 KB); past this, parts grow instead


@dataclass(frozen=True)
class Part:
    """One part: bytes ``[start, end)`` of the file (after the header's), or Parquet ``row_groups``."""

    index: int
    start: int = 0
    end: int = 0
    row_groups: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "start": self.start, "end": self.end, "row_groups": list(self.row_groups)}

    @classmethod
    def from_dict(cls, raw: Any) -> Part:
        if not isinstance(raw, dict) or not isinstance(raw.get("index"), int):
            raise ValueError(f"not a part: {raw!r}")
        return cls(index=raw["index"], start=int(raw.get("start", 0)), end=int(raw.get("end", 0)),
                   row_groups=tuple(int(group) for group in raw.get("row_groups", ())))


@dataclass(frozen=True)
class Plan:
    """The parts of a file and the bytes every delimited part is read after (``[0, header_end)``); no parts and
    a ``reason`` when the file cannot be split."""

    parts: tuple[Part, ...]
    header_end: int = 0
    reason: str = ""
    size: int = 0
    """The file's size in bytes, as the plan read it (the one HeadObject of a scoring)."""


def part_size(size: int, part_bytes: int) -> int:
    """``part_bytes``, grown so a file of ``size`` bytes makes at most MAX_PARTS parts."""
    return max(part_bytes, -(-size // MAX_PARTS), 1)


def plan_delimited(chunks: Iterable[bytes], *, size: int, part_bytes: int, delimiter: bytes = b",") -> Plan:
    """Cut a CSV/TSV streamed as ``chunks`` (the whole file, in order) into parts of about ``part_bytes``."""
    stray = re.compile(rb'[^' + re.escape(delimiter) + rb'\r\n"]"[^' + re.escape(delimiter) + rb'\r\n"]')
    step = part_size(size, part_bytes)
    quoted, base, want, header_end = False, 0, 0, -1
    starts: list[int] = []
    for chunk in chunks:
        if stray.search(chunk):
            return Plan((), reason="a quote inside an unquoted field: record boundaries cannot be told without "
                                   "parsing, so one worker scores the file")
        cursor = 0
        while want - base < len(chunk):
            target = max(want - base, cursor)
            quoted ^= bool(chunk.count(b'"', cursor, target) & 1)
            cursor = target
            newline = _newline_outside_quotes(chunk, cursor, quoted)
            if newline is None:
                break
            cursor, quoted = newline + 1, False
            boundary = base + newline + 1
            if header_end < 0:
                header_end = boundary
            elif boundary < size:
                starts.append(boundary)
            want = boundary + step
        quoted ^= bool(chunk.count(b'"', cursor) & 1)
        base += len(chunk)
    if header_end < 0 or header_end >= size:
        return Plan((), reason="the file holds no record after its header")
    return Plan(_ranges([header_end, *starts], size), header_end=header_end)


def _newline_outside_quotes(chunk: bytes, cursor: int, quoted: bool) -> int | None:
    """The first newline at or after ``cursor`` outside quotes (``quoted``: inside quotes at ``cursor``)."""
    while True:
        newline = chunk.find(b"\n", cursor)
        if newline < 0:
            return None
        quoted ^= bool(chunk.count(b'"', cursor, newline) & 1)
        if not quoted:
            return newline
        cursor = newline + 1


def plan_lines(newline_after: Callable[[int], int | None], *, size: int, part_bytes: int) -> Plan:
    """Cut JSON Lines into parts; ``newline_after(offset)`` is the offset of the first newline at or after it."""
    step = part_size(size, part_bytes)
    starts = [0]
    while starts[-1] + step < size:
        newline = newline_after(starts[-1] + step)
        if newline is None or newline + 1 >= size:
            break
        starts.append(newline + 1)
    return Plan(_ranges(starts, size))


def plan_row_groups(group_bytes: Sequence[int], *, part_bytes: int) -> Plan:
    """Group consecutive Parquet row groups (their compressed sizes) into parts of about ``part_bytes``."""
    if not group_bytes:
        return Plan((), reason="the Parquet file has no row groups")
    step = part_size(sum(group_bytes), part_bytes)
    groups: list[list[int]] = [[]]
    filled = 0
    for index, size in enumerate(group_bytes):
        if groups[-1] and filled + size > step:
            groups.append([])
            filled = 0
        groups[-1].append(index)
        filled += size
    return Plan(tuple(Part(number, row_groups=tuple(members)) for number, members in enumerate(groups)))


def _ranges(starts: list[int], size: int) -> tuple[Part, ...]:
    ends = [*starts[1:], size]
    return tuple(Part(index, start, end) for index, (start, end) in enumerate(zip(starts, ends, strict=True)))
