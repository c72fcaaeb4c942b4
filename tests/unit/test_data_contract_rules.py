"""The contract's limits on text and columns: max_length, max_columns and extra_columns (ignore, warn, reject)."""

from __future__ import annotations

import dataclasses
import io

import pyarrow as pa
import pytest

from sluice.config import ColumnSpec, DataContract
from sluice.data import ValidationReport, check_file, validate
from sluice.data.literals import text_array

CONTRACT = DataContract(
    columns=(ColumnSpec("id", "int", unique=True), ColumnSpec("name", "string", max_length=8),
             ColumnSpec("kind", "string", allowed=("a", "b"))),
    target="y", target_type="string", target_values=("yes", "no"), positive="yes", min_rows=1)


def _csv(header: str, rows: list[str]) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def _check(body: bytes, contract: DataContract = CONTRACT) -> ValidationReport:
    verdict = check_file(io.BytesIO(body), "drop.csv", contract, version=True)
    assert (verdict.data_version is None) == (not verdict.accepted)
    return verdict.report


def _rows(count: int, long_at: dict[int, str] | None = None) -> list[str]:
    names = long_at or {}
    return [f"{row},{names.get(row, f'n{row}')},{'ab'[row % 2]},{('yes', 'no')[row % 2]}" for row in
            range(1, count + 1)]


def test_text_longer_than_max_length_is_rejected_naming_column_count_and_rows() -> None:
    # GIVEN rows 3 and 250 with names of 9 and 40 characters (max_length = 8), and one of exactly 8
    body = _csv("id,name,kind,y", _rows(300, {3: "ninechars", 250: "x" * 40, 10: "eightchr"}))
    # WHEN checked
    report = _check(body)
    # THEN rejected: one too_long issue on 'name', 2 values, at rows 3 and 250, the limit in the sentence
    (issue,) = report.errors
    assert (issue.rule, issue.column, issue.count) == ("too_long", "name", 2)
    assert [example.row for example in issue.examples] == [3, 250]
    assert "max_length of 8 characters" in issue.message and "2 values in column 'name'" in issue.message
    assert "row 3: 'ninechars'" in report.summary()


def test_max_length_counts_characters_not_bytes() -> None:
    # GIVEN an 8-character name of 16 bytes in UTF-8 / WHEN checked / THEN accepted
    assert _check(_csv("id,name,kind,y", _rows(3, {2: "éééééééé"}))).accepted


def test_max_length_applies_to_native_text_and_allowed_shortcuts() -> None:
    # GIVEN a table of native strings where an allowed category is longer than its max_length
    contract = dataclasses.replace(CONTRACT, columns=(
        ColumnSpec("id", "int"), ColumnSpec("name", "string"), ColumnSpec("kind", "string", allowed=("a", "long"),
                                                                          max_length=2)))
    table = pa.table({"id": [1, 2], "name": text_array(["p", "q"]), "kind": text_array(["a", "long"]),
                      "y": text_array(["yes", "no"])})
    # WHEN validated / THEN the long value is still too long (no category shortcut skips the rule)
    report = validate(table, contract)
    assert [(str(issue.rule), issue.count) for issue in report.errors] == [("too_long", 1)]


def test_a_file_with_more_columns_than_max_columns_is_rejected() -> None:
    # GIVEN max_columns = 5 and files of 5 and 7 columns (extra columns only warned about)
    contract = dataclasses.replace(CONTRACT, max_columns=5)
    five = _csv("id,name,kind,y,note", [f"{row},n,a,{('yes', 'no')[row % 2]},x" for row in range(1, 4)])
    seven = _csv("id,name,kind,y,note,a,b", [f"{row},n,a,{('yes', 'no')[row % 2]},x,1,2" for row in range(1, 4)])
    # WHEN each is checked / THEN 5 is accepted (warnings only), 7 is rejected with the count and the limit
    assert _check(five, contract).accepted
    report = _check(seven, contract)
    (issue,) = report.errors
    assert (issue.rule, issue.count) == ("too_many_columns", 7)
    assert "7 columns, more than the maximum of 5" in issue.message


@pytest.mark.parametrize(("policy", "accepted", "severities"), [
    ("ignore", True, []), ("warn", True, ["warning", "warning"]), ("reject", False, ["error", "error"])])
def test_extra_columns_are_ignored_warned_or_rejected_as_the_contract_says(
        policy: str, accepted: bool, severities: list[str]) -> None:
    # GIVEN a file with two columns outside the contract
    contract = dataclasses.replace(CONTRACT, extra_columns=policy)  # type: ignore[arg-type]
    body = _csv("id,name,note,kind,y,score", [f"{row},n,x,a,{('yes', 'no')[row % 2]},1" for row in range(1, 4)])
    # WHEN checked under each policy
    report = _check(body, contract)
    # THEN nothing, a warning each, or a rejection naming each column
    extra = [issue for issue in report.issues if issue.rule == "extra_column"]
    assert report.accepted is accepted
    assert [issue.severity for issue in extra] == severities
    assert [issue.column for issue in extra] == (["note", "score"] if severities else [])
    if policy == "reject":
        assert 'extra_columns = "reject"' in extra[0].message


def test_every_contract_column_is_required_whatever_its_role() -> None:
    # GIVEN an id column (role id, never trained on) absent from the file
    body = _csv("name,kind,y", ["n,a,yes", "m,b,no"])
    # WHEN checked / THEN it is a missing column all the same
    report = _check(body)
    assert [(str(issue.rule), issue.column) for issue in report.errors] == [("missing_column", "id")]
