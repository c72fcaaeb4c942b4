"""validate: a table against a data contract, batch by batch, into a report (bad data never raises)."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from sluice.config.model import DataContract
from sluice.data.checks import class_balance_issues, has_classes, row_count_issues, schema_issues
from sluice.data.columns import ColumnRules
from sluice.data.report import Issue, Rule, ValidationReport
from sluice.data.tally import Tally

COLUMN_RULE_ORDER = (
    Rule.TYPE,
    Rule.NULL,
    Rule.NON_FINITE,
    Rule.OUT_OF_RANGE,
    Rule.NOT_ALLOWED,
    Rule.TARGET_VALUE,
)


class ContractValidator:
    """Accumulates the checks of one contract over record batches sharing one schema.

    Feed every batch to :meth:`update`, in order, then call :meth:`report`.
    """

    def __init__(self, contract: DataContract, schema: pa.Schema) -> None:
        self._contract = contract
        self._names = tuple(schema.names)
        self._schema_issues = schema_issues(self._names, contract)
        candidates = [ColumnRules.for_feature(spec) for spec in contract.columns]
        candidates.append(ColumnRules.for_target(contract))
        present = [rules for rules in candidates if rules.name in self._names]
        self._plan = [(self._names.index(rules.name), rules) for rules in present]
        self._tallies: dict[str, defaultdict[Rule, Tally]] = {
            rules.name: defaultdict(Tally) for _, rules in self._plan
        }
        self._classes: Counter[Any] = Counter()
        self._rows = 0

    def update(self, batch: pa.RecordBatch) -> None:
        """Check one batch; its rows are numbered after those of the batches seen before."""
        for index, rules in self._plan:
            raw = batch.column(index)
            tallies = self._tallies[rules.name]
            try:
                conversion = rules.check(raw, self._rows, tallies)
            except pa.ArrowException:
                tallies[Rule.TYPE].add_rows(batch.num_rows)
                continue
            if rules.is_target and has_classes(self._contract):
                self._classes.update(_value_counts(conversion.values.drop_null()))
        self._rows += batch.num_rows

    def report(self) -> ValidationReport:
        """The verdict on every batch seen so far."""
        issues = [*self._schema_issues, *row_count_issues(self._rows, self._contract)]
        for _, rules in self._plan:
            issues += self._column_issues(rules)
        target = next((rules for _, rules in self._plan if rules.is_target), None)
        if target is not None and has_classes(self._contract) and self._rows:
            declared = None if target.allowed is None else target.allowed.to_pylist()
            classes = declared or sorted(self._classes, key=str)
            issues += class_balance_issues(self._classes, classes, self._contract)
        return ValidationReport(rows=self._rows, column_names=self._names, issues=tuple(issues))

    def _column_issues(self, rules: ColumnRules) -> list[Issue]:
        tallies = self._tallies[rules.name]
        issues = []
        for rule in COLUMN_RULE_ORDER:
            tally = tallies.get(rule)
            if tally is None or not tally.count:
                continue
            if rule is Rule.NULL and rules.nullable:
                issues += self._null_fraction_issues(rules, tally)
                continue
            message = rules.message(rule, tally.count)
            issues.append(Issue(rule, rules.name, tally.count, tuple(tally.examples), message))
        return issues

    def _null_fraction_issues(self, rules: ColumnRules, tally: Tally) -> list[Issue]:
        """A nullable column may be missing values; ``max_null_fraction`` (when above 0) caps how many."""
        cap = self._contract.max_null_fraction
        fraction = tally.count / self._rows
        if cap <= 0 or fraction <= cap:
            return []
        message = (
            f"{tally.count} of {self._rows} values in column {rules.name!r} are missing ({fraction:.1%}), "
            f"above the maximum of {cap:.1%}"
        )
        return [Issue(Rule.NULL_FRACTION, rules.name, tally.count, tuple(tally.examples), message)]


def validate(table: pa.Table, contract: DataContract) -> ValidationReport:
    """Check ``table`` against ``contract``; every problem becomes an issue, none raises."""
    validator = ContractValidator(contract, table.schema)
    for batch in table.to_batches():
        validator.update(batch)
    return validator.report()


def _value_counts(values: pa.Array) -> dict[Any, int]:
    counts = pc.value_counts(values)
    return dict(zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True))
