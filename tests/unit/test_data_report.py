"""ValidationReport: JSON-safe dictionaries and a short human summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sluice.config import load_config
from sluice.data import Example, Issue, ValidationReport, read_dataset, validate

ROOT = Path(__file__).resolve().parents[2]
DIABETES = load_config(ROOT / "sluice.toml").model("diabetes").contract
DIABETES_CSV = (ROOT / "layers/sluice/python/sluice/demo/data/diabetes.csv").read_bytes()


@pytest.fixture
def rejected() -> ValidationReport:
    """bmi has "abc" on data row 1 and NaN on row 2; an extra column is present."""
    lines = DIABETES_CSV.decode().splitlines()
    lines[0] += ",notes"
    lines[1] = lines[1].replace("32.1", "abc") + ",x"
    lines[2] = lines[2].replace("21.6", "NaN") + ",y"
    lines[3:] = [line + ",z" for line in lines[3:]]
    return validate(read_dataset("\n".join(lines).encode(), "d.csv"), DIABETES)


def test_summary_names_verdict_rule_column_count_and_examples(rejected: ValidationReport) -> None:
    # GIVEN a rejected report / WHEN summarized
    lines = rejected.summary().splitlines()
    # THEN the verdict first, then one line per issue with rule, column, count and the first example
    assert lines[0] == "REJECTED: 442 rows, 12 columns, 2 errors, 1 warning"
    assert len(lines) == 1 + len(rejected.issues)
    assert any("type column='bmi' count=1" in line and "row 1: 'abc'" in line for line in lines)
    assert any("non_finite column='bmi' count=1" in line and "row 2: 'NaN'" in line for line in lines)
    assert any(line.startswith("- warning extra_column column='notes'") for line in lines)


def test_to_dict_is_json_safe(rejected: ValidationReport) -> None:
    # GIVEN a report / WHEN rendered as a dict / THEN strict JSON (no NaN) with the verdict and issues
    document = json.loads(json.dumps(rejected.to_dict(), allow_nan=False))
    assert document["accepted"] is False
    assert (document["rows"], document["columns"], document["errors"], document["warnings"]) == (442, 12, 2, 1)
    rules = [(issue["rule"], issue["column"], issue["severity"]) for issue in document["issues"]]
    assert ("type", "bmi", "error") in rules and ("extra_column", "notes", "warning") in rules


def test_non_finite_and_odd_example_values_become_json() -> None:
    # GIVEN examples holding NaN, infinity, bytes and long text / WHEN rendered / THEN strict JSON
    examples = (Example(1, float("nan")), Example(2, float("-inf")), Example(3, b"\x00"), Example(None, "x" * 500))
    issue = Issue("type", "c", 4, examples, "four odd values")
    rendered = json.loads(json.dumps(issue.to_dict(), allow_nan=False))
    values = [example["value"] for example in rendered["examples"]]
    assert values[:3] == ["nan", "-inf", "b'\\x00'"]
    assert len(values[3]) == 80 and values[3].endswith("...")


def test_warnings_alone_still_accept() -> None:
    # GIVEN a report whose only issue is a warning / THEN accepted
    warning = Issue("extra_column", "notes", 1, (), "extra", severity="warning")
    report = ValidationReport(rows=10, column_names=("a", "notes"), issues=(warning,))
    assert report.accepted and report.summary().startswith("ACCEPTED: 10 rows, 2 columns, 0 errors, 1 warning")


def test_long_summaries_are_capped() -> None:
    # GIVEN 30 issues / WHEN summarized / THEN 20 issue lines and a pointer to the rest
    issues = tuple(Issue("missing_column", f"c{index}", 1, (), "missing") for index in range(30))
    lines = ValidationReport(rows=0, column_names=(), issues=issues).summary().splitlines()
    assert len(lines) == 22 and lines[-1] == "- ... and 10 more issues (see the full report)"
