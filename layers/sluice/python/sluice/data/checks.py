"""Table-level rules: column names, row counts and class balance."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from sluice.config.model import DataContract
from sluice.data.report import Example, Issue, Rule

DELIMITER_HINTS = (";", "\t", "|", ",")


def schema_issues(names: Sequence[str], contract: DataContract) -> list[Issue]:
    """Too many columns, duplicate, missing (contract columns, then target) and unexpected columns."""
    counts = Counter(names)
    issues = too_many_columns(names, contract)
    issues += [
        Issue(Rule.DUPLICATE_COLUMN, name, count, (), f"column {name!r} appears {count} times")
        for name, count in counts.items()
        if count > 1
    ]
    hint = _delimiter_hint(names)
    issues += [
        Issue(Rule.MISSING_COLUMN, name, 1, (), f"required column {name!r} is missing{hint}")
        for name in contract.column_names
        if name not in counts
    ]
    stamp = contract.timestamp
    if stamp is not None and stamp.name not in counts:
        message = f"timestamp column {stamp.name!r} is missing{hint}"
        issues.append(Issue(Rule.MISSING_COLUMN, stamp.name, 1, (), message))
    if contract.target not in counts:
        message = f"target column {contract.target!r} is missing{hint}"
        issues.append(Issue(Rule.MISSING_TARGET, contract.target, 1, (), message))
    expected = {*contract.column_names, contract.target, *([] if stamp is None else [stamp.name])}
    return issues + extra_column_issues([name for name in counts if name not in expected], contract)


def too_many_columns(names: Sequence[str], contract: DataContract) -> list[Issue]:
    """A file with more columns than the contract's ``max_columns`` is rejected."""
    limit = contract.max_columns
    if limit is None or len(names) <= limit:
        return []
    message = f"the file has {len(names)} columns, more than the maximum of {limit} (max_columns)"
    return [Issue(Rule.TOO_MANY_COLUMNS, None, len(names), (), message)]


def extra_column_issues(extra: Sequence[str], contract: DataContract) -> list[Issue]:
    """Columns outside the contract, as ``extra_columns`` says: nothing, a warning each, or an error each."""
    if contract.extra_columns == "ignore":
        return []
    if contract.extra_columns == "reject":
        return [Issue(Rule.EXTRA_COLUMN, name, 1, (),
                      f'column {name!r} is not in the contract, which rejects extra columns (extra_columns = '
                      f'"reject")') for name in extra]
    return [Issue(Rule.EXTRA_COLUMN, name, 1, (), f"column {name!r} is not in the contract and will be dropped",
                  severity="warning") for name in extra]


def row_count_issues(rows: int, contract: DataContract, *, stopped: bool = False) -> list[Issue]:
    """Too few or too many rows (``stopped``: reading stopped once there were too many)."""
    if rows < contract.min_rows:
        message = f"{rows} rows, fewer than the minimum of {contract.min_rows}"
        return [Issue(Rule.TOO_FEW_ROWS, None, rows, (), message)]
    if rows > contract.max_rows:
        counted = f"more than {rows - 1} rows (reading stopped there)" if stopped else f"{rows} rows"
        message = f"{counted}, more than the maximum of {contract.max_rows}"
        return [Issue(Rule.TOO_MANY_ROWS, None, rows, (), message)]
    return []


def has_classes(contract: DataContract) -> bool:
    """Whether the target is a class label: declared values, a string/bool type, or a class-fraction floor."""
    return (
        contract.target_values is not None
        or contract.target_type in ("string", "bool")
        or contract.min_class_fraction > 0
    )


def class_balance_issues(
    counts: Mapping[Any, int], classes: Sequence[Any], contract: DataContract
) -> list[Issue]:
    """A single class is an error; so is any class below ``min_class_fraction`` of the labelled rows.

    ``counts`` holds rows per observed valid target value; ``classes`` the declared classes, or the
    observed ones when none are declared.
    """
    total = sum(counts.get(value, 0) for value in classes)
    present = [value for value in classes if counts.get(value, 0)]
    target = contract.target
    if not present:
        return []
    if len(present) == 1:
        only = present[0]
        message = f"every labelled row has target {only!r}; a classifier needs at least two classes"
        return [Issue(Rule.SINGLE_CLASS, target, total, (Example(None, only),), message)]
    issues = []
    for value in classes:
        count = counts.get(value, 0)
        fraction = count / total
        if fraction < contract.min_class_fraction:
            message = (
                f"class {value!r} is {fraction:.1%} of {total} labelled rows, "
                f"below the minimum of {contract.min_class_fraction:.1%}"
            )
            issues.append(Issue(Rule.CLASS_IMBALANCE, target, count, (Example(None, value),), message))
    return issues


def _delimiter_hint(names: Sequence[str]) -> str:
    if len(names) == 1 and any(mark in names[0] for mark in DELIMITER_HINTS):
        return f" (the file has a single column {names[0][:60]!r}: is the delimiter right?)"
    return ""
