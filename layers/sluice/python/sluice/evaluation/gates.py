"""Decide whether a candidate's metrics allow it to replace the live model."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from sluice.config.deployment import SERVABLE_FORMATS
from sluice.config.model import LOWER_IS_BETTER, EvaluationGates, SliceGate

_EPSILON = 1e-12
"""Slack for float rounding when a metric sits exactly on its threshold."""


@dataclass(frozen=True)
class GateDecision:
    """Approved or not, why, and every check made (for the model card and the event)."""

    approved: bool
    reasons: tuple[str, ...]
    checks: list[dict[str, Any]] = field(default_factory=list)


def decide(
    candidate: dict[str, float],
    live: dict[str, float] | None,
    gates: EvaluationGates,
    *,
    slices: list[dict[str, Any]] | None = None,
    live_slices: list[dict[str, Any]] | None = None,
    serving: tuple[str, str] | None = None,
) -> GateDecision:
    """Approve only if every floor (a ceiling for lower-is-better metrics) holds and, when a live model exists,
    no compared metric (the primary one and ``gates.margins``) is worse than live's by more than its margin, and
    no declared slice's metric is worse than live's on that slice by more than the slice's tolerance.

    ``slices``/``live_slices`` are :func:`sluice.evaluation.slice_metrics` of candidate and live on the same holdout.
    ``serving`` is (served format, endpoint package) for a version not served as ONNX: the endpoint must load it.
    """
    checks = [_bound_check(metric, threshold, candidate) for metric, threshold in gates.min_metrics.items()]
    if serving is not None:
        checks.append(serving_check(*serving))
    notes: list[str] = []
    if live is not None:
        checks.extend(_live_check(metric, candidate, live, margin) for metric, margin in gates.live_margins.items())
    if gates.slices and live is not None and slices is not None:
        checks.extend(_slice_checks(gates, slices, live_slices or [], notes))
    elif gates.slices and slices is not None:
        notes.append("slices are reported, not compared: there is no live model")
    approved = all(check["passed"] for check in checks)
    if approved:
        reasons = [check["reason"] for check in checks]
        if live is None:
            reasons.append("there is no live model to compare against")
        if not gates.min_metrics:
            reasons.append("no metric floors are configured")
        reasons.extend(notes)
    else:
        reasons = [check["reason"] for check in checks if not check["passed"]]
    return GateDecision(approved=approved, reasons=tuple(reasons), checks=checks)


def serving_check(served_format: str, package: str) -> dict[str, Any]:
    """Whether the model's endpoint, packaged as ``package``, can load a version served as ``served_format``."""
    passed = served_format in SERVABLE_FORMATS.get(package, ())
    if passed:
        reason = f"the {package} endpoint serves the {served_format} format of this version"
    else:
        reason = (f"this version is served as {served_format} (its ONNX export disagreed with scikit-learn) and the "
                  f"model's {package} endpoint serves only {', '.join(SERVABLE_FORMATS.get(package, ()))}; "
                  'a model whose versions may need scikit-learn sets deployment.endpoint_package = "image" '
                  "(chosen before its endpoint is first deployed, see README: Serving formats) and retrains")
    return _check("endpoint serves the format", None, None, passed, reason)


def _slice_checks(
    gates: EvaluationGates, slices: list[dict[str, Any]], live_slices: list[dict[str, Any]], notes: list[str]
) -> list[dict[str, Any]]:
    by_column = {gate.column: gate for gate in gates.slices}
    live_by_name = {(entry["column"], entry["slice"]): entry for entry in live_slices}
    checks: list[dict[str, Any]] = []
    for entry in slices:
        gate = by_column.get(entry["column"])
        if gate is None:
            continue
        metric = gate.metric or gates.primary_metric
        if entry["rows"] < gate.min_rows:
            notes.append(f"slice {entry['slice']} has {entry['rows']} holdout rows (< {gate.min_rows}); not gated")
            continue
        reference = live_by_name.get((entry["column"], entry["slice"]), {}).get("metrics") or {}
        value, live_value = (entry.get("metrics") or {}).get(metric), reference.get(metric)
        if value is None or live_value is None:
            notes.append(f"slice {entry['slice']}: {metric} is undefined there; not gated")
            continue
        checks.append(_slice_check(gate, entry["slice"], metric, value, live_value))
    return checks


def _slice_check(gate: SliceGate, name: str, metric: str, value: float, reference: float) -> dict[str, Any]:
    lower = metric in LOWER_IS_BETTER
    worse_by = value - reference if lower else reference - value
    threshold = reference + gate.tolerance if lower else reference - gate.tolerance
    passed = worse_by <= gate.tolerance + _EPSILON
    if passed:
        reason = (f"slice {name}: {metric} {_fmt(value)} holds against live {_fmt(reference)} "
                  f"(tolerance {gate.tolerance:g})")
    else:
        reason = (f"slice {name}: {metric} {_fmt(value)} regresses from live {_fmt(reference)} "
                  f"by more than its tolerance {gate.tolerance:g}")
    return _check(f"{metric} on {name} vs live", value, threshold, passed, reason)


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
