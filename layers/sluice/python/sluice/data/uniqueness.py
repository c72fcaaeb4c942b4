"""Uniqueness of a column across every batch, in bounded memory: values beyond a budget spill to disk."""

from __future__ import annotations

import tempfile
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

from sluice.data.literals import numpy_array, numpy_values, scalar, text_bytes
from sluice.data.report import MAX_EXAMPLES, Example, Issue, Rule

MEMORY_BUDGET_BYTES = 64 * 1024 * 1024
PARTITION_BITS = 6  # 64 partitions: a 50M-row column of 20-byte values is about 25 MB per partition
_MIX = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: spreads any 64-bit key over the top bits
_BASE = np.uint64(1099511628211)  # the FNV prime, as the base of a polynomial hash of text


@dataclass
class Duplicates:
    """What repeats in a column: the rows repeating a value of an earlier row (the 2nd, 3rd... occurrences: the
    rows to fix), the distinct repeated values, and the first of those rows with the row each one repeats."""

    rows: int = 0
    distinct: int = 0
    examples: list[Example] = field(default_factory=list)
    first_rows: dict[int, int] = field(default_factory=dict)
    """For each example row, the row where its value first appears."""

    def add(self, values: pa.Array, rows: pa.Array) -> None:
        """Count the repeats among ``values`` (no nulls), found at data rows ``rows`` (1-based).

        Every occurrence of a value must come in the same call (a partition holds all of a value's rows).
        """
        counts = pc.value_counts(values)
        repeated = pc.greater(counts.field("counts"), scalar(1, pa.int64()))
        distinct = int(pc.sum(repeated).as_py() or 0)
        if not distinct:
            return
        self.distinct += distinct
        self.rows += int(pc.sum(counts.field("counts").filter(repeated)).as_py()) - distinct
        hits = pc.is_in(values, value_set=counts.field("values").filter(repeated))
        found = pa.table({"value": values.filter(hits), "row": rows.filter(hits)})
        found = found.take(pc.sort_indices(found, [("value", "ascending"), ("row", "ascending")]))
        value, row = found.column("value").combine_chunks(), numpy_values(found.column("row").combine_chunks())
        starts = np.r_[True, ~_equal_to_previous(value)]  # the first occurrence of each value
        first = row[starts][np.cumsum(starts) - 1]
        repeats = np.flatnonzero(~starts)
        shown = repeats[np.argsort(row[repeats], kind="stable")[:MAX_EXAMPLES]]
        examples = [Example(int(row[index]), value[int(index)].as_py()) for index in shown]
        self.first_rows.update({int(row[index]): int(first[index]) for index in shown})
        self.examples = sorted([*self.examples, *examples], key=lambda example: example.row or 0)[:MAX_EXAMPLES]
        self.first_rows = {example.row: self.first_rows[example.row] for example in self.examples
                           if example.row is not None}


def _equal_to_previous(values: pa.Array) -> np.ndarray:
    """For each value after the first, whether it equals the one before it (NaN equals NaN here)."""
    if len(values) < 2:
        return np.zeros(0, dtype=bool)
    current, previous = values.slice(1), values.slice(0, len(values) - 1)
    same = pc.fill_null(pc.equal(current, previous), scalar(False, pa.bool_()))
    if pa.types.is_floating(values.type):
        same = pc.or_(same, pc.and_(pc.is_nan(current), pc.is_nan(previous)))
    return numpy_values(same)


class UniqueValues:
    """Collects one column's converted values, batch by batch, to find values that repeat.

    Up to ``memory_budget`` bytes of values stay in memory. Past that, every value goes with its row
    number into one of 2**PARTITION_BITS partitions on local disk (Arrow IPC streams in a temporary
    directory; equal values share a partition), and :meth:`issue` checks one partition at a time, so
    memory is bounded by a partition, not by the file. The files go with this object.
    """

    def __init__(self, name: str, *, memory_budget: int | None = None) -> None:
        self.name = name
        self._budget = MEMORY_BUDGET_BYTES if memory_budget is None else memory_budget
        self._held: list[tuple[int, pa.Array]] = []
        self._held_bytes = 0
        self._spill: _Spill | None = None

    @property
    def spilled(self) -> bool:
        return self._spill is not None

    def add(self, values: pa.Array, offset: int) -> None:
        """The values of one batch; ``offset`` data rows came before it."""
        if self._spill is not None:
            self._spill.write(values, offset)
            return
        self._held.append((offset, values))
        self._held_bytes += values.nbytes
        if self._held_bytes > self._budget:
            self._spill = _Spill()
            for held_offset, held in self._held:
                self._spill.write(held, held_offset)
            self._held, self._held_bytes = [], 0

    def issue(self) -> Issue | None:
        """A duplicate_value issue at the rows repeating a value of an earlier row (the 2nd, 3rd... occurrences,
        the rows to fix), with the row each example repeats; None if every value is unique."""
        duplicates = Duplicates()
        if self._spill is not None:
            self._spill.find(duplicates)
        elif self._held:
            present = [_present(values, offset) for offset, values in self._held]
            duplicates.add(pa.concat_arrays([values for values, _ in present]),
                           pa.concat_arrays([rows for _, rows in present]))
        if not duplicates.distinct:
            return None
        rows = f"{duplicates.rows} rows repeat" if duplicates.rows > 1 else "1 row repeats"
        values = f"{duplicates.distinct} distinct values" if duplicates.distinct > 1 else "1 value"
        shown = [f"row {example.row} repeats row {duplicates.first_rows[example.row]}"
                 for example in duplicates.examples[:1] if example.row in duplicates.first_rows]
        message = (f"values in column {self.name!r} are not unique: {rows} a value of an earlier row "
                   f"({'; '.join([values, *shown])})")
        return Issue(Rule.DUPLICATE_VALUE, self.name, duplicates.rows, tuple(duplicates.examples), message)


class _Spill:
    """(value, row) pairs on local disk, partitioned by a hash of the value.

    Each partition is an Arrow IPC stream, readable while it is still being written, so the repeats can be
    reported at any time and more values added afterwards. The files go when the spill is garbage-collected.
    """

    def __init__(self) -> None:
        self._directory = tempfile.TemporaryDirectory(prefix="sluice-unique-")
        self._writers: dict[int, tuple[pa.NativeFile, ipc.RecordBatchStreamWriter]] = {}
        weakref.finalize(self, _close_all, self._writers)

    def write(self, values: pa.Array, offset: int) -> None:
        values, rows = _present(values, offset)
        if not len(values):
            return
        partitions = partition_of(values)
        order = np.argsort(partitions, kind="stable")
        ordered = pa.table({"value": values.take(numpy_array(order)), "row": rows.take(numpy_array(order))})
        sorted_partitions = partitions[order]
        bounds = np.flatnonzero(np.diff(sorted_partitions)) + 1
        for start, end in zip(np.r_[0, bounds], np.r_[bounds, len(order)], strict=True):
            self._writer(int(sorted_partitions[start]), ordered.schema).write_table(
                ordered.slice(int(start), int(end - start)))

    def find(self, duplicates: Duplicates) -> None:
        """Add the repeats of every partition to ``duplicates``, one partition in memory at a time."""
        for partition, (sink, _) in sorted(self._writers.items()):
            sink.flush()
            with pa.OSFile(str(self._path(partition))) as source:
                table = ipc.open_stream(source).read_all().combine_chunks()
            duplicates.add(table.column("value").chunk(0), table.column("row").chunk(0))
            del table

    def _writer(self, partition: int, schema: pa.Schema) -> ipc.RecordBatchStreamWriter:
        if partition not in self._writers:
            sink = pa.OSFile(str(self._path(partition)), "wb")
            self._writers[partition] = (sink, ipc.new_stream(sink, schema))
        return self._writers[partition][1]

    def _path(self, partition: int) -> Path:
        return Path(self._directory.name) / f"{partition:03d}.arrows"


def _close_all(writers: dict[int, tuple[pa.NativeFile, ipc.RecordBatchStreamWriter]]) -> None:
    for sink, writer in writers.values():
        writer.close()
        sink.close()


def partition_of(values: pa.Array) -> np.ndarray:
    """A partition number in [0, 2**PARTITION_BITS) for each value (no nulls); equal values, equal numbers."""
    kind = values.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_binary(kind):
        keys = _text_keys(values)
    elif pa.types.is_floating(kind):
        floats = numpy_values(values.cast(pa.float64())) + 0.0  # -0.0 and 0.0 are equal values: one key
        floats[np.isnan(floats)] = np.nan  # and every NaN another
        keys = floats.view(np.uint64)
    else:
        keys = numpy_values(values.cast(pa.int64())).view(np.uint64)
    return (keys * _MIX) >> np.uint64(64 - PARTITION_BITS)


def _text_keys(values: pa.Array) -> np.ndarray:
    """A polynomial hash of each value's bytes (with its length), computed with NumPy for the whole array."""
    lengths, data = text_bytes(values)
    lengths = lengths.astype(np.int64)
    keys = lengths.astype(np.uint64)
    if not len(data):
        return keys
    starts = np.r_[0, np.cumsum(lengths)[:-1]]
    position = np.arange(len(data), dtype=np.int64) - np.repeat(starts, lengths)
    powers = np.cumprod(np.full(int(lengths.max()), _BASE, dtype=np.uint64))
    terms = data.astype(np.uint64) * powers[position]
    filled = lengths > 0
    keys[filled] += np.add.reduceat(terms, starts[filled])
    return keys


def _present(values: pa.Array, offset: int) -> tuple[pa.Array, pa.Array]:
    """The non-null values of a batch after ``offset`` data rows, and their data rows (1-based)."""
    valid = pc.is_valid(values)
    rows = numpy_array(np.arange(offset + 1, offset + len(values) + 1, dtype=np.int64))
    return values.filter(valid), rows.filter(valid)
