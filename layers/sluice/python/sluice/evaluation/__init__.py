"""Score candidates through their ONNX export, report them (intervals, slices, plots) and gate them."""

from __future__ import annotations

from sluice.evaluation.bootstrap import confidence_intervals
from sluice.evaluation.curves import plot_data
from sluice.evaluation.errors import EvaluationError
from sluice.evaluation.gates import GateDecision, decide
from sluice.evaluation.importance import permutation_importance
from sluice.evaluation.metrics import calibration_bins, metric_value, metrics_of, score
from sluice.evaluation.predictions import HoldoutPredictions, positive_label, predict_holdout
from sluice.evaluation.report import HoldoutReport, report_holdout
from sluice.evaluation.slices import slice_masks, slice_metrics

__all__ = [
    "EvaluationError",
    "GateDecision",
    "HoldoutPredictions",
    "HoldoutReport",
    "calibration_bins",
    "confidence_intervals",
    "decide",
    "metric_value",
    "metrics_of",
    "permutation_importance",
    "plot_data",
    "positive_label",
    "predict_holdout",
    "report_holdout",
    "score",
    "slice_masks",
    "slice_metrics",
]
