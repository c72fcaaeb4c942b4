"""sluice.contract.values: one set of spellings and rules, read the same by validation (Arrow) and the endpoint."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from sluice.config import ColumnSpec, DataContract
from sluice.contract.values import MISSING, WHITESPACE, ValueRules, Violation, read_value
from sluice.data.convert import convert
from sluice.data.normalize import normalize


def test_trimming_removes_exactly_the_characters_arrow_trims():
    # GIVEN every code point next to a letter WHEN Arrow trims whitespace THEN it removes exactly WHITESPACE
    points = [chr(code) for code in range(0x3001) if not 0xD800 <= code < 0xE000]
    trimmed = pc.utf8_trim_whitespace(pa.array(["a" + point for point in points])).to_pylist()
    assert "".join(point for point, text in zip(points, trimmed, strict=True) if text == "a") == WHITESPACE


@pytest.mark.parametrize(("value", "expected"), [
    (" Yes ", True), ("f", False), ("T", True), (1, True), (0.0, False), (True, True), ("NA", MISSING),
    (None, MISSING), ("", MISSING),
])
def test_a_bool_reads_every_spelling_validation_accepts(value, expected):
    assert read_value(value, ValueRules("bool", nullable=True)) == expected


@pytest.mark.parametrize(("value", "rules", "rule"), [
    ("maybe", ValueRules("bool"), "type"), (2, ValueRules("bool"), "type"), (None, ValueRules("float"), "null"),
    ("nan", ValueRules("float"), "non_finite"), ("12", ValueRules("int", maximum=10), "out_of_range"),
    (2.5, ValueRules("int"), "type"), ("c", ValueRules("string", allowed=("a", "b")), "not_allowed"),
    ("abcd", ValueRules("string", max_length=3), "max_length"), (True, ValueRules("float"), "type"),
    ("?", ValueRules("string", null_tokens=("?",)), "null"), ("0x1F", ValueRules("int"), "type"),
])
def test_a_value_that_breaks_its_column_is_named_by_rule(value, rules, rule):
    # GIVEN a value that breaks one rule WHEN read THEN the violation names that rule
    result = read_value(value, rules)
    assert isinstance(result, Violation) and result.rule == rule


def test_text_is_kept_as_given_unless_the_column_trims():
    # GIVEN padded text WHEN read without and with trim THEN only trim changes it
    assert read_value("  Z-lead", ValueRules("string")) == "  Z-lead"
    assert read_value("  Z-lead", ValueRules("string", trim=True)) == "Z-lead"
    assert read_value("NA", ValueRules("string")) == "NA"
    assert read_value(" 3 ", ValueRules("int")) == 3


def test_validation_keeps_text_as_given_and_reads_contract_null_tokens():
    # GIVEN padded text, a contract null token "?" and a trimmed column
    column = pa.array(["  Z-lead", "Z-lead ", "?", "", "NA"])
    # WHEN converted as text, untrimmed and trimmed
    kept = convert(column, "string", null_tokens=("?",))
    trimmed = convert(column, "string", trim=True, null_tokens=("?",))
    # THEN nothing is trimmed unless asked; "" and the contract's token are missing, "NA" is text
    assert kept.values.to_pylist() == ["  Z-lead", "Z-lead ", None, None, "NA"]
    assert trimmed.values.to_pylist() == ["Z-lead", "Z-lead", None, None, "NA"]
    assert kept.missing.to_pylist() == [False, False, True, True, False]
    # AND the token is missing for numbers too, ASCII case ignored
    assert convert(pa.array(["1", "?", " N/A", "-"]), "float", null_tokens=("?", "-")).missing_count == 3


def test_normalize_keeps_padded_text_unless_the_column_trims():
    # GIVEN a contract with a padded column that trims and one that does not
    contract = DataContract(columns=(ColumnSpec("code", "string"), ColumnSpec("city", "string", trim=True),
                                     ColumnSpec("n", "int", nullable=True)),
                            target="y", target_type="string", null_tokens=("-",))
    table = pa.table({"code": ["  Z-lead", "a"], "city": [" Paris ", "Lyon"], "n": ["-", " 7"], "y": ["p", "q"]})
    # WHEN normalized THEN only the trimmed column changed, and the token became missing
    rows = normalize(table, contract).to_pylist()
    assert rows == [{"code": "  Z-lead", "city": "Paris", "n": None, "y": "p"},
                    {"code": "a", "city": "Lyon", "n": 7, "y": "q"}]
