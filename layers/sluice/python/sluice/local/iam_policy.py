"""IAM's evaluation of identity policies, for one request: action, resource and conditions.

Follows the AWS documentation "Policy evaluation logic" (an explicit Deny wins, otherwise an Allow whose Action,
Resource and Condition all match is needed) and "IAM JSON policy elements: Condition operators" (a condition key
the request does not carry fails every operator except the ``…IfExists`` forms and ``Null``). Only the operators
sluice's policies use are implemented; any other one is refused loudly rather than guessed at.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

Statement = Mapping[str, Any]


class UnsupportedPolicyError(ValueError):
    """A policy element this evaluator does not implement (evaluating it anyway could allow too much)."""


@dataclass(frozen=True)
class AuthRequest:
    """What IAM authorizes for one API call: an action on a resource, with the request's condition keys."""

    action: str
    resource: str
    context: Mapping[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        keys = ", ".join(f"{key}={value!r}" for key, value in sorted(self.context.items()))
        return f"{self.action} on {self.resource}" + (f" ({keys})" if keys else "")


class Effect(StrEnum):
    ALLOWED = "allowed"
    IMPLICIT_DENY = "no identity-based policy allows it"
    EXPLICIT_DENY = "an explicit deny in an identity-based policy"


def evaluate(statements: Iterable[Statement], request: AuthRequest) -> Effect:
    """Whether ``statements`` (one principal's identity policies) allow ``request``."""
    allowed = False
    for statement in statements:
        if not _applies(statement, request):
            continue
        if statement.get("Effect") == "Deny":
            return Effect.EXPLICIT_DENY
        allowed = True
    return Effect.ALLOWED if allowed else Effect.IMPLICIT_DENY


def _listed(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _applies(statement: Statement, request: AuthRequest) -> bool:
    if "NotAction" in statement or "NotResource" in statement:
        raise UnsupportedPolicyError(f"NotAction/NotResource are not evaluated: {statement}")
    actions = _listed(statement.get("Action", []))
    if not any(_matches(pattern, request.action, ignore_case=True) for pattern in actions):
        return False
    resources = _listed(statement.get("Resource", []))
    if not any(_matches(pattern, request.resource) for pattern in resources):
        return False
    return all(_condition_holds(operator, block, request.context)
               for operator, block in (statement.get("Condition") or {}).items())


def _matches(pattern: Any, value: str, *, ignore_case: bool = False) -> bool:
    """IAM's wildcard match: ``*`` any run of characters, ``?`` one (actions are case-insensitive)."""
    if not isinstance(pattern, str):
        raise UnsupportedPolicyError(f"an unresolved policy value: {pattern!r}")
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, flags=re.IGNORECASE if ignore_case else 0) is not None


_OPERATORS = {
    "StringEquals": lambda expected, actual: expected == actual,
    "StringNotEquals": lambda expected, actual: expected != actual,
    "StringLike": lambda expected, actual: _matches(expected, actual),
    "ArnEquals": lambda expected, actual: expected == actual,
    "ArnLike": lambda expected, actual: _matches(expected, actual),
    "Bool": lambda expected, actual: str(expected).lower() == actual.lower(),
}
_NEGATED = {"StringNotEquals"}


def _condition_holds(operator: str, block: Mapping[str, Any], context: Mapping[str, str]) -> bool:
    if operator == "Null":  # "true": the request must not carry the key; "false": it must
        return all((_context_value(context, key) is None) == (str(expected).lower() == "true")
                   for key, expected in block.items())
    if_exists = operator.endswith("IfExists")
    base = operator.removesuffix("IfExists")
    check = _OPERATORS.get(base)
    if check is None:
        raise UnsupportedPolicyError(f"condition operator {operator} is not evaluated")
    for key, expected in block.items():
        actual = _context_value(context, key)
        if actual is None:
            if if_exists:
                continue
            return False
        values: Sequence[Any] = _listed(expected)
        if base in _NEGATED:
            if not all(check(value, actual) for value in values):
                return False
        elif not any(check(value, actual) for value in values):
            return False
    return True


def _context_value(context: Mapping[str, str], key: str) -> str | None:
    """Condition keys are case-insensitive."""
    for name, value in context.items():
        if name.lower() == key.lower():
            return value
    return None
