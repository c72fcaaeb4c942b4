"""Uniqueness in bounded memory: past its budget a column spills to disk, and the verdict does not change."""

from __future__ import annotations

import gc
import io
import random
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from sluice.config import ColumnSpec, DataContract
from sluice.data import check_file, uniqueness
from sluice.data.literals import fixed_array, text_array
from sluice.data.uniqueness import UniqueValues, _Spill, partition_of

BATCH = 1_000


def _batches(kind: str, rows: int, seed: int) -> list[pa.Array]:
    """Mostly distinct values with a few repeats (some far apart, some in one batch) and some nulls."""
    rng = random.Random(seed)
    values: list[object] = list(range(rows))
    for _ in range(7):
        values[rng.randrange(rows)] = values[rng.randrange(rows)]
    for _ in range(5):
        values[rng.randrange(rows)] = None
    if kind == "string":
        converted = text_array(None if value is None else f"id-{value}" for value in values)
    elif kind == "float":
        converted = fixed_array([None if value is None else value / 4 for value in values], pa.float64())
    else:
        converted = fixed_array(values, pa.int64())  # type: ignore[arg-type]
    return [converted.slice(start, BATCH) for start in range(0, rows, BATCH)]


@pytest.mark.parametrize("kind", ["int", "float", "string"])
def test_a_spilled_column_finds_the_same_repeats_as_one_held_in_memory(kind: str) -> None:
    # GIVEN the same 20,000 values checked in memory and with a budget that spills after the first batch
    held, spilled = UniqueValues("id"), UniqueValues("id", memory_budget=1)
    for number, batch in enumerate(_batches(kind, 20_000, seed=len(kind))):
        held.add(batch, number * BATCH)
        spilled.add(batch, number * BATCH)
    # WHEN each reports / THEN the issues are identical: rows, distinct repeats, first examples in row order
    assert spilled.spilled and not held.spilled
    in_memory, on_disk = held.issue(), spilled.issue()
    assert in_memory is not None and in_memory == on_disk
    assert [example.row for example in in_memory.examples] == sorted(example.row for example in in_memory.examples)


def test_unique_values_stay_unique_when_spilled() -> None:
    # GIVEN distinct values (and nulls, which never repeat) past the budget / WHEN checked / THEN no issue
    column = UniqueValues("id", memory_budget=1)
    column.add(fixed_array([1, 2, None, 3, None], pa.int64()), 0)
    column.add(fixed_array([4, 5, None], pa.int64()), 5)
    assert column.issue() is None


def test_a_spilled_column_reports_again_and_takes_more_values_after_a_report() -> None:
    # GIVEN a spilled column that has reported once
    column = UniqueValues("id", memory_budget=1)
    column.add(fixed_array([1, 1, 2], pa.int64()), 0)
    first = column.issue()
    # WHEN it reports again, and again after more values / THEN the verdict covers every value so far
    assert first is not None and column.issue() == first
    column.add(fixed_array([2, 3], pa.int64()), 3)
    later = column.issue()
    # (at the rows repeating an earlier row: 2 repeats 1, 4 repeats 3)
    assert later is not None and (later.count, [example.row for example in later.examples]) == (2, [2, 4])


def test_spill_files_go_with_the_column() -> None:
    # GIVEN a spilled column / WHEN it is dropped / THEN its temporary directory is gone
    before = set(Path(tempfile.gettempdir()).glob("sluice-unique-*"))
    column = UniqueValues("id", memory_budget=1)
    column.add(fixed_array([1, 1, 2], pa.int64()), 0)
    issue = column.issue()
    assert issue is not None and (issue.rule, issue.count) == ("duplicate_value", 1)
    assert set(Path(tempfile.gettempdir()).glob("sluice-unique-*")) - before
    del column
    gc.collect()
    assert set(Path(tempfile.gettempdir()).glob("sluice-unique-*")) == before


def test_equal_values_share_a_partition() -> None:
    # GIVEN equal values written differently (0.0 and -0.0; the same text in different arrays)
    floats = partition_of(fixed_array([0.0, -0.0, 1.5, 1.5], pa.float64()))
    texts = partition_of(text_array(["", "a", "héllo", "a"]))
    # THEN they land in one partition, and keys spread over several partitions
    assert floats[0] == floats[1] and floats[2] == floats[3] and texts[1] == texts[3]
    spread = partition_of(text_array(f"id-{number}" for number in range(10_000)))
    assert len(np.unique(spread)) == 2**uniqueness.PARTITION_BITS


def test_check_file_reports_duplicates_of_a_spilled_column(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a contract with a unique id and a budget small enough to spill during the file
    monkeypatch.setattr(uniqueness, "MEMORY_BUDGET_BYTES", 1024)
    spills: list[object] = []
    monkeypatch.setattr(uniqueness, "_Spill", lambda: spills.append(object()) or _Spill())
    lines = ["id,y"] + [f"r{row},{('yes', 'no')[row % 2]}" for row in range(1, 50_001)]
    lines[40_000] = "r7,yes"  # data row 40,000 repeats row 7
    contract = DataContract(columns=(ColumnSpec("id", "string", unique=True),), target="y", target_type="string",
                            min_rows=1)
    # WHEN the file is checked / THEN the repeat is reported at the row to fix, naming the row it repeats
    report = check_file(io.BytesIO(("\n".join(lines) + "\n").encode()), "drop.csv", contract).report
    issue = next(issue for issue in report.issues if issue.rule == "duplicate_value")
    assert (issue.count, [(example.row, example.value) for example in issue.examples]) == (1, [(40_000, "r7")])
    assert "row 40000 repeats row 7" in issue.message
    assert len(spills) == 1  # (it did spill)


@pytest.mark.parametrize("budget", [None, 1])
def test_duplicates_are_reported_at_the_later_occurrences_in_memory_and_spilled(budget: int | None) -> None:
    # GIVEN ids where 5 appears at rows 2, 900 and 1,500, and 7 at rows 4 and 1,200 (in three batches)
    values = list(range(10, 1_610))
    values[1], values[899], values[1_499], values[3], values[1_199] = 5, 5, 5, 7, 7
    column = UniqueValues("id", memory_budget=budget)
    for start in range(0, len(values), 600):
        column.add(fixed_array(values[start:start + 600], pa.int64()), start)
    # WHEN it reports
    issue = column.issue()
    # THEN the rows to fix are the 2nd and 3rd occurrences, not the first ones; the count is those rows
    assert issue is not None and column.spilled == (budget == 1)
    assert [(example.row, example.value) for example in issue.examples] == [(900, 5), (1_200, 7), (1_500, 5)]
    assert issue.count == 3
    assert "3 rows repeat a value of an earlier row (2 distinct values; row 900 repeats row 2)" in issue.message


def test_repeated_nan_and_text_are_reported_at_their_later_rows() -> None:
    # GIVEN a float column with NaN twice and a text column with a value three times
    floats, texts = UniqueValues("x"), UniqueValues("name")
    floats.add(fixed_array([float("nan"), 1.0, float("nan")], pa.float64()), 0)
    texts.add(text_array(["a", "b", "a", "a"]), 0)
    # WHEN they report / THEN the later rows are the ones shown
    nan, text = floats.issue(), texts.issue()
    assert nan is not None and [example.row for example in nan.examples] == [3]
    assert text is not None and [example.row for example in text.examples] == [3, 4] and text.count == 2
