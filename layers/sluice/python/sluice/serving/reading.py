"""Read one request column with its contract rules, value by value (the careful path of build_inputs).

Every value goes through ``sluice.contract.values.read_value``, the reader validation's rules are written in;
a value that breaks a rule is reported, and fed to the model as the nearest thing the contract allows (its
value when readable and finite, else missing) so that a flagged request can still be answered.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sluice.contract.values import (
    BOOL_TEXT,
    MISSING,
    RULE_OUT_OF_RANGE,
    ValueRules,
    Violation,
    parse,
    read_value,
)
from sluice.serving.signature import ModelSignature

FLOAT32_MAX = float(np.finfo(np.float32).max)


@dataclass(frozen=True)
class ValueViolation:
    """One value of one instance that breaks its column's contract."""

    instance: int
    column: str
    rule: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"instance": self.instance, "column": self.column, "rule": self.rule, "reason": self.reason}

    def __str__(self) -> str:
        return f"instance {self.instance}: column {self.column!r} breaks rule {self.rule!r}: {self.reason}"


def read_numbers(values: Sequence[Any], name: str, rules: ValueRules,
                 found: list[ValueViolation]) -> np.ndarray:
    """A float32 column (missing: NaN) from values read as ``rules`` say; violations are appended to ``found``."""
    numbers = np.empty(len(values), dtype=np.float64)
    for index, value in enumerate(values):
        read = read_value(value, rules)
        if isinstance(read, Violation):
            found.append(ValueViolation(index, name, read.rule, read.reason))
            read = parse(value, rules)
        number = math.nan if read is MISSING or isinstance(read, Violation) else float(read)
        if not math.isfinite(number):
            number = math.nan
        elif abs(number) > FLOAT32_MAX:
            found.append(ValueViolation(index, name, RULE_OUT_OF_RANGE,
                                        f"{value!r} is outside the float32 range the model computes in"))
            number = math.nan
        numbers[index] = number
    return numbers.astype(np.float32)


def read_texts(values: Sequence[Any], name: str, rules: ValueRules, found: list[ValueViolation]) -> np.ndarray:
    """A text column (missing: ``""``; booleans ``"true"``/``"false"``) read as ``rules`` say."""
    texts = np.empty(len(values), dtype=object)
    for index, value in enumerate(values):
        read = read_value(value, rules)
        if isinstance(read, Violation):
            found.append(ValueViolation(index, name, read.rule, read.reason))
            read = parse(value, rules)
        texts[index] = as_text(read)
    return texts


def as_text(read: Any) -> str:
    """A read value as the model's text input."""
    if read is MISSING or isinstance(read, Violation):
        return ""
    if isinstance(read, bool):
        return BOOL_TEXT[read]
    return str(read)


def captured_instances(instances: Sequence[Mapping[str, Any]], signature: ModelSignature) -> list[dict[str, Any]]:
    """Each instance's features as the model read them, plus its kept id and timestamp columns as sent."""
    kept = [column.name for column in signature.others if column.kept]
    return [{**{spec.name: contract_value(instance[spec.name], spec.rules) for spec in signature.inputs},
             **{name: instance[name] for name in kept if name in instance}} for instance in instances]


def capture_kinds(signature: ModelSignature) -> dict[str, str]:
    """How each captured column is typed: ``float`` (numbers) or ``string``."""
    kinds: dict[str, str] = {spec.name: spec.kind for spec in signature.inputs}
    for column in signature.others:
        if column.kept:
            kinds[column.name] = "float" if column.type in ("float", "int") else "string"
    return kinds


def contract_value(value: Any, rules: ValueRules | None) -> Any:
    """A value as its column reads it, JSON-native (for the capture): number, text, or None when missing."""
    if rules is None:
        return value
    read = parse(value, rules)
    if read is MISSING or isinstance(read, Violation):
        return None
    if isinstance(read, bool):
        return BOOL_TEXT[read]
    return float(read) if rules.type in ("float", "int") else read
