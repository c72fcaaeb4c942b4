"""What validation found: issues with examples, a verdict, and JSON / text renderings."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

Severity = Literal["error", "warning"]
MAX_EXAMPLES = 5
SUMMARY_EXAMPLES = 3
SUMMARY_ISSUES = 20
_MAX_TEXT = 80


class Rule(StrEnum):
    """The name of each check; an issue's ``rule`` is one of these."""

    DUPLICATE_COLUMN = "duplicate_column"
    MISSING_COLUMN = "missing_column"
    MISSING_TARGET = "missing_target"
    EXTRA_COLUMN = "extra_column"
    TOO_MANY_COLUMNS = "too_many_columns"
    TYPE = "type"
    NULL = "null"
    NULL_FRACTION = "null_fraction"
    NON_FINITE = "non_finite"
    OUT_OF_RANGE = "out_of_range"
    NOT_ALLOWED = "not_allowed"
    TOO_LONG = "too_long"
    TARGET_VALUE = "target_value"
    TOO_FEW_ROWS = "too_few_rows"
    TOO_MANY_ROWS = "too_many_rows"
    SINGLE_CLASS = "single_class"
    CLASS_IMBALANCE = "class_imbalance"
    DUPLICATE_VALUE = "duplicate_value"
    UNREADABLE = "unreadable"


@dataclass(frozen=True)
class Example:
    """One offending value; ``row`` counts data rows from 1 (the header is not a row), None for aggregates."""

    row: int | None
    value: Any

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "value": json_safe(self.value)}

    def __str__(self) -> str:
        shown = repr(json_safe(self.value))
        return shown if self.row is None else f"row {self.row}: {shown}"


@dataclass(frozen=True)
class Issue:
    """One broken rule: where, how often, a few examples and a sentence for humans."""

    rule: str
    column: str | None
    count: int
    examples: tuple[Example, ...]
    message: str
    severity: Severity = "error"

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": str(self.rule),
            "severity": self.severity,
            "column": self.column,
            "count": self.count,
            "examples": [example.to_dict() for example in self.examples],
            "message": self.message,
        }

    def summary_line(self) -> str:
        where = "-" if self.column is None else repr(self.column)
        line = f"- {self.severity} {self.rule} column={where} count={self.count}: {self.message}"
        if self.examples:
            line += "; e.g. " + ", ".join(str(example) for example in self.examples[:SUMMARY_EXAMPLES])
        return line


@dataclass(frozen=True)
class ValidationReport:
    """The verdict on one dataset: accepted when no issue is an error."""

    rows: int
    column_names: tuple[str, ...]
    issues: tuple[Issue, ...] = field(default_factory=tuple)

    @classmethod
    def unreadable(cls, reason: str) -> ValidationReport:
        """The report on bytes that cannot be read as a table at all."""
        return cls(rows=0, column_names=(), issues=(Issue(Rule.UNREADABLE, None, 0, (), reason),))

    @property
    def accepted(self) -> bool:
        return not self.errors

    @property
    def columns(self) -> int:
        return len(self.column_names)

    @property
    def errors(self) -> tuple[Issue, ...]:
        return tuple(issue for issue in self.issues if issue.severity == "error")

    @property
    def warnings(self) -> tuple[Issue, ...]:
        return tuple(issue for issue in self.issues if issue.severity == "warning")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe rendering (NaN and infinities become strings)."""
        return {
            "accepted": self.accepted,
            "rows": self.rows,
            "columns": self.columns,
            "column_names": list(self.column_names),
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "issues": [issue.to_dict() for issue in self.issues],
        }

    def summary(self) -> str:
        """Short text: the verdict, then a line per issue (rule, column, count, first examples), up to 20."""
        verdict = "ACCEPTED" if self.accepted else "REJECTED"
        head = (
            f"{verdict}: {self.rows} rows, {self.columns} columns, "
            f"{_plural(len(self.errors), 'error')}, {_plural(len(self.warnings), 'warning')}"
        )
        lines = [head, *(issue.summary_line() for issue in self.issues[:SUMMARY_ISSUES])]
        if len(self.issues) > SUMMARY_ISSUES:
            lines.append(f"- ... and {len(self.issues) - SUMMARY_ISSUES} more issues (see the full report)")
        return "\n".join(lines)


def json_safe(value: Any) -> Any:
    """A JSON-serializable stand-in for an example value (long text is shortened)."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 3] + "..."


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
