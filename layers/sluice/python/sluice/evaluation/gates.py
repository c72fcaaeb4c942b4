"""Decide whether a candidate's metrics allow it to replace the live model."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from sluice.config.model import LOWER_IS_BETTER, EvaluationGates

_EPSILON = 1e-12
"""Slack for float rounding when a metric sits exactly on its threshold."""


@dataclass(frozen=True)
class GateDecision:
    """Approved or not, why, and every check made (for the model card and the event)."""

    approved: bool
    reasons: tuple[str, ...]
    checks: list[dict[str, Any]] = field(default_factory=list)


def decide(candidate: dict[str, float], live: dict[str, float] | None, gates: EvaluationGates) -> GateDecision:
    """Approve only if every floor (a ceiling for lower-is-better metrics) holds and, when a live model
    exists, the primary metric is not worse than live's by more than ``gates.max_regression``."""
    checks = [_bound_check(metric, threshold, candidate) for metric, threshold in gates.min_metrics.items()]
    if live is not None:
        checks.append(_live_check(gates.primary_metric, candidate, live, gates.max_regression))
    approved = all(check["passed"] for check in checks)
    if approved:
        reasons = [check["reason"] for check in checks]
        if live is None:
            reasons.append("there is no live model to compare against")
        if not gates.min_metrics:
            reasons.append("no metric floors are configured")
    else:
        reasons = [check["reason"] for check in checks if not check["passed"]]
    return GateDecision(approved=approved, reasons=tuple(reasons), checks=checks)


def _bound_check(metric: str, threshold: float, candidate: dict[str, float]) -> dict[str, Any]:
    ceiling = metric in LOWER_IS_BETTER
    kind = "ceiling" if ceiling else "floor"
    value = candidate.get(metric)
    if value is None or math.isnan(value):
        state = "was not measured" if value is None else "is not a number"
        passed, reason = False, f"{metric} {state}, so its {kind} {_fmt(threshold)} cannot be checked"
    elif ceiling:
        passed = value <= threshold + _EPSILON
        verdict = "is within" if passed else "is above"
        reason = f"{metric} {_fmt(value)} {verdict} the ceiling {_fmt(threshold)}"
    else:
        passed = value >= threshold - _EPSILON
        verdict = "meets" if passed else "is below"
        reason = f"{metric} {_fmt(value)} {verdict} the floor {_fmt(threshold)}"
    return _check(f"{metric} {kind}", value, threshold, passed, reason)


def _live_check(
    metric: str, candidate: dict[str, float], live: dict[str, float], max_regression: float
) -> dict[str, Any]:
    name = f"{metric} vs live"
    value, reference = candidate.get(metric), live.get(metric)
    lower = metric in LOWER_IS_BETTER
    if value is None or math.isnan(value):
        state = "was not measured" if value is None else "is not a number"
        return _check(name, value, None, False, f"{metric} {state}, so it cannot be compared with live")
    if reference is None or math.isnan(reference):
        return _check(name, value, None, True, f"live has no recorded {metric}; the comparison was skipped")
    threshold = reference + max_regression if lower else reference - max_regression
    worse_by = value - reference if lower else reference - value
    passed = worse_by <= max_regression + _EPSILON
    if worse_by < -_EPSILON:
        reason = f"{metric} {_fmt(value)} improves on live {_fmt(reference)}"
    elif worse_by <= _EPSILON:
        reason = f"{metric} {_fmt(value)} equals live {_fmt(reference)}"
    elif passed:
        reason = f"{metric} {_fmt(value)} is within {max_regression:g} of live {_fmt(reference)}"
    else:
        reason = f"{metric} {_fmt(value)} is worse than live {_fmt(reference)} by more than {max_regression:g}"
    return _check(name, value, threshold, passed, reason)


def _check(name: str, value: float | None, threshold: float | None, passed: bool, reason: str) -> dict[str, Any]:
    return {"name": name, "value": value, "threshold": threshold, "passed": bool(passed), "reason": reason}


def _fmt(value: float) -> str:
    return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
