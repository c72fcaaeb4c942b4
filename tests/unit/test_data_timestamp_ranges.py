"""Ranges are checked exactly for any timestamp year and any int64 value (no float64 rounding, no lost range)."""

from __future__ import annotations

import io

import pyarrow as pa
import pytest

from sluice.config import ColumnSpec, DataContract, TimestampSpec
from sluice.data import ValidationReport, check_file, validate
from sluice.data.literals import fixed_array, text_array

CONTRACT = DataContract(
    columns=(ColumnSpec("x", "float"),), target="y", target_type="string", target_values=("yes", "no"),
    positive="yes", min_rows=1, timestamp=TimestampSpec("ts", min="2000-01-01", max="2400-01-01T00:00:00Z"))


def _check(stamps: list[str]) -> ValidationReport:
    lines = ["x,ts,y", *(f"1.5,{stamp},{('yes', 'no')[row % 2]}" for row, stamp in enumerate(stamps))]
    return check_file(io.BytesIO(("\n".join(lines) + "\n").encode()), "drop.csv", CONTRACT).report


@pytest.mark.parametrize("late", ["2500-01-01", "2400-01-01T00:00:00.000001Z", "9999-12-31T23:59:59",
                                  "3000-06-01T12:00:00+02:00"])
def test_a_date_after_2262_is_out_of_range_not_unreadable(late: str) -> None:
    # GIVEN 1,000 valid dates and one far in the future (past the 2**53 microseconds float64 can compare)
    report = _check(["2024-01-01"] * 999 + [late])
    # WHEN checked / THEN one out_of_range value at its row, and no value is "cannot be read as timestamp"
    (issue,) = report.errors
    assert (issue.rule, issue.count, issue.examples[0].row) == ("out_of_range", 1, 1000)
    assert "2400-01-01T00:00:00+00:00" in issue.message


def test_dates_up_to_the_bound_after_2262_are_accepted() -> None:
    # GIVEN dates in 2300 and exactly at the 2400 bound / WHEN checked / THEN accepted
    assert _check(["2300-01-01", "2399-12-31T23:59:59.999999", "2400-01-01T00:00:00Z"]).accepted


def test_a_date_before_the_minimum_in_year_1_is_out_of_range() -> None:
    report = _check(["2024-01-01", "0001-01-01"])
    assert [(str(issue.rule), issue.count) for issue in report.errors] == [("out_of_range", 1)]


@pytest.mark.parametrize(("low", "high", "value", "inside"), [
    (0, 1e18, 2**60, False), (0, 2**62, 2**60, True), (0.5, 10, 0, False), (0.5, 10, 1, True),
    (-10, 9.5, 10, False), (-1e300, 1e300, 2**63 - 1, True),
])
def test_int_ranges_are_exact_for_any_int64(low: float, high: float, value: int, inside: bool) -> None:
    # GIVEN an int column with a range and a value near the int64 limits or next to a fractional bound
    contract = DataContract(columns=(ColumnSpec("n", "int", min=low, max=high),), target="y", target_type="string",
                            min_rows=1)
    table = pa.table({"n": fixed_array([1, value], pa.int64()), "y": text_array(["a", "b"])})
    # WHEN validated / THEN inside or out_of_range, never a type error
    report = validate(table, contract)
    assert [str(issue.rule) for issue in report.errors] == ([] if inside else ["out_of_range"])
