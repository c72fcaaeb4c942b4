"""Read the task off a sample's target column: two values of any spelling are a binary class with an explicit
positive class, a few text values are classes, many numbers are a regression."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pyarrow as pa

from sluice.config.model import ColumnType, Task
from sluice.data.convert import NULL_TOKENS, convert

MAX_CLASSES = 20
POSITIVE_WORDS = frozenset({"yes", "y", "true", "t", "1", "up", "positive", "pos", "success", "pass", "win"})
"""Spellings read as the affirmative class of a two-valued target (compared lower-cased)."""


class InferError(ValueError):
    """The sample cannot be drafted into a contract (the message says why)."""


class TargetError(InferError):
    """The target column cannot be a class label nor a number."""


@dataclass(frozen=True)
class TargetDraft:
    """The task and target settings a sample's target column suggests, and why."""

    task: Task
    target_type: ColumnType
    values: tuple[str, ...] | None = None
    positive: str | None = None
    positive_reason: str | None = None
    missing: int = 0


def infer_target(name: str, array: pa.Array) -> TargetDraft:
    """Draft the task from the target's sample values (raises TargetError when it fits no task)."""
    text = convert(array, "string")
    spelled = Counter(value for value in text.values.to_pylist() if value is not None)
    counts = Counter({value: count for value, count in spelled.items() if value.lower() not in NULL_TOKENS})
    missing = text.missing_count + sum(spelled.values()) - sum(counts.values())
    numeric = convert(array, "float")
    is_number = numeric.failed_count == 0 and numeric.missing_count < len(array)
    if len(counts) < 2:
        raise TargetError(f"target {name!r} has {len(counts)} distinct value(s) in the sample: "
                          "nothing to learn (is it the right column?)")
    if is_number and len(counts) > 2:
        return TargetDraft("regression", "float", missing=missing)
    if len(counts) > MAX_CLASSES:
        raise TargetError(f"target {name!r} has {len(counts)} distinct text values in the sample: too many "
                          f"classes (at most {MAX_CLASSES}) and not a number")
    if len(counts) > 2:
        return TargetDraft("classification", "string", tuple(sorted(counts)), missing=missing)
    positive, reason = positive_class(counts)
    negative = next(value for value in counts if value != positive)
    return TargetDraft("classification", "string", (negative, positive), positive, reason, missing)


def positive_class(counts: Counter[str]) -> tuple[str, str]:
    """The positive class of a two-valued target and the reason: the one affirmative-sounding spelling
    (yes/true/1/up/...), else the minority class (the rarer outcome is usually the one to find)."""
    affirmative = [value for value in counts if value.lower() in POSITIVE_WORDS]
    if len(affirmative) == 1:
        other = next(value for value in counts if value != affirmative[0])
        return affirmative[0], f"{affirmative[0]!r} reads as the affirmative of {other!r}"
    (first, first_count), (second, second_count) = sorted(counts.items())
    minority = first if first_count < second_count else second
    total = first_count + second_count
    return minority, (f"{minority!r} is the minority class ({counts[minority]} of {total} sample rows); "
                      "make sure it is the class the scores should be about")

