"""Uniqueness of a column across every batch (memory: the column's values, not the file)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from sluice.data.literals import scalar
from sluice.data.report import MAX_EXAMPLES, Example, Issue, Rule


class UniqueValues:
    """Collects one column's converted values, batch by batch, to find values that repeat."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._chunks: list[pa.Array] = []

    def add(self, values: pa.Array) -> None:
        self._chunks.append(values)

    def issue(self) -> Issue | None:
        """A duplicate_value issue counting every row whose value appears more than once; None if unique."""
        if not self._chunks:
            return None
        column = pa.chunked_array(self._chunks)
        counts = pc.value_counts(column)
        values, repeats = counts.field("values"), counts.field("counts")
        repeated = pc.and_(pc.greater(repeats, scalar(1, pa.int64())), pc.is_valid(values))
        distinct = int(pc.sum(repeated).as_py() or 0)
        if not distinct:
            return None
        rows = int(pc.sum(repeats.filter(repeated)).as_py())
        examples = self._examples(column, values.filter(repeated))
        message = (f"{rows} values in column {self.name!r} are not unique "
                   f"({distinct} distinct value{'s' if distinct > 1 else ''} repeat)")
        return Issue(Rule.DUPLICATE_VALUE, self.name, rows, examples, message)

    @staticmethod
    def _examples(column: pa.ChunkedArray, repeated: pa.Array) -> tuple[Example, ...]:
        examples: list[Example] = []
        offset = 0
        for chunk in column.chunks:
            hits = pc.indices_nonzero(pc.fill_null(pc.is_in(chunk, value_set=repeated), scalar(False, pa.bool_())))
            for index in hits.slice(0, MAX_EXAMPLES - len(examples)).to_pylist():
                examples.append(Example(offset + index + 1, chunk[index].as_py()))
            offset += len(chunk)
            if len(examples) >= MAX_EXAMPLES:
                break
        return tuple(examples)
