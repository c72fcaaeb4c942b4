"""Turn request instances (a list of feature objects) into the model's input tensors.

This is the hot path of predict: each column is gathered once and converted by numpy; the slow,
value-by-value path only runs to describe what is wrong with a bad request.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sluice.serving.errors import InvalidInstances
from sluice.serving.signature import ModelSignature

MAX_INSTANCES = 10_000
BOOL_TEXT = {True: "true", False: "false"}
"""How a boolean feature is spelled in a string input (training uses the same spelling)."""

_NUMBER_TYPES = frozenset({int, float, type(None)})
_TEXT_TYPES = frozenset({str})
_LISTED_NAMES = 5


def build_inputs(instances: Any, signature: ModelSignature) -> dict[str, np.ndarray]:
    """Return ``{input name: [N, 1] tensor}``, or raise ``InvalidInstances`` naming the first problem.

    Float inputs take JSON numbers (``None`` becomes NaN, which the model imputes); string inputs take
    strings (``None`` becomes ``""``, the missing marker; booleans become ``"true"``/``"false"``).
    """
    _check_shape(instances, signature)
    count = len(instances)
    float_names = [spec.name for spec in signature.inputs if spec.kind == "float"]
    tensors = _float_block(instances, float_names)
    for spec in signature.inputs:
        if spec.kind == "float" and spec.name in tensors:
            continue
        column = [instance[spec.name] for instance in instances]
        if spec.kind == "float":
            tensors[spec.name] = _float_column(column, spec.name).reshape(count, 1)
        else:
            tensors[spec.name] = _string_column(column, spec.name).reshape(count, 1)
    return tensors


def _float_block(instances: list[dict[str, Any]], names: list[str]) -> dict[str, np.ndarray]:
    """All float inputs converted at once (the common case); ``{}`` when a value needs the careful path."""
    if not names:
        return {}
    rows = [[instance[name] for name in names] for instance in instances]
    if not {type(value) for row in rows for value in row} <= _NUMBER_TYPES:
        return {}
    try:
        block = np.array(rows, dtype=np.float64)
    except OverflowError:
        return {}
    with np.errstate(over="ignore"):
        block32 = np.asfortranarray(block, dtype=np.float32)
    if np.isinf(block32).any():
        return {}
    return {name: block32[:, index : index + 1] for index, name in enumerate(names)}


def _check_shape(instances: Any, signature: ModelSignature) -> None:
    if not isinstance(instances, list) or not instances:
        raise InvalidInstances("instances must be a non-empty list of objects")
    if len(instances) > MAX_INSTANCES:
        raise InvalidInstances(f"too many instances: {len(instances)} (at most {MAX_INSTANCES} per request)")
    expected = frozenset(signature.input_names)
    for index, instance in enumerate(instances):
        if not isinstance(instance, dict):
            raise InvalidInstances(f"instance {index}: expected an object of features, got {type(instance).__name__}")
        if instance.keys() != expected:
            raise InvalidInstances(_describe_keys(index, instance, signature.input_names))


def _describe_keys(index: int, instance: dict[Any, Any], names: tuple[str, ...]) -> str:
    missing = [name for name in names if name not in instance]
    if missing:
        return f"instance {index}: missing {_listing('feature', missing)}"
    unknown = sorted((key for key in instance if key not in names), key=str)
    return f"instance {index}: unknown {_listing('feature', unknown)}"


def _listing(noun: str, items: list[Any]) -> str:
    shown = ", ".join(repr(item) for item in items[:_LISTED_NAMES])
    more = f" and {len(items) - _LISTED_NAMES} more" if len(items) > _LISTED_NAMES else ""
    return f"{noun}{'s' if len(items) > 1 else ''} {shown}{more}"


def _float_column(values: list[Any], name: str) -> np.ndarray:
    if not set(map(type, values)) <= _NUMBER_TYPES:
        for index, value in enumerate(values):
            if not _is_number(value):
                raise InvalidInstances(f"instance {index}: feature {name!r} must be a number, got {value!r}")
    try:
        array = np.array(values, dtype=np.float64)
    except OverflowError:
        array = np.array([_finite_or_inf(value) for value in values], dtype=np.float64)
    with np.errstate(over="ignore"):
        tensor = array.astype(np.float32)
    if np.isinf(tensor).any():
        index = int(np.flatnonzero(np.isinf(tensor))[0])
        raise InvalidInstances(
            f"instance {index}: feature {name!r} must be a finite number within float32 range, got {values[index]!r}"
        )
    return tensor


def _is_number(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, bool | np.bool_):
        return False
    return isinstance(value, int | float | np.integer | np.floating)


def _finite_or_inf(value: Any) -> float:
    try:
        return math.nan if value is None else float(value)
    except OverflowError:
        return math.inf


def _string_column(values: list[Any], name: str) -> np.ndarray:
    if not set(map(type, values)) <= _TEXT_TYPES:
        values = [_as_text(value, index, name) for index, value in enumerate(values)]
    return np.array(values, dtype=object)


def _as_text(value: Any, index: int, name: str) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool | np.bool_):
        return BOOL_TEXT[bool(value)]
    raise InvalidInstances(f"instance {index}: feature {name!r} must be a string, got {value!r}")
