"""Turn request instances (a list of feature objects) into the model's input tensors.

This is the hot path of predict: each column is gathered once and converted by numpy; the slow,
value-by-value path (``sluice.serving.reading``) only runs for a column whose values need reading (text
spellings, nulls, values outside the contract) and to describe what is wrong with a bad request.

Inputs that carry contract rules are read exactly as validation, normalize and training read the column
(``sluice.contract.values``): every spelling of a bool, numeric text, the contract's null tokens, text as given
unless the column trims. A value that breaks the contract is refused, or reported when the signature says
``on_violation = "flag"``. Inputs without rules (older signatures) are read as before.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sluice.contract.values import BOOL_TEXT, ValueRules
from sluice.serving.errors import InvalidInstances
from sluice.serving.reading import FLOAT32_MAX, ValueViolation, read_numbers, read_texts
from sluice.serving.signature import InputSpec, ModelSignature

MAX_INSTANCES = 10_000
__all__ = ["BOOL_TEXT", "MAX_INSTANCES", "ReadInstances", "ValueViolation", "build_inputs", "read_instances"]

_NUMBER_TYPES = frozenset({int, float, type(None)})
_TEXT_TYPES = frozenset({str})
_LISTED_NAMES = 5
_INT_MAX = float(np.nextafter(2.0**63, 0))
"""The largest float64 below 2**63: an int column's values must fit int64, as validation requires."""


@dataclass(frozen=True)
class ReadInstances:
    """The model's input tensors, and the contract violations of a request answered with ``flag``."""

    tensors: dict[str, np.ndarray]
    violations: tuple[ValueViolation, ...] = ()


def build_inputs(instances: Any, signature: ModelSignature) -> dict[str, np.ndarray]:
    """Return ``{input name: [N, 1] tensor}``, or raise ``InvalidInstances`` naming the first problem."""
    return read_instances(instances, signature).tensors


def read_instances(instances: Any, signature: ModelSignature) -> ReadInstances:
    """The input tensors of ``instances``; raise ``InvalidInstances`` for a malformed request, or for one
    that breaks the contract unless the signature flags violations (then they are returned, by instance)."""
    plan = _plan(signature)
    _check_shape(instances, plan)
    count = len(instances)
    found: list[ValueViolation] = []
    tensors = _float_block(instances, plan)
    for spec in signature.inputs:
        if spec.name in tensors:
            continue
        column = [instance[spec.name] for instance in instances]
        if spec.rules is None:
            tensor = _float_column(column, spec.name) if spec.kind == "float" else _string_column(column, spec.name)
        elif spec.kind == "float":
            tensor = read_numbers(column, spec.name, spec.rules, found)
        else:
            clean = _clean_texts(column, spec.rules)
            tensor = read_texts(column, spec.name, spec.rules, found) if clean is None else clean
        tensors[spec.name] = tensor.reshape(count, 1)
    found.sort(key=lambda violation: violation.instance)
    if found and signature.on_violation == "reject":
        more = f" (and {len(found) - 1} more violations)" if len(found) > 1 else ""
        raise InvalidInstances(f"{found[0]}{more}")
    return ReadInstances(tensors, tuple(found))


@dataclass(frozen=True)
class _Plan:
    """What one signature's requests are checked against, computed once per signature."""

    signature: ModelSignature
    inputs: frozenset[str]
    optional: frozenset[str]
    block: tuple[InputSpec, ...]
    """Float inputs converted together by NumPy (those with allowed values always take the careful path)."""
    lows: np.ndarray
    highs: np.ndarray
    integers: np.ndarray
    has_integers: bool
    ruled: np.ndarray
    nullable: np.ndarray


_PLANS: dict[int, _Plan] = {}
_MAX_PLANS = 16


def _plan(signature: ModelSignature) -> _Plan:
    """The signature's plan, built on first use (a plan holds its signature, so an id is never reused)."""
    plan = _PLANS.get(id(signature))
    if plan is None or plan.signature is not signature:
        if len(_PLANS) >= _MAX_PLANS:
            _PLANS.clear()
        plan = _PLANS[id(signature)] = _make_plan(signature)
    return plan


def _make_plan(signature: ModelSignature) -> _Plan:
    block = tuple(spec for spec in signature.inputs
                  if spec.kind == "float" and (spec.rules is None or spec.rules.allowed is None))
    rules = [spec.rules or ValueRules("float", nullable=True) for spec in block]
    return _Plan(
        signature=signature,
        inputs=frozenset(signature.input_names),
        optional=frozenset(column.name for column in signature.others),
        block=block,
        lows=np.array([_bound(rule.minimum, -_INT_MAX if rule.type == "int" else -FLOAT32_MAX, max)
                       for rule in rules], dtype=np.float64),
        highs=np.array([_bound(rule.maximum, _INT_MAX if rule.type == "int" else FLOAT32_MAX, min) for rule in rules],
                       dtype=np.float64),
        integers=np.array([rule.type == "int" for rule in rules], dtype=bool),
        has_integers=any(rule.type == "int" for rule in rules),
        ruled=np.array([spec.rules is not None for spec in block], dtype=bool),
        nullable=np.array([rule.nullable for rule in rules], dtype=bool),
    )


def _bound(bound: float | None, limit: float, tighter: Any) -> float:
    """A column's bound, never beyond float32's (a number the model cannot take is never clean)."""
    return limit if bound is None else float(tighter(bound, limit))


def _float_block(instances: list[dict[str, Any]], plan: _Plan) -> dict[str, np.ndarray]:
    """All float inputs converted at once (the common case); ``{}`` when a value needs the careful path."""
    if not plan.block:
        return {}
    rows = [[instance[spec.name] for spec in plan.block] for instance in instances]
    if not {type(value) for row in rows for value in row} <= _NUMBER_TYPES:
        return {}
    try:
        block = np.array(rows, dtype=np.float64)
    except OverflowError:
        return {}
    if not _within_contract(block, rows, plan):
        return {}
    block32 = np.asfortranarray(block, dtype=np.float32)
    return {spec.name: block32[:, index : index + 1] for index, spec in enumerate(plan.block)}


def _within_contract(block: np.ndarray, rows: list[list[Any]], plan: _Plan) -> bool:
    """Whether every number keeps its column's rules: within its range (and float32's), whole for an int
    column, and NaN only where a nullable column got null (or, without rules, anywhere)."""
    inside = (block >= plan.lows) & (block <= plan.highs)  # False for NaN
    if not inside.all():
        nan = np.isnan(block)
        if not (inside | nan).all():
            return False
        for row, column in zip(*np.nonzero(nan & plan.ruled), strict=True):
            if not plan.nullable[column] or rows[row][column] is not None:
                return False
    if plan.has_integers:
        whole = block[:, plan.integers]
        if ((np.floor(whole) != whole) & ~np.isnan(whole)).any():
            return False
    return True


def _clean_texts(values: list[Any], rules: ValueRules) -> np.ndarray | None:
    """A text column whose values are all already what the contract reads them as; None otherwise."""
    if rules.type == "bool":
        try:
            return np.array([_BOOL_INPUT[value] for value in values], dtype=object)
        except (KeyError, TypeError):
            return None
    if rules.trim or not set(map(type, values)) <= _TEXT_TYPES or not rules.missing_spellings.isdisjoint(values):
        return None
    if rules.allowed_values is not None and not rules.allowed_values.issuperset(values):
        return None
    if rules.max_length is not None and max(map(len, values)) > rules.max_length:
        return None
    return np.array(values, dtype=object)


_BOOL_INPUT: dict[Any, str] = {True: "true", False: "false", "true": "true", "false": "false"}
"""Bool spellings the fast path maps directly (the careful path reads every other one)."""


def _check_shape(instances: Any, plan: _Plan) -> None:
    if not isinstance(instances, list) or not instances:
        raise InvalidInstances("instances must be a non-empty list of objects")
    if len(instances) > MAX_INSTANCES:
        raise InvalidInstances(f"too many instances: {len(instances)} (at most {MAX_INSTANCES} per request)")
    expected, optional = plan.inputs, plan.optional
    for index, instance in enumerate(instances):
        if not isinstance(instance, dict):
            raise InvalidInstances(f"instance {index}: expected an object of features, got {type(instance).__name__}")
        keys = instance.keys()
        if keys != expected and not (keys >= expected and keys - expected <= optional):
            raise InvalidInstances(_describe_keys(index, instance, plan))


def _describe_keys(index: int, instance: dict[Any, Any], plan: _Plan) -> str:
    names = plan.signature.input_names
    missing = [name for name in names if name not in instance]
    if missing:
        return f"instance {index}: missing {_listing('feature', missing)}"
    known = plan.inputs | plan.optional
    unknown = sorted((key for key in instance if key not in known), key=str)
    return f"instance {index}: unknown {_listing('feature', unknown)}"


def _listing(noun: str, items: list[Any]) -> str:
    shown = ", ".join(repr(item) for item in items[:_LISTED_NAMES])
    more = f" and {len(items) - _LISTED_NAMES} more" if len(items) > _LISTED_NAMES else ""
    return f"{noun}{'s' if len(items) > 1 else ''} {shown}{more}"


def _float_column(values: Sequence[Any], name: str) -> np.ndarray:
    """A float input without contract rules: JSON numbers only (null is missing)."""
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


def _string_column(values: Sequence[Any], name: str) -> np.ndarray:
    """A text input without contract rules: JSON strings (null is ``""``, booleans their text)."""
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
