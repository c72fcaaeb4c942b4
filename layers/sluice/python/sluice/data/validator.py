"""validate: a table against a data contract, batch by batch, into a report (bad data never raises)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from sluice.config.model import DataContract
from sluice.data.checks import class_balance_issues, has_classes, row_count_issues, schema_issues
from sluice.data.columns import ColumnRules
from sluice.data.report import MAX_EXAMPLES, Issue, Rule, ValidationReport
from sluice.data.tally import Tally
from sluice.data.uniqueness import UniqueValues

COLUMN_RULE_ORDER = (
    Rule.TYPE,
    Rule.NULL,
    Rule.NON_FINITE,
    Rule.OUT_OF_RANGE,
    Rule.NOT_ALLOWED,
    Rule.TOO_LONG,
    Rule.TARGET_VALUE,
)


@lru_cache(maxsize=64)
def compile_rules(contract: DataContract) -> tuple[ColumnRules, ...]:
    """The per-column rules of ``contract``: features, then the timestamp, then the target."""
    rules = [ColumnRules.for_feature(spec) for spec in contract.columns]
    if contract.timestamp is not None:
        rules.append(ColumnRules.for_timestamp(contract.timestamp))
    rules.append(ColumnRules.for_target(contract))
    return tuple(rules)


def contract_columns(contract: DataContract) -> frozenset[str]:
    """The names of every column the contract reads (the others need not be loaded)."""
    return frozenset(rules.name for rules in compile_rules(contract))


class ContractValidator:
    """Accumulates the checks of one contract over record batches.

    Give the file's column names up front when known (``schema``), feed every batch to :meth:`update`,
    in order, then call :meth:`report`. Batches may hold only the contract's columns, and may differ in
    columns (JSON Lines): a contract column absent from a batch counts as missing in its rows.
    """

    def __init__(self, contract: DataContract, schema: pa.Schema | Sequence[str] | None = None) -> None:
        self._contract = contract
        names = [] if schema is None else list(schema.names if isinstance(schema, pa.Schema) else schema)
        self._names = names
        self._seen = set(names)
        self._schema_issues = schema_issues(names, contract)
        self._rules = compile_rules(contract)
        self._tallies: dict[str, defaultdict[Rule, Tally]] = {rules.name: defaultdict(Tally) for rules in self._rules}
        self._absent: Counter[str] = Counter()
        self._unique = {rules.name: UniqueValues(rules.name) for rules in self._rules if rules.unique}
        self._classes: Counter[Any] = Counter()
        self._rows = 0
        self.stopped = False
        """Set by the reader when it stopped early (too many rows)."""

    @property
    def rows(self) -> int:
        return self._rows

    @property
    def clean(self) -> bool:
        """No error found so far (row counts, class balance, null fractions and uniqueness are judged at the end)."""
        if any(issue.severity == "error" for issue in self._schema_issues):
            return False
        for rules in self._rules:
            for rule, tally in self._tallies[rules.name].items():
                if tally.count and not (rule is Rule.NULL and rules.nullable):
                    return False
            if self._absent[rules.name] and not rules.nullable:
                return False
        return True

    def update(self, batch: pa.RecordBatch) -> None:
        """Check one batch; its rows are numbered after those of the batches seen before."""
        names = batch.schema.names
        self._note_names(names)
        positions: dict[str, int] = {}
        for position, name in enumerate(names):
            positions.setdefault(name, position)
        for rules in self._rules:
            index = positions.get(rules.name)
            if index is None:
                self._absent[rules.name] += batch.num_rows
                continue
            self._check_column(rules, batch.column(index))
        self._rows += batch.num_rows

    def report(self) -> ValidationReport:
        """The verdict on every batch seen so far."""
        issues = [*self._schema_issues, *row_count_issues(self._rows, self._contract, stopped=self.stopped)]
        for rules in self._rules:
            if rules.name in self._seen:
                issues += self._column_issues(rules)
                unique = self._unique.get(rules.name)
                duplicate = None if unique is None else unique.issue()
                issues += [] if duplicate is None else [duplicate]
        target = self._rules[-1]
        if target.name in self._seen and has_classes(self._contract) and self._rows:
            declared = None if target.allowed is None else target.allowed.to_pylist()
            classes = declared or sorted(self._classes, key=str)
            issues += class_balance_issues(self._classes, classes, self._contract)
        return ValidationReport(rows=self._rows, column_names=tuple(self._names), issues=tuple(issues))

    def _note_names(self, names: Sequence[str]) -> None:
        new = [name for name in names if name not in self._seen]
        if new:
            self._names += new
            self._seen.update(new)
            self._schema_issues = schema_issues(self._names, self._contract)

    def _check_column(self, rules: ColumnRules, raw: pa.Array) -> None:
        """Check one batch of a column; a batch Arrow cannot check value by value counts whole as a type error
        (its partial counts are dropped, so no row is counted twice)."""
        tallies = self._tallies[rules.name]
        found: defaultdict[Rule, Tally] = defaultdict(Tally)
        try:
            conversion = rules.check(raw, self._rows, found)
        except pa.ArrowException:
            tallies[Rule.TYPE].add_rows(len(raw))
            return
        for rule, tally in found.items():
            _merge(tallies[rule], tally)
        if rules.unique:
            self._unique[rules.name].add(conversion.values, self._rows)
        if rules.is_target and has_classes(self._contract):
            self._classes.update(_value_counts(conversion.values))

    def _column_issues(self, rules: ColumnRules) -> list[Issue]:
        tallies = self._tallies[rules.name]
        issues = []
        for rule in COLUMN_RULE_ORDER:
            tally = tallies.get(rule)
            count = (0 if tally is None else tally.count) + (self._absent[rules.name] if rule is Rule.NULL else 0)
            if not count:
                continue
            examples = () if tally is None else tuple(tally.examples)
            if rule is Rule.NULL and rules.nullable:
                issues += self._null_fraction_issues(rules, count, examples)
                continue
            issues.append(Issue(rule, rules.name, count, examples, rules.message(rule, count)))
        return issues

    def _null_fraction_issues(self, rules: ColumnRules, count: int, examples: tuple[Any, ...]) -> list[Issue]:
        """A nullable column may be missing values; ``max_null_fraction`` (when above 0) caps how many."""
        cap = self._contract.max_null_fraction
        fraction = count / self._rows
        if cap <= 0 or fraction <= cap:
            return []
        message = (
            f"{count} of {self._rows} values in column {rules.name!r} are missing ({fraction:.1%}), "
            f"above the maximum of {cap:.1%}"
        )
        return [Issue(Rule.NULL_FRACTION, rules.name, count, examples, message)]


def validate(table: pa.Table, contract: DataContract) -> ValidationReport:
    """Check ``table`` against ``contract``; every problem becomes an issue, none raises."""
    validator = ContractValidator(contract, table.schema)
    for batch in table.to_batches():
        validator.update(batch)
    return validator.report()


def _merge(into: Tally, batch: Tally) -> None:
    """Add one batch's count and (while there is room) its examples."""
    into.count += batch.count
    into.examples.extend(batch.examples[: MAX_EXAMPLES - len(into.examples)])


def _value_counts(values: pa.Array) -> dict[Any, int]:
    counts = pc.value_counts(values)
    pairs = zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True)
    return {value: count for value, count in pairs if value is not None}
