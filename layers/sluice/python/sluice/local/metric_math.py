"""CloudWatch metric math and alarm evaluation, for the alarms the local stack plays (pure: no AWS).

What it follows (CloudWatch User Guide, "Using metric math" and "Evaluating an alarm"):
- an expression combines the values of its queries period by period; a period where an operand has no value has
  no result, unless ``FILL(m, v)`` supplies one; ``IF(condition, a, b)`` takes ``a`` where the condition is
  non-zero; a division by zero has no result;
- an alarm looks at its most recent ``EvaluationPeriods`` periods and goes to ALARM when at least
  ``DatapointsToAlarm`` of them breach; with ``TreatMissingData`` notBreaching (sluice's choice everywhere) a
  period without a value counts as not breaching, so an alarm without data is OK.

Supported: numbers, query ids, ``+ - * /``, comparisons, parentheses, ``IF``, ``FILL``, ``ABS``. Anything else
(``ANOMALY_DETECTION_BAND``, ``SEARCH``…) is refused with :class:`UnsupportedExpressionError`.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

Value = float | None

_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d*)?|\.\d+)|([A-Za-z_][A-Za-z0-9_]*)|(>=|<=|==|!=|[-+*/(),<>]))")
_BINARY: dict[str, tuple[int, Callable[[float, float], float]]] = {
    ">=": (1, lambda a, b: float(a >= b)), "<=": (1, lambda a, b: float(a <= b)),
    ">": (1, lambda a, b: float(a > b)), "<": (1, lambda a, b: float(a < b)),
    "==": (1, lambda a, b: float(a == b)), "!=": (1, lambda a, b: float(a != b)),
    "+": (2, operator.add), "-": (2, operator.sub), "*": (3, operator.mul), "/": (3, operator.truediv),
}
_COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanOrEqualToThreshold": operator.ge, "GreaterThanThreshold": operator.gt,
    "LessThanThreshold": operator.lt, "LessThanOrEqualToThreshold": operator.le,
}


class UnsupportedExpressionError(ValueError):
    """An expression this evaluator does not implement (the local stack cannot play that alarm)."""


Node = Callable[[Mapping[str, Value]], Value]


def compile_expression(expression: str) -> Node:
    """Parse ``expression`` once; the result maps one period's query values to the expression's value."""
    tokens = _tokens(expression)
    node, position = _parse(tokens, 0, 0, expression)
    if position != len(tokens):
        raise UnsupportedExpressionError(f"unexpected {tokens[position]!r} in {expression!r}")
    return node


def evaluate(expression: str, series: Mapping[str, Sequence[Value]]) -> list[Value]:
    """The expression's value in each period (every series has one value, or None, per period)."""
    node = compile_expression(expression)
    lengths = {len(values) for values in series.values()}
    if len(lengths) > 1:
        raise ValueError(f"series of different lengths: {sorted(lengths)}")
    periods = lengths.pop() if lengths else 0
    return [node({name: values[i] for name, values in series.items()}) for i in range(periods)]


@dataclass(frozen=True)
class Verdict:
    """An alarm's state after one evaluation, and the datapoints it was judged on (oldest first)."""

    state: str  # "ALARM" | "OK"
    breaching: int
    datapoints: tuple[Value, ...]


def judge(values: Sequence[Value], *, threshold: float, comparison: str, evaluation_periods: int,
          datapoints_to_alarm: int) -> Verdict:
    """ALARM when at least ``datapoints_to_alarm`` of the last ``evaluation_periods`` values breach (missing
    values do not breach: TreatMissingData notBreaching)."""
    if comparison not in _COMPARISONS:
        raise UnsupportedExpressionError(f"comparison {comparison} is not evaluated locally")
    window = tuple(values[-evaluation_periods:])
    compare = _COMPARISONS[comparison]
    breaching = sum(1 for value in window if value is not None and compare(value, threshold))
    return Verdict("ALARM" if breaching >= datapoints_to_alarm else "OK", breaching, window)


def _tokens(expression: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    text = expression.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise UnsupportedExpressionError(f"cannot read {text[position:]!r} in {expression!r}")
        number, name, symbol = match.groups()
        tokens.append(("number", number) if number else ("name", name) if name else ("symbol", symbol))
        position = match.end()
    return tokens


def _parse(tokens: list[tuple[str, str]], position: int, min_precedence: int, source: str) -> tuple[Node, int]:
    left, position = _operand(tokens, position, source)
    while position < len(tokens) and tokens[position][1] in _BINARY:
        precedence, function = _BINARY[tokens[position][1]]
        if precedence < min_precedence:
            break
        right, position = _parse(tokens, position + 1, precedence + 1, source)
        left = _binary(function, left, right)
    return left, position


def _operand(tokens: list[tuple[str, str]], position: int, source: str) -> tuple[Node, int]:
    if position >= len(tokens):
        raise UnsupportedExpressionError(f"{source!r} ends early")
    kind, text = tokens[position]
    if kind == "number":
        constant = float(text)
        return (lambda _: constant), position + 1
    if text == "(":
        node, position = _parse(tokens, position + 1, 0, source)
        return node, _expect(tokens, position, ")", source)
    if text == "-":
        node, position = _operand(tokens, position + 1, source)
        return _binary(operator.sub, lambda _: 0.0, node), position
    if kind != "name":
        raise UnsupportedExpressionError(f"unexpected {text!r} in {source!r}")
    if position + 1 < len(tokens) and tokens[position + 1][1] == "(":
        return _call(text.upper(), tokens, position + 2, source)
    return (lambda values: values[text]), position + 1


def _call(function: str, tokens: list[tuple[str, str]], position: int, source: str) -> tuple[Node, int]:
    arguments: list[Node] = []
    while True:
        node, position = _parse(tokens, position, 0, source)
        arguments.append(node)
        if position < len(tokens) and tokens[position][1] == ",":
            position += 1
            continue
        position = _expect(tokens, position, ")", source)
        break
    if function == "IF" and len(arguments) == 3:
        condition, then, otherwise = arguments
        return _if(condition, then, otherwise), position
    if function == "FILL" and len(arguments) == 2:
        series, fill = arguments
        return (lambda values: _first(series(values), fill(values))), position
    if function == "ABS" and len(arguments) == 1:
        (series,) = arguments
        return (lambda values: _abs(series(values))), position
    raise UnsupportedExpressionError(f"{function}() with {len(arguments)} arguments is not evaluated locally")


def _if(condition: Node, then: Node, otherwise: Node) -> Node:
    def node(values: Mapping[str, Value]) -> Value:
        test = condition(values)
        if test is None:
            return None
        return then(values) if test != 0 else otherwise(values)

    return node


def _binary(function: Callable[[float, float], float], left: Node, right: Node) -> Node:
    def node(values: Mapping[str, Value]) -> Value:
        a, b = left(values), right(values)
        if a is None or b is None:
            return None
        try:
            return function(a, b)
        except ZeroDivisionError:
            return None

    return node


def _first(value: Value, fallback: Value) -> Value:
    return fallback if value is None else value


def _abs(value: Value) -> Value:
    return None if value is None else abs(value)


def _expect(tokens: list[tuple[str, str]], position: int, symbol: str, source: str) -> int:
    if position >= len(tokens) or tokens[position][1] != symbol:
        raise UnsupportedExpressionError(f"expected {symbol!r} in {source!r}")
    return position + 1
