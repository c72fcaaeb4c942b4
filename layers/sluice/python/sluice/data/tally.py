"""Counting offending rows batch by batch, keeping the first few as examples."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from sluice.data.report import MAX_EXAMPLES, Example


@dataclass
class Tally:
    """How many rows broke one rule in one column so far, and the first examples."""

    count: int = 0
    examples: list[Example] = field(default_factory=list)

    def add(self, mask: pa.Array, raw: pa.Array, offset: int, hits: int | None = None) -> None:
        """Count the true rows of ``mask`` (no nulls; ``hits`` if already known); ``offset`` rows came before."""
        if hits is None:
            hits = int(pc.sum(mask).as_py() or 0)
        if not hits:
            return
        self.count += hits
        room = MAX_EXAMPLES - len(self.examples)
        if room > 0:
            indices = pc.indices_nonzero(mask).slice(0, room)
            values = raw.take(indices).to_pylist()
            self.examples.extend(
                Example(row=offset + index + 1, value=value)
                for index, value in zip(indices.to_pylist(), values, strict=True)
            )

    def add_rows(self, rows: int) -> None:
        """Count ``rows`` rows without examples (a batch that could not be checked value by value)."""
        self.count += rows
